"""Benchmark: the Carsat's queue of Subventions Prévention dossiers (issue 14 item 3) with 100 000 dossiers —
the whole page (GET /subventions/instruction/ through the application, signed in as a Carsat agent: count,
SQL-sorted page of 25, template), for each filter a Carsat uses: none, one programme, one programme and one
status, one status; the 40th page of a programme; and the agent's home page, which counts the dossiers
waiting for a decision.

    .venv/bin/python bench/subsidies_queue.py --dossiers 100000                            # SQLite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_subsidies \\
        .venv/bin/python bench/subsidies_queue.py --dossiers 100000                         # PostgreSQL

The dossiers are spread over 2 000 establishments in five départements (the Carsat covers three), the four
programmes and every status but the draft. Each case is requested 200 times after a first request: median,
p95, worst. It wipes the database it is given. See docs/performance.md.
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
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import fresh_database

BATCH = 10_000
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
DEPARTEMENTS = ("57", "67", "68", "75", "54")
STATUSES = (
    "deposee",
    "en_instruction",
    "complement_demande",
    "acceptee",
    "refusee",
    "versement_demande",
    "payee",
)
PASSWORD = "Banc-d-essai-2026"


def seed(dossiers: int) -> None:
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Company, Establishment, SubsidyDossier, SubsidyProgramme
    from app.services.subsidies import programmes
    from tests.factories import luhn_complete

    programmes.load_programmes()
    programme_ids = list(db.session.scalars(select(SubsidyProgramme.id)))
    db.session.execute(
        insert(Company), [{"siren": luhn_complete(f"3{n:07d}"), "name": f"E{n}"} for n in range(200)]
    )
    companies = list(db.session.scalars(select(Company.id)))
    db.session.execute(
        insert(Establishment),
        [
            {
                "company_id": companies[n % len(companies)],
                "siret": luhn_complete(f"{n:013d}"),
                "name": f"Établissement {n}",
                "departement": DEPARTEMENTS[n % len(DEPARTEMENTS)],
                "code_risque": "45.2BD",
                "city": "Ville",
                "postal_code": "57000",
                "address": "1 rue",
                "headcount": 10,
            }
            for n in range(2000)
        ],
    )
    places = db.session.execute(
        select(Establishment.id, Establishment.company_id, Establishment.departement)
    ).all()
    rng = random.Random(2026)
    for start in range(0, dossiers, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, dossiers)):
            establishment, company, departement = rng.choice(places)
            at = START + timedelta(minutes=n)
            rows.append(
                {
                    "reference": f"SUB-2026-{n + 1:06d}",
                    "kind": "reservation",
                    "programme_id": rng.choice(programme_ids),
                    "establishment_id": establishment,
                    "company_id": company,
                    "departement": departement,
                    "status": rng.choice(STATUSES),
                    "phase": "devis",
                    "requested_on": date(2026, 1, 5),
                    "attestations": "{}",
                    "computation": "{}",
                    "requested_amount": Decimal("2500.00"),
                    "versions": 1,
                    "created_at": at,
                    "updated_at": at,
                    "submitted_at": at,
                }
            )
        db.session.execute(insert(SubsidyDossier), rows)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    from sqlalchemy import select, text

    from app import create_app
    from app.extensions import db
    from app.models import Caisse, SubsidyProgramme, User, UserKind
    from app.services.passwords import hash_password

    scratch = Path(tempfile.mkdtemp(prefix="bench-subsidies-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch / 'subsidies.sqlite3'}"
    fresh_database(url, scratch / "storage")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "STORAGE_DIR": str(scratch / "storage"),
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        t0 = time.perf_counter()
        seed(args.dossiers)
        carsat = Caisse(name="Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
        db.session.add(carsat)
        db.session.flush()
        db.session.add(
            User(
                email="agent@banc.example",
                full_name="Agent",
                password_hash=hash_password(PASSWORD),
                kind=UserKind.CARSAT,
                caisse_id=carsat.id,
            )
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))  # the visibility map: index-only counts
            db.session.commit()
        print(
            f"{db.engine.dialect.name}, {args.dossiers:,} dossiers seeded in {time.perf_counter() - t0:.0f} s"
        )
        programme = db.session.scalar(select(SubsidyProgramme.id).where(SubsidyProgramme.code == "TOPBTP"))
        db.session.remove()

    client = app.test_client()
    response = client.post("/connexion", data={"email": "agent@banc.example", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    cases = {
        "no filter, page 1": "/subventions/instruction/",
        "one programme, page 1": f"/subventions/instruction/?programme={programme}",
        "one programme and status": f"/subventions/instruction/?programme={programme}&statut=deposee",
        "one status": "/subventions/instruction/?statut=versement_demande",
        "one programme, page 40": f"/subventions/instruction/?programme={programme}&page=40",
        "home page (waiting count)": "/",
    }
    print(f"{'case':<28} {'median ms':>10} {'p95 ms':>8} {'worst ms':>9}")
    for label, path in cases.items():
        assert client.get(path).status_code == 200
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{label:<28} {statistics.median(times):>10.1f} {p95:>8.1f} {times[-1]:>9.1f}")


if __name__ == "__main__":
    main()
