"""Rules of the DAT (SPEC §2, §3.1) that need neither Flask nor a database: the declaration's
statuses and THE table of their transitions, the accident de trajet, lateness, the reserves window,
D0, and the French wording of due times ("le mardi 7 avril 2026 à 10 h 00").

Deadline arithmetic itself lives in app/domain/deadlines.py; this module only applies it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.domain.calendars import local_date, to_local
from app.domain.deadlines import Deadline, OutsideCalendar

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class Status(enum.StrEnum):
    """Where a declaration stands (SPEC §2.3): the employer's draft, then the CPAM's side."""

    BROUILLON = "brouillon"
    TRANSMISE = "transmise"
    EN_INSTRUCTION = "en_instruction"
    PRISE_EN_CHARGE = "prise_en_charge"
    REFUS = "refus"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.BROUILLON: "Brouillon",
    Status.TRANSMISE: "Transmise",
    Status.EN_INSTRUCTION: "En instruction",
    Status.PRISE_EN_CHARGE: "Prise en charge",
    Status.REFUS: "Refus de prise en charge",
}

# THE transitions (SPEC §2.3): the employer sends its draft; the CPAM then decides directly or opens
# an instruction first, and an instruction ends in a decision. A decision is final here (appeals are
# another procedure).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.BROUILLON: frozenset({Status.TRANSMISE}),
    Status.TRANSMISE: frozenset({Status.EN_INSTRUCTION, Status.PRISE_EN_CHARGE, Status.REFUS}),
    Status.EN_INSTRUCTION: frozenset({Status.PRISE_EN_CHARGE, Status.REFUS}),
    Status.PRISE_EN_CHARGE: frozenset(),
    Status.REFUS: frozenset(),
}
DECISIONS = frozenset({Status.PRISE_EN_CHARGE, Status.REFUS})


class TransitionRefused(ValueError):
    """A status change the rules forbid; the message is the French text shown to the agent."""


@dataclass(frozen=True)
class CaseFacts:
    """What the transition rules look at besides the two statuses."""

    cmi_received: bool = False  # the CPAM recorded the date it received the CMI (D0 is known)
    has_reserves: bool = False  # reasoned reserves, in the DAT or in an addendum
    reserves_window_closed: bool = True
    # The reference of the QR Pro case whose instruction is open on this declaration ("" if none): its
    # decision is recorded there, with its letters, and moves the declaration's status (SPEC §3.2).
    qrpro_case: str = ""


def check_transition(current: Status | str, target: Status | str, facts: CaseFacts = CaseFacts()) -> None:
    """Raise :class:`TransitionRefused` unless a declaration may go from ``current`` to ``target``.

    Besides :data:`TRANSITIONS` (SPEC §2.3, §3.1; CSS R441-7): the CPAM needs the declaration
    **and** the CMI before it instructs or decides; reserves force an instruction; and it does not
    decide before the employer's reserves window has closed.
    """
    current, target = Status(current), Status(target)
    if target not in TRANSITIONS[current]:
        raise TransitionRefused(
            f"Une déclaration « {current.label.lower()} » ne peut pas passer à « {target.label.lower()} »."
        )
    if current == Status.BROUILLON:
        return
    if facts.qrpro_case and target in DECISIONS:
        raise TransitionRefused(
            f"L'instruction de cette déclaration est ouverte dans QR Pro (dossier {facts.qrpro_case}) : "
            "la décision s'y enregistre, y est notifiée aux parties et met à jour ce statut."
        )
    if not facts.cmi_received:
        raise TransitionRefused(
            "Enregistrez d'abord la date de réception du certificat médical initial : "
            "l'instruction et la décision partent de cette date (D0)."
        )
    if current == Status.TRANSMISE and target in DECISIONS:
        if facts.has_reserves:
            raise TransitionRefused(
                "L'employeur a émis des réserves motivées : une instruction doit être ouverte avant toute "
                "décision (article R441-7)."
            )
        if not facts.reserves_window_closed:
            raise TransitionRefused(
                "Le délai de réserves de l'employeur n'est pas encore écoulé : la caisse ne peut pas encore "
                "statuer sans instruction."
            )


def allowed_targets(current: Status | str, facts: CaseFacts) -> list[Status]:
    """The statuses ``current`` may go to now, in the table's order."""
    result = []
    for target in Status:
        if target in TRANSITIONS[Status(current)]:
            try:
                check_transition(current, target, facts)
            except TransitionRefused:
                continue
            result.append(target)
    return result


# --- the accident ----------------------------------------------------------------------------------

# Places of the accident (Cerfa 14463*03); the two *trajet* ones make it an accident de trajet.
LIEUX = {
    "habituel": "Lieu de travail habituel",
    "occasionnel": "Lieu de travail occasionnel",
    "deplacement": "Déplacement pour l'employeur",
    "domicile": "Domicile",
    "trajet_domicile": "Trajet entre le domicile et le lieu de travail",
    "trajet_repas": "Trajet entre le lieu de repas et le lieu de travail",
}
LIEUX_TRAJET = frozenset({"trajet_domicile", "trajet_repas"})


def is_trajet(lieu: str | None) -> bool:
    """An accident on the way to or from work is an *accident de trajet* (SPEC §2.2, step 3)."""
    return lieu in LIEUX_TRAJET


# --- deadlines ---------------------------------------------------------------------------------------


def is_late(known_at: datetime, declared_at: datetime, departement: str, *, benin: bool = False) -> bool:
    """A declaration made after its 48 hours is accepted and flagged *hors délai* (SPEC §2.1)."""
    return Deadline.dat(known_at, departement, benin=benin).is_late(declared_at)


@dataclass(frozen=True)
class DatStart:
    """The moment the employer's 48 hours run from (SPEC §2.1), and why.

    ``benin``: the accident was first written in the registre des accidents bénins; ``at`` is then when
    the employer learnt of the medical care or the stoppage it led to (CSS R441-5, D441-1), not when it
    learnt of the accident."""

    at: datetime
    benin: bool = False

    def deadline(self, departement: str) -> Deadline:
        return Deadline.dat(self.at, departement, benin=self.benin)

    @property
    def reason(self) -> str:
        return start_reason(self.benin)


def dat_start(
    known_at: datetime | None, *, registre: bool = False, care_known_at: datetime | None = None
) -> DatStart | None:
    """Where the 48 hours start: the knowledge of the accident, or, for an accident written in the
    registre des accidents bénins, the knowledge of the care or stoppage (None while that moment is
    unknown: an older knowledge time would wrongly make the declaration *hors délai*)."""
    if registre:
        return DatStart(care_known_at, benin=True) if care_known_at is not None else None
    return DatStart(known_at) if known_at is not None else None


def start_reason(benin: bool) -> str:
    """Why the 48 hours start when they do, in the employer's words (receipt, PDFs, step 5)."""
    if benin:
        return (
            "l'accident, d'abord inscrit au registre des accidents bénins, a ensuite entraîné des soins "
            "médicaux ou un arrêt de travail : les 48 heures courent à partir du moment où l'employeur l'a "
            "appris (articles R441-5 et D441-1 du code de la sécurité sociale)"
        )
    return (
        "les 48 heures courent à partir du moment où l'employeur a eu connaissance de l'accident "
        "(articles L441-2 et R441-3 du code de la sécurité sociale)"
    )


def reserves_deadline(declared_at: datetime, departement: str) -> Deadline:
    """The 10 jours francs after the declaration in which reserves may still follow (CSS R441-6)."""
    return Deadline.reserves(declared_at, departement)


def reserves_open(declared_at: datetime, departement: str, now: datetime) -> bool:
    """True while the employer may still add reasoned reserves to a declaration made at ``declared_at``."""
    return not reserves_deadline(declared_at, departement).is_late(now)


def d0(declaration_received: datetime, cmi_received_on: date | None, departement: str) -> date | None:
    """D0 of SPEC §3.1: the day the CPAM holds both the declaration and the CMI (None until the CMI)."""
    if cmi_received_on is None:
        return None
    return max(local_date(declaration_received, departement), cmi_received_on)


# --- wording -----------------------------------------------------------------------------------------


def french_day(value: date, *, weekday: bool = True) -> str:
    """``date(2026, 4, 7)`` → ``"mardi 7 avril 2026"`` (``"1er"`` for the first of the month)."""
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{day} {MONTHS[value.month - 1]} {value.year}"
    return f"{WEEKDAYS[value.weekday()]} {text}" if weekday else text


def clock(value: datetime) -> str:
    """``"10 h 00"`` with no-break spaces, so a line never ends between the hour and its minutes."""
    return f"{value.hour}\u00a0h\u00a0{value.minute:02d}"


def until_day_included(value: date) -> str:
    """THE wording of a last day that still counts (a jours-francs deadline):
    ``"jusqu'au mercredi 16 décembre 2026 inclus"``."""
    return f"jusqu'au {french_day(value)} inclus"


def french_moment(value: datetime, departement: str | None = None, *, weekday: bool = True) -> str:
    """An instant in the département's local time (Paris when unknown):
    ``"mardi 7 avril 2026 à 10 h 00"``."""
    local = to_local(value, departement or "75")
    return f"{french_day(local.date(), weekday=weekday)} à {clock(local)}"


def french_deadline(value: datetime, departement: str | None = None, *, weekday: bool = True) -> str:
    """THE wording of the end of a deadline, in the département's local time (Paris when unknown). One
    that ends at local midnight reads as the last day it still covers, ``"mardi 8 décembre 2026 à
    24 h 00"``, never as ``"mercredi 9 … à 0 h 00"``, which a reader may take for a day more."""
    local = to_local(value, departement or "75")
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return f"{french_day((local - timedelta(days=1)).date(), weekday=weekday)} à 24\u00a0h\u00a000"
    return french_moment(value, departement, weekday=weekday)


def french_duration(delta: timedelta) -> str:
    """A positive duration rounded down to what a person needs: ``"1 jour et 3 heures"``,
    ``"5 heures"``, ``"12 minutes"``, ``"moins d'une minute"``."""
    total_minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n > 1 else ''}"

    if days:
        return plural(days, "jour") + (f" et {plural(hours, 'heure')}" if hours else "")
    if hours:
        return plural(hours, "heure") + (f" et {plural(minutes, 'minute')}" if minutes else "")
    if minutes:
        return plural(minutes, "minute")
    return "moins d'une minute"


@dataclass(frozen=True)
class DueNotice:
    """The 48-hour deadline as the employer reads it."""

    due: datetime  # aware, the instant the 48 hours end
    late: bool
    left: timedelta  # negative once late
    departement: str
    benin: bool = False  # the 48 hours run from the care or stoppage of a registre accident
    started: datetime | None = None  # the moment they run from

    @property
    def start_text(self) -> str:
        """« Les 48 heures courent depuis le … : … » (empty without a start)."""
        if self.started is None:
            return ""
        return (
            f"Les 48 heures courent depuis le {french_moment(self.started, self.departement)} : "
            f"{start_reason(self.benin)}."
        )

    @property
    def due_text(self) -> str:
        return french_deadline(self.due, self.departement)

    @property
    def sentence(self) -> str:
        if self.late:
            return (
                f"Le délai de 48 heures a pris fin le {self.due_text}, il y a {french_duration(self.left)}. "
                "Vous pouvez quand même déclarer l'accident : la déclaration sera marquée hors délai."
            )
        return f"À transmettre avant le {self.due_text} (il reste {french_duration(self.left)})."

    @property
    def short(self) -> str:
        if self.late:
            return f"Délai dépassé depuis le {french_deadline(self.due, self.departement, weekday=False)}"
        return f"Reste {french_duration(self.left)}"


def due_notice(
    known_at: datetime, departement: str, now: datetime, *, benin: bool = False
) -> DueNotice | None:
    """The due time of a declaration whose accident the employer learnt of at ``known_at``
    (naive: local time of the département), seen at ``now``. ``benin``: ``known_at`` is when the
    employer learnt of the care or stoppage of an accident in the registre des accidents bénins.

    None when ``known_at`` is outside the years deadlines are computed for (a draft may hold a knowledge
    date typed 31/12/9999: its step says what is wrong, and every page that shows the deadline shows
    none instead of failing)."""
    try:
        started = to_local(known_at, departement)
        deadline = Deadline.dat(started, departement, benin=benin)
    except (OutsideCalendar, OverflowError):
        return None
    return DueNotice(
        due=deadline.ends_at,
        late=deadline.is_late(now),
        left=deadline.time_left(now),
        departement=departement,
        benin=benin,
        started=started,
    )
