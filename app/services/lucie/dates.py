"""The legal dates of a letter: its deemed notice, the appeal deadline, and its alert's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select

from app.domain.lucie import (
    APPEAL_BASIS,
    DeemedNotice,
    NotificationRule,
    appeal_deadline,
    deemed_notice,
    notification_rule,
)
from app.extensions import db
from app.models import Letter, OutboxMessage, OutboxStatus
from app.models.types import utcnow

from .common import RELATED_TYPE


def current_rule() -> NotificationRule:
    """The legal reading of the *date de notification réputée* this platform applies (setting
    ``LUCIE_NOTIFICATION_READING``, default the statute; see :mod:`app.domain.lucie`)."""
    return notification_rule(current_app.config.get("LUCIE_NOTIFICATION_READING"))


@dataclass(frozen=True)
class LetterDates:
    deposited_at: datetime  # date de mise à disposition
    alert_sent_at: datetime | None
    first_consulted_at: datetime | None
    first_consulted_by: str | None
    deemed_notified_at: datetime | None  # once known
    deemed_notified_at_latest: datetime  # if nobody opens it before
    appeal_deadline: date | None  # decisions only, once notified
    notice: DeemedNotice  # the local day of the notification, known or not, and its legal basis
    rule: NotificationRule  # the reading applied
    appeal_basis: str = APPEAL_BASIS


def alert_sent_at(letter_id: int) -> datetime | None:
    """When the first alert of the letter was accepted by the SMTP server (from the outbox)."""
    return db.session.scalar(
        select(func.min(OutboxMessage.sent_at)).where(
            OutboxMessage.related_type == RELATED_TYPE,
            OutboxMessage.related_id == letter_id,
            OutboxMessage.status == OutboxStatus.SENT,
        )
    )


@dataclass(frozen=True)
class AlertStatus:
    queued: int
    sent: int
    failed: int


def alert_status(letter_id: int) -> AlertStatus:
    """How the letter's alert e-mails stand in the outbox."""
    rows = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.related_type == RELATED_TYPE, OutboxMessage.related_id == letter_id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    return AlertStatus(
        queued=sum(rows.values()),
        sent=rows.get(OutboxStatus.SENT, 0),
        failed=rows.get(OutboxStatus.FAILED, 0),
    )


def letter_dates(letter: Letter, now: datetime | None = None) -> LetterDates:
    """The legal dates of a letter, counted in its establishment's local calendar (SPEC §4)."""
    now = now or utcnow()
    rule = current_rule()
    departement = letter.establishment.departement
    notice = deemed_notice(letter.deposited_at, letter.first_consulted_at, departement, now, rule.reading)
    deadline = None
    if notice.known and letter.type.is_decision:
        deadline = appeal_deadline(notice.at, departement)
    return LetterDates(
        deposited_at=letter.deposited_at,
        alert_sent_at=alert_sent_at(letter.id),
        first_consulted_at=letter.first_consulted_at,
        first_consulted_by=letter.first_consulted_by.full_name if letter.first_consulted_by else None,
        deemed_notified_at=notice.at if notice.known else None,
        deemed_notified_at_latest=notice.at,
        appeal_deadline=deadline,
        notice=notice,
        rule=rule,
    )
