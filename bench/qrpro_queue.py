"""Benchmark: the CPAM agent's QR Pro work queue (issue 13) with 100 000 cases — the first page, the 100th
page (reached by its keyset cursor, as the « Dossiers suivants » link gives it) and the last page, sorted by
the next legal date in SQL along ``ix_case_file_queue``, each rendered as the agent's page (service +
template, in-process, signed in).

    .venv/bin/python bench/qrpro_queue.py --cases 100000                                        # SQLite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_qrpro \\
        .venv/bin/python bench/qrpro_queue.py --cases 100000                                    # PostgreSQL

Two caisses (CPAM de Moselle, CPAM de Paris) share the cases; one case in ten is decided (no next date).
Each page is timed 200 times after a first run: median, p95 and worst. It wipes the database it is given.
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import fresh_database

BATCH = 10_000
TODAY = date(2026, 12, 6)
STAGES = ["a_ouvrir", "questionnaires", "consultation"]


def seed(count: int) -> dict[str, int]:
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Caisse, Case, Company, Establishment, User, UserKind
    from tests.factories import luhn_complete

    db.session.execute(insert(Company), [{"siren": luhn_complete("30000000"), "name": "Banc"}])
    company = db.session.scalar(select(Company.id))
    db.session.execute(
        insert(Establishment),
        [
            {
                "company_id": company,
                "siret": luhn_complete(f"{n:013d}"),
                "name": f"Établissement {n}",
                "departement": "57" if n % 2 else "75",
                "code_risque": "45.2BD",
                "city": "Metz" if n % 2 else "Paris",
                "postal_code": "57000" if n % 2 else "75011",
                "address": "1 rue",
                "is_head_office": n == 0,
            }
            for n in range(1000)
        ],
    )
    places = db.session.execute(select(Establishment.id, Establishment.departement)).all()
    caisses = {}
    for name, departement in (("CPAM de Moselle", "57"), ("CPAM de Paris", "75")):
        caisse = Caisse(name=name, kind="cpam", departements=departement)
        db.session.add(caisse)
        db.session.flush()
        caisses[departement] = caisse.id
        db.session.add(
            User(
                email=f"agent{departement}@banc.example",
                full_name=name,
                password_hash="x",
                kind=UserKind.CPAM,
                caisse_id=caisse.id,
            )
        )
    rng = random.Random(2026)
    now = datetime(2026, 12, 6, 9, tzinfo=UTC)
    for start in range(0, count, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, count)):
            place, departement = rng.choice(places)
            decided = n % 10 == 0
            rows.append(
                {
                    "reference": f"MP-2026-{n + 1:06d}",
                    "kind": "MP" if n % 3 == 0 else "AT",
                    "establishment_id": place,
                    "victim_name": f"VICTIME {n} Prénom",
                    "caisse_id": caisses[departement],
                    "created_at": now,
                    "stage": "decide" if decided else rng.choice(STAGES),
                    "fatal": False,
                    "victim_departement": departement,
                    "victim_nir": "",
                    "victim_address": "",
                    "disease_label": "",
                    "decision_reasons": "",
                    "d0": TODAY - timedelta(days=rng.randint(0, 100)),
                    "next_due_on": None if decided else TODAY + timedelta(days=rng.randint(-20, 120)),
                }
            )
        db.session.execute(insert(Case), rows)
    db.session.commit()
    return caisses


def timed(call, runs: int) -> tuple[float, float, float]:
    call()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    from flask import render_template
    from flask_login import login_user
    from sqlalchemy import select, text

    from app import create_app
    from app.domain import qrpro as rules
    from app.extensions import db
    from app.models import Case, User, UserKind
    from app.services.qrpro import cases

    scratch = Path(tempfile.mkdtemp(prefix="bench-qrpro-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch / 'qrpro.sqlite3'}"
    fresh_database(url, scratch / "storage")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(scratch / "storage")})
    with app.app_context():
        t0 = time.perf_counter()
        seed(args.cases)
        if db.engine.dialect.name == "postgresql":
            # The steady state autovacuum keeps: the visibility map lets the page count read the index only.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE case_file"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"{db.engine.dialect.name}, {args.cases:,} cases seeded in {time.perf_counter() - t0:.0f} s")
        agent = db.session.scalar(select(User).where(User.kind == UserKind.CPAM).order_by(User.id))
        first = cases.queue(agent)
        size = first.size
        # The cursor the « Dossiers suivants » link of page 99 carries: the 2 475th case's place.
        deep = db.session.execute(
            select(Case.next_due_on, Case.id)
            .where(Case.caisse_id == agent.caisse_id, Case.next_due_on.is_not(None))
            .order_by(Case.next_due_on, Case.id)
            .offset(99 * size - 1)
            .limit(1)
        ).one()
        cursor = f"{deep.next_due_on.isoformat()}.{deep.id}"
        db.session.rollback()
        for label, arguments in (
            ("first page", {}),
            ("page 100", {"after": cursor}),
            ("last page", {"last": True}),
        ):

            def render(arguments=arguments):
                with app.test_request_context("/cpam/qrpro/"):
                    login_user(agent)
                    listing = cases.queue(agent, **arguments)
                    render_template(
                        "qrpro/agent/queue.html",
                        listing=listing,
                        urgency={c.id: rules.urgency(c.next_due_on, TODAY) for c in listing.items},
                        urgency_labels=rules.URGENCY_LABELS,
                        stage_labels=rules.STAGE_LABELS,
                    )
                db.session.rollback()
                return listing

            def service_only(arguments=arguments):
                cases.queue(agent, **arguments)
                db.session.rollback()

            listing = render()
            where = f"cases {listing.first_position:,}–{listing.last_position:,} of {listing.total:,}"
            median, p95, worst = timed(service_only, args.runs)
            print(
                f"  queue {label:11} service only         median {median:6.1f} ms  p95 {p95:6.1f} ms  "
                f"worst {worst:6.1f} ms"
            )
            median, p95, worst = timed(render, args.runs)
            print(
                f"  queue {label:11} rendered ({where})  median {median:6.1f} ms  p95 {p95:6.1f} ms  "
                f"worst {worst:6.1f} ms"
            )
        if db.engine.dialect.name == "postgresql":
            plan = db.session.execute(
                text(
                    "EXPLAIN ANALYZE SELECT * FROM case_file WHERE caisse_id = :c "
                    "AND next_due_on IS NOT NULL AND (next_due_on, id) > (:d, :i) "
                    "ORDER BY next_due_on, id LIMIT 25"
                ),
                {"c": agent.caisse_id, "d": deep.next_due_on, "i": deep.id},
            ).scalars()
            print("  plan (page 100): " + " / ".join(line.strip() for line in plan))
            plan = db.session.execute(
                text(
                    "EXPLAIN ANALYZE SELECT count(*) FROM case_file WHERE caisse_id = :c "
                    "AND next_due_on IS NOT NULL AND (next_due_on, id) < (:d, :i)"
                ),
                {"c": agent.caisse_id, "d": deep.next_due_on, "i": deep.id},
            ).scalars()
            print("  plan (its position): " + " / ".join(line.strip() for line in plan))


if __name__ == "__main__":
    main()
