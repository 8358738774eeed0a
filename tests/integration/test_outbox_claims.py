"""Outbox claims (SPEC §4, each alert exactly once): a worker holds its batch while it sends it — its
claim is renewed by a heartbeat, and checked again before each message is sent and marked sent —
so a slow SMTP server never lets a second worker send the same alert; and a worker that dies lets
its rows go after a short claim (OUTBOX_CLAIM_SECONDS), not minutes later.

Both run against a real SMTP server that takes its time for each message, with a claim shorter than
a batch takes to send. On both databases (DATABASE_URL picks)."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.services import outbox
from tests.background_support import start_command, stop, wait_until

CLAIM = 1.0  # seconds
SMTP_DELAY = 0.3  # seconds the SMTP server takes for each message


@pytest.fixture
def app_config():
    return {"OUTBOX_CLAIM_SECONDS": CLAIM}


def _queue(n: int) -> None:
    for i in range(n):
        outbox.enqueue(f"alerte{i}@test.example", f"Objet {i}", "Corps", kind="test")
    db.session.commit()


def _not_sent() -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT)
    return db.session.scalar(query)


def _delivered(smtp) -> Counter:
    return Counter(int(message["X-Outbox-Id"]) for _, message in smtp.messages)


def test_two_workers_and_a_slow_smtp_server_send_each_alert_once_when_a_batch_outlasts_the_claim(
    mail_app, smtp
):
    smtp.delay = SMTP_DELAY
    _queue(12)
    batch = 8  # 8 × 0.3 s = 2.4 s to send a full batch, longer than the 1-second claim; the
    # worker that takes the 4 others is free after 1.2 s
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    sent_by: dict[str, int] = {}

    def work(name: str) -> None:
        with mail_app.app_context():
            try:
                start.wait()
                deadline = time.monotonic() + 30
                total = 0
                while _not_sent() and time.monotonic() < deadline:
                    sent, failed = outbox.send_due(batch=batch, worker=name)
                    assert failed == 0
                    total += sent
                    db.session.remove()
                    if not sent:
                        time.sleep(0.1)  # the other worker holds what is left
                sent_by[name] = total
            except BaseException as error:  # noqa: BLE001 — reported by the assertion below
                errors.append(error)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert errors == []

    delivered = _delivered(smtp)
    assert sorted(delivered) == [
        m.id for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    ]
    assert set(delivered.values()) == {1}, delivered  # none doubled
    assert sum(sent_by.values()) == 12
    assert _not_sent() == 0


def test_the_rows_of_a_worker_killed_mid_batch_are_sent_by_another_once_its_short_claim_lapses(
    mail_app, smtp
):
    smtp.delay = SMTP_DELAY
    _queue(10)
    worker = start_command(
        "outbox",
        "work",
        "--batch",
        "10",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
        OUTBOX_CLAIM_SECONDS=CLAIM,
    )
    try:
        wait_until(lambda: len(smtp.messages) >= 2, 60, "two messages from the worker", worker)
        worker.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        worker.wait(10)
    finally:
        stop(worker)
    db.session.remove()

    # The other worker: the killed one's rows come back once its claim lapses (about a second), not
    # after minutes; and none is sent while it may still be held.
    deadline = killed + CLAIM + 10 * SMTP_DELAY + 5
    while _not_sent() and time.monotonic() < deadline:
        if outbox.send_due(batch=10, worker="survivor")[0] == 0:
            time.sleep(0.1)
        db.session.remove()
    assert _not_sent() == 0, (
        f"{_not_sent()} alert(s) still unsent {time.monotonic() - killed:.1f} s after the kill"
    )

    delivered = _delivered(smtp)
    assert sorted(delivered) == list(range(1, 11))  # none lost
    # At most the message the killed worker was sending is sent again: the server may have taken it
    # before the worker could record it (at least once, never more).
    assert sum(delivered.values()) - 10 <= 1, delivered
