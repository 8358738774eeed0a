"""Benchmark: a CPAM's scope by its insured's residence (SPEC §1, issue 13 item 1) — the agent's home
page count (access.establishments_in_scope: the establishments of its départements UNION the employers
of its insured), the deposit check (access.caisse_covers) on an establishment outside its départements,
the first page of its inbox, and migration 0017 filling `cpam_departement` for every declaration.

    .venv/bin/python bench/caisse_scope.py --establishments 300000 --declarations 100000        # SQLite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_caisse \\
        .venv/bin/python bench/caisse_scope.py --establishments 300000 --declarations 100000     # PostgreSQL

Two thirds of the establishments are in Paris (75), the rest in Moselle (57); each declaration is on a
random establishment, its victim living in the establishment's département but one in five in the
other. Each case is timed 20 times in-process after a first run, median and worst. It wipes the
database it is given. See docs/performance.md.
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
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def seed(establishments: int, declarations: int) -> None:
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Company, Declaration, Draft, Establishment, Submission, User
    from app.services.passwords import hash_password
    from tests.factories import luhn_complete

    db.session.execute(insert(Company), [{"siren": luhn_complete("30000000"), "name": "Banc"}])
    company = db.session.scalar(select(Company.id))
    for start in range(0, establishments, BATCH):
        db.session.execute(
            insert(Establishment),
            [
                {
                    "company_id": company,
                    "siret": luhn_complete(f"{n:013d}"),
                    "name": f"Établissement {n}",
                    "departement": "75" if n % 3 else "57",
                    "code_risque": "45.2BD",
                    "city": "Paris" if n % 3 else "Metz",
                    "postal_code": "75011" if n % 3 else "57000",
                    "address": "1 rue",
                    "is_head_office": n == 0,
                }
                for n in range(start, min(start + BATCH, establishments))
            ],
        )
    db.session.execute(
        insert(User),
        [
            {
                "email": "banc@banc.example",
                "full_name": "Banc",
                "password_hash": hash_password("Banc-d-essai-2026"),
                "kind": "employer",
                "company_id": company,
            }
        ],
    )
    user = db.session.scalar(select(User.id))
    places = db.session.execute(select(Establishment.id, Establishment.departement)).all()
    rng = random.Random(2026)
    for start in range(0, declarations, BATCH):
        numbers = range(start, min(start + BATCH, declarations))
        picks = {n: rng.choice(places) for n in numbers}
        lives = {
            n: (picks[n][1] if rng.random() < 0.8 else {"57": "75", "75": "57"}[picks[n][1]]) for n in numbers
        }
        db.session.execute(
            insert(Draft),
            [
                {
                    "id": n + 1,
                    "workflow": "dat",
                    "establishment_id": picks[n][0],
                    "created_by_id": user,
                    "updated_by_id": user,
                    "answers": {},
                    "valid_steps": [],
                    "current_step": "employeur",
                    "submitted_at": START,
                }
                for n in numbers
            ],
        )
        db.session.execute(
            insert(Submission),
            [
                {
                    "id": n + 1,
                    "reference": f"DAT-2026-{n + 1:06d}",
                    "workflow": "dat",
                    "draft_id": n + 1,
                    "establishment_id": picks[n][0],
                    "submitted_by_id": user,
                    "submitted_at": START + timedelta(minutes=n),
                    "data": {"answers": {"victime": {"code_postal": f"{lives[n]}011", "nom": f"V{n}"}}},
                    "sha256": "0" * 64,
                }
                for n in numbers
            ],
        )
        db.session.execute(
            insert(Declaration),
            [
                {
                    "submission_id": n + 1,
                    "reference": f"DAT-2026-{n + 1:06d}",
                    "establishment_id": picks[n][0],
                    "departement": picks[n][1],
                    "cpam_departement": lives[n],
                    "victim_name": f"V{n} Prénom",
                    "search_text": f"v{n} prenom dat-2026-{n + 1:06d}",
                    "accident_at": START + timedelta(minutes=n),
                    "accident_on": date(2026, 1, 5),
                    "known_at": START + timedelta(minutes=n),
                    "due_at": START + timedelta(minutes=n, hours=48),
                    "submitted_at": START + timedelta(minutes=n),
                    "reserves_due_on": date(2026, 1, 20),
                    "status": "transmise",
                    "status_changed_at": START + timedelta(minutes=n),
                }
                for n in numbers
            ],
        )
    db.session.commit()


def timed(call, runs: int = 20) -> tuple[float, float]:
    call()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--establishments", type=int, default=300_000)
    parser.add_argument("--declarations", type=int, default=100_000)
    args = parser.parse_args()

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import func, select, text

    from app import create_app
    from app.extensions import db
    from app.models import Caisse, Declaration, Establishment, User, UserKind
    from app.services import access, dat

    scratch = Path(tempfile.mkdtemp(prefix="bench-caisse-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch / 'caisse.sqlite3'}"
    fresh_database(url, scratch / "storage")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(scratch / "storage")})
    with app.app_context():
        t0 = time.perf_counter()
        seed(args.establishments, args.declarations)
        moselle = Caisse(name="CPAM de Moselle", kind="cpam", departements="57")
        paris = Caisse(name="CPAM de Paris", kind="cpam", departements="75")
        db.session.add_all([moselle, paris])
        db.session.flush()
        agents = {
            caisse.name: User(
                email=f"agent{caisse.id}@banc.example",
                full_name=caisse.name,
                password_hash="x",
                kind=UserKind.CPAM,
                caisse_id=caisse.id,
            )
            for caisse in (moselle, paris)
        }
        db.session.add_all(agents.values())
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(
            f"{db.engine.dialect.name}, {args.establishments:,} establishments and {args.declarations:,} "
            f"declarations seeded in {time.perf_counter() - t0:.0f} s"
        )
        employer = db.session.scalar(
            select(Establishment)
            .where(Establishment.departement == "75")
            .join(Declaration, Declaration.establishment_id == Establishment.id)
            .where(Declaration.cpam_departement == "57")
            .limit(1)
        )
        stranger = db.session.scalar(
            select(Establishment)
            .where(
                Establishment.departement == "75",
                Establishment.id.not_in(select(Declaration.establishment_id)),
            )
            .limit(1)
        )
        for name, agent in agents.items():
            with app.test_request_context():
                count = access.establishments_in_scope(agent)

            def in_scope(agent=agent):
                with app.test_request_context():
                    access.establishments_in_scope(agent)
                db.session.rollback()

            def inbox(agent=agent):
                with app.test_request_context():
                    dat.caisse_inbox(agent, dat.ListFilters())
                db.session.rollback()

            for case, call in (("home page count", in_scope), ("inbox, first page", inbox)):
                median, worst = timed(call)
                print(f"  {name:15} {case:24} median {median:7.1f} ms  worst {worst:7.1f} ms")
            print(f"  {name:15} covers {count:,} establishments")
        for case, establishment in (("covers: employer", employer), ("covers: stranger", stranger)):

            def covers(establishment=establishment):
                access.caisse_covers(moselle, establishment)
                db.session.rollback()

            median, worst = timed(covers)
            print(f"  {'CPAM de Moselle':15} {case:24} median {median:7.1f} ms  worst {worst:7.1f} ms")
        db.session.remove()
        db.engine.dispose()
        downgrade(revision="0011")
        db.engine.dispose()
        t0 = time.perf_counter()
        upgrade()
        took = time.perf_counter() - t0
        filled = db.session.scalar(
            select(func.count(Declaration.id)).where(Declaration.cpam_departement == "57")
        )
        print(f"  migration 0017 upgrade: {took:.1f} s ({filled:,} declarations of Moselle's)")


if __name__ == "__main__":
    main()
