"""Benchmark (run by hand, not a test): N simultaneous people on mixed journeys, against gunicorn as
`make run` starts it (2 workers × 4 threads, the project's gunicorn.conf.py, an access log, the mail
sink and the outbox worker beside it at nice 10), on SQLite or PostgreSQL (issue 11).

    .venv/bin/python -m bench.load_mixed --db sqlite --users 200 --ramp 60 --duration 120
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_perf \\
        .venv/bin/python -m bench.load_mixed --db postgresql --users 200 --ramp 60 --duration 120

Each simulated person is a thread with its own keep-alive connection and cookies, and thinks 1 to 3 s
(uniform) before each request, as a person reading a page would:

- signs in (the sign-in page, then the form: Argon2 with the project's parameters), lands on the home page;
- then 8 to 16 actions, drawn at random: a few steps of a DAT (the step page, one or two autosaves of the
  step as htmx sends them, then "Continuer"; seven steps, then "Vérifier vos réponses", then a new
  declaration), the LUCIE mailbox (the list, a letter, its first opening, its PDF), the home page;
- signs out, and starts again.

Besides them, one caisse system per 20 people deposits letters through the API (a real PDF, multipart),
thinking as long, and reads one back now and then: the mailboxes fill while the load runs.

People start one after the other over ``--ramp`` seconds; the figures are those of the ``--duration``
seconds after the ramp (all people active), per route: count, p50 / p95 / p99 and the errors (a
status other than the journey's, or no answer). The whole-run figures follow. Times are the client's
(connection, queueing in gunicorn, the request), on loopback; the server's CPU per request comes from
/proc (gunicorn's workers' user + system time over the measured window, divided by the requests).
The load generator runs on the same machine and takes CPU from the server: its own CPU is printed too,
with the cores the outbox worker, the mail sink and PostgreSQL used and the machine's idle share
(near 0 %: the machine is saturated, and every route's time is mostly its wait for a core), then how
long the alerts queued in the measured window waited for the outbox worker.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from bench.step_save import PASSWORD, ROOT, cpu_calibration, free_port, setup_database
from bench.support import VENV_BIN, fresh_database, multipart, stop, wait_for

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
DRAFT_RE = re.compile(r"/brouillons/(\d+)/")
LETTER_RE = re.compile(r'href="/courriers/(\d+)"')
OPEN_RE = re.compile(r'action="/courriers/(\d+)/ouvrir"')
DAT_STEPS = ("employeur", "victime", "accident", "lesions", "connaissance", "temoins", "reserves")
PEOPLE_PER_API_CLIENT = 20


# -- seeding ----------------------------------------------------------------------------------------


def seed(url: str, storage: Path, users: int, establishments: int) -> dict:
    """A caisse with an API token; one company of ``establishments`` establishments in Moselle, all
    subscribed to LUCIE; ``users`` employer users, each habilitated for the DAT, LUCIE and the account
    services on one establishment. One Argon2 hash for all (same password): seeding 200 users does not
    take 200 hashes; each sign-in still verifies it with the project's parameters."""
    from app import create_app
    from app.extensions import db
    from app.models import Establishment, Habilitation, LucieAlertAddress, Service, User
    from app.services import lucie
    from app.services.api_tokens import create_token
    from app.services.passwords import hash_password
    from tests.factories import make_caisse, make_company, make_establishment

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(storage)})
    with app.app_context():
        make_caisse("CPAM de Moselle", departements="57")
        company = make_company("Charge Mixte SAS")
        places = [
            make_establishment(company, departement="57", city="Metz", postal_code="57000")
            for _ in range(establishments)
        ]
        for n, est in enumerate(places):
            db.session.add(LucieAlertAddress(establishment_id=est.id, email=f"alertes{n}@charge.test"))
            lucie.subscribe(est)
        password_hash = hash_password(PASSWORD)
        people = []
        for i in range(users):
            est = places[i % establishments]
            user = User(
                email=f"personne{i}@charge.test",
                full_name=f"Personne {i}",
                password_hash=password_hash,
                company_id=company.id,
            )
            db.session.add(user)
            db.session.flush()
            for service in (Service.DAT, Service.LUCIE, Service.COMPTE):
                db.session.add(Habilitation(user_id=user.id, establishment_id=est.id, service=str(service)))
            people.append((user.email, est.id))
        db.session.commit()
        _, token = create_token("CPAM de Moselle", "charge")
        prefill = {}
        for est in db.session.query(Establishment).filter(Establishment.company_id == company.id):
            prefill[est.id] = {
                "siret": est.siret,
                "raison_sociale": company.name,
                "adresse": est.address,
                "code_postal": est.postal_code,
                "commune": est.city,
                "code_risque": est.code_risque,
            }
        db.engine.dispose()
    return {
        "people": people,
        "token": token,
        "prefill": prefill,
        "sirets": [p["siret"] for p in prefill.values()],
    }


# -- the server, as `make run` starts it ------------------------------------------------------------


def start_platform(env: dict, port: int, mail_port: int, workdir: Path, workers: int, threads: int,
                   niceness: int):  # fmt: skip
    """The mail sink and the outbox worker at ``niceness``, then gunicorn with `make run`'s arguments
    (its access log to a file instead of the terminal)."""
    flask = [str(VENV_BIN / "flask")]
    logs = open(workdir / "background.log", "w")  # noqa: SIM115 (closed with the processes)
    background = ["nice", "-n", str(niceness)]  # as `make run` starts them
    sink = subprocess.Popen([*background, *flask, "dev", "mail-sink", "--port", str(mail_port)], cwd=ROOT,
                            env=env, stdout=logs, stderr=logs)  # fmt: skip
    outbox = subprocess.Popen([*background, *flask, "outbox", "work"], cwd=ROOT, env=env, stdout=logs,
                              stderr=logs)  # fmt: skip
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--access-logfile",
            str(workdir / "access.log"),
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stderr=logs,
    )
    wait_for(port)
    return [server, outbox, sink]


def alert_waits(url: str, storage: Path, since: datetime, until: datetime) -> str:
    """The LUCIE alerts queued while all people were active: how long each waited for the outbox worker
    (sent minus queued, seconds), and how many were still unsent when the platform stopped."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import OutboxMessage

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(storage)})
    with app.app_context():
        query = select(OutboxMessage.created_at, OutboxMessage.sent_at).where(
            OutboxMessage.created_at.between(since, until)
        )
        rows = db.session.execute(query).all()
        db.engine.dispose()
    waits = sorted((sent - queued).total_seconds() for queued, sent in rows if sent is not None)
    unsent = len(rows) - len(waits)
    if not waits:
        return f"alerts: {len(rows)} queued, none sent"
    p50, p95 = (waits[min(len(waits) - 1, int(q * len(waits)))] for q in (0.50, 0.95))
    return (
        f"alerts: {len(rows)} queued, {len(waits)} sent; wait p50 {p50:.1f} s, p95 {p95:.1f} s, "
        f"max {waits[-1]:.1f} s; {unsent} unsent at the end"
    )


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (gunicorn's master and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        for line in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            pids.append(int(line))
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def postgres_cpu() -> float:
    """User + system CPU seconds of this machine's PostgreSQL processes (0 when it runs elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, _, rest = stat.partition(" (")[2].rpartition(")")
        if name.startswith("postgres"):
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_ticks() -> tuple[int, int]:
    """(idle, all) CPU ticks of the whole machine since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return values[3] + values[4], sum(values)  # idle + iowait


def cpu_reading(processes) -> dict[str, float]:
    """CPU seconds so far of gunicorn (master and workers), the outbox worker, the mail sink and
    PostgreSQL; this process's (the load generator); the machine's idle and total ticks."""
    server, outbox, sink = processes
    idle, ticks = machine_ticks()
    return {
        "gunicorn": process_tree_cpu(server.pid),
        "outbox worker": process_tree_cpu(outbox.pid),
        "mail sink": process_tree_cpu(sink.pid),
        "PostgreSQL": postgres_cpu(),
        "load generator": time.process_time(),
        "idle": idle,
        "ticks": ticks,
    }


# -- the client -------------------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[tuple[float, str, float, bool]] = []  # (end time, route, ms, ok)
        self.failures: dict[str, int] = defaultdict(int)

    def add(self, route: str, began: float, ok: bool, detail: str = "") -> None:
        end = time.perf_counter()
        with self.lock:
            self.rows.append((end, route, (end - began) * 1000, ok))
            if not ok:
                self.failures[f"{route}: {detail}"] += 1


class Person:
    """One browser: a keep-alive connection, its cookies, and what it is doing."""

    def __init__(self, port: int, recorder: Recorder, stop_at: float, think: tuple[float, float], seed: int):
        self.port = port
        self.recorder = recorder
        self.stop_at = stop_at
        self.think_range = think
        self.random = random.Random(seed)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""

    # HTTP
    def request(
        self, route: str, method: str, path: str, *, form=None, body=None, headers=None, expect=(200,)
    ):
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        try:
            status, payload, location = self._send(method, path, body, hdrs)
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.recorder.add(route, began, False, type(error).__name__)
            raise Abandon from error
        ok = status in expect
        self.recorder.add(route, began, ok, str(status))
        if not ok:
            raise Abandon(f"{route} {status}")
        return status, payload.decode("utf-8", "replace"), location

    def _send(self, method, path, body, hdrs):
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # gunicorn closed the idle keep-alive connection (2 s, `make run`'s default): the
                # request never reached it; a browser opens a new connection and sends it again.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response.status, payload, response.getheader("Location", "")

    def think(self) -> None:
        pause = self.random.uniform(*self.think_range)
        if time.perf_counter() + pause >= self.stop_at:
            raise Finished
        time.sleep(pause)


class Abandon(Exception):
    """The journey cannot go on (an error, counted): the person starts again from the sign-in."""


class Finished(Exception):
    """The run is over."""


class Employer(Person):
    def __init__(self, *args, email: str, establishment_id: int, prefill: dict, answers: dict, **kw):
        super().__init__(*args, **kw)
        self.email = email
        self.establishment_id = establishment_id
        self.prefill = prefill
        self.answers = answers
        self.draft: tuple[int, int, int] | None = None  # draft id, next step index, version

    def run(self) -> None:
        while True:
            try:
                self.journey()
            except Abandon:
                self.cookies.clear()
                self.draft = None
            except Finished:
                return

    def journey(self) -> None:
        self.cookies.clear()
        _, page, _ = self.request("sign-in page", "GET", "/connexion")
        self.think()
        token = CSRF_RE.search(page).group(1)
        form = {"email": self.email, "password": PASSWORD, "csrf_token": token}
        self.request("sign-in", "POST", "/connexion", form=form, expect=(302, 303))
        _, page, _ = self.request("home", "GET", "/")
        self.token = CSRF_RE.search(page).group(1)
        for _ in range(self.random.randint(8, 16)):
            self.think()
            roll = self.random.random()
            if roll < 0.55:
                self.dat_steps()
            elif roll < 0.85:
                self.mailbox()
            else:
                self.request("home", "GET", "/")
        self.think()
        self.request("sign-out", "POST", "/deconnexion", form={"csrf_token": self.token}, expect=(302, 303))

    def dat_steps(self) -> None:
        """Two or three steps of a declaration, each as a person fills it: the page, an autosave or two
        while typing, then "Continuer"."""
        if self.draft is None:
            form = {"csrf_token": self.token, "establishment": str(self.establishment_id)}
            _, _, location = self.request(
                "DAT start", "POST", "/demarches/dat/commencer", form=form, expect=(303,)
            )
            self.draft = (int(DRAFT_RE.search(location).group(1)), 0, 1)
        for _ in range(self.random.randint(2, 3)):
            draft_id, index, version = self.draft
            if index == len(DAT_STEPS):
                self.request("DAT check answers", "GET", f"/demarches/brouillons/{draft_id}/verifier")
                self.draft = None
                return
            step = DAT_STEPS[index]
            url = f"/demarches/brouillons/{draft_id}/etapes/{step}"
            _, page, _ = self.request("DAT step page", "GET", url)
            version = int(VERSION_RE.search(page).group(1))
            data = dict(self.answers[step])
            if step == "employeur":
                data |= self.prefill
            for _ in range(self.random.randint(1, 2)):
                self.think()
                form = {**data, "csrf_token": self.token, "version": str(version)}
                self.request(
                    "DAT autosave",
                    "POST",
                    url + "/enregistrement-automatique",
                    form=form,
                    headers={"HX-Request": "true"},
                )
                version += 1
            self.think()
            form = {**data, "csrf_token": self.token, "version": str(version), "action": "continue"}
            self.request("DAT step save", "POST", url, form=form, expect=(303,))
            self.draft = (draft_id, index + 1, version + 1)

    def mailbox(self) -> None:
        _, page, _ = self.request("mailbox", "GET", "/courriers/")
        letters = LETTER_RE.findall(page)
        if not letters:
            return
        letter_id = self.random.choice(letters)
        self.think()
        _, page, _ = self.request("letter", "GET", f"/courriers/{letter_id}")
        if OPEN_RE.search(page):
            self.think()
            form = {"csrf_token": self.token}
            self.request("letter opening", "POST", f"/courriers/{letter_id}/ouvrir", form=form, expect=(303,))
            self.request("letter", "GET", f"/courriers/{letter_id}")
        headers = {"Sec-Fetch-Site": "same-origin"}
        self.request("letter PDF", "GET", f"/courriers/{letter_id}/document", headers=headers)


class Caisse(Person):
    def __init__(self, *args, token: str, sirets: list[str], document: bytes, **kw):
        super().__init__(*args, **kw)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.sirets = sirets
        self.document = document

    def run(self) -> None:
        n = 0
        while True:
            try:
                self.think()
                n += 1
                self.deposit(f"{threading.get_ident()}-{n}")
            except Abandon:
                pass
            except Finished:
                return

    def deposit(self, key: str) -> None:
        body, content_type = multipart(
            {
                "siret": self.random.choice(self.sirets),
                "type": "notification_decision",
                "titre": f"Décision {key}",
                "reference_dossier": f"57-2026-{abs(hash(key)) % 1_000_000:06d}",
            },
            {"fichier": ("decision.pdf", self.document, "application/pdf")},
        )
        headers = {**self.auth, "Content-Type": content_type, "Idempotency-Key": f"charge-{key}"}
        _, _, location = self.request(
            "API deposit", "POST", "/api/v1/courriers", body=body, headers=headers, expect=(201,)
        )
        if self.random.random() < 0.3:
            self.request(
                "API letter", "GET", urllib.parse.urlsplit(location).path or location, headers=self.auth
            )


# -- report -----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def table(rows, begin: float, end: float) -> tuple[str, int, int, float]:
    by_route: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    every: list[float] = []
    for at, route, ms, ok in rows:
        if begin <= at < end:
            by_route[route].append(ms)
            every.append(ms)
            if not ok:
                errors[route] += 1
    lines = ["| route | requests | p50 ms | p95 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|"]
    for route in sorted(by_route, key=lambda r: -len(by_route[r])):
        times = by_route[route]
        lines.append(
            f"| {route} | {len(times)} | {statistics.median(times):.1f} | {percentile(times, 0.95):.1f} | "
            f"{percentile(times, 0.99):.1f} | {errors[route]} |"
        )
    if every:
        lines.append(
            f"| **all** | {len(every)} | {statistics.median(every):.1f} | "
            f"**{percentile(every, 0.95):.1f}** | {percentile(every, 0.99):.1f} | {sum(errors.values())} |"
        )
    return "\n".join(lines), len(every), sum(errors.values()), (percentile(every, 0.95) if every else 0.0)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--ramp", type=float, default=60.0, help="seconds over which the people start")
    parser.add_argument("--duration", type=float, default=120.0, help="measured seconds, all people active")
    parser.add_argument("--think", default="1,3", help="thinking time range, seconds")
    parser.add_argument("--establishments", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run: 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (make run: 4)")
    parser.add_argument(
        "--background-nice",
        type=int,
        default=10,
        help="niceness of the outbox worker and the mail sink (make run: 10)",
    )
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    think = tuple(float(x) for x in args.think.split(","))

    if args.db == "postgresql":
        os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_perf")
    url = setup_database(args.db)
    workdir = Path(tempfile.mkdtemp(prefix="load-mixed-"))
    storage = workdir / "storage"
    fresh_database(url, storage)
    seeded = seed(url, storage, args.users, args.establishments)

    from app.services.simple_pdf import make_pdf
    from tests.dat_support import valid_answers

    document = make_pdf("Notification de décision (charge)", ["Madame, Monsieur,", "", "Courrier de test."])
    answers = valid_answers()
    port, mail_port = free_port(), free_port()
    env = {
        **os.environ,
        "APP_ENV": "development",  # as `make run`
        "BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": url,
        "STORAGE_DIR": str(storage),
        "MAIL_PORT": str(mail_port),
        "MAIL_SINK_DIR": str(workdir / "mails"),
        "FLASK_APP": "wsgi.py",
        # Every simulated person signs in from 127.0.0.1: the per-address limit (10 a minute) would
        # refuse them. The limiter still runs on every request.
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "API_RATE_LIMIT": "100000 per minute",
        "PYTHONPATH": str(ROOT),
    }
    calibration = cpu_calibration()
    print(
        f"# mixed load — {args.db}, {args.users} people (+ {max(1, args.users // PEOPLE_PER_API_CLIENT)} API "
        f"clients), ramp {args.ramp:.0f} s, measured {args.duration:.0f} s, "
        f"thinking {think[0]:g}–{think[1]:g} s, "
        f"gunicorn {args.workers} workers × {args.threads} threads, outbox worker and mail sink at "
        f"nice {args.background_nice}"
    )
    print(
        f"# CPU calibration {calibration:.3f} s; load average at start {load_average()}; "
        f"{os.cpu_count()} CPUs"
    )
    processes = start_platform(
        env, port, mail_port, workdir, args.workers, args.threads, args.background_nice
    )
    recorder = Recorder()
    try:
        # A few letters in every mailbox before the people arrive.
        warm = Caisse(port, recorder, time.perf_counter() + 600, (0, 0), 0, token=seeded["token"],
                      sirets=seeded["sirets"], document=document)  # fmt: skip
        for n in range(3 * args.establishments):
            warm.deposit(f"warm-{n}")
        recorder.rows.clear()

        begin = time.perf_counter()
        measure_from = begin + args.ramp
        stop_at = measure_from + args.duration
        rng = random.Random(args.seed)
        people: list[Person] = []
        for email, est_id in seeded["people"]:
            people.append(
                Employer(
                    port,
                    recorder,
                    stop_at,
                    think,
                    rng.randrange(1 << 30),
                    email=email,
                    establishment_id=est_id,
                    prefill=seeded["prefill"][est_id],
                    answers=answers,
                )
            )
        for _ in range(max(1, args.users // PEOPLE_PER_API_CLIENT)):
            caisse = Caisse(port, recorder, stop_at, think, rng.randrange(1 << 30), token=seeded["token"],
                            sirets=seeded["sirets"], document=document)  # fmt: skip
            people.append(caisse)
        rng.shuffle(people)
        threads = []
        for i, person in enumerate(people):
            start_at = begin + args.ramp * i / len(people)
            time.sleep(max(0.0, start_at - time.perf_counter()))
            thread = threading.Thread(target=person.run, daemon=True)
            thread.start()
            threads.append(thread)
        time.sleep(max(0.0, measure_from - time.perf_counter()))
        load_at_measure = load_average()
        before = cpu_reading(processes)
        window = [datetime.now(UTC)]
        time.sleep(max(0.0, stop_at - time.perf_counter()))
        after = cpu_reading(processes)
        window.append(datetime.now(UTC))
        load_at_end = load_average()
        for thread in threads:
            thread.join(timeout=65)
    finally:
        for process in processes:
            stop(process)

    rows = list(recorder.rows)
    text, count, errors, p95 = table(rows, measure_from, stop_at)
    print(
        f"\n## all {args.users} people active, {args.duration:.0f} s "
        f"(load average {load_at_measure} → {load_at_end})\n"
    )
    print(text)
    used = {name: after[name] - before[name] for name in after}
    server_cpu = used["gunicorn"]
    print(
        f"\n{count / args.duration:.1f} requests/s; server CPU {server_cpu:.1f} s "
        f"= {server_cpu / max(count, 1) * 1000:.1f} ms per request "
        f"({server_cpu / args.duration:.2f} cores); load generator CPU "
        f"{used['load generator'] / args.duration:.2f} cores"
    )
    # Where the machine's cores went (a share near 0 % idle is a saturated machine: every route's
    # time is then mostly its wait for a core).
    shares = ", ".join(
        f"{name} {used[name] / args.duration:.2f}"
        for name in ("gunicorn", "outbox worker", "mail sink", "PostgreSQL", "load generator")
    )
    idle = used["idle"] / max(used["ticks"], 1) * 100
    print(f"cores used: {shares}; machine idle {idle:.0f} % of {os.cpu_count()} CPUs")
    print(alert_waits(url, storage, *window))
    text, _, _, _ = table(rows, begin, stop_at)
    print(f"\n## whole run, ramp included\n\n{text}")
    if recorder.failures:
        print("\nerrors:", dict(sorted(recorder.failures.items(), key=lambda kv: -kv[1])[:10]))
    verdict = "met" if p95 < 300 and errors == 0 else "not met"
    print(
        f"\ntarget p95 < 300 ms with no error at {args.users} people: {verdict} "
        f"(p95 {p95:.1f} ms, {errors} errors)"
    )


if __name__ == "__main__":
    sys.exit(main())
