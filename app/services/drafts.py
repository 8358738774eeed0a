"""Use cases of the workflow engine (issue 2, item 5): start a draft, save a step (validated, saved
for later, or autosaved), list and resume drafts, submit once. Each public function that writes is
one transaction and commits; reads of a draft or a submission are audited.

No lost update: every save names the draft version it was based on. A different stored version
raises :class:`DraftConflict`; two requests racing on the same version are caught by the version
condition of the UPDATE (the loser's matches no row). Submitting: app/services/draft_submission.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app, url_for
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from app.domain.cases import (
    Party,
    SubjectKind,
    WindowState,
    closed_message,
    not_open_message,
    window_state,
)
from app.extensions import db
from app.models import Case, Draft, Establishment, Submission, User
from app.models.types import utcnow
from app.services import access, audit, form_models, uploads
from app.services.draft_outcomes import (
    AlreadySubmitted,
    DraftClosed,
    DraftConflict,
    DraftDiscarded,
    DraftSummary,
    NotOpenYet,
    OutsideWindow,  # noqa: F401  (re-exported: the views catch it from here)
    StepNotReachable,
    StepSaved,
    Window,
)
from app.workflows import all_workflows, get_workflow
from app.workflows.engine import (
    CHECK_ANSWERS,
    RawAnswers,
    Step,
    StepContext,
    Workflow,
    extract_raw,
    validate_step,
)

CONTINUE, LATER, AUTOSAVE = "continue", "later", "autosave"


# -- loading -----------------------------------------------------------------------------------


def known_workflows(*, startable: bool = False) -> list[Workflow]:
    """The workflows written in Python and the current version of every form model: published ones
    (``startable``), or also those only retired (their drafts and submissions are still listed)."""
    models = form_models.published_workflows(retired=not startable)
    return sorted([*all_workflows(), *models], key=lambda w: w.title)


def workflow_of(draft: Draft) -> Workflow | None:
    """The workflow ``draft`` is filled on: the form model version it was started on, pinned even
    after a newer one is published; else the Python workflow of that name."""
    if draft.form_version is not None:
        return form_models.workflow_for(draft.workflow, draft.form_version)
    return get_workflow(draft.workflow)


def workflow_or_404(name: str, subject_kind: SubjectKind | None = None) -> Workflow:
    """The workflow new drafts of ``name`` start on (a form model: its highest published version);
    404 when unknown, or when its drafts cannot belong to ``subject_kind``."""
    workflow = get_workflow(name) or form_models.current_workflow(name)
    if workflow is None or (subject_kind is not None and subject_kind not in workflow.subject_kinds):
        abort(404)
    return workflow


def case_or_404(case_id: int) -> Case:
    """A case by its id (404 unknown); who may act on it is the subject's rule
    (:func:`app.services.access.authorize_subject`)."""
    case = db.session.get(Case, case_id, options=[joinedload(Case.establishment)])
    if case is None:
        abort(404)
    return case


def party_or_404(value: str) -> Party:
    """« employeur » or « victime » from a URL (404 for anything else)."""
    try:
        return Party(value)
    except ValueError:
        abort(404)


# Built once (every step page, save and autosave runs it): building the statement and its loader
# options on each request cost more CPU than the query itself on SQLite (issue 11). A save or an
# autosave reads the user's grants on the draft's establishment in the same statement.
_DRAFT_WITH_ESTABLISHMENT = access.with_grants(
    select(Draft).options(joinedload(Draft.establishment)).where(Draft.id == bindparam("draft_id")),
    Draft.establishment_id,
)


def load_draft(user: User, draft_id: int) -> tuple[Draft, Workflow]:
    """The draft and its workflow if ``user`` may act on it (404 unknown or not visible, 403
    without the workflow's service on the draft's establishment; :class:`DraftDiscarded` once
    deleted). Not audited: for writes."""
    draft = access.read_with_grants(user, _DRAFT_WITH_ESTABLISHMENT, {"draft_id": draft_id})
    workflow = workflow_of(draft) if draft is not None else None
    if draft is None or workflow is None:
        abort(404)
    access.authorize_subject(user, workflow.service, access.Subject.of(draft))
    if draft.discarded_at is not None:
        raise DraftDiscarded(draft)
    return draft, workflow


def open_draft(user: User, draft_id: int) -> tuple[Draft, Workflow]:
    """:func:`load_draft` for reading: the read is recorded in the audit trail."""
    draft, workflow = load_draft(user, draft_id)
    audit.record(
        "draft.read", "draft", draft.id, establishment_id=draft.establishment_id, workflow=workflow.name
    )
    db.session.commit()
    return draft, workflow


def resume_link(draft: Draft) -> str:
    """The absolute address that resumes ``draft``, for an e-mail (also outside a request)."""
    try:
        path = url_for("workflows.resume", draft_id=draft.id)
    except RuntimeError:  # a command or the worker: no request to build the URL from
        path = f"/demarches/brouillons/{draft.id}"
    return current_app.config["BASE_URL"] + path


def context_for(draft: Draft, user: User, answers=None) -> StepContext:
    workflow = workflow_of(draft)
    return StepContext(
        answers=draft.answers if answers is None else answers,
        establishment=draft.establishment,
        user=user,
        draft=draft,
        lookups=workflow.lookups if workflow is not None else {},
    )


def submission_of(draft: Draft) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.draft_id == draft.id))


def open_submission(user: User, draft_id: int) -> tuple[Submission, Draft, Workflow]:
    """The submission made from a draft (404 if none yet), audited as a read."""
    draft, workflow = load_draft(user, draft_id)
    submission = submission_of(draft)
    if submission is None:
        abort(404)
    audit.record(
        "submission.read",
        "submission",
        submission.id,
        establishment_id=submission.establishment_id,
        reference=submission.reference,
    )
    db.session.commit()
    return submission, draft, workflow


# -- starting and listing ------------------------------------------------------------------------


def establishments_to_start(user: User, workflow: Workflow) -> list[Establishment]:
    """Where ``user`` may start ``workflow`` from « Mes démarches » (none for a workflow of cases:
    its drafts start from the case)."""
    if SubjectKind.ESTABLISHMENT not in workflow.subject_kinds:
        return []
    return access.employer_side_establishments(user, workflow.service)


def start_draft(user: User, workflow: Workflow, establishment: Establishment) -> Draft:
    """A new, empty draft of ``workflow`` for ``establishment``."""
    if SubjectKind.ESTABLISHMENT not in workflow.subject_kinds:
        abort(404)
    access.authorize_employer_side(user, workflow.service, establishment)
    return _new_draft(user, workflow, access.Subject(establishment))


def start_case_draft(
    user: User,
    workflow: Workflow,
    case: Case,
    party: Party,
    *,
    establishment: Establishment | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Draft:
    """The draft of ``workflow`` answering for ``party`` of ``case`` (the employer side or the victim,
    per :func:`app.services.access.authorize_subject`): the live one if it was started already (a
    party answers once; sent, it is returned too), else a new, empty one with its own opening and
    closing times if given (else the case's). ``establishment``: which of the case's employer
    establishments answers (each has its own draft; the case's own by default; ignored for the
    victim). Raises :class:`NotOpenYet` before the opening, and :class:`DraftClosed` once closed:
    nothing is created."""
    if SubjectKind.CASE_PARTY not in workflow.subject_kinds:
        abort(404)
    answering = establishment if establishment is not None and party == Party.EMPLOYER else case.establishment
    subject = access.Subject(answering, case, Party(party))
    access.authorize_subject(user, workflow.service, subject)
    workflow = _pinned_workflow(workflow, case, subject.party)
    if (existing := _live_case_draft(workflow, case, subject.party, answering)) is not None:
        return existing
    opens = opens_at or case.opens_at
    closes = closes_at or case.closes_at
    state = window_state(utcnow(), opens, closes)
    departement = answering.departement
    if state == WindowState.NOT_OPEN:
        raise NotOpenYet(None, opens, not_open_message(opens, departement))
    if state == WindowState.CLOSED:
        raise DraftClosed(None, closes, closed_message(closes, departement))
    try:
        return _new_draft(user, workflow, subject, opens_at=opens_at, closes_at=closes_at)
    except IntegrityError:
        # Started at the same moment by another request (a double click, a colleague): theirs is it.
        db.session.rollback()
        existing = _live_case_draft(workflow, case, subject.party, answering)
        if existing is None:
            raise
        return existing


def _pinned_workflow(workflow: Workflow, case: Case, party: Party) -> Workflow:
    """The version of ``workflow`` a party of ``case`` answers on: the one the caisse pinned when it
    chose the model (QR Pro), whatever was published since; another model than the chosen one: 404."""
    chosen = case.questionnaire_model(str(party))
    if chosen is None:
        return workflow
    code, version = chosen
    if workflow.name != code:
        abort(404)
    if version is None or (workflow.model is not None and workflow.model.version == version):
        return workflow
    return form_models.workflow_for(code, version) or workflow


def _live_case_draft(
    workflow: Workflow, case: Case, party: Party, establishment: Establishment
) -> Draft | None:
    return db.session.scalar(
        select(Draft).where(
            Draft.workflow == workflow.name,
            Draft.case_id == case.id,
            Draft.party == str(party),
            Draft.establishment_id == establishment.id,
            Draft.discarded_at.is_(None),
        )
    )


def case_establishment_or_404(case: Case, establishment_id: str | int | None) -> Establishment:
    """The employer establishment of ``case`` named by its id (from a form; the case's own when none is
    given): 404 for an establishment that is not one of the case's employers."""
    if establishment_id in (None, ""):
        return case.establishment
    for establishment in case.employers:
        if str(establishment.id) == str(establishment_id):
            return establishment
    abort(404)


def _new_draft(user: User, workflow: Workflow, subject: access.Subject, **window) -> Draft:
    establishment = subject.establishment
    answers = workflow.initial_answers(establishment, user) if workflow.initial_answers else {}
    first = workflow.path(answers)[0]
    draft = Draft(
        workflow=workflow.name,
        establishment_id=establishment.id,
        case_id=subject.case.id if subject.case is not None else None,
        party=str(subject.party) if subject.party is not None else None,
        created_by_id=user.id,
        updated_by_id=user.id,
        answers=answers,
        valid_steps=[],
        current_step=first.name,
        **window,
        form_version=workflow.model.version if workflow.model is not None else None,
    )
    db.session.add(draft)
    db.session.flush()
    audit.record(
        "draft.create",
        "draft",
        draft.id,
        establishment_id=establishment.id,
        workflow=workflow.name,
        case=draft.case_id,
        party=draft.party,
    )
    db.session.commit()
    return draft


def window_of(draft: Draft, now: datetime | None = None) -> Window:
    """The draft's opening and closing times (its own, else its case's), read against the server
    clock (``now``: tests only)."""
    case = draft.case if draft.case_id is not None else None
    opens = draft.opens_at or (case.opens_at if case is not None else None)
    closes = draft.closes_at or (case.closes_at if case is not None else None)
    moment = now or utcnow()
    return Window(opens, closes, window_state(moment, opens, closes), draft.establishment.departement)


def check_window(draft: Draft) -> None:
    """Raise :class:`NotOpenYet` or :class:`DraftClosed` when the server clock is outside the draft's
    window (a save, an autosave or a submission then stores nothing)."""
    window = window_of(draft)
    if window.not_open:
        raise NotOpenYet(draft, window.opens_at, window.message)
    if window.closed:
        raise DraftClosed(draft, window.closes_at, window.message)


def _visible_scope(user: User, model, workflows: list[Workflow], establishment: Establishment | None):
    """A WHERE clause (the rule of :func:`app.services.access.authorize_subject`, for a list): rows of a
    workflow on an establishment where ``user`` holds its service — the establishment's own and its
    cases' employer side, never a victim's — and the victim's side of ``user``'s own cases."""
    clauses = []
    not_victims = or_(model.party.is_(None), model.party != str(Party.VICTIM))
    for workflow in workflows:
        ids = [e.id for e in access.employer_side_establishments(user, workflow.service)]
        if establishment is not None:
            ids = [i for i in ids if i == establishment.id]
        if ids:
            clauses.append((model.workflow == workflow.name) & model.establishment_id.in_(ids) & not_victims)
    own_cases = access.victim_case_ids(user)
    if own_cases is not None and establishment is None:
        clauses.append((model.party == str(Party.VICTIM)) & model.case_id.in_(own_cases))
    return or_(*clauses) if clauses else None


def list_drafts(
    user: User, *, limit: int | None = None, establishment: Establishment | None = None
) -> list[DraftSummary]:
    """Drafts not yet submitted that ``user`` may resume (the workflow's service on the draft's
    establishment), most recently saved first, with their progress on the current path."""
    workflows = known_workflows()
    scope = _visible_scope(user, Draft, workflows, establishment)
    if scope is None:
        return []
    query = (
        select(Draft)
        .where(scope, Draft.submitted_at.is_(None), Draft.discarded_at.is_(None))
        .options(joinedload(Draft.establishment), joinedload(Draft.updated_by), joinedload(Draft.case))
        .order_by(Draft.updated_at.desc(), Draft.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return [summary_of(draft) for draft in db.session.scalars(query)]


def summary_of(draft: Draft) -> DraftSummary:
    """A draft's progress on its current path, where it resumes, and its workflow's note."""
    workflow = workflow_of(draft)
    done, total = workflow.progress(draft.answers, draft.valid_steps)
    resume = workflow.resume_point(draft.answers, draft.valid_steps, draft.current_step)
    step = workflow.step(resume)
    title = step.title if step else "Vérifier vos réponses"
    note = workflow.draft_note(draft) if workflow.draft_note else None
    label = workflow.draft_label(draft) if workflow.draft_label else None
    deletion = deletion_time(draft)
    deleted_on = deletion if utcnow() >= deletion - retention_warning() else None
    window = window_of(draft)
    bounded = window if window.bounded else None
    return DraftSummary(draft, workflow, done, total, resume, title, note, label, deleted_on, bounded)


# -- retention (app/services/draft_retention.py deletes) ----------------------------------------------


def retention() -> timedelta:
    """How long a draft is kept after its last save."""
    return timedelta(days=current_app.config["DRAFT_RETENTION_DAYS"])


def retention_warning() -> timedelta:
    """How long before the deletion the people working on a draft are told."""
    return timedelta(days=current_app.config["DRAFT_RETENTION_WARNING_DAYS"])


def deletion_time(draft: Draft) -> datetime:
    """When ``draft``, left as it is, will be deleted: the retention after its last save, and never
    less than the warning period after the warning (a warning given late pushes the date back)."""
    end = draft.updated_at + retention()
    warned = draft.expiry_warned_at
    if warned is not None and warned >= draft.updated_at:
        end = max(end, warned + retention_warning())
    return end


def recent_submissions(user: User, limit: int = 10) -> list[Submission]:
    """The latest submissions ``user`` may see (same rule as drafts)."""
    scope = _visible_scope(user, Submission, known_workflows(), None)
    if scope is None:
        return []
    query = (
        select(Submission)
        .where(scope)
        .options(joinedload(Submission.establishment))
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def startable_workflows(user: User) -> list[tuple[Workflow, list[Establishment]]]:
    """The workflows ``user`` may start, each with the establishments to choose from."""
    return [
        (wf, ests) for wf in known_workflows(startable=True) if (ests := establishments_to_start(user, wf))
    ]


# -- saving ------------------------------------------------------------------------------------


def _check_writable(draft: Draft, base_version: int, *, window: bool = True) -> None:
    """A change may start: the draft is not sent, its window is open (unless ``window=False``), and the
    user saw its current version."""
    if draft.submitted_at is not None:
        raise AlreadySubmitted(submission_of(draft))
    if window:
        check_window(draft)
    if base_version != draft.version:
        raise DraftConflict(draft)


check_writable = _check_writable  # for the use cases that save a step their own way (draft_items)


def commit_or_conflict(draft: Draft) -> None:
    try:
        db.session.commit()
    except StaleDataError:
        # Another request saved the same version between our read and our write.
        db.session.rollback()
        raise DraftConflict(draft) from None


# A step save's one versioned UPDATE with its audit row (one statement on PostgreSQL).
_DRAFT = Draft.__table__
_SAVE = audit.RecordedUpdate(
    update(_DRAFT)
    .where(_DRAFT.c.id == bindparam("draft_id"), _DRAFT.c.version == bindparam("read_version"))
    .values(
        {
            name: bindparam(f"new_{name}", type_=_DRAFT.c[name].type)
            for name in ("answers", "valid_steps", "current_step", "updated_by_id", "updated_at", "version")
        }
    )
)


def save_step(
    user: User,
    draft: Draft,
    workflow: Workflow,
    step: Step,
    formdata: MultiDict,
    *,
    base_version: int,
    mode: str = CONTINUE,
    return_to_check: bool = False,
    raw: RawAnswers | None = None,
) -> StepSaved:
    """Store what was typed on ``step`` (valid or not) and say where the user goes next.

    ``mode``: ``"continue"`` (the user moves on if the step is valid), ``"later"`` ("Enregistrer et
    reprendre plus tard") or ``"autosave"``; the last two keep the user on this step.
    Raises :class:`AlreadySubmitted`, :class:`DraftClosed` / :class:`NotOpenYet` (outside the
    draft's window — nothing is written), :class:`DraftConflict` (``base_version`` is not the stored
    version — nothing is written) or :class:`StepNotReachable`.

    ``raw``: the step's raw answers to store instead of those read from ``formdata`` (an item of
    a group, app/services/draft_items.py). A group step's own page posts no answer: « Continuer »
    there validates the stored items again.
    """
    _check_writable(draft, base_version)
    if not workflow.reachable(step, draft.answers, draft.valid_steps):
        raise StepNotReachable(workflow.resume_point(draft.answers, draft.valid_steps, draft.current_step))

    if raw is None:
        raw = dict(draft.answers.get(step.name, {})) if step.group else extract_raw(step, formdata)
    answers = {**draft.answers, step.name: raw}
    form = validate_step(step, raw, context_for(draft, user, answers))
    valid = not form.errors
    valid_names = (set(draft.valid_steps) - {step.name}) | ({step.name} if valid else set())
    valid_steps = [s.name for s in workflow.steps if s.name in valid_names]

    target = step.name
    if mode == CONTINUE and valid:
        after = workflow.step_after(step, answers)
        target = CHECK_ANSWERS if return_to_check or after is None else after.name

    changes = {
        "answers": answers,
        "valid_steps": valid_steps,
        "current_step": target,
        "updated_by_id": user.id,
        "updated_at": utcnow(),
        "version": draft.version + 1,
    }
    saved = _SAVE(
        {"draft_id": draft.id, "read_version": draft.version, **{f"new_{k}": v for k, v in changes.items()}},
        "draft.autosave" if mode == AUTOSAVE else "draft.save",
        "draft",
        draft.id,
        establishment_id=draft.establishment_id,
        step=step.name,
        valid=valid,
    )
    if not saved:  # another request saved the same version between our read and our write
        db.session.rollback()
        raise DraftConflict(draft)
    # Written without the ORM's flush: the draft object takes the saved values as its own.
    for name, value in changes.items():
        set_committed_value(draft, name, value)
    db.session.expire(draft, ["updated_by"])
    db.session.commit()
    return StepSaved(form=form, valid=valid, version=draft.version, target=target)


def discard_draft(user: User, draft: Draft, *, base_version: int) -> None:
    """ "Supprimer le brouillon": the answers are erased (a draft may hold a victim's NIR and health
    details), the row stays with who deleted it and when, so that a stale tab is told. Raises
    :class:`AlreadySubmitted` (a sent démarche is kept) or :class:`DraftConflict` (saved since the
    user looked at it: nothing is deleted unseen). A closed draft may still be deleted: nothing of it
    can be sent any more, and what it holds is the person's."""
    _check_writable(draft, base_version, window=False)
    erase(draft, by_id=user.id, action="draft.discard")
    commit_or_conflict(draft)


def erase(draft: Draft, *, by_id: int | None, action: str, at: datetime | None = None) -> None:
    """Delete a draft in the caller's transaction: its answers and its files erased (their bytes
    once it commits, unless another row holds the same content), the row kept with who (``None``:
    the retention rule) and when, in the audit trail as ``action``."""
    steps_answered = len(draft.answers)
    files_erased = uploads.erase_draft_files(draft)
    draft.answers = {}
    draft.valid_steps = []
    draft.discarded_at = at or utcnow()
    draft.discarded_by_id = by_id
    audit.record(
        action,
        "draft",
        draft.id,
        establishment_id=draft.establishment_id,
        workflow=draft.workflow,
        steps_answered=steps_answered,
        files_erased=files_erased or None,
    )
