"""`flask outbox work [--once]`, `flask outbox requeue`: the mail outbox's sender and its repair."""

from __future__ import annotations

import socket
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.background import repeat

outbox = AppGroup("outbox", help="File d'envoi des courriels.")


@outbox.command("work")
@click.option("--once", is_flag=True, help="Envoyer ce qui est dû, puis s'arrêter.")
@click.option("--batch", default=100, show_default=True)
@click.option("--interval", default=1.0, show_default=True, help="Pause quand la file est vide (s).")
def outbox_work(once: bool, batch: int, interval: float):
    """Send the due e-mails of the outbox (runs until stopped unless --once)."""
    from app.services.outbox import send_due

    # Flask-Mail opens smtplib connections without a timeout: bound them for this process.
    socket.setdefaulttimeout(current_app.config["MAIL_TIMEOUT"])
    total = 0

    def run(stop: threading.Event) -> None:
        nonlocal total
        while not stop.is_set():
            sent, failed = send_due(batch)
            total += sent
            if failed:
                click.echo(f"{failed} envoi(s) en échec, nouvel essai programmé", err=True)
            if sent < batch:
                break  # nothing more due: pause; else the next batch at once

    repeat(run, None if once else interval, "flask outbox work")
    click.echo(f"{total} courriel(s) envoyé(s)")


@outbox.command("requeue")
@click.argument("message_id", type=int)
def outbox_requeue(message_id: int):
    """Put a failed message back in the queue."""
    from app.services.outbox import requeue

    requeue(message_id)
    click.echo(f"Message {message_id} remis en file")
