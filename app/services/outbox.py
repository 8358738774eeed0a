"""The one mail outbox (SPEC §4): messages are rows written in the caller's transaction and sent by
a worker with retries, so a rolled-back change sends nothing and a committed one is never lost.

Several workers may run at once: on PostgreSQL rows are claimed with ``FOR UPDATE SKIP LOCKED``;
SQLite serialises writers, so the claiming UPDATE is atomic there too. A claim carries a token of its
own and lasts ``OUTBOX_CLAIM_SECONDS`` (30 s), renewed while its batch is being sent: a worker that
dies lets its rows go within that time, and a live one never loses them to another
(docs/operations.md).
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header

from flask import current_app
from flask_mail import Message
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.engine import Connection

from app.extensions import db, mail
from app.models import OutboxMessage, OutboxStatus
from app.models.types import utcnow
from app.services import audit


@functools.lru_cache(maxsize=1024)
def subject_header(subject: str) -> str:
    """The Subject header, RFC 2047-encoded here with the header's name counted, so that no line is
    longer than 78 characters and the SMTP policy keeps it as it is. Left to Flask-Mail, a long
    French subject was encoded without the name, then refolded by the email package, which doubles
    some spaces and drops others around encoded words (« dossier  –Établissements »). Kept for the
    subjects seen last: the email package's encoding costs about a millisecond, and the alerts of
    one deposit share theirs."""
    try:
        subject.encode("ascii")
    except UnicodeEncodeError:
        return Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")
    return subject


def enqueue(
    recipient: str,
    subject: str,
    body_text: str,
    *,
    kind: str,
    body_html: str | None = None,
    related: tuple[str, int] | None = None,
    user_id: int | None = None,
) -> OutboxMessage:
    """Add a message to the current transaction; it is sent only if that transaction commits."""
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        related_type=related[0] if related else None,
        related_id=related[1] if related else None,
        user_id=user_id,
        status=OutboxStatus.PENDING,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_seconds() -> float:
    return current_app.config["OUTBOX_CLAIM_SECONDS"]


def claim(batch: int, worker: str) -> list[int]:
    """Claim up to ``batch`` due messages for ``worker`` (a claim token, unique to this claim) and
    commit the claim."""
    # Without SKIP LOCKED (SQLite) two workers may select the same rows and one of them then claims
    # none: it looks again rather than stopping while messages are still due.
    for _ in range(5):
        seen, ids = _claim_once(batch, worker)
        if ids or not seen:
            return ids
    return []


def _claim_once(batch: int, worker: str) -> tuple[bool, list[int]]:
    now = utcnow()
    due = or_(
        (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now),
    )
    query = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(batch)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    seen = bool(ids)
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), due)
            .values(
                status=OutboxStatus.SENDING,
                claimed_by=worker,
                claimed_until=now + timedelta(seconds=claim_seconds()),
            )
        )
        ids = list(
            db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids), _held_by(worker)))
        )
    db.session.commit()
    return seen, ids


_outbox = OutboxMessage.__table__


def _held_by(token):
    """The rows this claim still holds: nobody else claimed them since (a claim sets its token).
    ``token`` is the claim's, or a bound parameter in the statements built once below."""
    return (_outbox.c.claimed_by == token) & (_outbox.c.status == OutboxStatus.SENDING)


_HELD = _held_by(bindparam("token"))


class _Heartbeat:
    """Renews a batch's claim every third of its length while the batch is being sent, on its own
    connection, so that a slow SMTP server never lets the claim lapse under a live worker, while
    a dead worker's rows are free again ``OUTBOX_CLAIM_SECONDS`` after its last beat."""

    def __init__(self, token: str, seconds: float):
        self._engine = db.engine
        self._token = token
        self._seconds = seconds
        self._logger = current_app.logger
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="outbox-heartbeat", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._seconds / 3):
            try:
                with self._engine.begin() as connection:
                    connection.execute(
                        update(OutboxMessage)
                        .where(_held_by(self._token))
                        .values(claimed_until=utcnow() + timedelta(seconds=self._seconds))
                    )
            except Exception as error:  # noqa: BLE001 — the check before each send still holds
                self._logger.warning("outbox: claim not renewed (%s)", _one_line(error))


def _one_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def _retry_delay(attempts: int) -> timedelta:
    base = current_app.config["OUTBOX_BASE_DELAY_SECONDS"]
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def send_due(batch: int = 100, worker: str | None = None) -> tuple[int, int]:
    """Send what is due now. Returns (sent, failed attempts). Each message's outcome is committed
    on its own, right after its SMTP transaction, so a crash re-sends at most one message.

    The claim is renewed by a heartbeat while the batch is sent, and each message is sent only if
    the claim still holds it, renewed just before (a worker stalled past its claim — suspended,
    cut from the database — sends nothing more), and marked sent only under that claim."""
    token = f"{(worker or worker_id())[:66]}#{secrets.token_hex(6)}"
    ids = claim(batch, token)
    if not ids:
        return 0, 0
    with _Heartbeat(token, claim_seconds()):
        return _send_claimed(ids, token)


def _send_claimed(ids: list[int], token: str) -> tuple[int, int]:
    sent = failures = 0
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    try:
        connection = mail.connect()
        connection.__enter__()
    except OSError as error:  # SMTP down: every claimed message is rescheduled
        for message_id in ids:
            _record_failure(message_id, token, error, max_attempts)
        return 0, len(ids)
    try:
        # One database connection for the batch (no pool checkout, no pre-ping per message), and one
        # transaction per message: the previous message marked sent, this one's claim renewed and
        # its content read, committed before its SMTP transaction — nothing is held while it runs.
        with db.engine.connect() as database:
            just_sent = None
            for message_id in ids:
                if just_sent is not None:
                    sent += _mark_sent(database, just_sent, token)
                    just_sent = None
                message = database.execute(
                    _TAKE, {"message_id": message_id, "token": token, "until": _claim_end()}
                ).first()
                database.commit()
                if message is None:
                    current_app.logger.warning(
                        "outbox: message %s left to the worker that claimed it since", message_id
                    )
                    continue
                try:
                    connection.send(
                        Message(
                            subject=subject_header(message.subject),
                            recipients=[message.recipient],
                            body=message.body_text,
                            html=message.body_html,
                            extra_headers={"X-Outbox-Id": str(message.id)},
                        )
                    )
                except Exception as error:  # noqa: BLE001 — any SMTP failure is retried later
                    _record_failure(message_id, token, error, max_attempts)
                    failures += 1
                    continue
                just_sent = message_id
            if just_sent is not None:
                sent += _mark_sent(database, just_sent, token)
                database.commit()
    finally:
        with contextlib.suppress(Exception):  # closing a connection the server already dropped
            connection.__exit__(None, None, None)
    return sent, failures


# The statements of a message's send, built once (a batch runs them for each of its messages, on the
# table itself: no ORM object to keep in step).
# The message, if this claim still holds it: its claim renewed for one more full length (the time one
# SMTP transaction may take).
_TAKE = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("message_id"), _HELD)
    .values(claimed_until=bindparam("until"))
    .returning(_outbox.c.id, _outbox.c.recipient, _outbox.c.subject, _outbox.c.body_text, _outbox.c.body_html)
)
# Marked sent only under this claim.
_MARK_SENT = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("message_id"), _HELD)
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("now"),
        attempts=_outbox.c.attempts + 1,
        claimed_until=None,
    )
)


def _claim_end() -> datetime:
    return utcnow() + timedelta(seconds=claim_seconds())


def _mark_sent(database: Connection, message_id: int, token: str) -> int:
    """1 if the message was marked sent; 0 (and a warning) if another worker claimed it meanwhile. In
    the caller's transaction, which commits it before the next SMTP transaction starts."""
    marked = database.execute(
        _MARK_SENT, {"message_id": message_id, "token": token, "now": utcnow()}
    ).rowcount
    if not marked:
        current_app.logger.warning("outbox: message %s sent after its claim was taken over", message_id)
    return marked


def _record_failure(message_id: int, token: str, error: Exception, max_attempts: int) -> None:
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    attempts = message.attempts + 1
    values: dict = {
        "attempts": attempts,
        "last_error": f"{type(error).__name__}: {error}"[:2000],
        "claimed_until": None,
    }
    if attempts >= max_attempts:
        values["status"] = OutboxStatus.FAILED
    else:
        values["status"] = OutboxStatus.PENDING
        values["next_attempt_at"] = utcnow() + _retry_delay(attempts)
    # Only under this claim: a row another worker claimed since is its business.
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, _held_by(token)).values(**values)
    )
    db.session.commit()


def requeue(message_id: int) -> bool:
    """Operator action: put a failed message back in the queue (attempts start again), or make a
    message waiting for a retry due now. Returns False when there was nothing to do. Audited as the
    signed-in operator's (nobody's from the command line)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status not in (OutboxStatus.FAILED, OutboxStatus.PENDING):
        return False
    if message.status == OutboxStatus.FAILED:
        message.status = OutboxStatus.PENDING
        message.attempts = 0
    message.next_attempt_at = utcnow()
    audit.record("outbox_requeue", "outbox_message", message.id)
    db.session.commit()
    return True


def attention_list(limit: int = 200) -> list[OutboxMessage]:
    """Operator view: the failed messages, then those waiting for a retry, oldest first."""
    query = (
        select(OutboxMessage)
        .where(
            (OutboxMessage.status == OutboxStatus.FAILED)
            | ((OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.attempts > 0))
        )
        .order_by((OutboxMessage.status == OutboxStatus.FAILED).desc(), OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def queue_counts() -> dict[str, int]:
    """How many messages are in each state (operator page)."""
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {status: count for status, count in rows}


@dataclass(frozen=True)
class QueueState:
    """What an operator's monitoring watches (the metrics endpoint)."""

    waiting: int  # to send: pending (due or waiting for a retry) and being sent
    oldest_waiting_at: datetime | None  # when the oldest of them was queued
    failed: int  # parked after OUTBOX_MAX_ATTEMPTS: someone must look (/operateur/courriels/)


def queue_state() -> QueueState:
    """The outbox's depth, its oldest waiting message and its failed ones, in one statement that
    reads only unsent rows (the status index): the sent ones, the bulk of the table, are not counted."""
    unsent = (OutboxMessage.status == OutboxStatus.PENDING) | (OutboxMessage.status == OutboxStatus.SENDING)
    row = db.session.execute(
        select(
            func.count().filter(unsent),
            func.min(OutboxMessage.created_at).filter(unsent),
            func.count().filter(OutboxMessage.status == OutboxStatus.FAILED),
        ).where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)))
    ).one()
    oldest = row[1]
    if oldest is not None and oldest.tzinfo is None:  # an aggregate bypasses the column's type
        oldest = oldest.replace(tzinfo=UTC)
    return QueueState(waiting=row[0], oldest_waiting_at=oldest, failed=row[2])


def set_operator(email: str, is_operator: bool) -> bool:
    """Give or take the operator role (the outbox page). False when no user has this address."""
    from app.models import User

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return False
    user.is_operator = is_operator
    audit.record("operator_granted" if is_operator else "operator_revoked", "user", user.id)
    db.session.commit()
    return True
