"""Metrics an operator scrapes (Prometheus text format 0.0.4, written here: a few lines, no client
library): the outbox's depth, its oldest waiting alert and its failed ones, the DAT receipts waiting
for the file store, and a request-latency histogram per endpoint.

Latencies are counted in each process. gunicorn runs several worker processes and a scrape reaches
one of them: with ``METRICS_DIR`` set, each process writes its counts to ``<dir>/<pid>.json`` (from a
thread of its own, at most once a second, when they changed) and a scrape adds up every file of the
directory, so that the figures are the whole server's, at most a second late. A worker that ends leaves
its file (counters never go back); gunicorn.conf.py empties the directory when the server starts. Each
application server is scraped on its own (its own directory): Prometheus adds the servers up.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, current_app, g, request

from app.models.types import utcnow

# Seconds: from a cached page (a few ms) to a PDF render or a slow upload.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0
PREFIX = "atmp"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Latencies:
    """Request durations by (endpoint, method): per bucket counts, a sum and a count. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], list[float]] = {}  # buckets…, +Inf (count), sum

    def observe(self, endpoint: str, method: str, seconds: float) -> None:
        with self._lock:
            series = self._series.setdefault((endpoint, method), [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    series[i] += 1
            series[-2] += 1
            series[-1] += seconds

    def snapshot(self) -> dict[str, list[float]]:
        with self._lock:
            return {
                f"{endpoint} {method}": list(values) for (endpoint, method), values in self._series.items()
            }


_latencies = Latencies()
_flusher: tuple[int, threading.Event] | None = None  # (the process it runs in, "counts changed")


def init_app(app: Flask) -> None:
    """Time every request of ``app`` (the endpoint's name, never the URL: no identifier in a label)."""

    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    @app.teardown_request
    def _observe(_exc):
        started = g.pop("metrics_started", None)
        if started is None:
            return
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "aucune_route"
        _latencies.observe(endpoint, request.method, time.perf_counter() - started)
        if _directory(app) is not None:
            _changed(app).set()


def _directory(app: Flask) -> Path | None:
    value = app.config.get("METRICS_DIR")
    return Path(value) if value else None


def _changed(app: Flask) -> threading.Event:
    """The event that wakes this process's writer, started on first use in each process (gunicorn
    forks its workers: a thread of the parent would not be theirs)."""
    global _flusher
    if _flusher is None or _flusher[0] != os.getpid():
        changed = threading.Event()
        _flusher = (os.getpid(), changed)
        threading.Thread(target=_write_loop, args=(app, changed), daemon=True, name="metrics").start()
    return _flusher[1]


def _write_loop(app: Flask, changed: threading.Event) -> None:
    """Write this process's counts when they changed, at most once a second (off the requests)."""
    while True:
        changed.wait()
        changed.clear()
        _write(app)
        time.sleep(FLUSH_SECONDS)


def _write(app: Flask) -> None:
    directory = _directory(app)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{os.getpid()}.tmp"
        tmp.write_text(json.dumps(_latencies.snapshot()))
        os.replace(tmp, directory / f"{os.getpid()}.json")
    except OSError as error:  # metrics never fail a request
        app.logger.warning("metrics not written to %s: %s", directory, error)


def _all_latencies(app: Flask) -> dict[str, list[float]]:
    """This process's counts, plus the other processes' last written ones."""
    total = _latencies.snapshot()
    directory = _directory(app)
    if directory is None or not directory.is_dir():
        return total
    own = f"{os.getpid()}.json"
    for path in directory.glob("*.json"):
        if path.name == own:
            continue
        try:
            other = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being replaced, or half-written by a crash
        for key, values in other.items():
            mine = total.setdefault(key, [0.0] * len(values))
            for i, value in enumerate(values):
                mine[i] += value
    return total


# -- access -------------------------------------------------------------------------------------------


def enabled() -> bool:
    config = current_app.config
    return bool(config.get("METRICS_TOKEN") or config.get("METRICS_ALLOWED_NETWORKS"))


def allowed(authorization: str | None, remote_addr: str | None) -> bool:
    """A scrape is let in with ``Authorization: Bearer <METRICS_TOKEN>``, or from an address in
    ``METRICS_ALLOWED_NETWORKS`` (comma-separated, e.g. ``10.0.0.0/8, 127.0.0.1``)."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    presented = authorization.removeprefix("Bearer ").strip() if authorization else ""
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return True
    networks = current_app.config.get("METRICS_ALLOWED_NETWORKS") or ""
    if networks and remote_addr:
        try:
            address = ipaddress.ip_address(remote_addr)
        except ValueError:
            return False
        return any(
            address in ipaddress.ip_network(n.strip(), strict=False) for n in networks.split(",") if n.strip()
        )
    return False


# -- exposition ---------------------------------------------------------------------------------------


def exposition() -> str:
    """Every metric, in the Prometheus text format."""
    from app.services import dat, outbox

    state = outbox.queue_state()
    oldest_age = (utcnow() - state.oldest_waiting_at).total_seconds() if state.oldest_waiting_at else 0.0
    lines: list[str] = []
    _gauge(
        lines, "outbox_queue_depth", "Courriels à envoyer (en attente ou en cours d'envoi).", state.waiting
    )
    _gauge(
        lines,
        "outbox_oldest_pending_age_seconds",
        "Âge du plus ancien courriel non envoyé (0 : aucun).",
        max(oldest_age, 0.0),
    )
    _gauge(lines, "outbox_failed", "Courriels en échec définitif, à examiner.", state.failed)
    _gauge(
        lines,
        "dat_receipts_pending",
        "Accusés de réception DAT en attente de dépôt dans LUCIE (stockage plein).",
        dat.pending_receipts(),
    )
    from app.extensions import db

    db.session.rollback()  # the scrape's reads end here: nothing held until the next request
    _histogram(lines, _all_latencies(current_app._get_current_object()))
    return "\n".join(lines) + "\n"


def _gauge(lines: list[str], name: str, help_text: str, value: float) -> None:
    lines += [
        f"# HELP {PREFIX}_{name} {help_text}",
        f"# TYPE {PREFIX}_{name} gauge",
        f"{PREFIX}_{name} {value:g}",
    ]


def _histogram(lines: list[str], series: dict[str, list[float]]) -> None:
    name = f"{PREFIX}_http_request_duration_seconds"
    lines += [
        f"# HELP {name} Durée des requêtes HTTP par point d'entrée (secondes).",
        f"# TYPE {name} histogram",
    ]
    for key in sorted(series):
        endpoint, method = key.rsplit(" ", 1)
        values = series[key]
        labels = f'endpoint="{_escape(endpoint)}",method="{_escape(method)}"'
        for bound, count in zip(_bounds(), values[:-1], strict=True):
            lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {count:g}')
        lines.append(f"{name}_sum{{{labels}}} {values[-1]:.6f}")
        lines.append(f"{name}_count{{{labels}}} {values[-2]:g}")


def _bounds() -> Iterable[str]:
    return [f"{b:g}" for b in BUCKETS] + ["+Inf"]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def reset_directory(path: str | None) -> None:
    """Empty ``METRICS_DIR`` when a server starts (gunicorn.conf.py): counts of an earlier run's
    processes must not add up with this run's."""
    if not path:
        return
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        stale.unlink(missing_ok=True)
