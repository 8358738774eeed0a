"""Two declarations of the same accident (issue 10): same victim NIR, establishment, accident date and
time. Warned on "Vérifier vos réponses", confirmed by a checkbox, checked again on submit; flagged
« doublon possible » to the CPAM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.domain.calendars import to_local
from app.extensions import db
from app.forms import dat as dat_forms
from app.models import Declaration, Draft, Service, Submission
from app.services import access

from .common import WORKFLOW


@dataclass
class Duplicate:
    """Another declaration, or another draft, of the same accident. ``declaration`` or ``draft`` is
    None when the person looking may not see it (then only its existence is said)."""

    kind: str  # "declaration" | "draft"
    declaration: Declaration | None = None
    draft: Draft | None = None

    @property
    def token(self) -> str:
        return self.declaration.reference if self.declaration is not None else "brouillon"


def _nir_of(answers: dict) -> str:
    from app.domain.identifiers import normalize_nir

    value = (answers.get("victime") or {}).get("nir")
    return normalize_nir(value) if isinstance(value, str) else ""


def _raw_accident(answers) -> tuple[str, datetime] | None:
    """(NIR, naive local accident time) from a draft's raw answers, None while either is missing."""
    nir = _nir_of(answers)
    moment = dat_forms.raw_moment(answers, "accident", "date_accident", "heure_accident")
    return (nir, moment) if nir and moment else None


def duplicates_for(context) -> list[Duplicate]:
    """The declarations and other drafts of the accident being declared in ``context`` (a
    :class:`~app.workflows.engine.StepContext`): same NIR, establishment, accident date and time.
    A draft is named only when ``context.user`` may see it (DAT on its establishment)."""
    establishment, user = getattr(context, "establishment", None), getattr(context, "user", None)
    key = _raw_accident(getattr(context, "answers", None) or {})
    if establishment is None or key is None:
        return []
    nir, local_moment = key
    try:
        accident_at = to_local(local_moment, establishment.departement).astimezone(UTC)
    except (OverflowError, ValueError):
        return []
    current = getattr(context, "draft", None)
    found = [
        Duplicate("declaration", declaration=d)
        for d in _declarations_at(establishment.id, accident_at)
        if _nir_of(d.answers) == nir and (current is None or d.submission.draft_id != current.id)
    ]
    others = db.session.scalars(
        select(Draft)
        .where(
            Draft.workflow == WORKFLOW,
            Draft.establishment_id == establishment.id,
            Draft.submitted_at.is_(None),
            Draft.discarded_at.is_(None),
            Draft.id != (current.id if current is not None else -1),
        )
        .options(joinedload(Draft.updated_by), joinedload(Draft.created_by))
        .order_by(Draft.updated_at.desc())
    )
    visible = (
        {e.id for e in access.employer_side_establishments(user, Service.DAT)} if user is not None else set()
    )
    for draft in others:
        if _raw_accident(draft.answers) == key:
            found.append(Duplicate("draft", draft=draft if draft.establishment_id in visible else None))
    return found


def _declarations_at(establishment_id: int, accident_at: datetime) -> list[Declaration]:
    return list(
        db.session.scalars(
            select(Declaration)
            .where(Declaration.establishment_id == establishment_id, Declaration.accident_at == accident_at)
            .options(joinedload(Declaration.submission))
            .order_by(Declaration.submitted_at)
        )
    )


def duplicates_of_declaration(
    declaration: Declaration, cpam_departements: list[str] | None = None
) -> list[Declaration]:
    """The other sent declarations of the same accident (« doublon possible »). They are on the same
    establishment, so whoever may see ``declaration`` on the employer's side may see them; on the
    CPAM's side, ``cpam_departements`` keeps those of its insured (a duplicate typed with another
    address of the victim went to another CPAM, SPEC §1)."""
    nir = _nir_of(declaration.answers)
    return [
        other
        for other in _declarations_at(declaration.establishment_id, declaration.accident_at)
        if other.id != declaration.id
        and _nir_of(other.answers) == nir
        and (cpam_departements is None or other.cpam_departement in cpam_departements)
    ]


def possible_duplicates(
    declarations: list[Declaration], cpam_departements: list[str] | None = None
) -> dict[int, list[Declaration]]:
    """For a page of a list: each declaration's other declarations of the same accident, in one query
    (on the CPAM's side, of its insured only: :func:`duplicates_of_declaration`)."""
    if not declarations:
        return {}
    query = select(Declaration).where(
        Declaration.establishment_id.in_({d.establishment_id for d in declarations}),
        Declaration.accident_at.in_({d.accident_at for d in declarations}),
    )
    if cpam_departements is not None:
        query = query.where(Declaration.cpam_departement.in_(cpam_departements))
    candidates = db.session.scalars(
        query.options(joinedload(Declaration.submission)).order_by(Declaration.submitted_at)
    ).all()
    result: dict[int, list[Declaration]] = {}
    for declaration in declarations:
        nir = _nir_of(declaration.answers)
        others = [
            c
            for c in candidates
            if c.id != declaration.id
            and c.establishment_id == declaration.establishment_id
            and c.accident_at == declaration.accident_at
            and _nir_of(c.answers) == nir
        ]
        if others:
            result[declaration.id] = others
    return result


def refuse_unconfirmed_duplicate(submission: Submission, draft: Draft) -> None:
    """Inside the submission's transaction, once the reference number is taken (which makes
    concurrent submissions wait for each other): a declaration of the same accident sent meanwhile
    must have been seen and confirmed. Raises ``SubmitRefused`` (nothing is kept) otherwise."""
    from app.workflows.engine import StepContext, SubmitRefused

    confirmed = bool(submission.data.get("declaration", {}).get("confirme_doublon"))
    context = StepContext(answers=draft.answers, establishment=draft.establishment, draft=draft)
    if not confirmed and any(d.kind == "declaration" for d in duplicates_for(context)):
        raise SubmitRefused("a declaration of the same accident was sent meanwhile")
