"""LUCIE alerts with several outbox workers at once (SPEC §4): each alert sent exactly once.

On PostgreSQL the workers claim rows with FOR UPDATE SKIP LOCKED; on SQLite the claiming UPDATE is
serialised by the database. The test runs on both (DATABASE_URL picks the database).
"""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from app.extensions import db
from app.models import LucieAlertAddress, OutboxMessage, OutboxStatus
from app.services import outbox
from tests.lucie_support import deposit, make_mailbox, pdf

DEPOSITS = 500


def test_two_workers_send_every_alert_of_500_deposits_exactly_once(mail_app, smtp):
    box = make_mailbox()
    db.session.add(LucieAlertAddress(establishment_id=box.establishment.id, email="alertes@transports.test"))
    db.session.commit()
    document = pdf()
    for i in range(DEPOSITS):
        deposit(box.establishment, box.caisse, title=f"Courrier {i}", document=document, commit=False)
        if i % 100 == 99:
            db.session.commit()
    db.session.commit()
    recipients = 2
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == DEPOSITS * recipients

    start = threading.Barrier(2)
    sent_by: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        with mail_app.app_context():
            try:
                start.wait()
                total = 0
                while True:
                    sent, failed = outbox.send_due(batch=25, worker=name)
                    assert failed == 0
                    total += sent
                    if sent == 0:
                        break
                sent_by[name] = total
            except BaseException as error:  # noqa: BLE001 — reported by the assertion below
                errors.append(error)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(300)
    assert errors == []

    assert sum(sent_by.values()) == DEPOSITS * recipients
    assert all(count > 0 for count in sent_by.values()), sent_by  # both workers took part
    outbox_ids = [int(message["X-Outbox-Id"]) for _, message in smtp.messages]
    assert len(outbox_ids) == len(set(outbox_ids)) == DEPOSITS * recipients  # none lost, none doubled
    per_recipient = Counter(rcpt for rcpt, _ in smtp.messages)
    assert per_recipient == {"lecteur@transports.test": DEPOSITS, "alertes@transports.test": DEPOSITS}
    statuses = dict(
        db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    )
    assert statuses == {OutboxStatus.SENT: DEPOSITS * recipients}
