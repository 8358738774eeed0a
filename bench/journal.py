"""Benchmark: the activity journal's page time (app.services.journal.company_journal, the query and
the lines built from it) with a large audit trail shared by many companies.

    .venv/bin/python bench/journal.py --events 1000000                                  # SQLite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_journal \\
        .venv/bin/python bench/journal.py --events 1000000                               # PostgreSQL

2 000 companies with one establishment and two users each share the trail: a "large" company writes
30 % of the events, a "small" one only its 20 oldest, the others the rest. Each case is timed 20 times
in-process after a first run, median and worst. It wipes the database it is given. See
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import fresh_database

COMPANIES = 2000
BATCH = 20_000
START = datetime(2026, 1, 1, tzinfo=UTC)


def seed(events: int) -> dict[str, int]:
    """The companies, their establishments and users, and ``events`` audit events. Returns the ids
    of the small, a middling and the large company."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import AuditEvent, Company, Establishment, User
    from app.services.passwords import hash_password
    from tests.factories import luhn_complete

    password = hash_password("Banc-d-essai-2026")
    db.session.execute(
        insert(Company),
        [{"siren": luhn_complete(f"{10_000_000 + i}"), "name": f"Société {i}"} for i in range(COMPANIES)],
    )
    companies = db.session.scalars(select(Company.id).order_by(Company.id)).all()
    db.session.execute(
        insert(Establishment),
        [
            {
                "company_id": company,
                "siret": luhn_complete(f"{10_000_000 + i}0000"),
                "name": f"Établissement {i}",
                "departement": "57",
                "code_risque": "45.2BD",
                "city": "Metz",
                "postal_code": "57000",
                "address": "1 rue",
                "is_head_office": True,
            }
            for i, company in enumerate(companies)
        ],
    )
    establishment_of = dict(db.session.execute(select(Establishment.company_id, Establishment.id)).all())
    db.session.execute(
        insert(User),
        [
            {
                "email": f"u{i}-{k}@banc.example",
                "full_name": f"Personne {i}-{k}",
                "password_hash": password,
                "kind": "employer",
                "company_id": company,
            }
            for i, company in enumerate(companies)
            for k in range(2)
        ],
    )
    people: dict[int, list[int]] = {}
    for user_id, company in db.session.execute(select(User.id, User.company_id)):
        people.setdefault(company, []).append(user_id)
    small, middling, large = companies[0], companies[COMPANIES // 4], companies[1]
    others = [c for c in companies if c != small]
    rng = random.Random(2026)

    def row(n: int, company: int) -> dict:
        # An employer's event: its company's journal lists it (app.services.audit.journal_company).
        return {
            "at": START + timedelta(seconds=30 * n),
            "user_id": rng.choice(people[company]),
            "action": "login" if n % 50 == 0 else "draft.autosave",
            "object_type": "draft",
            "object_id": str(n),
            "establishment_id": establishment_of[company],
            "ip": "192.0.2.7",
            "details": {"step": "nature", "valid": True},
            "company_id": company,
        }

    batch = [row(n, small) for n in range(20)]
    for n in range(20, events):
        batch.append(row(n, large if rng.random() < 0.3 else rng.choice(others)))
        if len(batch) == BATCH:
            db.session.execute(insert(AuditEvent), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(AuditEvent), batch)
    db.session.commit()
    return {"small": small, "middling": middling, "large": large}


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
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()

    from sqlalchemy import select, text

    from app import create_app
    from app.extensions import db
    from app.models import AuditEvent, User
    from app.services import accounts, journal

    def people_of(company: int):
        return select(User.id).where(User.company_id == company)

    scratch = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch / 'journal.sqlite3'}"
    fresh_database(url, scratch / "storage")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(scratch / "storage")})
    with app.app_context():
        t0 = time.perf_counter()
        ids = seed(args.events)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"{db.engine.dialect.name}, {args.events:,} events seeded in {time.perf_counter() - t0:.0f} s")
        middle_day = (START + timedelta(seconds=15 * args.events)).date()
        for name, company in ids.items():
            person = db.session.scalar(select(User.id).where(User.company_id == company).limit(1))
            # A cursor in the middle of the company's events, as "Activité plus ancienne" gives.
            middle = db.session.scalars(
                select(AuditEvent.id)
                .where(AuditEvent.user_id.in_(people_of(company)))
                .order_by(AuditEvent.id)
            ).all()
            middle = middle[len(middle) // 2]
            cases = {
                "first page": journal.JournalFilters(),
                "one person": journal.JournalFilters(person_id=person),
                "one day": journal.JournalFilters(since=middle_day, until=middle_day),
                "deep page": journal.JournalFilters(before_id=middle),
            }
            for case, filters in cases.items():

                def page(filters=filters, company=company):
                    journal.company_journal(company, filters)
                    db.session.rollback()

                median, worst = timed(page)
                print(f"  {name:9} {case:11} median {median:7.1f} ms  worst {worst:7.1f} ms")

            user = db.session.get(User, person)

            def sign_ins(user=user):
                accounts.recent_sign_ins(user)
                db.session.rollback()

            median, worst = timed(sign_ins)
            print(f"  {name:9} {'my sign-ins':11} median {median:7.1f} ms  worst {worst:7.1f} ms")


if __name__ == "__main__":
    main()
