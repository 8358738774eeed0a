"""Flask commands: `flask demo load`, `flask outbox work [--once]`, `flask outbox requeue`,
`flask dat remind [--every N]`, `flask drafts expire [--every N]`, `flask dev mail-sink`."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def register_cli(app: Flask) -> None:
    demo = AppGroup("demo", help="Données de démonstration.")
    outbox = AppGroup("outbox", help="File d'envoi des courriels.")
    dev = AppGroup("dev", help="Outils de développement.")
    dat = AppGroup("dat", help="Déclarations d'accident du travail.")
    drafts = AppGroup("drafts", help="Brouillons des démarches.")

    @demo.command("load")
    def demo_load():
        """Load the demo company, establishments and accounts (idempotent)."""
        from app.demo import load_demo

        for line in load_demo():
            click.echo(line)

    @outbox.command("work")
    @click.option("--once", is_flag=True, help="Envoyer ce qui est dû, puis s'arrêter.")
    @click.option("--batch", default=100, show_default=True)
    @click.option("--interval", default=1.0, show_default=True, help="Pause quand la file est vide (s).")
    def outbox_work(once: bool, batch: int, interval: float):
        """Send the due e-mails of the outbox (runs until stopped unless --once)."""
        from app.services.outbox import send_due

        # Flask-Mail opens smtplib connections without a timeout: bound them for this process.
        socket.setdefaulttimeout(current_app.config["MAIL_TIMEOUT"])
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        total = 0
        while True:
            sent, failed = send_due(batch)
            total += sent
            if failed:
                click.echo(f"{failed} envoi(s) en échec, nouvel essai programmé", err=True)
            if once:
                if sent == batch:
                    continue  # more may be due
                break
            if stop["now"]:
                break
            if sent == 0:
                time.sleep(interval)
        click.echo(f"{total} courriel(s) envoyé(s)")

    @outbox.command("requeue")
    @click.argument("message_id", type=int)
    def outbox_requeue(message_id: int):
        """Put a failed message back in the queue."""
        from app.services.outbox import requeue

        requeue(message_id)
        click.echo(f"Message {message_id} remis en file")

    every_option = click.option(
        "--every", type=click.IntRange(min=1), help="Recommencer toutes les N secondes, jusqu'à l'arrêt."
    )

    @dat.command("remind")
    @every_option
    def dat_remind(every: int | None):
        """E-mail the people whose DAT draft must be sent within DAT_REMINDER_HOURS (one round per draft)."""
        from app.services.dat import send_deadline_reminders

        def run() -> str | None:
            queued = send_deadline_reminders()
            return f"{queued} rappel(s) de délai mis en file d'envoi" if queued or every is None else None

        _repeat(run, every)

    @drafts.command("expire")
    @every_option
    def drafts_expire(every: int | None):
        """Warn the people of drafts left without a save, then delete those whose time has come
        (DRAFT_RETENTION_DAYS, DRAFT_RETENTION_WARNING_DAYS)."""
        from app.services.draft_retention import expire_drafts

        def run() -> str | None:
            done = expire_drafts()
            if done.warned or done.deleted or every is None:
                return f"{done.warned} brouillon(s) signalé(s), {done.deleted} brouillon(s) supprimé(s)"
            return None

        _repeat(run, every)

    @dev.command("mail-sink")
    @click.option("--port", default=8025, show_default=True)
    def mail_sink(port: int):
        """Run a local SMTP server that stores mails as .eml files (development only)."""
        from app.mailsink import serve

        directory = Path(current_app.config["MAIL_SINK_DIR"])
        click.echo(f"Serveur SMTP local sur 127.0.0.1:{port}, courriels dans {directory}")
        serve(directory, port=port)

    app.cli.add_command(demo)
    app.cli.add_command(outbox)
    app.cli.add_command(dev)
    app.cli.add_command(dat)
    app.cli.add_command(drafts)

    from app.cli.api_tokens import register_lucie_cli

    register_lucie_cli(app)


def _repeat(job, every: int | None) -> None:
    """Run ``job`` once, or every ``every`` seconds until SIGTERM; print what it reports."""
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    while True:
        report = job()
        if report:
            click.echo(report)
        deadline = time.monotonic() + (every or 0)
        while not stop["now"] and time.monotonic() < deadline:
            time.sleep(0.2)  # short naps: a SIGTERM stops the loop at once
        if every is None or stop["now"]:
            break
