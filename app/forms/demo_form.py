"""Forms of the "Signalement d'un changement de coordonnées" workflow (app/workflows/demo_form.py)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from wtforms import SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app.forms.accounts import email_format
from app.forms.workflows import (
    FrenchDateField,
    FrenchRadioField,
    StepForm,
    TextArea,
    TextInput,
    french_date,
    strip,
)

MOTIF_MAX = 2000
PAST_LIMIT_DAYS = 365
FUTURE_LIMIT_DAYS = 183

NATURE_CHOICES = [
    SelectChoice("adresse", "L'adresse de l'établissement"),
    SelectChoice("contact", "Le contact pour les questions AT/MP"),
]


def compact_phone(value):
    return re.sub(r"[\s.\-]", "", value) if isinstance(value, str) else value


class NatureForm(StepForm):
    nature = FrenchRadioField(
        "Quelles coordonnées de l'établissement changent ?",
        choices=NATURE_CHOICES,
        validators=[DataRequired("Sélectionnez les coordonnées qui changent")],
    )
    summary_labels = {"nature": "Coordonnées modifiées"}  # noqa: RUF012


class AdresseForm(StepForm):
    voie = StringField(
        "Numéro et voie",
        filters=[strip],
        validators=[
            DataRequired("Saisissez le numéro et la voie"),
            Length(max=200, message="Le numéro et la voie doivent faire 200 caractères au maximum"),
        ],
        widget=TextInput(),
        render_kw={"autocomplete": "address-line1"},
    )
    code_postal = StringField(
        "Code postal",
        filters=[strip],
        validators=[
            DataRequired("Saisissez le code postal"),
            Regexp(r"^\d{5}$", message="Saisissez un code postal à 5 chiffres, par exemple 57000"),
        ],
        widget=TextInput(),
        render_kw={
            "autocomplete": "postal-code",
            "inputmode": "numeric",
            "params": {"classes": "govuk-input--width-5"},
        },
    )
    commune = StringField(
        "Commune",
        filters=[strip],
        validators=[
            DataRequired("Saisissez la commune"),
            Length(max=120, message="La commune doit faire 120 caractères au maximum"),
        ],
        widget=TextInput(),
        render_kw={"autocomplete": "address-level2", "params": {"classes": "govuk-!-width-two-thirds"}},
    )
    summary_labels = {"voie": "Adresse"}  # noqa: RUF012


class ContactForm(StepForm):
    nom = StringField(
        "Nom et prénom du contact",
        filters=[strip],
        validators=[
            DataRequired("Saisissez le nom et le prénom du contact"),
            Length(max=120, message="Le nom du contact doit faire 120 caractères au maximum"),
        ],
        widget=TextInput(),
        render_kw={"autocomplete": "name"},
    )
    courriel = StringField(
        "Adresse e-mail du contact",
        filters=[strip],
        validators=[
            DataRequired("Saisissez l'adresse e-mail du contact"),
            Length(max=254, message="L'adresse e-mail doit faire 254 caractères au maximum"),
            email_format,
        ],
        widget=TextInput(),
        render_kw={"autocomplete": "email", "spellcheck": "false", "params": {"type": "email"}},
    )
    telephone = StringField(
        "Téléphone du contact (facultatif)",
        filters=[strip, compact_phone],
        validators=[
            Optional(),
            Regexp(
                r"^(?:\+33|0)[1-9]\d{8}$",
                message="Saisissez un numéro de téléphone français, par exemple 03 87 00 00 00",
            ),
        ],
        widget=TextInput(),
        render_kw={"autocomplete": "tel", "params": {"type": "tel", "classes": "govuk-input--width-20"}},
    )
    summary_labels = {"nom": "Contact", "courriel": "Adresse e-mail", "telephone": "Téléphone"}  # noqa: RUF012


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def within_limits(form, field) -> None:
    if field.data is None:
        return
    today = _today()
    earliest = today - timedelta(days=PAST_LIMIT_DAYS)
    latest = today + timedelta(days=FUTURE_LIMIT_DAYS)
    if field.data < earliest:
        raise ValidationError(f"La date du changement doit être le {french_date(earliest)} ou après")
    if field.data > latest:
        raise ValidationError(f"La date du changement doit être le {french_date(latest)} ou avant")


class DateEffetForm(StepForm):
    date_effet = FrenchDateField(
        "À partir de quelle date le changement s'applique-t-il ?",
        what="La date du changement",
        description=(
            "Par exemple 27 3 2026. Elle peut être passée (12 mois au plus) ou à venir (6 mois au plus)."
        ),
        validators=[DataRequired("Saisissez la date du changement"), within_limits],
    )
    summary_labels = {"date_effet": "Date du changement"}  # noqa: RUF012


class MotifForm(StepForm):
    motif = TextAreaField(
        "Pourquoi ces coordonnées changent-elles ?",
        description=(
            "Par exemple : déménagement des bureaux, nouveau responsable des ressources humaines. "
            "2 000 caractères au maximum."
        ),
        filters=[strip],
        validators=[
            DataRequired("Saisissez le motif du changement"),
            Length(max=MOTIF_MAX, message="Le motif doit faire 2 000 caractères au maximum"),
        ],
        widget=TextArea(),
    )
    summary_labels = {"motif": "Motif"}  # noqa: RUF012
