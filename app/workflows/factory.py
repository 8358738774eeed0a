"""From a form model version to a :class:`~app.workflows.engine.Workflow` (docs/workflows.md): one step
per page, its form a :class:`~app.forms.workflows.StepForm` subclass built from the page's questions.
The engine then treats it like a workflow written in Python — the same macros, error summary,
autosave, 422 fragments, the path without JavaScript, the version conflict and the idempotent submit.

Conditions read the typed values of earlier answers (:class:`Walker`): a page is on the path when
its condition holds and at least one of its questions is shown; a question whose condition does not
hold is removed from its page's form (neither shown, nor validated, nor summarised, nor submitted).

A page with a ``group`` is an "add another" group (:func:`~app.workflows.engine.group_step`): its
questions are one item's, built into the item's form by the same code as a page's. Later conditions
read the group's id as its number of items. ``file``/``files`` questions are
:class:`~app.forms.workflow_groups.FileAnswerField` s: the uploads kept with the draft.
:data:`FIELD_BUILDERS` maps a question type to the function building its field
(:func:`register_field_builder` replaces one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from wtforms import Field, SelectChoice, StringField, TextAreaField
from wtforms.validators import Length, Optional, Regexp, StopValidation, ValidationError

from app.domain.accounts import Service
from app.domain.cases import SubjectKind
from app.domain.identifiers import is_valid_siret
from app.forms.workflow_groups import FileAnswerField, GroupSpec, unpack_items
from app.forms.workflows import (
    FrenchCheckboxesField,
    FrenchDateField,
    FrenchRadioField,
    FrenchSelectField,
    FrenchTimeField,
    StepForm,
    TextArea,
    TextInput,
    display_value,
    format_time,
    french_date,
    parse_time,
    strip,
)
from app.workflows.engine import RawAnswers, Step, Workflow, group_step
from app.workflows.form_models import ModelDefinition, Page, Question

SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 2000
YES_NO = [SelectChoice("oui", "Oui"), SelectChoice("non", "Non")]
CENT = Decimal("0.01")


# -- reading numbers, dates and times as typed -------------------------------------------------


def parse_number(text: str, kind: str) -> int | Decimal | None:
    """``"1 250,5"`` → ``Decimal("1250.5")``; ``None`` when it is not a number of that kind."""
    value = re.sub(r"[\s\u00a0\u202f]", "", text or "").replace(",", ".")
    if kind == "integer":
        return int(value) if re.fullmatch(r"-?\d{1,15}", value) else None
    if not re.fullmatch(r"-?\d{1,15}(\.\d+)?", value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def french_number(value: int | Decimal, kind: str = "decimal") -> str:
    """``Decimal("1250.5")`` → ``"1 250,5"``; money ``"1 250,50 €"``."""
    if kind == "money":
        text = f"{Decimal(value).quantize(CENT):,.2f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = f"{value:,f}"
    text = text.replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€" if kind == "money" else text


def bound_text(question: Question, value: Any) -> str:
    """A bound of ``question`` as a person reads it: "1er janvier 2000", "1 250,00 €", "12"."""
    if isinstance(value, date):
        return french_date(value)
    if isinstance(value, int | Decimal):
        return french_number(value, question.type)
    return str(value)


def parse_datetime(text: str) -> datetime | None:
    """``"27/03/2026 14:30"`` (or ``14 h 30``) → a naive local datetime; ``None`` otherwise."""
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(.+)", (text or "").strip())
    if not match:
        return None
    moment = parse_time(match[4])
    try:
        day = date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return datetime.combine(day, moment) if moment is not None else None


def _date_of(raw: Any) -> date | None:
    parts = [str(p).strip() for p in (raw if isinstance(raw, list) else [])]
    if len(parts) != 3 or not all(re.fullmatch(r"\d{1,4}", p) for p in parts) or len(parts[2]) != 4:
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None


def typed_value(question: Question, raw: Any) -> Any:
    """What a condition sees of an answer: a text, ``True``/``False`` for yes/no, a list of ticked
    values, an int or a Decimal, a date, a time; ``None`` when unanswered or not readable."""
    kind = question.type
    if kind == "checkboxes":
        values = raw if isinstance(raw, list) else ([raw] if isinstance(raw, str) and raw else [])
        return [v for v in values if isinstance(v, str)]
    if kind == "date":
        return _date_of(raw)
    if kind in ("file", "files"):
        values = raw if isinstance(raw, list) else ([raw] if isinstance(raw, str) and raw else [])
        return [v for v in values if isinstance(v, str) and v.isdigit()] or None
    text = raw[0] if isinstance(raw, list) and raw else raw
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    if kind == "yes_no":
        return {"oui": True, "non": False}.get(text)
    if kind in ("integer", "decimal", "money"):
        return parse_number(text, kind)
    if kind == "time":
        return parse_time(text)
    if kind == "datetime":
        return parse_datetime(text)
    return text


def page_applies(page: Page, values: Mapping[str, Any]) -> bool:
    if page.condition is not None and not page.condition.evaluate(values):
        return False
    return any(q.condition is None or q.condition.evaluate(values) for q in page.questions)


class Walker:
    """One walk of a model's pages per answers: which pages apply, and the values every condition
    reads. A condition names only questions of earlier pages (checked at load), so the values of the
    whole path serve every page and question. A request asks the path many times of the same answers
    (reachable, position, back link…): the last walk is kept, for that very answers object — the
    engine never changes answers in place, a save makes a new mapping."""

    def __init__(self, definition: ModelDefinition):
        self.definition = definition
        self._last: tuple[object, dict, dict] = (None, {}, {})

    def walk(self, answers: Mapping[str, RawAnswers]) -> tuple[dict[str, bool], dict[str, Any]]:
        last = self._last
        if last[0] is answers:
            return last[1], last[2]
        applies: dict[str, bool] = {}
        values: dict[str, Any] = {}
        for page in self.definition.pages:
            applies[page.id] = page_applies(page, values)
            if not applies[page.id]:
                continue
            raw = answers.get(page.id) or {}
            if page.group is not None:
                # Its questions are each item's: later conditions read the number of items.
                values[page.group.id] = len(unpack_items(page.group.id, raw))
                continue
            for question in page.questions:
                if question.condition is None or question.condition.evaluate(values):
                    values[question.id] = typed_value(question, raw.get(question.id))
        self._last = (answers, applies, values)
        return applies, values


# -- fields --------------------------------------------------------------------------------------


class NumberField(Field):
    """An integer, a decimal or an amount in euros typed in one box ("1 250,50"): a Decimal, never a
    float; an amount has at most two decimals."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, kind: str = "decimal", **kwargs):
        width = "govuk-input--width-10" if kind == "money" else "govuk-input--width-5"
        params: dict[str, Any] = {"classes": width, "attributes": {"inputmode": "decimal"}}
        if kind == "money":
            params["suffix"] = {"text": "€"}
        kwargs.setdefault("render_kw", {"autocomplete": "off", "params": params})
        super().__init__(label, validators, **kwargs)
        self.kind = kind

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return french_number(self.data, self.kind).removesuffix("\u00a0€") if self.data is not None else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        value = parse_number(text, self.kind)
        if value is None:
            raise ValueError(
                {
                    "integer": "Saisissez un nombre entier, par exemple 12",
                    "decimal": "Saisissez un nombre, par exemple 12,5",
                    "money": "Saisissez un montant en euros, par exemple 1 250,00",
                }[self.kind]
            )
        if self.kind == "money":
            if value != value.quantize(CENT):
                raise ValueError("Saisissez un montant avec au plus deux chiffres après la virgule")
            value = value.quantize(CENT)
        self.data = value

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()

    def display(self) -> str:
        return french_number(self.data, self.kind) if self.data is not None else " ".join(self.raw_data or [])


class DateTimeField(Field):
    """A date and a time in one box: "27/03/2026 14:30" (or "14 h 30")."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault(
            "render_kw", {"autocomplete": "off", "params": {"classes": "govuk-input--width-20"}}
        )
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y %H:%M") if isinstance(self.data, datetime) else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = parse_datetime(text) if text else None
        if text and self.data is None:
            raise ValueError("Saisissez une date et une heure réelles, par exemple 27/03/2026 14:30")

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()

    def display(self) -> str:
        if isinstance(self.data, datetime):
            return f"{french_date(self.data.date())} à {format_time(self.data.time())}"
        return " ".join(self.raw_data or [])


class Required:
    """An answer is required: anything but nothing (``0`` and ``Non`` are answers, unlike
    DataRequired's falsy data)."""

    field_flags = {"required": True}  # noqa: RUF012

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field) -> None:
        data = field.data
        if data is None or data == [] or (isinstance(data, str) and not data.strip()):
            field.errors[:] = []
            raise StopValidation(self.message)


def _required(question: Question, default: str):
    if question.required:
        return Required(question.required_message or default)
    return Optional()


def _number_bounds(question: Question):
    def check(form, field) -> None:
        if field.data is None:
            return
        if question.min is not None and field.data < question.min:
            raise ValidationError(
                f"Saisissez une valeur supérieure ou égale à {french_number(question.min, question.type)}"
            )
        if question.max is not None and field.data > question.max:
            raise ValidationError(
                f"Saisissez une valeur inférieure ou égale à {french_number(question.max, question.type)}"
            )

    return check


def _date_bounds(question: Question):
    def check(form, field) -> None:
        if not isinstance(field.data, date):
            return
        if question.min is not None and field.data < question.min:
            raise ValidationError(f"La date doit être le {french_date(question.min)} ou après")
        if question.max is not None and field.data > question.max:
            raise ValidationError(f"La date doit être le {french_date(question.max)} ou avant")

    return check


def _phone(form, field) -> None:
    if field.data and not re.fullmatch(r"(?:(?:\+|00)[1-9]\d{7,14}|0[1-9]\d{8})", field.data):
        raise ValidationError("Saisissez un numéro de téléphone valide, par exemple 03 87 00 00 00")


def _siret(form, field) -> None:
    if not field.data:
        return
    if not re.fullmatch(r"\d{14}", field.data):
        raise ValidationError("Le numéro SIRET doit comporter 14 chiffres")
    if not is_valid_siret(field.data):
        raise ValidationError("Ce numéro SIRET n'existe pas : vérifiez les 14 chiffres")


def _email(form, field) -> None:
    from app.forms.accounts import email_format

    email_format(form, field)


def _compact(value):
    return re.sub(r"[\s.\-\u00a0]", "", value) if isinstance(value, str) else value


def _text_field(question: Question) -> Field:
    limit = question.max_length or (LONG_TEXT_MAX if question.type == "long_text" else SHORT_TEXT_MAX)
    low = question.min_length or 0
    validators: list = [_required(question, f"Répondez à la question « {question.label} »")]
    validators.append(
        Length(
            min=low,
            max=limit,
            message=(f"Saisissez au moins {low} caractères" if low else "")
            + (" et " if low else "Saisissez ")
            + f"au plus {limit} caractères",
        )
    )
    if question.pattern:
        validators.append(Regexp(f"(?:{question.pattern})\\Z", message=question.pattern_message))
    if question.type == "long_text":
        return TextAreaField(
            question.label, validators, description=question.hint or "", filters=[strip], widget=TextArea()
        )
    return StringField(
        question.label, validators, description=question.hint or "", filters=[strip], widget=TextInput()
    )


def _build_field(question: Question) -> Field:
    kind, hint = question.type, question.hint or ""
    if kind in ("short_text", "long_text"):
        return _text_field(question)
    if kind in ("integer", "decimal", "money"):
        required = _required(question, f"Répondez à la question « {question.label} »")
        return NumberField(question.label, [required, _number_bounds(question)], kind=kind, description=hint)
    if kind == "date":
        required = _required(question, f"Saisissez la date : {question.label}")
        return FrenchDateField(question.label, [required, _date_bounds(question)], description=hint)
    if kind == "time":
        required = _required(question, f"Saisissez l'heure : {question.label}")
        return FrenchTimeField(question.label, [required], description=hint)
    if kind == "datetime":
        required = _required(question, f"Saisissez la date et l'heure : {question.label}")
        return DateTimeField(question.label, [required], description=hint)
    if kind == "yes_no":
        required = _required(question, f"Sélectionnez oui ou non : {question.label}")
        return FrenchRadioField(
            question.label,
            [required],
            choices=YES_NO,
            description=hint,
            render_kw={"params": {"classes": "govuk-radios--inline"}},
        )
    choices = [SelectChoice(o.value, o.label) for o in question.options]
    if kind == "radios":
        required = _required(question, f"Sélectionnez une réponse : {question.label}")
        return FrenchRadioField(question.label, [required], choices=choices, description=hint)
    if kind == "select":
        required = _required(question, f"Sélectionnez une réponse : {question.label}")
        choices = [SelectChoice("", "Choisissez une réponse"), *choices]
        return FrenchSelectField(question.label, [required], choices=choices, description=hint)
    if kind == "checkboxes":
        required = _required(question, f"Cochez au moins une réponse : {question.label}")
        return FrenchCheckboxesField(question.label, [required], choices=choices, description=hint)
    if kind == "email":
        required = _required(question, f"Saisissez l'adresse e-mail : {question.label}")
        return StringField(
            question.label,
            [required, Length(max=254, message="Saisissez au plus 254 caractères"), _email],
            description=hint,
            filters=[strip],
            widget=TextInput(),
            render_kw={"params": {"type": "email", "spellcheck": False}, "autocomplete": "email"},
        )
    if kind == "phone":
        required = _required(question, f"Saisissez le numéro de téléphone : {question.label}")
        return StringField(
            question.label,
            [required, _phone],
            description=hint,
            filters=[strip, _compact],
            widget=TextInput(),
            render_kw={"params": {"type": "tel", "classes": "govuk-input--width-20"}, "autocomplete": "tel"},
        )
    if kind == "siret":
        required = _required(question, f"Saisissez le numéro SIRET : {question.label}")
        return StringField(
            question.label,
            [required, _siret],
            description=hint or "14 chiffres, par exemple 732 829 320 00074",
            filters=[strip, _compact],
            widget=TextInput(),
            render_kw={"params": {"classes": "govuk-input--width-20", "inputmode": "numeric"}},
        )
    raise ValueError(f"type de question inconnu : {kind}")


FILES_MAX = 5  # a ``files`` question without ``max_files``


def _file_field(question: Question) -> Field:
    """The uploads kept with the draft (docs/workflows.md, « Answers of type file »)."""
    several = question.type == "files"
    return FileAnswerField(
        question.label,
        min_files=1 if question.required else 0,
        max_files=(question.max_files or FILES_MAX) if several else 1,
        required_message=question.required_message
        or f"Joignez {'au moins un fichier' if several else 'le fichier'} : {question.label}",
        description=question.hint or "",
    )


FIELD_BUILDERS: dict[str, Callable[[Question], Field]] = {"file": _file_field, "files": _file_field}


def register_field_builder(kind: str, builder: Callable[[Question], Field]) -> None:
    """Build the questions of type ``kind`` with ``builder`` (e.g. the uploads kept with the draft)."""
    FIELD_BUILDERS[kind] = builder


def field_for(question: Question) -> Field:
    builder = FIELD_BUILDERS.get(question.type)
    return builder(question) if builder is not None else _build_field(question)


# -- forms and the workflow ----------------------------------------------------------------------


class ModelStepForm(StepForm):
    """A page of a form model. With a context (the engine always gives one), the questions whose
    condition does not hold on the earlier answers are removed."""

    definition: ModelDefinition
    page: Page
    walker: Walker

    def __init__(self, formdata=None, *, context=None, **kwargs):
        super().__init__(formdata, context=context, **kwargs)
        if context is not None:
            _, values = self.walker.walk(context.answers)
            for question in self.page.questions:
                if question.condition is not None and not question.condition.evaluate(values):
                    del self[question.id]

    def summary_rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for field in self:
            value = field.display() if hasattr(field, "display") else display_value(field)
            rows.append((field.name, self.summary_labels.get(field.name, field.label.text), value))
        return rows


def build_form_class(
    definition: ModelDefinition, page: Page, walker: Walker | None = None
) -> type[ModelStepForm]:
    attributes: dict[str, Any] = {
        "definition": definition,
        "page": page,
        "walker": walker or Walker(definition),
    }
    attributes["summary_labels"] = {q.id: q.summary_label for q in page.questions if q.summary_label}
    for question in page.questions:
        attributes[question.id] = field_for(question)
    name = "".join(part.capitalize() for part in page.id.split("_")) + "Form"
    return type(name, (ModelStepForm,), attributes)


def _page_condition(walker: Walker, page: Page):
    def applies(answers: Mapping[str, RawAnswers]) -> bool:
        return walker.walk(answers)[0][page.id]

    return applies


SUBJECT_KINDS = {"establishment": SubjectKind.ESTABLISHMENT, "case_party": SubjectKind.CASE_PARTY}


def build_step(definition: ModelDefinition, page: Page, walker: Walker) -> Step:
    """A page's step: a question page, or the list page of an "add another" group whose item form
    is built from the page's questions like any page's form."""
    form_class = build_form_class(definition, page, walker)
    condition = _page_condition(walker, page)
    if page.group is None:
        return Step(page.id, page.title, form_class, condition=condition, section=page.section)
    group = page.group
    spec = GroupSpec(
        name=group.id,
        item_form=form_class,
        item_label=group.item_label,
        items_label=group.items_label,
        min_items=group.min_items,
        max_items=group.item_limit,
        add_label=group.add_label,
    )
    return group_step(page.id, page.title, spec, condition=condition, section=page.section)


def build_workflow(definition: ModelDefinition) -> Workflow:
    """The workflow of one model version (not registered: drafts find it by their pinned version)."""
    walker = Walker(definition)
    steps = [build_step(definition, page, walker) for page in definition.pages]
    return Workflow(
        name=definition.code,
        title=definition.title,
        description=definition.description,
        reference_prefix=definition.reference_prefix,
        service=Service(definition.service),
        steps=tuple(steps),
        subject_kinds=frozenset(SUBJECT_KINDS[s] for s in definition.subjects),
        model=definition,
    )
