"""What the background commands share: `--every N` and the loop that repeats a job until SIGTERM and
outlives database faults."""

from __future__ import annotations

import contextlib
import signal
import threading

import click
from sqlalchemy.exc import InterfaceError, OperationalError

from app.extensions import db

every_option = click.option(
    "--every", type=click.IntRange(min=1), help="Recommencer toutes les N secondes, jusqu'à l'arrêt."
)


# What a database outage, restart or failover raises: the connection is gone or refused.
DATABASE_FAULTS = (OperationalError, InterfaceError)
MAX_FAULT_PAUSE = 60  # seconds between two attempts while the database stays away


def repeat(job, every: float | None, name: str) -> None:
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
