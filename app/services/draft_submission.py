"""Submitting a draft (the workflow engine's last use case, app/services/drafts.py has the others):
every step validated again, the immutable submission stored once with its reference, server timestamp
and SHA-256; and the reference counters, which other services number their records with too."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from app.domain.calendars import PARIS
from app.extensions import db
from app.models import Draft, ReferenceCounter, Submission, User
from app.models.types import utcnow
from app.services import audit
from app.services.draft_outcomes import DraftConflict, SubmitOutcome
from app.services.drafts import check_window, commit_or_conflict, context_for, submission_of
from app.workflows.engine import (
    CHECK_ANSWERS,
    SubmitRefused,
    Workflow,
    format_reference,
    sha256_of,
    validate_path,
)


def next_reference_number(prefix: str, year: int) -> int:
    """The next number for ``prefix`` in ``year``, in the caller's transaction. The counter row is
    updated in place, so concurrent submissions wait for each other instead of sharing a number:
    the transaction must stay short after it (no PDF rendering: the workflow's ``after_submit``)."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(
        insert(ReferenceCounter).values(prefix=prefix, year=year, last_number=0).on_conflict_do_nothing()
    )
    bump = (
        update(ReferenceCounter)
        .where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
    )
    return db.session.execute(bump).scalar_one()


def submit_draft(
    user: User,
    draft: Draft,
    workflow: Workflow,
    *,
    base_version: int,
    declaration: MultiDict | None = None,
) -> SubmitOutcome:
    """Validate every step on the path again and store the immutable submission: reference
    ``<PREFIX>-<YEAR>-<000123>``, server timestamp, SHA-256 of the canonical JSON. Submitting
    twice (double click, replay, two tabs) returns the first submission.

    ``declaration``: what was posted with the send button, for the workflow's
    ``declaration_form``; when it does not validate nothing is written and the outcome carries
    the form with its errors.

    Returns the first invalid step instead when the stored answers no longer validate (the draft
    then shows it as incomplete). Raises :class:`DraftConflict` when ``base_version`` is stale: the
    user must check the answers that changed before sending them; :class:`DraftClosed` (or
    :class:`NotOpenYet`) outside the draft's window, the server clock deciding: nothing is written.
    """
    if draft.submitted_at is not None:
        return SubmitOutcome(submission_of(draft))
    check_window(draft)
    if base_version != draft.version:
        raise DraftConflict(draft)

    declaration_form = None
    if workflow.declaration_form is not None:
        declaration_form = workflow.declaration_form(
            declaration if declaration is not None else MultiDict(), context=context_for(draft, user)
        )
        if not declaration_form.validate():
            return SubmitOutcome(None, declaration_form=declaration_form)

    forms, invalid = validate_path(workflow, draft.answers, context_for(draft, user))
    if invalid is not None:
        draft.valid_steps = [s for s in draft.valid_steps if s != invalid.name]
        draft.current_step = invalid.name
        audit.record(
            "draft.submit_refused",
            "draft",
            draft.id,
            establishment_id=draft.establishment_id,
            step=invalid.name,
        )
        commit_or_conflict(draft)
        return SubmitOutcome(None, invalid)

    now = utcnow()
    reference = format_reference(
        workflow.reference_prefix,
        now.astimezone(PARIS).year,
        next_reference_number(workflow.reference_prefix, now.astimezone(PARIS).year),
    )
    establishment = draft.establishment
    data = {
        "workflow": workflow.name,
        "reference": reference,
        "submitted_at": now.isoformat(),
        "establishment": {"siret": establishment.siret, "name": establishment.name},
        "answers": {name: form.to_data() for name, form in forms.items()},
    }
    if draft.case_id is not None:
        data["case"] = {"reference": draft.case.reference, "kind": draft.case.kind, "party": draft.party}
    if declaration_form is not None:
        data["declaration"] = declaration_form.to_data()
    if draft.form_version is not None:
        # The exact questions answered: every later display renders from this version.
        data["form_model"] = {"code": workflow.name, "version": draft.form_version}
    submission = Submission(
        reference=reference,
        workflow=workflow.name,
        draft_id=draft.id,
        establishment_id=draft.establishment_id,
        submitted_by_id=user.id,
        submitted_at=now,
        data=data,
        form_version=draft.form_version,
        sha256=sha256_of(data),
        case_id=draft.case_id,
        party=draft.party,
    )
    draft_id = draft.id
    try:
        db.session.add(submission)
        draft.submitted_at = now
        draft.current_step = CHECK_ANSWERS
        draft.updated_by_id = user.id
        draft.updated_at = now
        db.session.flush()
        if workflow.on_submit is not None:
            workflow.on_submit(submission, draft)
        audit.record(
            "submission.create",
            "submission",
            submission.id,
            establishment_id=draft.establishment_id,
            reference=reference,
            draft=draft_id,
            sha256=submission.sha256,
        )
        db.session.commit()
    except (IntegrityError, StaleDataError):
        # A concurrent submit of the same draft won the race: its submission is the one.
        db.session.rollback()
        existing = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
        if existing is None:
            raise
        return SubmitOutcome(existing)
    except SubmitRefused:
        # The workflow's last check failed (e.g. a duplicate sent meanwhile): nothing is kept, and
        # the declaration form, validated again, says what to do.
        db.session.rollback()
        if workflow.declaration_form is None:
            raise
        refused = workflow.declaration_form(
            declaration if declaration is not None else MultiDict(), context=context_for(draft, user)
        )
        refused.validate()
        return SubmitOutcome(None, declaration_form=refused)
    if workflow.after_submit is not None:
        # Committed: the counter row is free again, and the next submit gets its number meanwhile.
        workflow.after_submit(submission)
    return SubmitOutcome(submission)
