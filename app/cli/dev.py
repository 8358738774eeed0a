"""`flask dev mail-sink`: development tools."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

dev = AppGroup("dev", help="Outils de développement.")


@dev.command("mail-sink")
@click.option("--port", default=8025, show_default=True)
def mail_sink(port: int):
    """Run a local SMTP server that stores mails as .eml files (development only)."""
    from app.mailsink import serve

    directory = Path(current_app.config["MAIL_SINK_DIR"])
    click.echo(f"Serveur SMTP local sur 127.0.0.1:{port}, courriels dans {directory}")
    serve(directory, port=port)
