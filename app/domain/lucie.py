"""LUCIE rules (SPEC §4): letter types, the *date de notification réputée* and the appeal deadline.

Pure Python: no Flask, no database.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from app.domain.calendars import local_date, next_working_day

# A letter never opened is deemed notified this long after it was made available (SPEC §4: CSS L242-5
# for rate decisions, applied to every letter as a product choice).
DEEMED_NOTIFICATION_DELAY = timedelta(days=15)
# Time to contest a decision before the commission de recours amiable (SPEC §4).
APPEAL_DELAY = relativedelta(months=2)


class LetterType(enum.StrEnum):
    """The kinds of letter a caisse deposits (SPEC §4). The values are the API's ``type`` codes."""

    ACCUSE_RECEPTION = "accuse_reception"
    DOUBLE_DECLARATION = "double_declaration"
    OUVERTURE_INSTRUCTION = "ouverture_instruction"
    INFORMATION_CONSULTATION = "information_consultation"
    NOTIFICATION_DECISION = "notification_decision"
    NOTIFICATION_TAUX = "notification_taux"
    AUTRE = "autre"

    @property
    def label(self) -> str:
        return LETTER_TYPE_LABELS[self]

    @property
    def is_decision(self) -> bool:
        return self in DECISION_TYPES


LETTER_TYPE_LABELS = {
    LetterType.ACCUSE_RECEPTION: "Accusé de réception",
    LetterType.DOUBLE_DECLARATION: "Double de la déclaration",
    LetterType.OUVERTURE_INSTRUCTION: "Ouverture d'instruction et questionnaire",
    LetterType.INFORMATION_CONSULTATION: "Information sur la consultation du dossier",
    LetterType.NOTIFICATION_DECISION: "Notification de décision",
    LetterType.NOTIFICATION_TAUX: "Notification de taux",
    LetterType.AUTRE: "Autre courrier",
}

LETTER_TYPE_CODES = frozenset(t.value for t in LetterType)

# Letters that can be contested: they carry an appeal deadline.
DECISION_TYPES = frozenset({LetterType.NOTIFICATION_DECISION, LetterType.NOTIFICATION_TAUX})


def deemed_notification(deposited_at: datetime, first_consulted_at: datetime | None) -> datetime:
    """The *date de notification réputée* (SPEC §4): the first consultation, or the end of the 15 days
    after the deposit when nobody opened the letter by then. A consultation after those 15 days does
    not move the date: the letter was already deemed notified."""
    deadline = deposited_at + DEEMED_NOTIFICATION_DELAY
    if first_consulted_at is not None and first_consulted_at < deadline:
        return first_consulted_at
    return deadline


def notification_if_known(
    deposited_at: datetime, first_consulted_at: datetime | None, now: datetime
) -> datetime | None:
    """The *date de notification réputée* once it has happened, else None (not opened, 15 days not
    yet elapsed)."""
    deemed = deemed_notification(deposited_at, first_consulted_at)
    return deemed if deemed <= now else None


def appeal_deadline(notified_at: datetime, departement: str) -> date:
    """The last day to contest a decision: two months after the notification, counted in the
    establishment's local calendar; a deadline falling on a Saturday, Sunday or public holiday runs
    to the next working day (Code de procédure civile, art. 642)."""
    end = local_date(notified_at, departement) + APPEAL_DELAY
    return next_working_day(end, departement)


class LetterSource:
    AGENT = "agent"  # a CPAM/Carsat agent's deposit screen
    API = "api"  # a caisse's system through /api/v1
    SERVICE = "service"  # another service of this application (DAT receipt, rate notification…)
