"""Benchmark: the Compte AT/MP's pages for a signed-in employer — the account page (rates, upcoming claims,
bilan with its comparison over the same code risque and size band) and a rate's calculation page — served
by the application in this process (Flask test client, no network). Prints p50 / p95 / max per page.

Runs on the database `bench/compte_notify.py` left (its establishments and notified rates; the comparison
walks all of them), after creating one employer habilitated on one establishment:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_compte \\
        .venv/bin/python bench/compte_pages.py --requests 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import ROOT  # noqa: F401  (puts the checkout on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Establishment, Habilitation, NotifiedRate, Service, User
    from app.services.passwords import hash_password

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"],
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        establishment_id = db.session.scalar(
            select(NotifiedRate.establishment_id).order_by(NotifiedRate.id).limit(1)
        )
        establishment = db.session.get(Establishment, establishment_id)
        user = db.session.scalar(select(User).where(User.email == "bench@compte.test"))
        if user is None:
            user = User(
                email="bench@compte.test",
                full_name="Bench",
                company_id=establishment.company_id,
                password_hash=hash_password("Bench-Compte-2026"),
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(
                Habilitation(user_id=user.id, establishment_id=establishment.id, service=str(Service.COMPTE))
            )
            db.session.commit()
        client = app.test_client()
        response = client.post("/connexion", data={"email": user.email, "password": "Bench-Compte-2026"})
        assert response.status_code in (302, 303), response.status_code
        for name, path in (
            ("account", f"/compte-atmp/{establishment.id}"),
            ("rate", f"/compte-atmp/{establishment.id}/taux/2025"),
        ):
            assert client.get(path).status_code == 200
            timings = []
            for _ in range(args.requests):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(
                f"{name}: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
                f"max {timings[-1]:.1f} ms ({args.requests} requests)"
            )


if __name__ == "__main__":
    main()
