"""Benchmark (a): N deposits through the HTTP API (gunicorn), then outbox workers (`flask outbox work
--once`, several processes at once) drain the alerts to a local SMTP sink. Prints deposits/s,
alerts/s and the proof that no alert was lost or sent twice.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_lucie \\
        .venv/bin/python bench/lucie_deposits.py --deposits 10000 --workers 2

It wipes the database it is given. See docs/performance.md for figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import (
    ROOT,
    VENV_BIN,
    Client,
    app_env,
    fresh_database,
    multipart,
    start_gunicorn,
    start_sink,
    stop,
)


def seed(url: str, storage: Path, establishments: int) -> tuple[list[str], str, int]:
    """Establishments subscribed, each with one habilitated user and one alert address; a token."""
    from app import create_app
    from app.extensions import db
    from app.models import Caisse, Company, Establishment, Habilitation, LucieAlertAddress, Service, User
    from app.services import lucie
    from app.services.api_tokens import create_token
    from tests.factories import luhn_complete

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(storage)})
    with app.app_context():
        db.session.add(Caisse(name="CPAM de Moselle", kind="cpam", departements="57"))
        siren = luhn_complete("81234567")
        company = Company(siren=siren, name="Bench SA")
        db.session.add(company)
        db.session.flush()
        sirets = []
        for n in range(1, establishments + 1):
            siret = luhn_complete(f"{siren}{n:04d}")
            est = Establishment(
                company_id=company.id,
                siret=siret,
                name=f"Établissement {n}",
                departement="57",
                code_risque="45.2BD",
                city="Metz",
                postal_code="57000",
                address="1 rue",
            )
            db.session.add(est)
            db.session.flush()
            user = User(email=f"user{n}@bench.test", full_name=f"Utilisateur {n}", company_id=company.id)
            db.session.add(user)
            db.session.flush()
            db.session.add(Habilitation(user_id=user.id, establishment_id=est.id, service=str(Service.LUCIE)))
            db.session.add(LucieAlertAddress(establishment_id=est.id, email=f"alertes{n}@bench.test"))
            lucie.subscribe(est)
            sirets.append(siret)
        db.session.commit()
        _, token = create_token("CPAM de Moselle", "bench")
        db.engine.dispose()
    return sirets, token, 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deposits", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="outbox worker processes")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--establishments", type=int, default=20)
    parser.add_argument("--port", type=int, default=5811)
    parser.add_argument("--smtp-port", type=int, default=5825)
    arguments = parser.parse_args()

    url = os.environ.get("DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/lucie-bench.sqlite3")
    work = Path(tempfile.mkdtemp(prefix="lucie-bench-"))
    storage = work / "storage"
    fresh_database(url, storage)
    sirets, token, recipients = seed(url, storage, arguments.establishments)
    sys.path.insert(0, str(ROOT))
    from app.services.simple_pdf import make_pdf

    document = make_pdf(
        "Notification de décision (banc d'essai)", ["Madame, Monsieur,", "", "Courrier de test."]
    )

    env = app_env(url, storage, MAIL_PORT=arguments.smtp_port, MAIL_SERVER="127.0.0.1")
    sink_log = work / "sink.txt"
    sink = start_sink(arguments.smtp_port, sink_log)
    server = start_gunicorn(env, arguments.port, arguments.gunicorn_workers, 4)
    try:
        base = f"http://127.0.0.1:{arguments.port}"
        clients: dict[int, Client] = {}

        def deposit(i: int) -> int:
            import threading

            client = clients.setdefault(threading.get_ident(), Client(base))
            body, content_type = multipart(
                {
                    "siret": sirets[i % len(sirets)],
                    "type": "notification_decision",
                    "titre": f"Décision n° {i}",
                    "reference_dossier": f"57-2026-{i:06d}",
                },
                {"fichier": ("decision.pdf", document, "application/pdf")},
            )
            status, _, _ = client.request(
                "POST",
                "/api/v1/courriers",
                body,
                {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": content_type,
                    "Idempotency-Key": f"bench-{i}",
                },
            )
            return status

        started = time.perf_counter()
        with ThreadPoolExecutor(arguments.clients) as pool:
            statuses = Counter(pool.map(deposit, range(arguments.deposits)))
        deposit_seconds = time.perf_counter() - started
        print(
            f"deposits: {arguments.deposits} in {deposit_seconds:.1f} s = "
            f"{arguments.deposits / deposit_seconds:.0f}/s; statuses {dict(statuses)}"
        )
        stop(server)

        expected = arguments.deposits * recipients
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [str(VENV_BIN / "flask"), "outbox", "work", "--once", "--batch", str(arguments.batch)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(arguments.workers)
        ]
        outputs = [w.communicate()[0].strip() for w in workers]
        send_seconds = time.perf_counter() - started
        time.sleep(0.5)  # the sink writes its last lines
        lines = sink_log.read_text().splitlines()
        ids = [line.split()[0] for line in lines]
        print(
            f"alerts: {len(lines)} delivered in {send_seconds:.1f} s = {len(lines) / send_seconds:.0f}/s "
            f"with {arguments.workers} worker(s) {outputs}"
        )

        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, count(*) FROM outbox_message GROUP BY status")).all()
            letters = conn.execute(text("SELECT count(*) FROM letter")).scalar()
        engine.dispose()
        duplicates = len(ids) - len(set(ids))
        print(f"letters: {letters}; outbox rows by status: {dict(rows)}")
        print(
            f"expected alerts {expected}; delivered {len(ids)}; distinct {len(set(ids))}; "
            f"duplicated {duplicates}; lost {expected - len(set(ids))}"
        )
        ok = letters == arguments.deposits and len(set(ids)) == expected and duplicates == 0
        print("RESULT:", "OK — none lost, none duplicated" if ok else "FAILED")
    finally:
        stop(server)
        stop(sink)


if __name__ == "__main__":
    main()
