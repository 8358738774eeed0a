"""What the background commands share: `--every N` and the loop that repeats a job until SIGTERM."""

from __future__ import annotations

import signal
import time

import click

every_option = click.option(
    "--every", type=click.IntRange(min=1), help="Recommencer toutes les N secondes, jusqu'à l'arrêt."
)


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
