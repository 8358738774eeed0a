"""The workflow engine: declarative multi-step forms and the rules that do not need a database.

A :class:`Workflow` is an ordered list of :class:`Step` s, each a WTForms form (a
:class:`~app.forms.workflows.StepForm`) with a title, an optional condition on earlier answers and
a section for the check-answers page. Like django-formtools' wizard: steps with condition
callables, per-step stored data, and every step validated again before the final ``done``; unlike
it, the data lives in a database draft (app/services/drafts.py) so anyone habilitated can resume.

Answers are stored **raw**, exactly as typed (``{step: {input name: str | [str, …]}}``), valid or
not, so autosave never loses anything; forms are rebuilt from them to validate or display. The
path (the steps that apply) is recomputed from the answers on every request.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import takewhile
from typing import Any

from werkzeug.datastructures import MultiDict

from app.domain.cases import SubjectKind
from app.forms.workflow_groups import GroupForm, GroupSpec
from app.forms.workflows import StepForm
from app.models import Service

RawAnswers = dict[str, str | list[str]]
Answers = dict[str, RawAnswers]

# ``Draft.current_step`` once every step on the path is valid: the user resumes on "Vérifier".
CHECK_ANSWERS = "_verifier"
# Raw answers are kept even when invalid; these bounds stop a forged request from storing megabytes.
RAW_VALUE_MAX_CHARS = 20_000
RAW_VALUES_MAX = 200


@dataclass(frozen=True)
class StepContext:
    """What a step form's validators may look at besides the page itself."""

    answers: Mapping[str, RawAnswers]
    establishment: Any = None
    user: Any = None
    draft: Any = None  # the draft being filled (None when validating answers alone)
    # The workflow's lookups (``Workflow.lookups``): what a form may ask a service, registered at start
    # so that no form imports a service back (e.g. the DAT's "same accident already declared?").
    lookups: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


class SubmitRefused(Exception):
    """Raised by a workflow's ``on_submit`` to refuse the submission after all, e.g. when a concurrent
    submission has just made it a duplicate: nothing is written, and the send page shows the
    declaration form validated again (its errors say why)."""


SEND_TASK = "Vérifier et envoyer"


class TaskStatus(StrEnum):
    """A section's status on a draft's overview (the GOV.UK task list's statuses)."""

    DONE = "Terminé"
    IN_PROGRESS = "En cours"
    TO_DO = "À faire"
    CANNOT_START = "Impossible de commencer pour l'instant"


@dataclass(frozen=True)
class Task:
    """One line of :meth:`Workflow.task_list`: ``target`` is the step its link opens (or
    :data:`CHECK_ANSWERS`); ``None`` when it cannot be opened yet."""

    title: str
    status: TaskStatus
    target: str | None


@dataclass(frozen=True)
class Step:
    """One page of a workflow.

    ``condition(answers) -> bool`` decides from the raw answers of the other steps whether the
    step is on the path (``None``: always). ``section`` groups rows on "Vérifier vos réponses" and
    lines of the overview (:meth:`Workflow.task_list`).
    ``template`` replaces the generic field list (a template that receives ``form``).
    """

    name: str
    title: str
    form_class: type[StepForm]
    condition: Callable[[Mapping[str, RawAnswers]], bool] | None = None
    section: str = ""
    template: str | None = None

    def applies(self, answers: Mapping[str, RawAnswers]) -> bool:
        return self.condition is None or bool(self.condition(answers))

    @property
    def group(self) -> type[GroupForm] | None:
        """The group's form when this step is an "add another" group (see :func:`group_step`)."""
        return self.form_class if issubclass(self.form_class, GroupForm) else None


def group_step(
    name: str,
    title: str,
    spec: GroupSpec,
    *,
    condition: Callable[[Mapping[str, RawAnswers]], bool] | None = None,
    section: str = "",
) -> Step:
    """A step whose page lists the items of an "add another" group (GOV.UK pattern): each item is
    added, changed (autosaved) and removed on pages of its own (app/views/workflow_items.py), and
    the step is valid when every item is and their count is within the spec's bounds."""
    return Step(name, title, spec.form_class(), condition=condition, section=section)


@dataclass(frozen=True)
class Workflow:
    """A declarative multi-step form.

    ``service``: the habilitation required on the draft's establishment (for a draft of a case's
    employer side, on the case's establishment; a victim needs none: the case must be theirs).
    ``subject_kinds``: what its drafts may belong to (app.domain.cases.SubjectKind): an
    establishment, started from « Mes démarches », or a party of a case, started by the case's
    service (:func:`app.services.drafts.start_case_draft`).
    ``reference_prefix``: submissions are numbered ``<PREFIX>-<YEAR>-<000123>``.
    ``on_submit(submission, draft)``: optional, runs inside the submission's transaction (e.g.
    create a domain object, enqueue a mail through the outbox). The reference counter is locked
    until that transaction ends: slow work (a PDF) belongs in ``after_submit``.
    ``after_submit(submission)``: optional, runs once the submission committed, outside any lock
    (e.g. render and store a receipt; what it cannot do now it leaves to a background job).

    Optional hooks (``None``: the generic behaviour):

    - ``initial_answers(establishment, user) -> Answers``: the raw answers a new draft starts with
      (e.g. a block prefilled from the establishment; the user still saves the step).
    - ``draft_note(draft) -> str | None``: one more line for the draft on "Mes démarches"
      (e.g. the time left to send it).
    - ``draft_label(draft) -> str | None``: what names the draft besides its workflow and
      establishment (e.g. the victim), on "Mes démarches" and the page deleting it.
    - ``declaration_form``: a :class:`StepForm` shown on "Vérifier vos réponses" above the send
      button (declarant, certification…), validated on submit and stored in the submission as
      ``data["declaration"]``; ``send_template`` replaces that page's send section (it receives
      ``declaration_form``).
    - ``confirmation_url(submission) -> str``: where the confirmation page sends the user instead
      of the generic panel (e.g. a receipt page of the workflow's own blueprint).
    - ``lookups``: named functions of the workflow's service that its forms call through their
      :class:`StepContext` (``context.lookups["duplicates"](context)``), never by importing it.

    ``model``: the form model version (:class:`~app.workflows.form_models.ModelDefinition`) the
    workflow was built from by app/workflows/factory.py; ``None`` for a workflow written in Python.
    """

    name: str
    title: str
    reference_prefix: str
    service: Service
    steps: tuple[Step, ...]
    description: str = ""
    on_submit: Callable[[Any, Any], None] | None = None
    after_submit: Callable[[Any], None] | None = None
    initial_answers: Callable[[Any, Any], Answers] | None = None
    draft_note: Callable[[Any], str | None] | None = None
    draft_label: Callable[[Any], str | None] | None = None
    declaration_form: type[StepForm] | None = None
    send_template: str | None = None
    confirmation_url: Callable[[Any], str] | None = None
    subject_kinds: frozenset[SubjectKind] = frozenset({SubjectKind.ESTABLISHMENT})
    lookups: Mapping[str, Callable[..., Any]] = field(default_factory=dict, compare=False)
    model: Any = None
    _by_name: dict[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "steps", tuple(self.steps))
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names) or CHECK_ANSWERS in names:
            raise ValueError(f"workflow {self.name}: step names must be unique and not {CHECK_ANSWERS}")
        if any(len(n) > 40 for n in [*names, self.name]):
            raise ValueError(f"workflow {self.name}: names are limited to 40 characters")
        object.__setattr__(self, "_by_name", {s.name: s for s in self.steps})

    def step(self, name: str) -> Step | None:
        return self._by_name.get(name)

    # -- the path --------------------------------------------------------------------------------

    def path(self, answers: Mapping[str, RawAnswers]) -> list[Step]:
        """The steps that apply to these answers, in order."""
        return [s for s in self.steps if s.applies(answers)]

    def first_incomplete(self, answers: Mapping[str, RawAnswers], valid_steps: Iterable[str]) -> Step | None:
        """The first step on the path not validly answered (``None``: ready to check and send)."""
        valid = set(valid_steps)
        return next((s for s in self.path(answers) if s.name not in valid), None)

    def reachable(self, step: Step, answers: Mapping[str, RawAnswers], valid_steps: Iterable[str]) -> bool:
        """A step may be shown when it is on the path and no earlier step is incomplete."""
        valid = set(valid_steps)
        for candidate in self.path(answers):
            if candidate.name == step.name:
                return True
            if candidate.name not in valid:
                return False
        return False

    def resume_point(
        self, answers: Mapping[str, RawAnswers], valid_steps: Iterable[str], current: str
    ) -> str:
        """Where to resume: the step left (``current``) if it can be shown, else the first
        incomplete step, else :data:`CHECK_ANSWERS`."""
        valid = list(valid_steps)
        first = self.first_incomplete(answers, valid)
        step = self.step(current)
        if step is not None and self.reachable(step, answers, valid):
            return step.name
        return first.name if first else CHECK_ANSWERS

    def position(self, step: Step, answers: Mapping[str, RawAnswers]) -> tuple[int, int]:
        """(1-based position of ``step`` on the path, length of the path): "Étape 2 sur 5"."""
        path = [s.name for s in self.path(answers)]
        return (path.index(step.name) + 1 if step.name in path else 0), len(path)

    def step_before(self, step: Step, answers: Mapping[str, RawAnswers]) -> Step | None:
        path = self.path(answers)
        names = [s.name for s in path]
        if step.name not in names or names.index(step.name) == 0:
            return None
        return path[names.index(step.name) - 1]

    def step_after(self, step: Step, answers: Mapping[str, RawAnswers]) -> Step | None:
        path = self.path(answers)
        names = [s.name for s in path]
        if step.name not in names or names.index(step.name) == len(names) - 1:
            return None
        return path[names.index(step.name) + 1]

    def task_list(self, answers: Mapping[str, RawAnswers], valid_steps: Iterable[str]) -> list[Task]:
        """The overview of a draft: the sections of the path in order, each with its status and the
        step its link opens, then "check and send". A section after the first incomplete one cannot
        be started yet, as its steps cannot be shown (see :meth:`reachable`)."""
        valid = set(valid_steps)
        sections: list[tuple[str, list[Step]]] = []
        for step in self.path(answers):
            title = step.section or step.title
            if not sections or sections[-1][0] != title:
                sections.append((title, []))
            sections[-1][1].append(step)
        tasks, blocked = [], False
        for title, steps in sections:
            incomplete = next((s for s in steps if s.name not in valid), None)
            if blocked:
                tasks.append(Task(title, TaskStatus.CANNOT_START, None))
            elif incomplete is None:
                tasks.append(Task(title, TaskStatus.DONE, steps[0].name))
            else:
                started = any(s.name in answers or s.name in valid for s in steps)
                status = TaskStatus.IN_PROGRESS if started else TaskStatus.TO_DO
                tasks.append(Task(title, status, incomplete.name))
                blocked = True
        if blocked:
            return [*tasks, Task(SEND_TASK, TaskStatus.CANNOT_START, None)]
        return [*tasks, Task(SEND_TASK, TaskStatus.TO_DO, CHECK_ANSWERS)]

    def progress(self, answers: Mapping[str, RawAnswers], valid_steps: Iterable[str]) -> tuple[int, int]:
        """(valid steps on the path, steps on the path)."""
        valid = set(valid_steps)
        path = self.path(answers)
        return sum(1 for s in path if s.name in valid), len(path)


# -- registry --------------------------------------------------------------------------------------

_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow, *, replace: bool = False) -> Workflow:
    """Add ``workflow`` to the registry (``app.workflows.register_workflows`` does it at start).
    Another workflow of the same name is refused unless ``replace`` (the same definition registered
    again by a new application)."""
    if not replace and workflow.name in _REGISTRY and _REGISTRY[workflow.name] is not workflow:
        raise ValueError(f"workflow {workflow.name} is already registered")
    _REGISTRY[workflow.name] = workflow
    return workflow


def unregister(name: str) -> None:
    """Remove a workflow from the registry (a test's own workflow, once the test is over)."""
    _REGISTRY.pop(name, None)


def get_workflow(name: str) -> Workflow | None:
    return _REGISTRY.get(name)


def all_workflows() -> list[Workflow]:
    return sorted(_REGISTRY.values(), key=lambda w: w.title)


# -- raw answers and forms ----------------------------------------------------------------------


def _multi_valued(form_field) -> bool:
    from wtforms import SelectMultipleField

    return isinstance(form_field, SelectMultipleField) or getattr(form_field, "multiple_inputs", False)


# (name, multi-valued) of each field of a step form class, in order; a form class is never
# changed once built (the model factory builds a new class for each model version).
_INPUTS: weakref.WeakKeyDictionary[type, tuple[tuple[str, bool], ...]] = weakref.WeakKeyDictionary()


def _inputs_of(form_class: type) -> tuple[tuple[str, bool], ...]:
    """The inputs a step form class reads, found once per class: binding a form's fields costs
    about as much as validating them, and every save validates its form anyway."""
    inputs = _INPUTS.get(form_class)
    if inputs is None:
        # Without a context, a form keeps all its fields (a model page removes those whose
        # condition fails only when given the answers).
        inputs = tuple((form_field.name, _multi_valued(form_field)) for form_field in form_class())
        _INPUTS[form_class] = inputs
    return inputs


def extract_raw(step: Step, formdata: MultiDict) -> RawAnswers:
    """The inputs of ``step``'s form found in posted ``formdata``, exactly as typed (bounded in
    size). Names that are not the form's (csrf_token, version, forged extras) are ignored."""
    raw: RawAnswers = {}
    count = 0
    posted = sorted(formdata)  # its names, each once: those starting with a prefix follow one another
    for name, multi in _inputs_of(step.form_class):
        prefix = f"{name}-"
        keys = [name, *takewhile(lambda k, p=prefix: k.startswith(p), posted[bisect_left(posted, prefix) :])]
        for key in keys:
            if key not in formdata:
                continue
            values = [str(v)[:RAW_VALUE_MAX_CHARS] for v in formdata.getlist(key)][:RAW_VALUES_MAX]
            count += len(values)
            if count > RAW_VALUES_MAX:
                return raw
            raw[key] = values if (multi and key == name) or len(values) > 1 else values[0]
    return raw


def to_formdata(raw: RawAnswers) -> MultiDict:
    pairs: list[tuple[str, str]] = []
    for key, value in raw.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return MultiDict(pairs)


def build_form(step: Step, raw: RawAnswers | None, context: StepContext | None = None) -> StepForm:
    """``step``'s form filled with stored raw answers (``None``: never answered, the defaults)."""
    formdata = None if raw is None else to_formdata(raw)
    return step.form_class(formdata, context=context)


def validate_step(step: Step, raw: RawAnswers | None, context: StepContext | None = None) -> StepForm:
    form = build_form(step, raw if raw is not None else {}, context)
    form.validate()
    return form


def validate_path(
    workflow: Workflow, answers: Mapping[str, RawAnswers], context: StepContext | None = None
) -> tuple[dict[str, StepForm], Step | None]:
    """Validate every step on the path again. Returns the validated forms by step and the first
    invalid step (``None`` when all are valid)."""
    forms: dict[str, StepForm] = {}
    for step in workflow.path(answers):
        form = validate_step(step, answers.get(step.name), context)
        forms[step.name] = form
        if form.errors:
            return forms, step
    return forms, None


@dataclass
class SummarySection:
    title: str
    rows: list[dict[str, str]]


def check_answers(
    workflow: Workflow, answers: Mapping[str, RawAnswers], context: StepContext | None = None
) -> list[SummarySection]:
    """The rows of "Vérifier vos réponses": only steps on the path, grouped by section in order."""
    sections: list[SummarySection] = []
    for step in workflow.path(answers):
        form = build_form(step, answers.get(step.name, {}), context)
        title = step.section or step.title
        if not sections or sections[-1].title != title:
            sections.append(SummarySection(title, []))
        for field_name, label, value in form.summary_rows():
            row = {"step": step.name, "field": field_name, "label": label, "value": value}
            if step.group is not None and field_name.rsplit("-", 1)[-1].isdigit():
                row["item"] = field_name.rsplit("-", 1)[-1]  # « Modifier » opens the item's page
            sections[-1].rows.append(row)
    return sections


# -- submission -------------------------------------------------------------------------------------


def canonical_json(data: Any) -> bytes:
    """The one serialisation a submission's SHA-256 is computed on."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_of(data: Any) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


def format_reference(prefix: str, year: int, number: int) -> str:
    """``format_reference("DAT", 2026, 123)`` → ``"DAT-2026-000123"``."""
    return f"{prefix}-{year}-{number:06d}"
