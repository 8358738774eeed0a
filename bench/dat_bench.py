"""Benchmark (run by hand, not a test): whole DAT declarations through gunicorn — start, the seven
step saves, "Vérifier et envoyer" (declarant + certification), the accusé de réception page and its
PDF, and the Cerfa-like declaration PDF — with the engine's plain step save (the one-question first
step of the "coordonnées" workflow) measured in the same run as the reference.

    .venv/bin/python -m bench.dat_bench --db sqlite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dat \
        .venv/bin/python -m bench.dat_bench --db postgresql

Server times are gunicorn's own (`%(D)s` in its access log), so the client's overhead is left out.
Targets (issue 3): PDF generation p95 < 300 ms; one declaration's step saves + submit < 150 ms of
server time in total. Figures go in docs/performance.md (section DAT).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from bench.step_save import PASSWORD, PY, ROOT, Client, free_port, server_env, setup_database
from bench.support import migrate_and_run, start_gunicorn, stop
from tests.dat_support import STEPS, valid_answers

VERSION_RE = re.compile(r'name="version" value="(\d+)"')
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
DRAFT_RE = re.compile(r"/brouillons/(\d+)/")
REFERENCE_RE = re.compile(r"/declarations/(DAT-\d{4}-\d{6})/")
LOG_FORMAT = "%(m)s %(U)s %(s)s %(D)s"


def seed(env: dict, clients: int, lucie: bool = False) -> dict:
    script = f"""
from app import create_app
from app.extensions import db
from app.models import Service
from app.services.drafts import start_draft
from app.workflows import get_workflow
from tests.factories import make_caisse, make_company, make_establishment, make_user
app = create_app()
with app.app_context():
    company = make_company("Bench BTP")
    est = make_establishment(company, departement="57", city="Metz", postal_code="57000")
    make_caisse("CPAM de Moselle", departements="57")
    if {lucie!r}:
        from app.services import lucie
        lucie.subscribe(est)
    for i in range({clients}):
        user = make_user(f"dat{{i}}@bench.example", company=company, password={PASSWORD!r},
                         grants=[(est, Service.DAT), (est, Service.COMPTE)])
        db.session.commit()
        draft = start_draft(user, get_workflow("coordonnees"), est)
        print("USER", user.email, draft.id)
    print("EST", est.id)
"""
    lines = migrate_and_run(env, script)
    users, establishment_id = [], None
    for line in lines:
        parts = line.split()
        if parts[0] == "USER":
            users.append((parts[1], int(parts[2])))
        elif parts[0] == "EST":
            establishment_id = int(parts[1])
    return {"users": users, "establishment_id": establishment_id}


def declare(client: Client, token: str, establishment: dict, answers: dict) -> str:
    """One whole declaration; returns its reference."""
    status, _, headers = client.request(
        "POST", "/demarches/dat/commencer", {"csrf_token": token, "establishment": str(establishment["id"])}
    )
    assert status == 303, status
    draft_id = int(DRAFT_RE.search(headers["Location"]).group(1))
    version = 1
    for step in STEPS:
        data = dict(answers[step])
        if step == "employeur":
            data |= establishment["prefill"]
        status, body, _ = client.request(
            "POST",
            f"/demarches/brouillons/{draft_id}/etapes/{step}",
            {**data, "csrf_token": token, "version": str(version), "action": "continue"},
        )
        assert status == 303, (step, status, body[:300])
        version += 1
    status, _, headers = client.request(
        "POST",
        f"/demarches/brouillons/{draft_id}/envoyer",
        {
            "csrf_token": token,
            "version": str(version),
            "declarant_nom": "Camille Martin",
            "declarant_qualite": "Responsable RH",
            "certification": "y",
            "confirme_doublon": "y",  # the same accident again, on purpose: confirmed as a person would
        },
    )
    assert status == 303, status
    status, _, headers = client.request("GET", headers["Location"])  # → the receipt (engine hook)
    reference = REFERENCE_RE.search(headers["Location"]).group(1)
    status, _, _ = client.request("GET", headers["Location"])
    assert status == 200
    for kind in ("accuse-reception", "declaration"):
        status, pdf, _ = client.request("GET", f"/dat/declarations/{reference}/{kind}.pdf")
        assert status == 200 and pdf.startswith(b"%PDF"), status
    return reference


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {percentile(values, 0.95):.1f}"


def run(port: int, accounts: list, establishment: dict, concurrency: int, seconds: float) -> dict:
    answers = valid_answers()
    done, errors = [0], []
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def worker(index: int) -> None:
        email, coord_draft = accounts[index]
        client = Client(port)
        client.login(email)
        _, page, _ = client.request("GET", "/demarches/")
        token = CSRF_RE.search(page.decode()).group(1)
        _, page, _ = client.request("GET", f"/demarches/brouillons/{coord_draft}/etapes/nature")
        coord_version = [int(VERSION_RE.search(page.decode()).group(1))]
        while time.perf_counter() < stop:
            try:
                declare(client, token, establishment, answers)
                # The reference in the same run: the engine's plain one-question step save.
                for _ in range(3):
                    status, _, _ = client.request(
                        "POST",
                        f"/demarches/brouillons/{coord_draft}/etapes/nature",
                        {
                            "nature": "adresse",
                            "version": coord_version[0],
                            "csrf_token": token,
                            "action": "continue",
                        },
                    )
                    assert status == 303, status
                    coord_version[0] += 1
            except AssertionError as error:  # pragma: no cover (reported below)
                errors.append(repr(error))
                return
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"declarations": done[0], "elapsed": time.perf_counter() - begin, "errors": errors}


def parse_log(log: Path) -> dict:
    """Server times (ms) by kind of request, and per declaration (its draft's saves + submit)."""
    times = defaultdict(list)
    per_draft = defaultdict(float)
    submitted = set()
    step_re = re.compile(r"^POST /demarches/brouillons/(\d+)/etapes/(\w+) 303 (\d+)$")
    for line in log.read_text().splitlines():
        method, path, _status, micros = line.split()
        ms = int(micros) / 1000
        match = step_re.match(line)
        if match:
            draft, step = match.group(1), match.group(2)
            if step == "nature":
                times["coordonnees step save"].append(ms)
            else:
                times[f"DAT step save ({step})"].append(ms)
                times["DAT step save (all)"].append(ms)
                per_draft[draft] += ms
        elif method == "POST" and path.endswith("/envoyer"):
            times["submit"].append(ms)
            draft = DRAFT_RE.search(path + "/").group(1)
            per_draft[draft] += ms
            submitted.add(draft)
        elif path.endswith("/accuse-reception.pdf"):
            times["accusé de réception PDF"].append(ms)
        elif path.endswith("/declaration.pdf"):
            times["declaration PDF (Cerfa layout)"].append(ms)
        elif path.endswith("/accuse-reception"):
            times["receipt page"].append(ms)
        elif method == "POST" and path.endswith("/commencer"):
            times["start"].append(ms)
    # Only declarations whose seven saves and submit all fell inside the measured window.
    times["7 step saves + submit, per declaration"] = [v for d, v in per_draft.items() if d in submitted]
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", default="1,4")
    parser.add_argument("--lucie", action="store_true", help="the establishment is subscribed to LUCIE")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    if args.db == "postgresql":
        os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_dat")
    url = setup_database(args.db)
    env = server_env(url, MAIL_SUPPRESS_SEND="1")
    seeded = seed(env, max(levels), lucie=args.lucie)
    establishment = {"id": seeded["establishment_id"], "prefill": prefill(env, seeded["establishment_id"])}
    print(
        f"# DAT declarations — {args.db}{' (LUCIE subscriber)' if args.lucie else ''}, "
        f"gunicorn {args.workers} workers × 4 threads, "
        f"{args.seconds:.0f} s per level"
    )
    for level in levels:
        log = Path(tempfile.mkdtemp(prefix="bench-log-")) / "access.log"
        port = free_port()
        server = start_gunicorn(env, port, args.workers, access_log=log, log_format=LOG_FORMAT)
        try:
            # Warm-up: fonts and templates loaded in every worker.
            run(port, seeded["users"], establishment, min(level, 2), 3.0)
            log.write_text("")
            result = run(port, seeded["users"], establishment, level, args.seconds)
        finally:
            stop(server)
        times = parse_log(log)
        rate = result["declarations"] / result["elapsed"]
        print(f"\n## {level} client(s): {result['declarations']} declarations, {rate:.2f} declarations/s")
        if result["errors"]:
            print("errors:", result["errors"][:3])
        print("| request (server time) | n | p50 / p95 ms |")
        print("|---|---:|---:|")
        for name in (
            "start",
            "coordonnees step save",
            "DAT step save (all)",
            *[f"DAT step save ({s})" for s in STEPS],
            "submit",
            "7 step saves + submit, per declaration",
            "receipt page",
            "accusé de réception PDF",
            "declaration PDF (Cerfa layout)",
        ):
            if times.get(name):
                print(f"| {name} | {len(times[name])} | {summary(times[name])} |")


def prefill(env: dict, establishment_id: int) -> dict:
    """The employer block the application prefills (what a browser posts back)."""
    script = f"""
import json
from app import create_app
from app.extensions import db
from app.models import Establishment
app = create_app()
with app.app_context():
    e = db.session.get(Establishment, {establishment_id})
    print(json.dumps({{"siret": e.siret, "raison_sociale": e.company.name, "adresse": e.address,
                       "code_postal": e.postal_code, "commune": e.city, "code_risque": e.code_risque}}))
"""
    import json

    out = subprocess.run([PY, "-c", script], env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
