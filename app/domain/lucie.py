"""LUCIE rules (SPEC §4): letter types, the *date de notification réputée* and the appeal deadline.

Pure Python: no Flask, no database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from app.domain.calendars import local_date, next_working_day, to_local

# Time to contest a decision before the commission de recours amiable (SPEC §4).
APPEAL_DELAY = relativedelta(months=2)
APPEAL_BASIS = (
    "Article R142-1 du code de la sécurité sociale : deux mois à compter de la notification pour saisir "
    "la commission de recours amiable ; un délai qui finit un samedi, un dimanche ou un jour férié est "
    "prolongé jusqu'au premier jour ouvrable suivant (article 642 du code de procédure civile)."
)

# A control character (C0, DEL, C1) as a JSON Schema pattern and a Python regex alike: refused in a
# letter's title by the deposit screen and the API (whose description publishes it, app/api_spec.py).
CONTROL_CHARACTER = "[\\x00-\\x1f\\x7f-\\x9f]"


# ------------------------------------------------------------------------------------------------------
# The date de notification réputée (SPEC §4): THE one place where its legal reading is chosen
# ------------------------------------------------------------------------------------------------------


class NotificationReading(enum.StrEnum):
    """The two legal readings of when an unopened LUCIE letter is notified (setting
    ``LUCIE_NOTIFICATION_READING``)."""

    LOI = "loi"
    MISE_A_DISPOSITION = "mise_a_disposition"


@dataclass(frozen=True)
class NotificationRule:
    reading: NotificationReading
    days: int  # calendar days after the deposit day, in the establishment's local calendar
    summary: str  # what the rule says, for the screens (« … »)
    basis: str  # its sources, shown next to the date
    reference: str  # the sources in short, where space is short (lists, e-mails)


NOTIFICATION_RULES = {
    # Code de la sécurité sociale, art. L242-5 (last paragraph): the decision is notified at its
    # consultation « ou, au plus tard, dans un délai de quinze jours suivant [sa] mise à disposition ».
    # Cour de cassation, 2e civ., avis of 5 October 2023, n° 23-70.009: the first consultation by a
    # person authorised by the company, at the latest 15 days after availability. Applied to every
    # letter as a product choice (SPEC §4).
    NotificationReading.LOI: NotificationRule(
        NotificationReading.LOI,
        15,
        "un courrier non consulté est réputé notifié 15 jours après sa mise à disposition",
        "Article L242-5 du code de la sécurité sociale ; Cour de cassation, avis du 5 octobre 2023, "
        "n° 23-70.009 : notification à la première consultation par une personne de l'entreprise, au plus "
        "tard 15 jours après la mise à disposition.",
        "article L242-5 du code de la sécurité sociale",
    ),
    # Arrêté of 30 December 2019 (amended 8 October 2020) on the electronic notification of rate
    # decisions, and Code des relations entre le public et l'administration, art. R112-20: a document
    # not consulted is « réputé notifié à la date de sa mise à disposition ».
    NotificationReading.MISE_A_DISPOSITION: NotificationRule(
        NotificationReading.MISE_A_DISPOSITION,
        0,
        "un courrier non consulté est réputé notifié à la date de sa mise à disposition",
        "Arrêté du 30 décembre 2019 modifié le 8 octobre 2020 ; article R112-20 du code des relations "
        "entre le public et l'administration : réputé notifié à la date de sa mise à disposition.",
        "arrêté du 30 décembre 2019, article R112-20 du code des relations entre le public et "
        "l'administration",
    ),
}
DEFAULT_READING = NotificationReading.LOI

CONSULTATION_BASIS = (
    "Date de la première consultation par une personne de l'entreprise (Cour de cassation, avis du "
    "5 octobre 2023, n° 23-70.009)."
)
CONSULTATION_REFERENCE = "première consultation, Cour de cassation, avis du 5 octobre 2023"


def notification_rule(reading: NotificationReading | str | None = None) -> NotificationRule:
    """The rule of ``reading`` (the statute when None). An unknown value is a configuration error."""
    try:
        return NOTIFICATION_RULES[NotificationReading(reading or DEFAULT_READING)]
    except ValueError:
        codes = ", ".join(r.value for r in NotificationReading)
        raise ValueError(
            f"LUCIE_NOTIFICATION_READING: unknown reading {reading!r} (expected one of: {codes})"
        ) from None


def counts_as_first_consultation(*, reader_is_employer: bool, same_company: bool) -> bool:
    """Only a person of the company (an employer user of the establishment's company) makes the first
    consultation; a tiers déclarant's or a caisse agent's read is audited but notifies nothing (Cour de
    cassation, avis of 5 October 2023, n° 23-70.009; SPEC §4)."""
    return reader_is_employer and same_company


def deemed_notification(
    deposited_at: datetime,
    first_consulted_at: datetime | None,
    departement: str,
    reading: NotificationReading | str | None = None,
) -> datetime:
    """The *date de notification réputée* (SPEC §4): the first consultation, or the deposit's local
    wall-clock time N calendar days later (N = 15 under the statute, 0 under the decree's reading) when
    nobody of the company opened the letter by then. Days are counted in the establishment's local
    calendar, never as N × 24 h: a clock change in between does not move the day. A consultation
    after that moment does not move the date: the letter was already deemed notified."""
    rule = notification_rule(reading)
    local = to_local(deposited_at, departement)
    # Aware + timedelta keeps the wall-clock time: 00 h 30 stays 00 h 30 across a clock change. Going
    # through UTC fixes the offset (and a wall time that a clock change skipped).
    deadline = (local + timedelta(days=rule.days)).astimezone(UTC).astimezone(local.tzinfo)
    if first_consulted_at is not None and first_consulted_at.astimezone(UTC) < deadline.astimezone(UTC):
        return to_local(first_consulted_at, departement)
    return deadline


def notification_day(
    deposited_at: datetime,
    first_consulted_at: datetime | None,
    departement: str,
    reading: NotificationReading | str | None = None,
) -> date:
    """The local calendar day of the *date de notification réputée*."""
    return deemed_notification(deposited_at, first_consulted_at, departement, reading).date()


@dataclass(frozen=True)
class DeemedNotice:
    """The *date de notification réputée* as the screens show it: the day, whether it has happened
    (else it is the latest possible day), whether a consultation fixed it, and its legal basis."""

    at: datetime  # local time of the establishment
    day: date
    known: bool
    by_consultation: bool
    basis: str
    reference: str  # the basis in short


def deemed_notice(
    deposited_at: datetime,
    first_consulted_at: datetime | None,
    departement: str,
    now: datetime,
    reading: NotificationReading | str | None = None,
) -> DeemedNotice:
    """The notification of a letter seen at ``now``, with the legal basis to show next to it."""
    rule = notification_rule(reading)
    at = deemed_notification(deposited_at, first_consulted_at, departement, reading)
    by_consultation = first_consulted_at is not None and at == first_consulted_at
    return DeemedNotice(
        at=at,
        day=at.date(),
        known=at <= now,
        by_consultation=by_consultation,
        basis=CONSULTATION_BASIS if by_consultation else rule.basis,
        reference=CONSULTATION_REFERENCE if by_consultation else rule.reference,
    )


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


def notification_if_known(
    deposited_at: datetime,
    first_consulted_at: datetime | None,
    now: datetime,
    departement: str,
    reading: NotificationReading | str | None = None,
) -> datetime | None:
    """The *date de notification réputée* once it has happened, else None (not opened, delay not yet
    elapsed)."""
    deemed = deemed_notification(deposited_at, first_consulted_at, departement, reading)
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
