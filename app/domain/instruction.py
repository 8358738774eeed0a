"""The legal calendar of a CPAM instruction (SPEC §3.1, §6): the caisse's délais from D0, the
questionnaires, the 10-day notice and the consultation with observations, the CRRMP's délais, and the check
that refuses an unlawful schedule with the earliest and latest lawful dates.

Every date is a `Deadline` record from `app.domain.deadlines` (legal basis, starting event, length and unit,
rule version, computed date, room for the date a letter notifies) — that module does all the counting, with
the product's one reading of jours francs (`JOURS_FRANCS_RULE`). Dates are local calendar dates of the
département, which picks the holiday calendar. Pure Python: no Flask, no database.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from app.domain import deadlines
from app.domain.calendars import normalize_departement
from app.domain.dat import french_day
from app.domain.deadlines import JOURS_FRANCS, RULE_VERSION, Deadline, jours_francs_notice_ends

AT = "AT"
MP = "MP"
KINDS = (AT, MP)

NOTICE_DAYS = 10  # parties informed of the consultation dates at least 10 j.f. before it opens
OBSERVATION_DAYS = 10  # consultation with observations: 10 j.f. from the opening
CRRMP_COMPLETION_DAYS = 30
CRRMP_OBSERVATIONS_DAYS = 40
CRRMP_OPINION_DAYS = 110
CRRMP_DECISION_DAYS = 120

D0_EVENT = "réception par la caisse de la déclaration et du certificat médical initial (D0)"
QUESTIONNAIRE_EVENT = "réception du questionnaire"
OPENING_EVENT = "ouverture de la consultation du dossier"
NOTICE_EVENT = "réception de l'information sur les dates de consultation du dossier"
CRRMP_EVENT = "saisine du comité régional de reconnaissance des maladies professionnelles (CRRMP)"
CRRMP_BASIS = "CSS R461-10"
RESERVES_BASIS = "CSS R441-6"


@dataclass(frozen=True)
class _Rules:
    """The délais of one kind of instruction (SPEC §3.1), with the article that sets each."""

    decide_or_investigate_days: int | None
    decide_or_investigate_basis: str | None
    questionnaire_days: int
    questionnaire_basis: str
    dossier_days: int
    dossier_basis: str
    decision_days: int
    decision_basis: str
    consultation_basis: str  # the 10-day notice and the 10 days with observations


RULES = {
    AT: _Rules(
        decide_or_investigate_days=30,
        decide_or_investigate_basis="CSS R441-7",
        questionnaire_days=20,
        questionnaire_basis="CSS R441-8 I",
        dossier_days=70,
        dossier_basis="CSS R441-8 II",
        decision_days=90,
        decision_basis="CSS R441-8 I",
        consultation_basis="CSS R441-8 II",
    ),
    MP: _Rules(
        decide_or_investigate_days=None,  # an MP is always investigated
        decide_or_investigate_basis=None,
        questionnaire_days=30,
        questionnaire_basis="CSS R461-9 II",
        dossier_days=100,
        dossier_basis="CSS R461-9 III",
        decision_days=120,
        decision_basis="CSS R461-9 I",
        consultation_basis="CSS R461-9 III",
    ),
}
_ANY_KIND_CONSULTATION_BASIS = "CSS R441-8 II (AT), R461-9 III (MP)"


def _rules(kind: str) -> _Rules:
    try:
        return RULES[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown instruction kind: {kind!r} (expected 'AT' or 'MP')") from None


def _consultation_basis(kind: str | None) -> str:
    return _ANY_KIND_CONSULTATION_BASIS if kind is None else _rules(kind).consultation_basis


def _local_date(value: date, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} is a local calendar date, not {type(value).__name__}")
    return value


# --- the caisse's délais from D0 ----------------------------------------------------------------------


@dataclass(frozen=True)
class InstructionCalendar:
    """The délais of an instruction counted from D0 (SPEC §3.1); the letters state them."""

    kind: str
    d0: date
    departement: str
    decide_or_investigate_by: Deadline | None  # AT: D0 + 30 j.f.; MP: None (always investigated)
    dossier_available_by: Deadline  # AT: D0 + 70 j.f.; MP: D0 + 100 j.f.
    decision_by: Deadline  # AT: D0 + 90 j.f.; MP: D0 + 120 j.f. (the expiry the first letter states)


def instruction_calendar(kind: str, d0: date, departement: str) -> InstructionCalendar:
    """The caisse's délais from D0, the day it holds both the declaration and the CMI (SPEC §3.1; CSS R441-7,
    R441-8 for an AT, R461-9 for an MP)."""
    rules = _rules(kind)
    d0 = _local_date(d0, "d0")
    decide_or_investigate_by = None
    if rules.decide_or_investigate_days is not None:
        decide_or_investigate_by = Deadline.jours_francs(
            rules.decide_or_investigate_basis or "",
            D0_EVENT,
            d0,
            rules.decide_or_investigate_days,
            departement,
        )
    return InstructionCalendar(
        kind=kind,
        d0=d0,
        departement=departement,
        decide_or_investigate_by=decide_or_investigate_by,
        dossier_available_by=Deadline.jours_francs(
            rules.dossier_basis, D0_EVENT, d0, rules.dossier_days, departement
        ),
        decision_by=Deadline.jours_francs(
            rules.decision_basis, D0_EVENT, d0, rules.decision_days, departement
        ),
    )


def questionnaire_due(kind: str, received_on: date, departement: str) -> Deadline:
    """Last day to return a questionnaire: 20 jours francs (AT, CSS R441-8 I) or 30 (MP, CSS R461-9 II)
    from the day the party received it (SPEC §3.1) — for a LUCIE letter, its deemed notification (SPEC §4)."""
    rules = _rules(kind)
    received_on = _local_date(received_on, "received_on")
    return Deadline.jours_francs(
        rules.questionnaire_basis, QUESTIONNAIRE_EVENT, received_on, rules.questionnaire_days, departement
    )


@dataclass(frozen=True)
class InvestigationMeans:
    """How the caisse investigates a case (SPEC §3.1)."""

    questionnaires: bool
    enquiry: bool
    explanation: str


def investigation_means(kind: str, *, fatal: bool = False) -> InvestigationMeans:
    """Questionnaires to the employer and the victim, or — after a fatal accident — a compulsory enquiry
    and no questionnaire (SPEC §3.1; CSS R441-8 I). The SPEC states that rule for an AT only: an MP keeps
    its questionnaires whatever `fatal` says."""
    _rules(kind)
    if kind == AT and fatal:
        return InvestigationMeans(
            questionnaires=False,
            enquiry=True,
            explanation=(
                "La victime est décédée : la caisse procède obligatoirement à une enquête, sans adresser de "
                "questionnaire à l'employeur ni aux ayants droit (CSS R441-8 I)."
            ),
        )
    basis = _rules(kind).questionnaire_basis
    days = _rules(kind).questionnaire_days
    return InvestigationMeans(
        questionnaires=True,
        enquiry=False,
        explanation=(
            "La caisse adresse un questionnaire à l'employeur et à la victime, à retourner dans les "
            f"{days} jours francs suivant sa réception ({basis}) ; elle peut en outre mener une enquête."
        ),
    )


# --- the consultation ---------------------------------------------------------------------------------


class ObservationWindow(NamedTuple):
    """The consultation with observations (SPEC §3.1): from the opening day through `last_day`."""

    first_day: date
    last_day: Deadline

    def contains(self, day: date) -> bool:
        """True when observations made on the local day `day` are within the window."""
        last = self.last_day.effective_due
        return self.first_day <= day <= (last.date() if isinstance(last, datetime) else last)


def observation_window(opening: date, departement: str, *, kind: str | None = None) -> ObservationWindow:
    """The 10 jours francs during which the parties consult the dossier and make observations (SPEC §3.1;
    CSS R441-8 II, R461-9 III): first day = the opening day (the dossier is there and an observation that
    day is accepted, though the day does not count), last day = opening + 10 j.f. per SPEC §6 (extended past
    a Saturday, Sunday or holiday). `kind` only makes the legal basis precise."""
    opening = _local_date(opening, "opening")
    last_day = Deadline.jours_francs(
        _consultation_basis(kind), OPENING_EVENT, opening, OBSERVATION_DAYS, departement
    )
    return ObservationWindow(opening, last_day)


@dataclass(frozen=True)
class EarliestDate:
    """A legal « not before » date (SPEC §3.1, §6): the first day something may happen once a notice has run.

    The counterpart of `Deadline` for a minimum lead time: the same record (legal basis, starting event,
    length and unit, rule version, computed date, notified date), but `earliest` is the first lawful day.
    """

    legal_basis: str
    start_event: str
    started_at: date
    length: int
    unit: str
    rule_version: str
    earliest: date
    departement: str
    notified: date | None = None

    def with_notified(self, notified: date | None) -> EarliestDate:
        """The same date as a letter states it (SPEC §6: store both)."""
        return dataclasses.replace(self, notified=notified)

    @property
    def effective(self) -> date:
        """The notified date when there is one, else the computed one."""
        return self.notified if self.notified is not None else self.earliest

    def allows(self, day: date) -> bool:
        """True when `day` is on or after the first lawful day."""
        return day >= self.effective


def earliest_opening(
    information_received_on: date, departement: str, *, kind: str | None = None
) -> EarliestDate:
    """First day the consultation may open: the parties must be told of its dates at least 10 jours francs
    before (SPEC §3.1; CSS R441-8 II, R461-9 III), neither the day of receipt nor the opening day counting —
    received on the 2nd, the 10 days are the 3rd to the 12th and the consultation opens on the 13th at the
    earliest. A notice is not extended past a weekend or holiday (`deadlines.jours_francs_notice_ends`)."""
    received = _local_date(information_received_on, "information_received_on")
    normalize_departement(departement)  # an unknown code is refused here as everywhere else
    # Read at call time: the one switch of the jours-francs reading (deadlines.JOURS_FRANCS_RULE) governs
    # this date too, and the record says which reading it used.
    rule = deadlines.JOURS_FRANCS_RULE
    return EarliestDate(
        legal_basis=_consultation_basis(kind),
        start_event=NOTICE_EVENT,
        started_at=received,
        length=NOTICE_DAYS,
        unit=JOURS_FRANCS,
        rule_version=f"{RULE_VERSION}/{rule}",
        earliest=jours_francs_notice_ends(received, NOTICE_DAYS, rule=rule) + timedelta(days=1),
        departement=departement,
    )


# --- the CRRMP (MP) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrrmpCalendar:
    """The délais that run from the referral of an MP to the CRRMP (SPEC §3.1; CSS R461-10)."""

    referral_on: date
    departement: str
    completion_until: Deadline  # 30 j.f.: the parties may complete the dossier
    observations_until: Deadline  # 40 j.f.: then observations only
    opinion_by: Deadline  # 110 j.f.: the committee's reasoned opinion
    decision_by: Deadline  # 120 j.f.: a new délai for the caisse's decision


def crrmp_calendar(referral_on: date, departement: str) -> CrrmpCalendar:
    """The CRRMP's calendar from its referral (SPEC §3.1; CSS R461-10): the dossier open 40 jours francs —
    30 to complete it, then 10 for observations —, the opinion within 110 and the decision within 120."""
    referral_on = _local_date(referral_on, "referral_on")

    def days(n: int) -> Deadline:
        return Deadline.jours_francs(CRRMP_BASIS, CRRMP_EVENT, referral_on, n, departement)

    return CrrmpCalendar(
        referral_on=referral_on,
        departement=departement,
        completion_until=days(CRRMP_COMPLETION_DAYS),
        observations_until=days(CRRMP_OBSERVATIONS_DAYS),
        opinion_by=days(CRRMP_OPINION_DAYS),
        decision_by=days(CRRMP_DECISION_DAYS),
    )


# --- checking a proposed schedule ---------------------------------------------------------------------


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _possible(what: str, earliest: date, latest: date) -> str:
    """« Ouverture possible au plus tôt le …, au plus tard le … » — or why no date is possible."""
    if earliest <= latest:
        return f"{what} possible au plus tôt le {french_day(earliest)}, au plus tard le {french_day(latest)}."
    return (
        f"{what} impossible avec ce calendrier : il faudrait au plus tôt le {french_day(earliest)}, mais au "
        f"plus tard le {french_day(latest)}."
    )


def check_schedule(
    kind: str,
    d0: date,
    departement: str,
    *,
    information_received_on: date,
    opening: date,
    decision_on: date,
    reserves_window_end: date | Deadline | None = None,
) -> list[str]:
    """French messages for each rule a proposed schedule breaks (SPEC §3.1), empty when it is lawful.

    Refused: an opening less than 10 jours francs after the parties received the information, or after the
    dossier's D0 + 70 (AT) / D0 + 100 (MP) — or no possible opening at all when the information came too
    late —; a decision before the end of the consultation with observations; a decision while the employer
    may still send reasoned reserves (`reserves_window_end`: the last day of that window, CSS R441-6); a
    decision after D0 + 90 / D0 + 120. Each message gives the earliest and latest lawful dates.
    """
    rules = _rules(kind)
    calendar = instruction_calendar(kind, d0, departement)
    opening = _local_date(opening, "opening")
    decision_on = _local_date(decision_on, "decision_on")
    errors: list[str] = []

    floor = earliest_opening(information_received_on, departement, kind=kind)
    first_opening = floor.effective
    last_opening = _day(calendar.dossier_available_by.effective_due)
    dossier = f"D0 + {rules.dossier_days} jours francs, {rules.dossier_basis}"
    if first_opening > last_opening:
        latest_information = information_received_on - (first_opening - last_opening)
        errors.append(
            f"Avec une information des parties reçue le {french_day(information_received_on)}, la "
            f"consultation ne peut pas s'ouvrir à temps : au plus tôt le {french_day(first_opening)} "
            f"(10 jours francs après la réception, {rules.consultation_basis}), alors que le dossier doit "
            f"être mis à disposition au plus tard le {french_day(last_opening)} ({dossier}). L'information "
            f"devait être reçue au plus tard le {french_day(latest_information)}."
        )
    elif opening < first_opening:
        errors.append(
            f"La consultation ne peut pas s'ouvrir le {french_day(opening)} : les parties, informées le "
            f"{french_day(information_received_on)}, doivent l'être au moins 10 jours francs avant "
            f"l'ouverture, ni le jour de la réception ni celui de l'ouverture ne comptant "
            f"({rules.consultation_basis}). " + _possible("Ouverture", first_opening, last_opening)
        )
    elif opening > last_opening:
        errors.append(
            f"La consultation ne peut pas s'ouvrir le {french_day(opening)} : le dossier doit être mis à "
            f"disposition au plus tard le {french_day(last_opening)} ({dossier}). "
            + _possible("Ouverture", first_opening, last_opening)
        )

    window = observation_window(opening, departement, kind=kind)
    window_last = _day(window.last_day.effective_due)
    reserves_last = None
    if reserves_window_end is not None:
        reserves_last = _day(
            reserves_window_end.effective_due
            if isinstance(reserves_window_end, Deadline)
            else reserves_window_end
        )
    first_decision = window_last + timedelta(days=1)
    if reserves_last is not None:
        first_decision = max(first_decision, reserves_last + timedelta(days=1))
    last_decision = _day(calendar.decision_by.effective_due)
    decision_range = _possible("Décision", first_decision, last_decision)
    refused = f"La décision ne peut pas être prise le {french_day(decision_on)}"
    observations = (
        f"du {french_day(window.first_day)} au {french_day(window_last)}, "
        f"{OBSERVATION_DAYS} jours francs, {rules.consultation_basis}"
    )

    if decision_on < window.first_day:
        errors.append(
            f"{refused} : elle doit suivre la consultation du dossier avec observations ({observations}). "
            + decision_range
        )
    elif decision_on <= window_last:
        errors.append(
            f"{refused}, pendant la consultation du dossier avec observations ({observations}). "
            + decision_range
        )
    if reserves_last is not None and decision_on <= reserves_last:
        errors.append(
            f"{refused} : l'employeur peut émettre des réserves motivées jusqu'au "
            f"{french_day(reserves_last)} inclus (10 jours francs, {RESERVES_BASIS}). " + decision_range
        )
    if decision_on > last_decision:
        errors.append(
            f"{refused} : le délai de {rules.decision_days} jours francs à compter de D0 "
            f"({french_day(d0)}) expire le {french_day(last_decision)} ({rules.decision_basis}). "
            + decision_range
        )
    return errors
