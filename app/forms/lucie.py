"""Forms of LUCIE: the mailbox filters (GET), the agent's deposit, the subscription's alert addresses."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.domain.lucie import LETTER_TYPE_LABELS
from app.forms.accounts import compact, email_format, siret_format, strip
from app.forms.workflows import FileInput, RadioInput, Select, TextInput
from app.services.lucie import MAX_REFERENCE, MAX_TITLE, REFERENCE_RE

TYPE_CHOICES = [SelectChoice(str(t), label) for t, label in LETTER_TYPE_LABELS.items()]


def parse_iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def iso_date(form, field) -> None:
    if field.data and parse_iso_date(field.data) is None:
        raise ValidationError("Saisissez une date valide, par exemple 2026-03-31")


def reference_format(form, field) -> None:
    if field.data and not REFERENCE_RE.match(field.data):
        raise ValidationError(
            "La référence du dossier ne peut contenir que des lettres, des chiffres, des espaces et les "
            "signes . / _ -"
        )


class MailboxFilterForm(FlaskForm):
    """The mailbox filters, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    etablissement = SelectField("Établissement", choices=[], validate_choice=False, widget=Select())
    type = SelectField(
        "Type de courrier",
        choices=[SelectChoice("", "Tous les types"), *TYPE_CHOICES],
        validate_choice=False,
        widget=Select(),
    )
    etat = SelectField(
        "Lecture",
        choices=[
            SelectChoice("", "Lus et non lus"),
            SelectChoice("non_lus", "Non lus"),
            SelectChoice("lus", "Lus"),
        ],
        validate_choice=False,
        widget=Select(),
    )
    du = StringField(
        "Déposé à partir du", filters=[strip], validators=[Optional(), iso_date], widget=TextInput()
    )
    au = StringField(
        "Déposé jusqu'au", filters=[strip], validators=[Optional(), iso_date], widget=TextInput()
    )
    dossier = StringField(
        "Référence du dossier",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=MAX_REFERENCE, message=f"La référence fait au plus {MAX_REFERENCE} caractères"),
        ],
        widget=TextInput(),
    )
    q = StringField(
        "Rechercher dans les titres et les références",
        filters=[strip],
        validators=[Optional(), Length(max=100, message="Saisissez au plus 100 caractères")],
        widget=TextInput(),
    )
    archives = HiddenField()

    def validate_au(self, field) -> None:
        start, end = parse_iso_date(self.du.data), parse_iso_date(field.data)
        if start and end and end < start:
            raise ValidationError("La date de fin doit être après la date de début")


class DepositForm(FlaskForm):
    """The CPAM/Carsat agent's deposit screen. Field names are the API's."""

    siret = StringField(
        "SIRET de l'établissement destinataire",
        description="14 chiffres. L'établissement doit être abonné à LUCIE.",
        filters=[compact],
        validators=[DataRequired("Saisissez le SIRET de l'établissement"), siret_format],
        widget=TextInput(),
    )
    type = RadioField(
        "Quel est le type de courrier ?",
        choices=TYPE_CHOICES,
        validators=[InputRequired("Choisissez le type de courrier")],
        invalid_choice_message="Choisissez le type de courrier",
        widget=RadioInput(),
    )
    reference_dossier = StringField(
        "Référence du dossier (facultatif)",
        description="Par exemple le numéro de dossier AT/MP.",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=MAX_REFERENCE, message=f"La référence fait au plus {MAX_REFERENCE} caractères"),
            reference_format,
        ],
        widget=TextInput(),
    )
    titre = StringField(
        "Titre du courrier",
        description="Il s'affiche dans la boîte aux lettres de l'employeur (jamais dans l'e-mail d'alerte).",
        filters=[strip],
        validators=[
            DataRequired("Saisissez le titre du courrier"),
            Length(max=MAX_TITLE, message=f"Le titre fait au plus {MAX_TITLE} caractères"),
        ],
        widget=TextInput(),
    )
    fichier = FileField(
        "Courrier au format PDF",
        validators=[FileRequired("Choisissez le fichier PDF du courrier")],
        widget=FileInput(),
    )
    # One deposit per displayed form: a double click or a resent POST returns the same letter.
    idempotency_key = HiddenField()
    submit = SubmitField("Déposer le courrier", widget=GovSubmitInput())


class AlertAddressForm(FlaskForm):
    email = StringField(
        "Adresse e-mail à alerter",
        description="Elle recevra un e-mail à chaque nouveau courrier, en plus des utilisateurs habilités.",
        filters=[strip],
        validators=[
            DataRequired("Saisissez l'adresse e-mail à alerter"),
            Length(max=254, message="L'adresse e-mail doit faire au plus 254 caractères"),
            email_format,
        ],
        widget=TextInput(),
    )
    submit = SubmitField("Ajouter l'adresse", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A POST button with its CSRF token (archive, subscription, re-queue)."""
