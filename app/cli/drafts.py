"""`flask drafts expire [--every N]`: the retention of the drafts left without a save."""

from __future__ import annotations

from flask.cli import AppGroup

from app.cli.background import every_option, repeat

drafts = AppGroup("drafts", help="Brouillons des démarches.")


@drafts.command("expire")
@every_option
def drafts_expire(every: int | None):
    """Warn the people of drafts left without a save, then delete those whose time has come
    (DRAFT_RETENTION_DAYS, DRAFT_RETENTION_WARNING_DAYS)."""
    from app.services.draft_retention import expire_drafts

    def run(_stop) -> str | None:
        done = expire_drafts()
        if done.warned or done.deleted or every is None:
            return f"{done.warned} brouillon(s) signalé(s), {done.deleted} brouillon(s) supprimé(s)"
        return None

    repeat(run, every, "flask drafts expire")
