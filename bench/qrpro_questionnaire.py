"""Benchmark (run by hand, not a test): a QR Pro questionnaire page — its GET and its save — at 8 clients,
next to a DAT step in the same run, through gunicorn as `make run` serves the app (2 workers × 4 threads).

    .venv/bin/python -m bench.qrpro_questionnaire --db sqlite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_qrpro_questionnaire \\
        .venv/bin/python -m bench.qrpro_questionnaire --db postgresql     # the database is dropped first

Each client is an employer user habilitated for QR Pro and the DAT on one establishment in Moselle, with
its own AT case (the employer's questionnaire ``qr-at-employeur`` started on it, its first page answered)
and its own DAT draft (its first step answered). Each client loops, as a person would: the questionnaire's
« Le lieu et l'heure de l'accident » page (GET), its save with « Continuer » (POST: the case party's
authorization, the case's window, the form built from the model version, validation, the version check,
the update, an audit row), then the DAT's « victime » step (20 fields, the engine's heaviest Python-defined
step) and its save. Each save carries the version its GET showed. Latencies per request kind; figures in
docs/performance.md (« QR Pro »).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

from bench.step_save import (
    CSRF_RE,
    PASSWORD,
    VERSION_RE,
    Client,
    cpu_calibration,
    free_port,
    server_env,
    setup_database,
)
from bench.support import migrate_and_run, start_gunicorn, stop

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
QUESTIONNAIRE = "qr-at-employeur"
QUESTIONNAIRE_PAGE = "lieu_heure"
DAT_STEP = "victime"
KINDS = ("questionnaire GET", "questionnaire POST", "DAT step GET", "DAT step POST")


def seed(env: dict, clients: int) -> list[tuple[str, int, int]]:
    """Migrate, then one company, one establishment and, per client, a user with an AT case (its
    questionnaire's first page answered) and a DAT draft (its first step answered)."""
    script = f"""
from datetime import timedelta
from app import create_app
from app.domain.cases import Party
from app.extensions import db
from app.models import Case
from app.models.types import utcnow
from app.services import drafts, form_models
from app.workflows import get_workflow
from tests.dat_support import to_multidict, valid_answers
from tests.factories import make_company, make_establishment, make_user
from tests.qrpro_parties_support import VALID
app = create_app()
with app.app_context(), app.test_request_context():
    form_models.load_models()
    company = make_company("Bench QR SAS")
    place = make_establishment(company, departement="57", city="Metz", postal_code="57000")
    questionnaire = form_models.current_workflow({QUESTIONNAIRE!r})
    dat = get_workflow("dat")
    first_page, first_answers = VALID[{QUESTIONNAIRE!r}][0]
    answers = valid_answers()
    for i in range({clients}):
        user = make_user(f"bench{{i}}@bench.example", company=company, password={PASSWORD!r},
                         grants=[(place, "*")])
        case = Case(reference=f"AT-2026-{{900000 + i}}", kind="AT", establishment_id=place.id,
                    victim_name=f"Victime {{i}}", stage="questionnaires", employer_model={QUESTIONNAIRE!r},
                    opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=60))
        db.session.add(case)
        db.session.commit()
        draft = drafts.start_case_draft(user, questionnaire, case, Party.EMPLOYER)
        saved = drafts.save_step(user, draft, questionnaire, questionnaire.step(first_page),
                                 to_multidict(first_answers), base_version=draft.version)
        assert saved.valid, saved.form.errors
        dat_draft = drafts.start_draft(user, dat, place)
        employeur = {{**dat_draft.answers.get("employeur", {{}}), **answers["employeur"]}}
        saved = drafts.save_step(user, dat_draft, dat, dat.step("employeur"), to_multidict(employeur),
                                 base_version=dat_draft.version)
        assert saved.valid, saved.form.errors
        db.session.commit()
        print(user.email, draft.id, dat_draft.id)
"""
    lines = migrate_and_run(env, script)
    return [
        (parts[0], int(parts[1]), int(parts[2]))
        for parts in (line.split() for line in lines)
        if "@" in parts[0]
    ]


def answers() -> tuple[dict, dict]:
    from tests.dat_support import valid_answers
    from tests.qrpro_parties_support import VALID

    page = dict(VALID[QUESTIONNAIRE])[QUESTIONNAIRE_PAGE]
    return page, valid_answers()["victime"]


def run(port: int, accounts, seconds: float) -> tuple[dict[str, list[float]], int]:
    """Every client loops over the four requests for ``seconds``; the latencies of each kind (s)."""
    questionnaire_answers, dat_answers = answers()
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors = [0]
    lock = threading.Lock()
    clients = []
    for email, draft_id, dat_id in accounts:
        client = Client(port)
        client.login(email)
        clients.append((client, draft_id, dat_id))
    barrier = threading.Barrier(len(clients) + 1)
    stop_at = [0.0]

    def timed(client, method, path, body=None):
        start = time.perf_counter()
        status, page, _ = client.request(method, path, body)
        return time.perf_counter() - start, status, page.decode()

    def loop(client, draft_id: int, dat_id: int) -> None:
        targets = (
            (
                "questionnaire",
                f"/demarches/brouillons/{draft_id}/etapes/{QUESTIONNAIRE_PAGE}",
                questionnaire_answers,
            ),
            ("DAT step", f"/demarches/brouillons/{dat_id}/etapes/{DAT_STEP}", dat_answers),
        )
        local: dict[str, list[float]] = {kind: [] for kind in KINDS}
        failed = 0
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            for name, path, data in targets:
                elapsed, status, page = timed(client, "GET", path)
                local[f"{name} GET"].append(elapsed)
                if status != 200:
                    failed += 1
                    continue
                form = {
                    **data,
                    "csrf_token": CSRF_RE.search(page).group(1),
                    "version": VERSION_RE.search(page).group(1),
                    "action": "continue",
                }
                elapsed, status, _ = timed(client, "POST", path, form)
                local[f"{name} POST"].append(elapsed)
                failed += status != 303
        with lock:
            for kind, values in local.items():
                latencies[kind].extend(values)
            errors[0] += failed

    threads = [threading.Thread(target=loop, args=state) for state in clients]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    url = setup_database(args.db)
    env = server_env(url)
    accounts = seed(env, args.clients)
    port = free_port()
    server = start_gunicorn(env, port, args.workers, args.threads)
    try:
        run(port, accounts[:1], 2.0)  # warm-up: templates, form classes, connections
        calibration = min(cpu_calibration() for _ in range(3))
        load = os.getloadavg()[0]
        latencies, errors = run(port, accounts, args.seconds)
    finally:
        stop(server)
    print(
        f"# QR Pro questionnaire page and save next to a DAT step — {args.db}, {args.clients} clients, "
        f"gunicorn {args.workers} workers × {args.threads} threads, {args.seconds:.0f} s; CPU calibration "
        f"{calibration:.2f} s, load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    print("| request | count | req/s | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|")
    summary = {}
    for kind in KINDS:
        values = sorted(latencies[kind])
        p50, p95 = 1000 * statistics.median(values), 1000 * values[int(0.95 * (len(values) - 1))]
        summary[kind] = (p50, p95)
        print(f"| {kind} | {len(values)} | {len(values) / args.seconds:.1f} | {p50:.1f} | {p95:.1f} |")
    for method in ("GET", "POST"):
        (q50, q95), (d50, d95) = summary[f"questionnaire {method}"], summary[f"DAT step {method}"]
        print(f"ratio questionnaire / DAT step ({method}): p50 {q50 / d50:.2f}, p95 {q95 / d95:.2f}")
    print(f"errors: {errors}")


if __name__ == "__main__":
    main()
