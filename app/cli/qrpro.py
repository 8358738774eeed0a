"""`flask qrpro …`: QR Pro's maintenance commands (docs/qrpro.md)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.background import every_option, repeat

qrpro = AppGroup("qrpro", help="QR Pro : instruction des dossiers AT/MP.")


@qrpro.command("ouvrir-dossiers")
def open_missing():
    """Open the AT case of every declaration received before QR Pro (idempotent, resumable)."""
    from app.services.qrpro import cases

    count = cases.open_missing_cases()
    click.echo(f"{count} dossier(s) d'accident du travail ouvert(s) à partir des déclarations reçues.")


@qrpro.command("cloturer-consultations")
@every_option
def close_windows(every: int | None):
    """Record the « fenêtre d'observations close » event of every case whose 10 jours francs with
    observations have ended (once per case; `make run` runs it every 5 minutes)."""
    from app.services.qrpro import consultation

    def run(_stop) -> str | None:
        count = consultation.close_windows()
        if count or every is None:
            return f"{count} fenêtre(s) d'observations close(s) enregistrée(s)."
        return None

    repeat(run, every, "flask qrpro cloturer-consultations")
