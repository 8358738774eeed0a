"""The one mail outbox, against a real SMTP server on loopback."""

from datetime import timedelta

from sqlalchemy import event

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.models.types import utcnow
from app.services import outbox


def _queue(n: int) -> None:
    for i in range(n):
        outbox.enqueue(f"dest{i}@test.example", f"Objet {i}", "Corps du message", kind="test")
    db.session.commit()


def test_committed_messages_are_delivered_once(mail_app, smtp):
    _queue(3)
    assert outbox.send_due() == (3, 0)
    assert outbox.send_due() == (0, 0)
    assert sorted(rcpt for rcpt, _ in smtp.messages) == [f"dest{i}@test.example" for i in range(3)]
    assert smtp.to("dest1@test.example")[0]["Subject"] == "Objet 1"
    assert all(m.status == OutboxStatus.SENT for m in db.session.scalars(db.select(OutboxMessage)))


def test_rolled_back_transaction_sends_nothing(mail_app, smtp):
    outbox.enqueue("x@test.example", "Objet", "Corps", kind="test")
    db.session.rollback()
    assert outbox.send_due() == (0, 0)
    assert smtp.messages == []


def test_smtp_down_then_back_delivers_without_loss_or_duplicate(mail_app, smtp):
    _queue(2)
    smtp.stop()
    assert outbox.send_due() == (0, 2)
    pending = db.session.scalars(db.select(OutboxMessage)).all()
    assert all(m.status == OutboxStatus.PENDING and m.attempts == 1 and m.last_error for m in pending)
    smtp.controller = type(smtp.controller)(smtp, hostname="127.0.0.1", port=smtp.port)
    smtp.start()
    db.session.execute(db.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert outbox.send_due() == (2, 0)
    assert len(smtp.messages) == 2


def test_retries_back_off_then_park_as_failed_and_requeue(mail_app, smtp):
    mail_app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    smtp.refuse = True
    _queue(1)
    delays = []
    for _ in range(3):
        before = utcnow()
        outbox.send_due()
        message = db.session.scalars(db.select(OutboxMessage)).one()
        if message.status == OutboxStatus.PENDING:
            delays.append((message.next_attempt_at - before).total_seconds())
            message.next_attempt_at = utcnow()
            db.session.commit()
    assert message.status == OutboxStatus.FAILED and message.attempts == 3
    assert delays[1] > delays[0]  # exponential backoff
    smtp.refuse = False
    outbox.requeue(message.id)
    assert outbox.send_due() == (1, 0)
    assert len(smtp.messages) == 1


def test_a_batch_sends_each_message_in_one_transaction_on_one_connection(mail_app, smtp):
    """The worker's cost per message (issue 11: under load it took a fifth of the machine): one
    transaction per message — the one before it marked sent, its claim renewed and its content read —
    on one connection for the whole batch: no pool checkout, pre-ping or ORM load per message."""
    _queue(5)
    statements, commits, checkouts = [], [], []
    engine = db.engine
    listeners = [
        (engine, "before_cursor_execute", lambda *args: statements.append(" ".join(args[2].split()[:2]))),
        (engine, "commit", lambda conn: commits.append(1)),
        (engine.pool, "checkout", lambda *args: checkouts.append(1)),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        assert outbox.send_due(batch=5) == (5, 0)
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
    claim, per_batch = statements[:3], statements[3:]
    assert [s.split()[0] for s in claim] == ["SELECT", "UPDATE", "SELECT"]  # the claim, committed once
    # Then, for each message: its claim renewed with its content returned (UPDATE … RETURNING), and
    # the one before it marked sent in the same transaction; the last one marked sent at the end.
    assert per_batch == ["UPDATE outbox_message"] * 10
    assert len(commits) == 1 + 5 + 1
    assert len(checkouts) == 2  # the claim's, then the batch's connection
    assert len(smtp.messages) == 5
