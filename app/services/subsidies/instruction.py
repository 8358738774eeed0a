"""The Carsat's instruction (SPEC §7, issue 14 item 3): the queue of its départements by programme and
status (filtered, sorted and paged in SQL on ix_subsidy_dossier_queue), and the decisions — accept (the
amount reserved), ask for completion (what is missing, by when), refuse (reasons), validate the payment.

A decision changes the dossier's status (app.domain check_transition, under the dossier's row lock, so a
second click finds the dossier already decided), records a `SubsidyDecision` and deposits its PDF letter in
the establishment's LUCIE mailbox in the same transaction — one letter per decision (idempotency key
`subvention-decision-<id>`), whose e-mail alerts leave through the outbox on commit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.domain.lucie import LetterSource, LetterType
from app.domain.subsidies import (
    DECIDABLE,
    DECISION_LABELS,
    DECISION_TARGETS,
    STATUS_LABELS,
    DecisionKind,
    Phase,
    Status,
    TransitionRefused,
    check_transition,
    format_euros,
)
from app.extensions import db
from app.models import Caisse, SubsidyDecision, SubsidyDossier, User
from app.models.types import utcnow
from app.services import audit
from app.services.lucie import DepositRefused, deposit_letter
from app.services.paging import Page
from app.services.pdf import render_pdf
from app.services.subsidies.dossiers import today

PAGE_SIZE = 25


class DecisionRefused(ValueError):
    """A decision the dossier's state or the amounts forbid (French)."""


COUNT_CAP = 1_000


def queue(departements: list[str], *, programme_id: int | None, status: str | None, page: int = 1) -> Page:
    """The dossiers of ``departements``, one programme and one status when given, oldest submission first
    (each filter has its index in that order). The count stops at COUNT_CAP: past it the page says « plus de
    1 000 » and asks to filter by programme and status."""
    filters = [SubsidyDossier.status != Status.BROUILLON]
    if programme_id is not None:
        filters.append(SubsidyDossier.programme_id == programme_id)
    if status:
        filters.append(SubsidyDossier.status == status)
    capped = (
        select(SubsidyDossier.id)
        .where(SubsidyDossier.departement.in_(departements), *filters)
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    total = db.session.scalar(select(func.count()).select_from(capped)) or 0
    pages = max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
    page = min(max(1, page), pages)
    # The page walks an index in the queue's order and filters the départements on the way. SQLite's
    # planner would take the (departement, status) index and sort every dossier of the départements: for
    # it the département is written `departement || ''`, no index key. (PostgreSQL finds the right index
    # alone, and misjudges that expression's selectivity: it keeps the column.)
    departement = SubsidyDossier.departement
    if db.session.get_bind().dialect.name == "sqlite":
        departement = departement + ""
    rows = db.session.scalars(
        select(SubsidyDossier)
        .where(departement.in_(departements), *filters)
        .options(
            joinedload(SubsidyDossier.establishment, innerjoin=True),
            joinedload(SubsidyDossier.programme, innerjoin=True),
        )
        .order_by(SubsidyDossier.submitted_at, SubsidyDossier.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return Page(list(rows), total, page, pages)


def waiting_count(departements: list[str]) -> int:
    """How many dossiers of ``departements`` wait for a Carsat decision (the agent's home page)."""
    if not departements:
        return 0
    return db.session.scalar(
        select(func.count())
        .select_from(SubsidyDossier)
        .where(
            SubsidyDossier.departement.in_(departements),
            SubsidyDossier.status.in_([str(s) for s in DECIDABLE]),
        )
    )


def decisions_of(dossier: SubsidyDossier) -> list[SubsidyDecision]:
    return list(
        db.session.scalars(
            select(SubsidyDecision)
            .where(SubsidyDecision.dossier_id == dossier.id)
            .order_by(SubsidyDecision.id)
        )
    )


def _carsat_of(dossier: SubsidyDossier, agent: User) -> Caisse | None:
    return agent.caisse


def decide(
    dossier: SubsidyDossier,
    agent: User,
    kind: DecisionKind,
    *,
    amount: Decimal | None = None,
    reasons: str = "",
    due_on: date | None = None,
) -> SubsidyDecision:
    """Record an agent's decision and deposit its letter (DecisionRefused, nothing written, when the
    dossier's state or the amount forbids it)."""
    locked = db.session.scalar(
        select(SubsidyDossier)
        .where(SubsidyDossier.id == dossier.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    status = Status(locked.status)
    # A dossier asked for completion may still be refused (no answer by the date given).
    late_refusal = status == Status.COMPLEMENT_DEMANDE and kind == DecisionKind.REFUS
    if status not in DECIDABLE and not late_refusal:
        db.session.rollback()
        raise DecisionRefused(f"Ce dossier est « {STATUS_LABELS[status]} » : il n'attend pas de décision.")
    payment = status == Status.VERSEMENT_DEMANDE
    if (kind == DecisionKind.ACCEPTATION and payment) or (kind == DecisionKind.VERSEMENT and not payment):
        db.session.rollback()
        raise DecisionRefused(
            "Une demande de versement se valide par « Valider le versement »."
            if payment
            else "Une réservation s'accepte avant tout versement."
        )
    try:
        if status == Status.DEPOSEE:
            status = check_transition(status, Status.EN_INSTRUCTION)  # taken into instruction by the decision
        target = check_transition(status, DECISION_TARGETS[kind])
    except TransitionRefused as error:
        db.session.rollback()
        raise DecisionRefused(str(error)) from None
    reasons = (reasons or "").strip()
    if kind == DecisionKind.ACCEPTATION:
        asked = locked.requested_amount or Decimal(0)
        amount = asked if amount is None else amount
        if amount <= 0 or amount > asked:
            db.session.rollback()
            raise DecisionRefused(f"Le montant réservé doit être positif et au plus {format_euros(asked)}.")
        locked.reserved_amount = amount
    elif kind == DecisionKind.VERSEMENT:
        if locked.convention_required and locked.convention_signed_at is None:
            db.session.rollback()
            raise DecisionRefused(
                "Les subventions Prévention de l'entreprise dépassent le seuil sur 12 mois : enregistrez la "
                "signature de la convention avant de valider le versement."
            )
        amount = locked.payment_requested_amount or Decimal(0)
        locked.paid_amount = amount
    elif kind == DecisionKind.COMPLEMENT:
        if not reasons or due_on is None:
            db.session.rollback()
            raise DecisionRefused("Indiquez ce qui manque et la date limite.")
        locked.completion_request = reasons
        locked.completion_due = due_on
        amount = None
    else:
        if not reasons:
            db.session.rollback()
            raise DecisionRefused("Indiquez les motifs du refus.")
        amount = None
    locked.status = target
    locked.updated_at = utcnow()
    decision = SubsidyDecision(
        dossier_id=locked.id, kind=kind, amount=amount, reasons=reasons, due_on=due_on, agent_id=agent.id
    )
    db.session.add(decision)
    db.session.flush()
    _deposit(locked, decision, agent)
    audit.record(
        f"subventions.{kind}",
        "subsidy_dossier",
        locked.id,
        establishment_id=locked.establishment_id,
        actor=agent,
        decision=decision.id,
        amount=str(amount) if amount is not None else None,
        deposited=decision.letter_id is not None,
    )
    db.session.commit()
    return decision


def record_convention(dossier: SubsidyDossier, agent: User) -> bool:
    """The convention the dossier needs is signed (False when none is needed or it already was)."""
    if not dossier.convention_required or dossier.convention_signed_at is not None:
        return False
    dossier.convention_signed_at = utcnow()
    audit.record(
        "subventions.convention",
        "subsidy_dossier",
        dossier.id,
        establishment_id=dossier.establishment_id,
        actor=agent,
    )
    db.session.commit()
    return True


def letter_pdf(dossier: SubsidyDossier, decision: SubsidyDecision, caisse: Caisse | None) -> bytes:
    return render_pdf(
        "pdf/subvention_decision.html",
        dossier=dossier,
        decision=decision,
        caisse=caisse,
        label=DECISION_LABELS[DecisionKind(decision.kind)],
        payment=dossier.phase == Phase.FACTURE,
        format_euros=format_euros,
        today=today(),
    )


def _deposit(dossier: SubsidyDossier, decision: SubsidyDecision, agent: User) -> None:
    caisse = _carsat_of(dossier, agent)
    document = letter_pdf(dossier, decision, caisse)
    label = DECISION_LABELS[DecisionKind(decision.kind)]
    try:
        deposit = deposit_letter(
            establishment=dossier.establishment,
            letter_type=LetterType.NOTIFICATION_DECISION,
            title=f"Subvention Prévention {dossier.reference} : {label.lower()}",
            document=document,
            filename=f"subvention-{dossier.reference}-{decision.id}.pdf",
            source=LetterSource.SERVICE,
            case_reference=dossier.reference,
            caisse=caisse,
            deposited_by=agent,
            idempotency_key=f"subvention-decision-{decision.id}",
            commit=False,
        )
        decision.letter_id = deposit.letter.id
    except DepositRefused as refused:
        decision.not_deposited = refused.message[:200]
