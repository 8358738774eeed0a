"""The parties' questionnaires of QR Pro (issue 13, item 5; SPEC §3.2): which form model a party of a
case answers, where each stands (to start, in progress, sent, late), its due date in local time with its
legal basis — for « Mes dossiers » (the victim) and the employer's questionnaires page.

The drafts themselves are the engine's (app/services/drafts.py): a party's draft is started with
``drafts.start_case_draft`` (the subject's rule decides who may), filled and sent on the workflow pages,
and refused once its window has closed (``drafts.check_window``: nothing of a late save is stored).

A party's questionnaire is offered once the caisse has sent it: when a draft of the case's model
exists for that party, or when the case carries a closing time (the due date the caisse set when it
sent the questionnaires).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.domain.cases import CaseKind, Party, WindowState, window_state
from app.domain.dat import french_deadline, french_moment
from app.domain.instruction import RULES
from app.extensions import db
from app.models import Case, CaseEmployer, Draft, Establishment, Service, Submission, User, UserKind
from app.models.types import utcnow
from app.services import access, audit

# The form model each party of each kind of case answers (app/workflows/models/qr-*.yaml).
MODEL_CODES = {
    (CaseKind.AT, Party.EMPLOYER): "qr-at-employeur",
    (CaseKind.AT, Party.VICTIM): "qr-at-victime",
    (CaseKind.MP, Party.EMPLOYER): "qr-mp-employeur",
    (CaseKind.MP, Party.VICTIM): "qr-mp-victime",
}

CODE_ARTICLES = {"CSS": "du code de la sécurité sociale"}


def model_code(case: Case, party: Party) -> str:
    """The model the caisse chose when it sent the questionnaires, else the kind's own."""
    chosen = case.employer_model if Party(party) == Party.EMPLOYER else case.victim_model
    return chosen or MODEL_CODES[(CaseKind(case.kind), Party(party))]


def legal_basis(case: Case) -> str:
    """« 20 jours francs à compter de la réception du questionnaire (article R441-8 I du code de la
    sécurité sociale) » — the délai of the case's kind (app/domain/instruction.py)."""
    rules = RULES[str(case.kind)]
    code, article = rules.questionnaire_basis.split(" ", 1)
    return (
        f"{rules.questionnaire_days} jours francs à compter de la réception du questionnaire "
        f"(article {article} {CODE_ARTICLES.get(code, code)})"
    )


@dataclass
class Questionnaire:
    """One party's questionnaire on one case, as the party's pages show it."""

    case: Case
    party: Party
    establishment: Establishment  # the employer establishment answering (the case's own for the victim)
    code: str
    draft: Draft | None
    submission: Submission | None
    state: WindowState
    closes_at: datetime | None
    opens_at: datetime | None

    @property
    def departement(self) -> str:
        return self.establishment.departement

    @property
    def status(self) -> str:
        if self.submission is not None:
            return "Envoyé"
        if self.state == WindowState.CLOSED:
            return "Délai expiré"
        if self.state == WindowState.NOT_OPEN:
            return "Pas encore ouvert"
        if self.draft is None or not self.draft.valid_steps:
            return "À commencer" if self.draft is None else "Commencé"
        return "En cours"

    @property
    def status_colour(self) -> str:
        return {
            "Envoyé": "govuk-tag--green",
            "Délai expiré": "govuk-tag--red",
            "Pas encore ouvert": "govuk-tag--grey",
            "À commencer": "govuk-tag--blue",
        }.get(self.status, "govuk-tag--yellow")

    @property
    def due_text(self) -> str:
        """« mardi 7 avril 2026 à 24 h 00 » in the establishment's local time ("" without a due date)."""
        return french_deadline(self.closes_at, self.departement) if self.closes_at else ""

    @property
    def opens_text(self) -> str:
        return french_moment(self.opens_at, self.departement) if self.opens_at else ""

    @property
    def sent_text(self) -> str:
        return french_moment(self.submission.submitted_at, self.departement) if self.submission else ""

    @property
    def legal_basis(self) -> str:
        return legal_basis(self.case)

    @property
    def can_start(self) -> bool:
        return self.draft is None and self.state == WindowState.OPEN

    @property
    def can_resume(self) -> bool:
        return self.draft is not None and self.submission is None


def questionnaire_of(
    case: Case, party: Party, now: datetime | None = None, *, establishment: Establishment | None = None
) -> Questionnaire | None:
    """``party``'s questionnaire on ``case``, or None while the caisse has not sent it. For the employer
    party, ``establishment`` is which of the case's employers answers (the case's own by default): each
    has its own draft."""
    answering = establishment if establishment is not None and party == Party.EMPLOYER else case.establishment
    code = model_code(case, party)
    draft = db.session.scalar(
        select(Draft)
        .where(
            Draft.workflow == code,
            Draft.case_id == case.id,
            Draft.party == str(party),
            Draft.establishment_id == answering.id,
            Draft.discarded_at.is_(None),
        )
        .order_by(Draft.id.desc())
        .limit(1)
    )
    if draft is None and case.closes_at is None:
        return None
    opens = (draft.opens_at if draft else None) or case.opens_at
    closes = (draft.closes_at if draft else None) or case.closes_at
    submission = None
    if draft is not None and draft.submitted_at is not None:
        submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft.id))
    return Questionnaire(
        case=case,
        party=Party(party),
        establishment=answering,
        code=code,
        draft=draft,
        submission=submission,
        state=window_state(now or utcnow(), opens, closes),
        closes_at=closes,
        opens_at=opens,
    )


# -- the victim ----------------------------------------------------------------------------------------


def victim_cases(user: User) -> list[Case]:
    """The cases whose victim ``user`` is (none for anyone else), newest first."""
    own = access.victim_case_ids(user)
    if own is None:
        return []
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.id.in_(own))
            .options(joinedload(Case.establishment))
            .order_by(Case.created_at.desc(), Case.id.desc())
        )
    )


def authorize_victim(user: User) -> None:
    """The victim's space: 404 for anyone who is not a victim's account."""
    if not user.is_authenticated or user.kind != UserKind.VICTIM:
        abort(404)


def victim_case_or_404(user: User, case_id: int) -> Case:
    """One of ``user``'s own cases; any other case — existing or not — answers 404."""
    authorize_victim(user)
    case = db.session.get(Case, case_id, options=[joinedload(Case.establishment)])
    if not access.is_victim_of(user, case):
        abort(404)
    return case


def open_victim_case(user: User, case_id: int) -> Case:
    """:func:`victim_case_or_404`, read by its victim: audited (SPEC §1: every access is logged)."""
    case = victim_case_or_404(user, case_id)
    audit.record("case.read", "case", case.id, establishment_id=case.establishment_id, party="victime")
    db.session.commit()
    return case


# -- the employer --------------------------------------------------------------------------------------


def employer_questionnaires(user: User) -> list[Questionnaire]:
    """The employer side's questionnaires on the cases of the establishments where ``user`` holds QR
    Pro (habilitated employer users, a tiers déclarant with a QR Pro mandate), nearest due date first:
    one per (case, establishment) — a case with several employers has one for each the user holds."""
    establishments = access.employer_side_establishments(user, Service.QRPRO)
    if not establishments:
        return []
    ids = {e.id for e in establishments}
    others = select(CaseEmployer.case_id).where(CaseEmployer.establishment_id.in_(ids))
    cases = db.session.scalars(
        select(Case)
        .where(Case.establishment_id.in_(ids) | Case.id.in_(others))
        .options(joinedload(Case.establishment))
        .order_by(Case.id)
    )
    rows = [
        q
        for case in cases
        for place in case.employers
        if place.id in ids and (q := questionnaire_of(case, Party.EMPLOYER, establishment=place)) is not None
    ]
    far = datetime.max.replace(tzinfo=utcnow().tzinfo)
    return sorted(rows, key=lambda q: (q.submission is not None, q.closes_at or far, q.case.id))
