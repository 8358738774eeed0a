"""Forms of the workflow engine: the base class of every step form, French GOV.UK widgets and fields
that workflow steps share, and the "choose an establishment" form that starts a draft.

Step forms are plain ``wtforms.Form`` (not ``FlaskForm``): the CSRF token is checked globally by
CSRFProtect and never becomes an answer. Their data comes from the draft's stored raw answers, not
from ``request.form`` directly (see app/workflows/engine.py).
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from flask import current_app
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from markupsafe import Markup
from wtforms import Field, Form, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.fields import BooleanField
from wtforms.validators import DataRequired, Optional, StopValidation, ValidationError

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(value: date) -> str:
    """``date(2026, 3, 1)`` → ``"1er mars 2026"``."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def strip(value):
    return value.strip() if isinstance(value, str) else value


# ---------------------------------------------------------------------------------------------
# Widgets: the govuk-frontend-wtf ones with French hidden texts ("Erreur :", Jour / Mois / Année).


# GOV.UK's macro adds the colon: "Erreur :" with the no-break space French puts before it.
ERROR_PREFIX = "Erreur\u00a0"


class _FrenchErrors:
    """The GOV.UK error message's hidden prefix says "Error:" unless told otherwise. Also drops the
    empty hint govuk-frontend-wtf gives radios and checkboxes without a description (an empty
    <div> that aria-describedby pointed at)."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        hint = params.get("hint")
        if hint is not None and not (hint.get("text") or hint.get("html")):
            params.pop("hint")
        if params.get("errorMessage"):
            params["errorMessage"]["visuallyHiddenText"] = ERROR_PREFIX
        return params

    def render(self, params):
        # The widget's template uses its params and the GOV.UK macros, nothing of the request: render
        # it from the environment, not through flask.render_template, which ran every context
        # processor (the user, the navigation's…) once per field — a tenth of a DAT step page's CPU
        # (issue 11). The same HTML.
        template = current_app.jinja_env.get_template(self.template)
        return Markup(template.render(params=params))  # noqa: S704 (an autoescaped .html template, as the library does)


class TextInput(_FrenchErrors, GovTextInput):
    pass


class TextArea(_FrenchErrors, GovTextArea):
    pass


class RadioInput(_FrenchErrors, GovRadioInput):
    pass


class CheckboxesInput(_FrenchErrors, GovCheckboxesInput):
    pass


class Select(_FrenchErrors, GovSelect):
    pass


class FileInput(_FrenchErrors, GovFileInput):
    pass


class CheckboxInput(_FrenchErrors, GovCheckboxInput):
    """One checkbox for a BooleanField (a certification, a consent)."""


class DateInput(_FrenchErrors, GovDateInput):
    """Three inputs (Jour, Mois, Année) sharing the field's name. Tolerates any number of posted
    values (a forged request may send one or five) instead of failing to render."""

    def map_gov_params(self, field, **kwargs):
        raw = field.raw_data
        field.raw_data = None  # the parent unpacks exactly three values: we fill the items ourselves
        try:
            params = super().map_gov_params(field, **kwargs)
        finally:
            field.raw_data = raw
        if raw:
            values = [*list(raw[:3]), "", "", ""][:3]
        elif isinstance(field.data, date):
            values = [f"{field.data.day:02d}", f"{field.data.month:02d}", str(field.data.year)]
        else:
            values = ["", "", ""]
        for item, label, value in zip(params["items"], ("Jour", "Mois", "Année"), values, strict=True):
            item["label"] = label
            item["value"] = value
        return params


# ---------------------------------------------------------------------------------------------
# Fields with French messages for what WTForms checks before the validators run.


class FrenchRadioField(RadioField):
    widget = RadioInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_choice_message", "Sélectionnez une des réponses proposées")
        super().__init__(label, validators, **kwargs)


class FrenchSelectField(SelectField):
    widget = Select()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_choice_message", "Sélectionnez une des réponses proposées")
        super().__init__(label, validators, **kwargs)


class FrenchCheckboxesField(SelectMultipleField):
    widget = CheckboxesInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_choice_message", "Sélectionnez uniquement des réponses proposées")
        super().__init__(label, validators, **kwargs)


class FrenchDateField(Field):
    """A date typed as three boxes (jour, mois, année), GOV.UK style. The messages name the date:
    ``FrenchDateField("À partir de quelle date ?", what="La date d'effet")``."""

    widget = DateInput()
    multiple_inputs = True  # the raw answer is the list of the three boxes

    def __init__(self, label=None, validators=None, what: str = "La date", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what = what

    def _value(self):
        return ""

    def process_formdata(self, valuelist):
        parts = [(v or "").strip() for v in valuelist]
        if not any(parts):
            self.data = None
            return
        if len(parts) != 3 or not all(parts):
            self.data = None
            raise ValueError(f"{self.what} doit comporter un jour, un mois et une année")
        if not all(re.fullmatch(r"\d{1,4}", p) for p in parts) or len(parts[2]) != 4:
            self.data = None
            raise ValueError(f"{self.what} doit être une date réelle, par exemple 27 3 2026")
        day, month, year = (int(p) for p in parts)
        try:
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.what} doit être une date réelle, par exemple 27 3 2026") from None

    def pre_validate(self, form):
        if self.process_errors:
            # A malformed date: its message (already in errors) says it all, skip "Saisissez…".
            raise StopValidation()


_TIME = re.compile(r"(\d{1,2})\s*(?:[:hH.]\s*(\d{2})?)?")


class FrenchTimeField(Field):
    """A time of day typed in one box: "14:30", "14 h 30", "14h30", "14h" or "9.05" all read as
    a :class:`datetime.time`. ``FrenchTimeField("À quelle heure ?", what="L'heure de l'accident")``."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, what: str = "L'heure", **kwargs):
        kwargs.setdefault("render_kw", {"autocomplete": "off", "params": {"classes": "govuk-input--width-5"}})
        super().__init__(label, validators, **kwargs)
        self.what = what

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_time(self.data) if isinstance(self.data, time) else ""

    def process_formdata(self, valuelist):
        value = (valuelist[0] if valuelist else "").strip()
        self.data = parse_time(value)
        if value and self.data is None:
            raise ValueError(f"{self.what} doit être une heure réelle, par exemple 14:30")

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


def parse_time(value: str | None) -> time | None:
    """``"14 h 30"`` → ``time(14, 30)``; ``None`` for anything that is not a time of day."""
    match = _TIME.fullmatch((value or "").strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    return time(hour, minute) if hour <= 23 and minute <= 59 else None


def format_time(value: time) -> str:
    """``time(9, 5)`` → ``"9 h 05"``."""
    return f"{value.hour} h {value.minute:02d}"


# ---------------------------------------------------------------------------------------------
# Validators


def iso_date(what: str):
    """A date typed in a date input (YYYY-MM-DD), checked to be a real date."""

    def check(form, field) -> None:
        if field.data:
            try:
                date.fromisoformat(field.data)
            except ValueError:
                raise ValidationError(f"{what} doit être une date réelle, par exemple 2026-03-27") from None

    return check


def date_filter(label: str, what: str) -> StringField:
    """A day to filter a list on (a date input: YYYY-MM-DD); ``what`` names it in the error."""
    return StringField(
        label,
        filters=[strip],
        validators=[Optional(), iso_date(what)],
        widget=TextInput(),
        render_kw={"params": {"type": "date", "classes": "govuk-input--width-10"}},
    )


def filter_choice(field) -> str:
    """The value of a select filter when it is one of its choices, else "": an unknown value in the
    URL is ignored, not an error."""
    return field.data if field.data in {str(choice.value) for choice in field.choices} else ""


def filter_day(field) -> date | None:
    """The day a :func:`date_filter` holds; None when empty or not a real date (its error says so)."""
    return date.fromisoformat(field.data) if field.data and not field.errors else None


class RequiredIf:
    """Required when another field of the same form has a given value (a conditional question on
    the same page). ``RequiredIf("contact_kind", "phone", "Saisissez le numéro de téléphone")``."""

    def __init__(self, other: str, value: Any, message: str):
        self.other, self.value, self.message = other, value, message

    def __call__(self, form, field):
        if form[self.other].data == self.value:
            DataRequired(self.message)(form, field)


# ---------------------------------------------------------------------------------------------
# Step forms


class StepForm(Form):
    """Base of every workflow step form.

    - ``context``: what validators may need beyond the page (``context.answers``: the draft's raw
      answers of every step; ``context.establishment``), set by the engine.
    - ``summary_labels``: short labels for "Vérifier vos réponses" (default: the field's label).
    - ``summary_rows()`` / ``to_data()`` may be overridden by a step with unusual fields.
    """

    summary_labels: dict[str, str] = {}  # noqa: RUF012 (read-only class default)

    def __init__(self, formdata=None, *, context=None, **kwargs):
        self.context = context
        super().__init__(formdata=formdata, **kwargs)

    def summary_rows(self) -> list[tuple[str, str, str]]:
        """(field name, label, answer as shown) for the check-answers page."""
        return [
            (field.name, self.summary_labels.get(field.name, field.label.text), display_value(field))
            for field in self
        ]

    def to_data(self) -> dict[str, Any]:
        """The validated answers of this step, as JSON values (dates in ISO 8601)."""
        return {field.name: json_value(field.data) for field in self}


def first_input_id(field) -> str:
    """The id the error summary links to: the first box of a date, the first radio, the input."""
    if isinstance(field, FrenchDateField):
        return f"{field.name}-day"
    return field.id


def json_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def display_value(field) -> str:
    """An answer as a person reads it: the label of a choice, a French date, "Oui"/"Non"."""
    raw = [v for v in (field.raw_data or []) if isinstance(v, str)]
    if isinstance(field, SelectMultipleField):
        labels = dict(_choices(field))
        return ", ".join(labels.get(v, v) for v in (field.data or []))
    if isinstance(field, RadioField | SelectField):
        labels = dict(_choices(field))
        return labels.get(field.data, field.data or "") if field.data is not None else ""
    if isinstance(field, BooleanField):
        return "Oui" if field.data else "Non"
    if isinstance(field, FrenchDateField):
        return french_date(field.data) if field.data else " / ".join(raw)
    if isinstance(field, FrenchTimeField):
        return format_time(field.data) if field.data else " ".join(raw)
    if field.data is None:
        return " ".join(raw)
    return str(field.data)


def _choices(field):
    return [(str(value), label) for value, label, *_ in (field.choices or [])]


# ---------------------------------------------------------------------------------------------
# Starting a draft


class StartForm(Form):
    """Which establishment is this for? (choices: the establishments the user may act on)"""

    establishment = FrenchRadioField(
        "Pour quel établissement ?",
        validators=[DataRequired("Sélectionnez l'établissement concerné")],
    )

    def __init__(self, formdata=None, *, establishments=(), **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.establishment.choices = [SelectChoice(str(e.id), e.label) for e in establishments]
