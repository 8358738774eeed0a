"""`flask qrpro …`: QR Pro's maintenance commands (docs/qrpro.md)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

qrpro = AppGroup("qrpro", help="QR Pro : instruction des dossiers AT/MP.")


@qrpro.command("ouvrir-dossiers")
def open_missing():
    """Open the AT case of every declaration received before QR Pro (idempotent, resumable)."""
    from app.services.qrpro import cases

    count = cases.open_missing_cases()
    click.echo(f"{count} dossier(s) d'accident du travail ouvert(s) à partir des déclarations reçues.")
