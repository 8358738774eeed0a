"""What every DAT step form shares: the bounds, the parsers of the other steps' raw answers, the
validators, the base form :class:`DatStepForm` and the field helpers.

Cross-step rules read the other steps' raw answers through ``form.context.answers`` (see
app/workflows/engine.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError

from app.domain import dat as rules
from app.domain.calendars import timezone_for
from app.domain.deadlines import EARLIEST_YEAR, LATEST_YEAR
from app.domain.identifiers import is_valid_postal_code, is_valid_siret
from app.domain.names import person_name_error
from app.forms.workflows import FrenchRadioField, StepForm, TextArea, TextInput, parse_time, strip

from .choices import choices
from .rows import step_rows

MIN_AGE_YEARS = 14
CIRCONSTANCES_MIN = 20
RESERVES_MIN = 50
TEXT_MAX = 2000
LONG_TEXT_MAX = 5000


def raw_value(answers: Mapping | None, step: str, name: str):
    if not answers:
        return None
    return (answers.get(step) or {}).get(name)


def raw_date(answers: Mapping | None, step: str, name: str) -> date | None:
    """A date typed in another step (three boxes), or None when absent, not a real date, or outside the
    years anything is computed for (01/01/0001, 31/12/9999: that step's own field says what is wrong)."""
    parts = raw_value(answers, step, name)
    if not isinstance(parts, list) or len(parts) != 3:
        return None
    day, month, year = (str(p).strip() for p in parts)
    if not (
        re.fullmatch(r"\d{1,2}", day) and re.fullmatch(r"\d{1,2}", month) and re.fullmatch(r"\d{4}", year)
    ):
        return None
    try:
        value = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return value if EARLIEST_YEAR <= value.year <= LATEST_YEAR else None


def raw_time(answers: Mapping | None, step: str, name: str) -> time | None:
    value = raw_value(answers, step, name)
    return parse_time(value) if isinstance(value, str) else None


def raw_moment(answers: Mapping | None, step: str, date_name: str, time_name: str) -> datetime | None:
    """A naive local date and time typed in another step (None unless both are valid)."""
    day, hour = raw_date(answers, step, date_name), raw_time(answers, step, time_name)
    return datetime.combine(day, hour) if day and hour else None


def add_years(value: date, years: int) -> date:
    """The same day ``years`` later (28 February for a 29 February); ``date.max`` past 9999."""
    if value.year + years > date.max.year:
        return date.max
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return value.replace(year=value.year + years, day=28)


def compact(value):
    return re.sub(r"[\s.\-]", "", value) if isinstance(value, str) else value


def no_spaces(value):
    return re.sub(r"\s", "", value) if isinstance(value, str) else value


def upper(value):
    return value.upper() if isinstance(value, str) else value


def max_length(n: int, what: str):
    return Length(max=n, message=f"{what} doit faire {n:,} caractères au maximum".replace(",", " "))


def postal_code(form, field) -> None:
    if field.data and not is_valid_postal_code(field.data):
        raise ValidationError("Saisissez un code postal français à 5 chiffres, par exemple 57000")


def phone(form, field) -> None:
    if field.data and not re.fullmatch(r"(?:(?:\+|00)[1-9]\d{7,14}|0[1-9]\d{8})", field.data):
        raise ValidationError("Saisissez un numéro de téléphone valide, par exemple 03 87 00 00 00")


def email(form, field) -> None:
    from app.forms.accounts import email_format

    email_format(form, field)


def siret_format(form, field) -> None:
    if not field.data:
        return
    if not re.fullmatch(r"\d{14}", field.data):
        raise ValidationError("Le numéro SIRET doit comporter 14 chiffres")
    if not is_valid_siret(field.data):
        raise ValidationError("Ce numéro SIRET n'existe pas : vérifiez les 14 chiffres")


def siret_habilitated(form, field) -> None:
    """SPEC §2.2: the SIRET is one the user may declare for (habilitation, or mandate for a tiers
    déclarant), and the one this declaration was started for."""
    context = form.context
    if not field.data or context is None or context.user is None:
        return
    from app.models import Service
    from app.services import access

    allowed = {e.siret for e in access.employer_side_establishments(context.user, Service.DAT)}
    if field.data not in allowed:
        raise ValidationError(
            "Vous n'êtes pas habilité à déclarer un accident pour ce SIRET : saisissez celui d'un "
            "établissement pour lequel vous avez l'habilitation ou le mandat DAT"
        )
    if context.establishment is not None and field.data != context.establishment.siret:
        raise ValidationError(
            f"Cette déclaration a été commencée pour l'établissement {context.establishment.siret}. "
            "Pour un autre établissement, commencez une nouvelle déclaration"
        )


def code_risque(form, field) -> None:
    if field.data and not re.fullmatch(r"\d{2}\.\d{1,2}[A-Z]{1,2}", field.data):
        raise ValidationError(
            "Saisissez le code risque tel qu'il figure sur votre notification de taux, par exemple 45.2BD"
        )


def person_name(what: str):
    """A person's name: letters, spaces, apostrophes, hyphens, dots — no control character, no markup
    (``app.domain.names.person_name_error``)."""

    def check(form, field) -> None:
        error = person_name_error(field.data, what)
        if error:
            raise ValidationError(error)

    return check


def min_length(n: int, message: str):
    def check(form, field) -> None:
        if field.data and len(field.data) < n:
            raise ValidationError(message)

    return check


def local_now(form) -> datetime:
    """Now, as a naive local time of the establishment's département."""
    establishment = getattr(form.context, "establishment", None)
    departement = getattr(establishment, "departement", None) or "75"
    return datetime.now(timezone_for(departement)).replace(tzinfo=None)


def not_before_1900(what: str):
    """No date of the DAT is before 1900: 01/01/0001 is a typing error. Stops the field's other rules,
    which would compare it with the other dates."""

    def check(form, field) -> None:
        if field.data and field.data.year < EARLIEST_YEAR:
            raise StopValidation(f"{what} doit être le 1er janvier {EARLIEST_YEAR} ou après")

    return check


def past_event(what: str):
    """A date of something that has happened (birth, hiring, accident, knowledge, death, register):
    from 1900 to today in the establishment's département, with one French message for each bound. Stops
    the field's other rules on a date out of these bounds (31/12/9999 is compared with nothing)."""

    def check(form, field) -> None:
        if not field.data:
            return
        not_before_1900(what)(form, field)
        if field.data > local_now(form).date():
            raise StopValidation(f"{what} ne peut pas être dans le futur")

    return check


def valid_data(field):
    """The field's value when it holds no error (a cross-field rule compares with nothing else)."""
    return None if field.errors else field.data


def raw_start(answers: Mapping | None) -> rules.DatStart | None:
    """Where the 48 hours start, from step 5's raw answers (SPEC §2.1): the knowledge of the accident,
    or, for an accident in the registre des accidents bénins, the knowledge of its care or stoppage."""
    return rules.dat_start(
        raw_moment(answers, "connaissance", "date_connaissance", "heure_connaissance"),
        registre=raw_value(answers, "connaissance", "registre") == "oui",
        care_known_at=raw_moment(answers, "connaissance", "date_soins", "heure_soins"),
    )


def due_notice_from(context) -> rules.DueNotice | None:
    """The 48-hour deadline from the answers saved on step 5 (None before it)."""
    start = raw_start(getattr(context, "answers", None))
    establishment = getattr(context, "establishment", None)
    if start is None or establishment is None:
        return None
    return rules.due_notice(start.at, establishment.departement, datetime.now(UTC), benin=start.benin)


class DatStepForm(StepForm):
    """A DAT step: conditional fields, and rows built from the JSON answers (:func:`step_rows`)."""

    def due_notice(self) -> rules.DueNotice | None:
        return due_notice_from(self.context)

    step_name: str = ""
    # field → (the field whose answer reveals it, the answers that do)
    conditions: dict[str, tuple[str, frozenset[str]]] = {}  # noqa: RUF012

    def is_active(self, name: str) -> bool:
        condition = self.conditions.get(name)
        if condition is None:
            return True
        other, values = condition
        if not self.is_active(other):
            return False
        data = self[other].data
        if isinstance(data, list | tuple):
            return bool(set(data) & values)
        return data in values

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        for field in self:
            if not self.is_active(field.name):
                field.errors = []
        self._errors = None
        return not any(field.errors for field in self)

    def to_data(self) -> dict:
        data = super().to_data()
        return {name: (value if self.is_active(name) else None) for name, value in data.items()}

    def summary_rows(self) -> list[tuple[str, str, str]]:
        return step_rows(self.step_name, self.to_data())

    @property
    def answers(self) -> Mapping:
        return getattr(self.context, "answers", None) or {}


def conditional(other: str, *values: str) -> tuple[str, frozenset[str]]:
    return other, frozenset(values)


def text_field(label: str, *, required: str | None, max_len: int, what: str, hint: str | None = None, **kw):
    """A text input. ``required``: its message when empty; None for an optional one (whose other
    validators then run only on a value, unless ``check_empty``)."""
    first = [DataRequired(required)] if required else ([] if kw.pop("check_empty", False) else [Optional()])
    validators = [*first, max_length(max_len, what)]
    validators += kw.pop("validators", [])
    return StringField(
        label,
        description=hint,
        filters=kw.pop("filters", [strip]),
        validators=validators,
        widget=TextInput(),
        render_kw=kw.pop("render_kw", None),
    )


def area_field(label: str, *, required: str | None, max_len: int, what: str, hint: str | None = None, **kw):
    validators = [DataRequired(required) if required else Optional(), max_length(max_len, what)]
    validators += kw.pop("validators", [])
    return TextAreaField(
        label,
        description=hint,
        filters=[strip],
        validators=validators,
        widget=TextArea(),
        render_kw=kw.pop("render_kw", None),
    )


def radio_field(label: str, labels: Mapping[str, str], required: str, hint: str | None = None):
    return FrenchRadioField(
        label, description=hint, choices=choices(labels), validators=[DataRequired(required)]
    )
