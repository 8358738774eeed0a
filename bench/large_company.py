"""Benchmark: the pages of a company with many establishments, in-process (server time and HTML
size), for its administrator, whose habilitation on the head office covers them all.

    .venv/bin/python bench/large_company.py --establishments 800                       # SQLite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_large \\
        .venv/bin/python bench/large_company.py --establishments 800                    # PostgreSQL

Each page is asked 10 times after a first time; median. It wipes the database it is given. See
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import fresh_database

PASSWORD = "Banc-d-essai-2026"
PAGES = (
    "/",
    "/etablissements/",
    "/etablissements/?q=magasin+42",
    "/demarches/",
    "/dat/",
    "/courriers/",
    "/admin/utilisateurs",
    "/admin/utilisateurs/{admin}",
    "/admin/utilisateurs/{admin}?page=9",
    "/admin/utilisateurs/inviter",
    "/demarches/dat/commencer",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--establishments", type=int, default=800)
    args = parser.parse_args()

    from app import create_app
    from app.extensions import db
    from tests.factories import make_company, make_establishment, make_user

    scratch = Path(tempfile.mkdtemp(prefix="bench-large-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch / 'large.sqlite3'}"
    fresh_database(url, scratch / "storage")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(scratch / "storage")})
    with app.app_context():
        company = make_company("Grande Distribution SA")
        head = make_establishment(company, departement="75", head_office=True, name="Siège", city="Paris")
        for n in range(args.establishments - 1):
            make_establishment(company, departement="57", name=f"Magasin {n:03d}", city="Metz")
        admin = make_user(
            "admin@banc.example", company=company, password=PASSWORD, admin=True, grants=[(head, "*")]
        )
        db.session.commit()
        admin_id = admin.id

    client = app.test_client()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get("/connexion").text)
    client.post(
        "/connexion", data={"email": "admin@banc.example", "password": PASSWORD, "csrf_token": token[1]}
    )
    print(f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, {args.establishments} establishments")
    for path in PAGES:
        path = path.format(admin=admin_id)
        response = client.get(path)
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
        size = len(response.data) / 1024
        print(
            f"  {path:42} {response.status_code}  median {statistics.median(times):7.1f} ms  {size:7.1f} KiB"
        )


if __name__ == "__main__":
    main()
