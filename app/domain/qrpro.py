"""QR Pro, the caisse's side (SPEC §3; issue 13): the stages of a case's instruction, the legal dates it
stores, the decision, and the French words of each. Pure: no Flask, no database.

A case goes through explicit stages, changed in one place (app/services/qrpro/instruction.py):
« à ouvrir » → « instruction ouverte » (the agent then chooses the questionnaire models, pinned to their
version, and sends them) → « questionnaires envoyés » (or, after a fatal accident, « enquête » straight
from the opening) → « consultation programmée » (which the agent may move, with a reason) → « décidé ».
Each legal date of a case is stored (app/models/cases.py, ``CaseDate``) with its computed value, the value
a letter notified (which binds) and an agent's override with its reason; the calendar itself is computed
by app/domain/instruction.py.
"""

from __future__ import annotations

import enum
import re
from datetime import date

from app.domain import instruction

NEAR_DAYS = 5  # the work queue flags a case whose next legal date is at most 5 days away


class Stage(enum.StrEnum):
    """Where a case's instruction stands."""

    A_OUVRIR = "a_ouvrir"
    OUVERTE = "ouverte"  # instruction opened, calendar shown; models to choose, questionnaires to send
    QUESTIONNAIRES = "questionnaires"
    ENQUETE = "enquete"
    CONSULTATION = "consultation"
    DECIDE = "decide"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]

    @property
    def employer_expectation(self) -> str:
        """What the employer is expected to do, in plain French (the employer's list)."""
        return EMPLOYER_EXPECTATIONS[self]


STAGE_LABELS = {
    Stage.A_OUVRIR: "Instruction à ouvrir",
    Stage.OUVERTE: "Instruction ouverte, questionnaires en préparation",
    Stage.QUESTIONNAIRES: "Questionnaires envoyés",
    Stage.ENQUETE: "Enquête en cours",
    Stage.CONSULTATION: "Consultation du dossier programmée",
    Stage.DECIDE: "Décision rendue",
}

EMPLOYER_EXPECTATIONS = {
    Stage.A_OUVRIR: "Rien pour l'instant : la caisse examine la déclaration.",
    Stage.OUVERTE: "Rien pour l'instant : la caisse va vous adresser son questionnaire par courrier.",
    Stage.QUESTIONNAIRES: "Répondez au questionnaire de la caisse avant la date limite.",
    Stage.ENQUETE: "La caisse mène une enquête : elle peut vous contacter. Rien à envoyer pour l'instant.",
    Stage.CONSULTATION: (
        "Consultez le dossier et formulez vos observations pendant les 10 jours francs de la consultation."
    ),
    Stage.DECIDE: "La décision vous a été notifiée dans LUCIE : vous pouvez la contester dans les 2 mois.",
}


class Decision(enum.StrEnum):
    """The caisse's decision on the occupational character of the accident or disease."""

    RECONNU = "reconnu"
    REFUSE = "refuse"

    @property
    def label(self) -> str:
        return DECISION_LABELS[self]


DECISION_LABELS = {
    Decision.RECONNU: "Prise en charge au titre de la législation professionnelle",
    Decision.REFUSE: "Refus de prise en charge au titre de la législation professionnelle",
}


class DateKind(enum.StrEnum):
    """The legal dates a case stores (SPEC §3.1, §6)."""

    DECIDE_OR_INVESTIGATE = "decider_ou_instruire"
    QUESTIONNAIRE_DUE = "retour_questionnaire"
    DOSSIER_AVAILABLE = "mise_a_disposition"
    CONSULTATION_OPENING = "ouverture_consultation"
    OBSERVATIONS_END = "fin_observations"
    DECISION_PLANNED = "decision_prevue"
    DECISION_BY = "decision_au_plus_tard"

    @property
    def label(self) -> str:
        return DATE_LABELS[self]


DATE_LABELS = {
    DateKind.DECIDE_OR_INVESTIGATE: "Décider ou engager l'instruction au plus tard",
    DateKind.QUESTIONNAIRE_DUE: "Retour des questionnaires au plus tard",
    DateKind.DOSSIER_AVAILABLE: "Mise à disposition du dossier au plus tard",
    DateKind.CONSULTATION_OPENING: "Ouverture de la consultation du dossier",
    DateKind.OBSERVATIONS_END: "Fin de la consultation avec observations",
    DateKind.DECISION_PLANNED: "Décision prévue le",
    DateKind.DECISION_BY: "Décision au plus tard (expiration du délai)",
}

# The order the calendar is shown in.
DATE_ORDER = list(DateKind)

# The date the agent must act by at each stage (the work queue's sort key).
NEXT_DATE_BY_STAGE = {
    Stage.A_OUVRIR: (DateKind.DECIDE_OR_INVESTIGATE, DateKind.DOSSIER_AVAILABLE),
    # The questionnaires go within the 30 jours francs of the decision or investigation (SPEC §3.1).
    Stage.OUVERTE: (DateKind.DECIDE_OR_INVESTIGATE, DateKind.DOSSIER_AVAILABLE),
    Stage.QUESTIONNAIRES: (DateKind.DOSSIER_AVAILABLE,),
    Stage.ENQUETE: (DateKind.DOSSIER_AVAILABLE,),
    Stage.CONSULTATION: (DateKind.DECISION_PLANNED, DateKind.DECISION_BY),
    Stage.DECIDE: (),
}

# The dates a party (the employer, the victim) looks at next, per stage: the first notified one not yet past
# wins (app/services/qrpro/employer.py and victim.py).
PARTY_DATES_BY_STAGE = {
    Stage.A_OUVRIR: (),
    Stage.OUVERTE: (),
    Stage.QUESTIONNAIRES: (DateKind.QUESTIONNAIRE_DUE, DateKind.DECISION_BY),
    Stage.ENQUETE: (DateKind.DECISION_BY,),
    Stage.CONSULTATION: (
        DateKind.CONSULTATION_OPENING,
        DateKind.OBSERVATIONS_END,
        DateKind.DECISION_PLANNED,
        DateKind.DECISION_BY,
    ),
    Stage.DECIDE: (),
}


def urgency(next_on: date | None, today: date) -> str | None:
    """« depasse » when the date is past, « proche » when it is at most `NEAR_DAYS` days away."""
    if next_on is None:
        return None
    if next_on < today:
        return "depasse"
    if (next_on - today).days <= NEAR_DAYS:
        return "proche"
    return None


URGENCY_LABELS = {"depasse": "Date dépassée", "proche": "Date proche"}


# --- what an MP registration says of the disease --------------------------------------------------------

# The employer establishments one MP case may name [choice]: the law sets no number (an MP's victim may
# have been exposed at several employers, each a party: SPEC §3); the registration screen's bound.
MAX_EMPLOYERS = 20

HORS_TABLEAU = "hors_tableau"
_TABLE_NUMBER = re.compile(r"^\d{1,3}( ?(bis|ter|[A-Z]))?$")


def disease_table_error(table: str | None, hors_tableau: bool) -> str | None:
    """The French message for a bad table number of the régime général (e.g. « 57 », « 30 bis », « 42 A »),
    None when the number is acceptable or the disease is declared « hors tableau »."""
    if hors_tableau:
        return None
    value = (table or "").strip()
    if not value:
        return "Indiquez le numéro du tableau de maladie professionnelle, ou cochez « hors tableau »"
    if not _TABLE_NUMBER.fullmatch(value):
        return "Le numéro de tableau est de 1 à 3 chiffres, suivi éventuellement de bis, ter ou d'une lettre"
    return None


def mp_d0(declaration_received_on: date, cmi_received_on: date) -> date:
    """D0 of an MP (SPEC §3.1): the later of the caisse's receipts of the declaration and of the CMI."""
    return max(declaration_received_on, cmi_received_on)


def legal_basis(kind: str, date_kind: DateKind) -> str:
    """The article a date of the calendar comes from, shown next to it."""
    rules = instruction.RULES[kind]
    return {
        DateKind.DECIDE_OR_INVESTIGATE: rules.decide_or_investigate_basis or "",
        DateKind.QUESTIONNAIRE_DUE: rules.questionnaire_basis,
        DateKind.DOSSIER_AVAILABLE: rules.dossier_basis,
        DateKind.CONSULTATION_OPENING: rules.consultation_basis,
        DateKind.OBSERVATIONS_END: rules.consultation_basis,
        DateKind.DECISION_PLANNED: rules.decision_basis,
        DateKind.DECISION_BY: rules.decision_basis,
    }[date_kind]


RECOURSE_NOTICE = (
    "Vous pouvez contester cette décision dans un délai de deux mois à compter de sa notification, par un "
    "recours préalable obligatoire devant la commission de recours amiable (CRA) de la caisse primaire "
    "d'assurance maladie (CSS R142-1 et R142-1-A). À défaut de réponse de la commission dans les deux mois, "
    "votre recours est réputé rejeté et vous pouvez saisir le pôle social du tribunal judiciaire."
)


class EventKind(enum.StrEnum):
    """The dated events of a case's timeline (issue 13, item 8)."""

    CASE_OPENED = "dossier_ouvert"
    INSTRUCTION_OPENED = "instruction_ouverte"
    ENQUIRY_OPENED = "enquete_ouverte"
    LETTER_DEPOSITED = "courrier_depose"
    LETTER_KEPT = "courrier_espace_victime"
    LETTER_DOWNLOADED = "courrier_telecharge"
    LETTER_NOT_DEPOSITED = "courrier_non_depose"
    MODEL_CHOSEN = "modele_choisi"
    QUESTIONNAIRE_SENT = "questionnaire_envoye"
    QUESTIONNAIRE_ANSWERED = "questionnaire_repondu"
    DATE_OVERRIDDEN = "date_modifiee"
    CONSULTATION_SCHEDULED = "consultation_programmee"
    CONSULTATION_RESCHEDULED = "consultation_reprogrammee"
    OBSERVATION = "observation"
    WINDOW_CLOSED = "fenetre_observations_close"
    DECISION = "decision"
    DECISION_WITHOUT_INFORMATION = "decision_sans_information"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS = {
    EventKind.CASE_OPENED: "Dossier ouvert",
    EventKind.INSTRUCTION_OPENED: "Instruction ouverte",
    EventKind.ENQUIRY_OPENED: "Enquête ouverte (accident mortel, sans questionnaire)",
    EventKind.LETTER_DEPOSITED: "Courrier déposé dans LUCIE",
    EventKind.LETTER_KEPT: "Courrier mis à disposition dans l'espace de la victime",
    EventKind.LETTER_DOWNLOADED: "Courrier téléchargé pour la première fois par la victime",
    EventKind.LETTER_NOT_DEPOSITED: "Courrier non déposé dans LUCIE",
    EventKind.MODEL_CHOSEN: "Modèle de questionnaire choisi par la caisse",
    EventKind.QUESTIONNAIRE_SENT: "Questionnaire envoyé",
    EventKind.QUESTIONNAIRE_ANSWERED: "Questionnaire retourné",
    EventKind.DATE_OVERRIDDEN: "Date modifiée par la caisse",
    EventKind.CONSULTATION_SCHEDULED: "Consultation du dossier programmée",
    EventKind.CONSULTATION_RESCHEDULED: "Consultation du dossier reprogrammée (nouveau courrier)",
    EventKind.OBSERVATION: "Observations déposées",
    EventKind.WINDOW_CLOSED: "Fenêtre d'observations close",
    EventKind.DECISION: "Décision",
    EventKind.DECISION_WITHOUT_INFORMATION: (
        "Décision prise sans information d'une partie (motif de la caisse)"
    ),
}

# Timeline events computed from a LUCIE letter's own dates (not stored twice).
LETTER_FIRST_CONSULTED = "Courrier consulté pour la première fois"
LETTER_DEEMED_NOTIFIED = "Courrier réputé notifié"
WINDOW_OPENED = "Ouverture de la consultation avec observations"
WINDOW_LAST_DAY = "Dernier jour de la consultation avec observations"
# What the window's close means for the parties (the « fenêtre d'observations close » event's detail).
AFTER_WINDOW = "dossier consultable sans nouvelles observations jusqu'à la décision"
