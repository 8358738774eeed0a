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
    """Run ``job(stop)`` once, or every ``every`` seconds until SIGTERM or Ctrl-C sets ``stop``; print what it
    reports. Every background command goes through here.

    A loop outlives database faults: the run is rolled back, the pool emptied, the fault told in
    one line, and the next run comes after 1, 2, 4 … 60 s (a single run fails as it should). Between
    runs no transaction stays open: an old one keeps vacuum from cleaning the tables."""
    stop = threading.Event()
    _stop_on_signals(stop)
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


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (a service manager, the end of `make run`) and Ctrl-C set ``stop``: the loop ends after
    the run in progress, so that the outbox worker records every message it has handed to the SMTP
    server (an interrupted batch would send some again). A second Ctrl-C interrupts at once. A SIGINT
    the process was started to ignore (a background job of a shell script) stays ignored."""

    def on_signal(signum, _frame) -> None:
        if not stop.is_set():  # once: Event.set takes a lock that a handler run within it would wait for
            stop.set()
        if signum == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGTERM, on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_signal)


def _one_line(error: Exception) -> str:
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"
