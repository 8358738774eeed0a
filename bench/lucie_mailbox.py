"""Benchmark (b): the mailbox page's server time with N letters in one establishment, served by
gunicorn; p50/p95 from gunicorn's own request time (%(D)s), for the first page and a page deep in
the keyset pagination.

    .venv/bin/python bench/lucie_mailbox.py --letters 1000 100000                 # SQLite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_lucie \\
        .venv/bin/python bench/lucie_mailbox.py --letters 1000 100000             # PostgreSQL

The letters are deposited through app.services.lucie.deposit_letter (the only way), in batches of
one transaction per 1 000. It wipes the database it is given. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import Client, app_env, fresh_database, percentile, start_gunicorn, stop

PASSWORD = "Banc-d-essai-2026"


def seed(url: str, storage: Path, letters: int) -> tuple[str, str]:
    """One subscribed establishment with ``letters`` letters (one in three read); a user with LUCIE.
    Returns the user's e-mail and a cursor in the middle of the mailbox."""
    from sqlalchemy import select

    from app import create_app
    from app.domain.lucie import LetterType
    from app.extensions import db
    from app.models import Caisse, Company, Establishment, Habilitation, Letter, Service, User
    from app.models.types import utcnow
    from app.services import lucie
    from app.services.passwords import hash_password
    from app.services.simple_pdf import make_pdf
    from tests.factories import luhn_complete

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(storage)})
    types = list(LetterType)
    with app.app_context():
        caisse = Caisse(name="CPAM de Moselle", kind="cpam", departements="57")
        siren = luhn_complete("81234567")
        company = Company(siren=siren, name="Bench SA")
        db.session.add_all([caisse, company])
        db.session.flush()
        est = Establishment(
            company_id=company.id,
            siret=luhn_complete(f"{siren}0001"),
            name="Établissement",
            departement="57",
            code_risque="45.2BD",
            city="Metz",
            postal_code="57000",
            address="1 rue",
        )
        db.session.add(est)
        db.session.flush()
        lucie.subscribe(est)
        document = make_pdf("Courrier (banc d'essai)", ["Madame, Monsieur,", "", "Courrier de test."])
        started = time.perf_counter()
        for i in range(letters):
            lucie.deposit_letter(
                establishment=est,
                letter_type=types[i % len(types)],
                title=f"Courrier n° {i}",
                case_reference=f"57-2026-{i:06d}",
                document=document,
                filename="courrier.pdf",
                source="service",
                caisse=caisse,
                commit=False,
            )
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
        print(f"  seeded {letters} letters through deposit_letter in {time.perf_counter() - started:.0f} s")
        user = User(
            email="lecteur@bench.test",
            full_name="Lecteur",
            company_id=company.id,
            password_hash=hash_password(PASSWORD),
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(Habilitation(user_id=user.id, establishment_id=est.id, service=str(Service.LUCIE)))
        db.session.commit()
        # One letter in three read (through the service would record 33 000 audit reads: same rows).
        ids = list(db.session.scalars(select(Letter.id).order_by(Letter.id)))
        for start in range(0, len(ids), 3000):
            chunk = ids[start : start + 3000 : 3]
            db.session.execute(
                db.update(Letter)
                .where(Letter.id.in_(chunk))
                .values(first_consulted_at=utcnow(), first_consulted_by_id=user.id)
            )
        db.session.commit()
        # Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) keeps them in
        # service: without them PostgreSQL takes the fresh 100 000 rows for a handful and sorts them all.
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        middle = db.session.get(Letter, ids[len(ids) // 2])
        cursor = lucie.encode_cursor(middle)
        db.engine.dispose()
    return "lecteur@bench.test", cursor


PAGES = {
    "first page": "/courriers/",
    "deep page (keyset, middle)": "/courriers/?apres={cursor}",
    "filtered (type + unread)": "/courriers/?type=notification_decision&etat=non_lus",
    "search, no letter matches": "/courriers/?q=introuvable",
}


def database_for(url: str, letters: int) -> str:
    """One database per mailbox size, so both sizes are served side by side."""
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        base, _, name = url.rpartition("/")
        wanted = f"{name}_{letters}"
        engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": wanted}).scalar():
                conn.execute(text(f'CREATE DATABASE "{wanted}"'))
        engine.dispose()
        return f"{base}/{wanted}"
    return url.replace(".sqlite3", f"-{letters}.sqlite3")


def seeded_cursor(url: str, letters: int) -> str | None:
    """The middle cursor when the database already holds exactly this mailbox (``--reuse``)."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError

    from app import create_app
    from app.extensions import db
    from app.models import Letter
    from app.services.lucie import encode_cursor

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            if db.session.scalar(select(func.count()).select_from(Letter)) != letters:
                return None
            middle = db.session.scalars(
                select(Letter).order_by(Letter.id).offset(letters // 2).limit(1)
            ).one()
            return encode_cursor(middle)
        except SQLAlchemyError:  # no schema yet: seed it
            return None
        finally:
            db.engine.dispose()


def measure(mailboxes: dict[int, tuple[str, Path, str]], requests: int, port: int) -> dict:
    """Serve every mailbox size with its own gunicorn (1 worker, 1 thread) and request their pages
    in turn, so that whatever else runs on the machine weighs on every size alike."""
    servers, clients, logs = {}, {}, {}
    try:
        for offset, (letters, (url, storage, _cursor)) in enumerate(mailboxes.items()):
            logs[letters] = storage.parent / "access.log"
            logs[letters].unlink(missing_ok=True)
            servers[letters] = start_gunicorn(app_env(url, storage), port + offset, 1, 1, logs[letters])
            clients[letters] = Client(f"http://127.0.0.1:{port + offset}")
            clients[letters].login("lecteur@bench.test", PASSWORD)
        for letters, client in clients.items():
            for path in PAGES.values():
                for _ in range(20):  # warm-up
                    status, _, _ = client.request("GET", path.format(cursor=mailboxes[letters][2]))
                    assert status == 200, status
        time.sleep(0.5)
        for log in logs.values():
            log.write_text("")
        for _ in range(requests):
            for path in PAGES.values():
                for letters, client in clients.items():
                    client.request("GET", path.format(cursor=mailboxes[letters][2]))
        time.sleep(1)
    finally:
        for server in servers.values():
            stop(server)
    results = {}
    for letters, log in logs.items():
        wanted = {path.format(cursor=mailboxes[letters][2]): name for name, path in PAGES.items()}
        times: dict[str, list[float]] = {name: [] for name in PAGES}
        for line in log.read_text().splitlines():
            _method, path, query, status, micros = line.split("|")
            name = wanted.get(path + (f"?{query}" if query else ""))
            if name and status == "200":
                times[name].append(int(micros) / 1000)
        results[letters] = {name: (percentile(v, 50), percentile(v, 95), len(v)) for name, v in times.items()}
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--letters", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--port", type=int, default=5812)
    parser.add_argument("--reuse", action="store_true", help="keep databases already seeded with N letters")
    arguments = parser.parse_args()
    url = os.environ.get("DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/lucie-mailbox-bench.sqlite3")
    print(f"database: {url.split('@')[-1]} (one per size)")
    mailboxes = {}
    for letters in arguments.letters:
        db_url = database_for(url, letters)
        storage = Path(tempfile.gettempdir()) / f"lucie-mailbox-{letters}" / "storage"
        cursor = seeded_cursor(db_url, letters) if arguments.reuse else None
        if cursor is None:
            fresh_database(db_url, storage)
            _, cursor = seed(db_url, storage, letters)
        mailboxes[letters] = (db_url, storage, cursor)
    results = measure(mailboxes, arguments.requests, arguments.port)
    for letters, pages in results.items():
        for name, (p50, p95, n) in pages.items():
            print(
                f"  {letters:>7} letters, {name:<28} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   ({n} requests)"
            )
    if len(results) > 1:
        small, large = min(results), max(results)
        for name in PAGES:
            ratio = results[large][name][1] / results[small][name][1]
            print(f"  p95 ratio {large}/{small} letters, {name}: {ratio:.2f}")


if __name__ == "__main__":
    main()
