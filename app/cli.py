"""Flask commands: `flask demo load`, `flask outbox work [--once]`, `flask outbox requeue`,
`flask dat remind [--every N]`, `flask drafts expire [--every N]`, `flask dev mail-sink`."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import InterfaceError, OperationalError

from app.extensions import db


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

        _repeat(run, None if once else interval, "flask outbox work")
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

        def run(_stop) -> str | None:
            queued = send_deadline_reminders()
            return f"{queued} rappel(s) de délai mis en file d'envoi" if queued or every is None else None

        _repeat(run, every, "flask dat remind")

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

        _repeat(run, every, "flask drafts expire")

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

    from app.cli_lucie import register_lucie_cli

    register_lucie_cli(app)


# What a database outage, restart or failover raises: the connection is gone or refused.
DATABASE_FAULTS = (OperationalError, InterfaceError)
MAX_FAULT_PAUSE = 60  # seconds between two attempts while the database stays away


def _repeat(job, every: float | None, name: str) -> None:
    """Run ``job(stop)`` once, or every ``every`` seconds until SIGTERM sets ``stop``; print what it
    reports. Every background command goes through here.

    A loop outlives database faults: the run is rolled back, the pool emptied, the fault told in
    one line, and the next run comes after 1, 2, 4 … 60 s (a single run fails as it should). Between
    runs no transaction stays open: an old one keeps vacuum from cleaning the tables."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    faults = 0
    while True:
        try:
            try:
                report = job(stop)
            finally:
                db.session.remove()  # ends the run's transaction, whatever the job left
        except DATABASE_FAULTS as error:  # during the run, or while ending its transaction
            if every is None:
                raise
            faults += 1
            pause = min(2 ** (faults - 1), MAX_FAULT_PAUSE)
            with contextlib.suppress(*DATABASE_FAULTS):
                db.session.remove()
            db.engine.dispose()
            click.echo(
                f"{name} : base de données injoignable ({_one_line(error)}), nouvel essai dans {pause} s",
                err=True,
            )
            if stop.wait(pause):
                break
            continue
        faults = 0
        if report:
            click.echo(report)
        if every is None or stop.wait(every):
            break


def _one_line(error: Exception) -> str:
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"
