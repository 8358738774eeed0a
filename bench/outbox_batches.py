"""Benchmark: one outbox worker drains 500 messages to a local SMTP sink with batches of 100, 10 and 1
(the claim per batch against one per message), and the cost of the pool's pre-ping on a transaction.
The messages are LUCIE alerts as a deposit makes them (one subject for the establishment's addresses);
the CPU per message is this process's, the sink's thread included.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_outbox \\
        .venv/bin/python bench/outbox_batches.py

It deletes the outbox rows of the database it is given. Figures in docs/operations.md.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, text

import bench.support  # noqa: F401 — APP_ENV=development, as every bench
from app import create_app
from app.extensions import db
from app.models import OutboxMessage
from app.services import outbox
from tests.conftest import SmtpSink

MESSAGES = 500
SUBJECT = "Nouveau courrier LUCIE : Notification de décision – Établissement de Metz"
BODY = (
    "Bonjour,\n\nUn nouveau courrier a été déposé dans la boîte aux lettres LUCIE de l'établissement "
    "Établissement de Metz (SIRET 12345678900011).\n\nPour le lire, connectez-vous à votre espace "
    "Services AT/MP :\nhttp://127.0.0.1:5000/courriers/1\n"
)


def main() -> None:
    url = os.environ["DATABASE_URL"]
    sink = SmtpSink()
    sink.start()
    try:
        for pre_ping in (True, False):
            app = create_app({"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": pre_ping}})
            with app.app_context():
                start = time.perf_counter()
                for _ in range(2000):
                    db.session.execute(text("SELECT 1"))
                    db.session.commit()
                per = (time.perf_counter() - start) / 2000 * 1e6
                print(
                    f"pre-ping {'on ' if pre_ping else 'off'}: {per:.0f} µs a transaction (SELECT 1, commit)"
                )
                db.engine.dispose()
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": sink.port})
        with app.app_context():
            for batch in (100, 10, 1):
                db.session.execute(delete(OutboxMessage))
                for i in range(MESSAGES):
                    outbox.enqueue(f"d{i}@bench.example", SUBJECT, BODY, kind="bench")
                db.session.commit()
                sink.messages.clear()
                start, cpu = time.perf_counter(), time.process_time()
                while outbox.send_due(batch=batch)[0]:
                    pass
                seconds = time.perf_counter() - start
                per_message = (time.process_time() - cpu) / MESSAGES * 1000
                print(
                    f"batch {batch:>3}: {MESSAGES / seconds:.0f} messages/s, {per_message:.2f} ms of CPU a"
                    f" message ({len(sink.messages)} delivered)"
                )
            db.session.execute(delete(OutboxMessage))
            db.session.commit()
    finally:
        sink.stop()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
