"""Where the CPU of a whole journey goes (issue 11), in-process: the people of `bench/load_mixed.py`
(sign-in, home, DAT steps with autosaves, mailbox, letters, sign-out; and a caisse depositing through
the API) run their journeys one after the other, without thinking, against the WSGI application called
directly (no HTTP, no gunicorn), on a fresh SQLite or PostgreSQL database. Prints, per route, the CPU
milliseconds per request (``time.process_time``) and the SQL statements per request; then, with
``--profile``, cProfile's top functions by cumulative CPU time over the same journeys.

    .venv/bin/python -m bench.profile_journey --journeys 20
    .venv/bin/python -m bench.profile_journey --journeys 20 --profile
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_perf \\
        .venv/bin/python -m bench.profile_journey --db postgresql --journeys 20
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

from bench.load_mixed import Caisse, Employer, Finished, Recorder, seed
from bench.step_save import setup_database
from bench.support import fresh_database


class InProcess:
    """Stands for the connection: calls the WSGI application as gunicorn would, and counts the CPU
    time and the SQL statements of each request by route."""

    def __init__(self, app, engine):
        from sqlalchemy import event

        self.app = app
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.statements: dict[str, list[int]] = defaultdict(list)
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._statement)

    def _statement(self, *args):
        self.count += 1

    def send(self, route, method, path, body, headers):
        path, _, query = path.partition("?")
        data = body.encode() if isinstance(body, str) else (body or b"")
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
            "RAW_URI": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8099",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
            "HTTP_HOST": "127.0.0.1:8099", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "CONTENT_LENGTH": str(len(data)),
        }  # fmt: skip
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE",) else f"HTTP_{key}"] = value
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = response_headers

        self.count = 0
        began = time.process_time()
        result = self.app(environ, start_response)
        try:
            payload = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self.cpu[route].append((time.process_time() - began) * 1000)
        self.statements[route].append(self.count)
        return answer["status"], payload, answer["headers"]


def in_process(transport: InProcess, person_class):
    class Local(person_class):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            self.conn = None

        def _send(self, method, path, body, hdrs):
            route = self._route
            status, payload, headers = transport.send(route, method, path, body, hdrs)
            location = ""
            for header, value in headers:
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";")[0]
                elif header.lower() == "location":
                    location = urllib.parse.urlsplit(value).path or value
            return status, payload, location

        def request(self, route, *args, **kw):
            self._route = route
            return super().request(route, *args, **kw)

        def think(self):
            self.steps += 1
            if self.steps > self.budget:
                raise Finished

    return Local


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--journeys", type=int, default=20, help="people, one journey each (in turn)")
    parser.add_argument("--profile", action="store_true", help="cProfile (CPU time) the measured journeys")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative", help="pstats order (cumulative, tottime…)")
    parser.add_argument("--callers", metavar="PATTERN", help="who calls what matches")
    args = parser.parse_args()
    if args.db == "postgresql":
        os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_perf")
    url = setup_database(args.db)
    storage = Path(tempfile.mkdtemp(prefix="profile-journey-")) / "storage"
    fresh_database(url, storage)
    seeded = seed(url, storage, args.journeys + 2, 4)
    os.environ.update(DATABASE_URL=url, STORAGE_DIR=str(storage), LOGIN_RATE_LIMIT="100000 per minute",
                      API_RATE_LIMIT="100000 per minute")  # fmt: skip
    import logging

    logging.disable(logging.INFO)
    from app import create_app
    from app.extensions import db
    from app.services.simple_pdf import make_pdf
    from tests.dat_support import valid_answers

    app = create_app()
    with app.app_context():
        engine = db.engine
    transport = InProcess(app, engine)
    recorder = Recorder()
    document = make_pdf("Notification de décision (profil)", ["Madame, Monsieur,", "", "Courrier de test."])
    answers = valid_answers()
    caisse_class, employer_class = in_process(transport, Caisse), in_process(transport, Employer)

    def run_people(emails, deposits: int):
        caisse = caisse_class(0, recorder, 0, (0, 0), 1, token=seeded["token"], sirets=seeded["sirets"],
                              document=document)  # fmt: skip
        for n in range(deposits):
            caisse.deposit(f"{id(emails)}-{n}")
        for i, (email, est_id) in enumerate(emails):
            person = employer_class(0, recorder, 0, (0, 0), i, email=email, establishment_id=est_id,
                                    prefill=seeded["prefill"][est_id], answers=answers)  # fmt: skip
            person.steps, person.budget = 0, 60
            with contextlib.suppress(Finished):
                person.journey()

    run_people(seeded["people"][:2], 8)  # warm-up: templates compiled, caches filled
    transport.cpu.clear()
    transport.statements.clear()
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    began = time.process_time()
    if profiler:
        profiler.enable()
    run_people(seeded["people"][2:], args.journeys)
    if profiler:
        profiler.disable()
    total = time.process_time() - began
    requests = sum(len(v) for v in transport.cpu.values())
    print(f"# in-process journeys — {args.db}, {args.journeys} people in turn, {requests} requests, "
          f"{total:.2f} s of CPU{' (under cProfile)' if profiler else ''}; "
          f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")  # fmt: skip
    print(
        "\n| route | requests | CPU ms per request (median) | share of the CPU | SQL statements per request |"
    )
    print("|---|---:|---:|---:|---:|")
    spent = {route: sum(times) for route, times in transport.cpu.items()}
    for route in sorted(spent, key=lambda r: -spent[r]):
        times = transport.cpu[route]
        counts = transport.statements[route]
        share = spent[route] / sum(spent.values())
        print(
            f"| {route} | {len(times)} | {statistics.median(times):.1f} | {share:.0%} | "
            f"{statistics.median(counts):g} |"
        )
    print(f"| **all** | {requests} | {sum(spent.values()) / requests:.1f} (mean) | | |")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(args.sort).print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
        root = str(Path(__file__).resolve().parent.parent) + "/"
        print(out.getvalue().replace(root, "").replace(".venv/lib/python3.11/site-packages/", ""))


if __name__ == "__main__":
    sys.exit(main())
