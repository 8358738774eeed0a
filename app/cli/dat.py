"""`flask dat remind [--every N]`: the DAT's deadline reminders."""

from __future__ import annotations

from flask.cli import AppGroup

from app.cli.background import every_option, repeat

dat = AppGroup("dat", help="Déclarations d'accident du travail.")


@dat.command("remind")
@every_option
def dat_remind(every: int | None):
    """E-mail the people whose DAT draft must be sent within DAT_REMINDER_HOURS (one round per draft)."""
    from app.services.dat import send_deadline_reminders

    def run(_stop) -> str | None:
        queued = send_deadline_reminders()
        return f"{queued} rappel(s) de délai mis en file d'envoi" if queued or every is None else None

    repeat(run, every, "flask dat remind")
