"""`flask dat remind [--every N]`: the DAT's deadline reminders, and the accusés de réception still
waiting to be deposited in LUCIE; `flask dat receipts`: those receipts alone."""

from __future__ import annotations

from flask.cli import AppGroup

from app.cli.background import every_option, repeat

dat = AppGroup("dat", help="Déclarations d'accident du travail.")


@dat.command("remind")
@every_option
def dat_remind(every: int | None):
    """E-mail the people whose DAT draft must be sent within DAT_REMINDER_HOURS (one round per draft),
    then deposit the receipts a full file store held back."""
    from app.services.dat import send_deadline_reminders

    def run(_stop) -> str | None:
        queued = send_deadline_reminders()
        lines = [f"{queued} rappel(s) de délai mis en file d'envoi"] if queued or every is None else []
        lines += _receipts_report(every is None)
        return "\n".join(lines) or None

    repeat(run, every, "flask dat remind")


@dat.command("receipts")
@every_option
def dat_receipts(every: int | None):
    """Deposit in LUCIE the accusés de réception still waiting (e.g. the file store was full)."""
    repeat(lambda _stop: "\n".join(_receipts_report(every is None)) or None, every, "flask dat receipts")


def _receipts_report(always: bool) -> list[str]:
    from app.services.dat import deposit_pending_receipts

    deposited, pending = deposit_pending_receipts()
    if not (deposited or pending or always):
        return []
    return [f"{deposited} accusé(s) de réception déposé(s) dans LUCIE, {pending} en attente"]
