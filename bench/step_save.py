"""Benchmark (run by hand, not a test): the workflow engine's step save through gunicorn, next to a
bare Flask route doing one equivalent insert, at 1, 8 and 32 concurrent clients; page weights.

    .venv/bin/python -m bench.step_save --db sqlite
    .venv/bin/python -m bench.step_save --db postgresql   # DATABASE_URL or the local "test" server

Each client has its own draft and session, and saves the first step again and again with the
version it last saved (a real save: validation, version check, update, audit). Figures go in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import brotli

from bench.support import migrate_and_run, start_gunicorn, stop

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PASSWORD = "Bench-Mot-De-Passe-2026"
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" (?:type="hidden" )?value="(\d+)"')


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_database(db: str) -> str:
    if db == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="bench-")) / "bench.sqlite3"
        return f"sqlite:///{path}"
    url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/atmp_bench")
    from sqlalchemy import create_engine, text

    server, _, name = url.rpartition("/")
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url


def server_env(url: str, **extra: str) -> dict:
    """The served application's environment in this bench and those built on it (dat_bench,
    qrpro_questionnaire): its database, a fresh file store, the rate limits on (their hooks are part
    of every request) but sign-ins unlimited."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "PYTHONPATH": str(ROOT),
        "STORAGE_DIR": tempfile.mkdtemp(prefix="bench-storage-"),
        **extra,
    }


def seed(env: dict, clients: int, establishments: int = 1) -> list[tuple[str, int]]:
    """Migrate, then create one company, one establishment, and one user with one draft per client.
    With ``establishments`` > 1, the company has that many: the users' habilitation is on the head
    office (it covers them all), the drafts on the last one."""
    script = f"""
from app import create_app
from app.extensions import db
from app.models import Service
from app.services.drafts import start_draft
from app.workflows import get_workflow
from tests.factories import make_company, make_establishment, make_user
app = create_app()
with app.app_context():
    company = make_company("Bench SAS")
    granted = est = make_establishment(company, departement="75", head_office={establishments} > 1)
    for _ in range({establishments} - 1):
        est = make_establishment(company, departement="57")
    wf = get_workflow("coordonnees")
    for i in range({clients}):
        user = make_user(f"bench{{i}}@bench.example", company=company, password={PASSWORD!r},
                         grants=[(granted, Service.COMPTE)])
        db.session.commit()
        draft = start_draft(user, wf, est)
        print(user.email, draft.id)
"""
    lines = migrate_and_run(env, script)
    return [(line.split()[0], int(line.split()[1])) for line in lines if "@" in line]


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        try:
            return self._request(method, path, body, headers)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()  # the server closed an idle keep-alive connection
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return self._request(method, path, body, headers)

    def _request(self, method: str, path: str, body: dict | None, headers: dict | None):
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body, doseq=True)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=hdrs)
        response = self.conn.getresponse()
        payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response.status, payload, dict(response.getheaders())

    def login(self, email: str) -> None:
        _, page, _ = self.request("GET", "/connexion")
        token = CSRF_RE.search(page.decode()).group(1)
        status, _, _ = self.request(
            "POST", "/connexion", {"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert status in (302, 303), status


def run_load(concurrency: int, seconds: float, make_worker) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = [0.0]
    start_barrier = threading.Barrier(concurrency + 1)

    def loop(index: int):
        call = make_worker(index)
        start_barrier.wait()
        local = []
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            ok = call()
            local.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    begin = time.perf_counter()
    start_barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begin
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


def page_weights(port: int, email: str, draft_id: int) -> dict:
    client = Client(port)
    client.login(email)
    step = f"/demarches/brouillons/{draft_id}/etapes/nature"
    _, html, _ = client.request("GET", step)
    _, fragment, _ = client.request("GET", step, headers={"HX-Request": "true"})
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', html)
    transferred = len(html)  # HTML is never compressed (BREACH); assets are
    for asset in dict.fromkeys(assets):
        _, body, headers = client.request("GET", asset.decode(), headers={"Accept-Encoding": "br, gzip"})
        encoding = headers.get("Content-Encoding")
        transferred += len(body) if encoding else len(gzip.compress(body))
        if encoding == "br":
            assert brotli.decompress(body)
    return {
        "first_page_bytes": transferred,
        "html_bytes": len(html),
        "fragment_bytes": len(fragment),
        "fragment_ratio": len(fragment) / len(html),
    }


def cpu_calibration() -> float:
    """Seconds for 5 million additions in a Python loop: the same machine type is not always as fast
    (shared hosts), so each run prints how fast this one was."""
    start, total = time.perf_counter(), 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--establishments", type=int, default=1, help="in the users' company")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    url = setup_database(args.db)
    env = server_env(url)
    accounts = seed(env, max(levels), args.establishments)
    from bench.bare_app import create_table

    create_table(url)
    app_port, insert_port, bare_port = free_port(), free_port(), free_port()
    servers = [
        start_gunicorn(env, app_port, args.workers, args.threads),
        start_gunicorn(env, insert_port, args.workers, args.threads, app="bench.app_insert:application"),
        start_gunicorn(env, bare_port, args.workers, args.threads, app="bench.bare_app:application"),
    ]
    try:
        clients, insert_clients = [], []
        for email, draft_id in accounts:
            step = f"/demarches/brouillons/{draft_id}/etapes/nature"
            client = Client(app_port)
            client.login(email)
            text = client.request("GET", step)[1].decode()
            clients.append(
                [client, draft_id, int(VERSION_RE.search(text).group(1)), CSRF_RE.search(text).group(1)]
            )
            client = Client(insert_port)
            client.login(email)
            insert_clients.append((client, CSRF_RE.search(client.request("GET", step)[1].decode()).group(1)))

        def step_worker(index: int):
            state = clients[index]

            def call() -> bool:
                client, draft_id, version, token = state
                status, _, _ = client.request(
                    "POST",
                    f"/demarches/brouillons/{draft_id}/etapes/nature",
                    {"nature": "adresse", "version": version, "csrf_token": token, "action": "continue"},
                )
                state[2] = version + 1
                return status == 303

            return call

        def insert_worker(index: int):
            client, token = insert_clients[index]

            def call() -> bool:
                body = {"nature": "adresse", "csrf_token": token}
                status, _, _ = client.request("POST", "/banc/insertion", body)
                return status == 204

            return call

        def bare_worker(index: int):
            client = Client(bare_port)

            def call() -> bool:
                status, _, _ = client.request("POST", "/bare", {"nature": "adresse"})
                return status == 204

            return call

        calibration = min(cpu_calibration() for _ in range(3))
        print(
            f"# step save vs bare insert — {args.db}, gunicorn {args.workers} workers × {args.threads} "
            f"threads, {args.seconds:.0f} s per level, {args.establishments} establishment(s) in the "
            f"company; CPU calibration {calibration:.2f} s, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(
            "| clients | step save req/s | p50 / p95 ms | signed-in insert req/s | p50 / p95 ms "
            "| bare insert req/s | p50 / p95 ms | step / bare | signed-in insert / bare | errors |"
        )
        print("|---:|---:|---|---:|---|---:|---|---:|---:|---:|")
        for level in levels:
            step = run_load(level, args.seconds, step_worker)
            signed_in = run_load(level, args.seconds, insert_worker)
            bare = run_load(level, args.seconds, bare_worker)
            runs = (step, signed_in, bare)
            cells = [f"{r['rps']:.0f} | {r['p50_ms']:.1f} / {r['p95_ms']:.1f}" for r in runs]
            print(
                f"| {level} | {' | '.join(cells)} | {step['rps'] / bare['rps']:.2f} | "
                f"{signed_in['rps'] / bare['rps']:.2f} | "
                f"{step['errors']}/{signed_in['errors']}/{bare['errors']} |"
            )
        w = page_weights(app_port, *accounts[0])
        first, html, frag = (w[k] / 1024 for k in ("first_page_bytes", "html_bytes", "fragment_bytes"))
        print(f"\nfirst full page, transferred with compression: {first:.1f} KiB (HTML {html:.1f} KiB)")
        print(
            f"htmx fragment {frag:.1f} KiB = {100 * w['fragment_ratio']:.0f} % of its full page's HTML, "
            f"{100 * frag / first:.0f} % of the full page as first transferred"
        )
    finally:
        for server in servers:
            stop(server)


if __name__ == "__main__":
    main()
