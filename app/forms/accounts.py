"""Forms of the accounts area: sign-in, password reset, invitation, habilitations, mandates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import ClassVar

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput
from stdnum.fr import siret as siret_check
from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from app.domain.accounts import without_control_characters
from app.domain.names import person_name_error
from app.forms.workflows import (
    ERROR_PREFIX,
    CheckboxesInput,
    FrenchSelectField,
    RadioInput,
    TextInput,
    date_filter,
    filter_choice,
    filter_day,
)
from app.models import SERVICE_LABELS, Establishment, Service
from app.services.passwords import MIN_LENGTH

PASSWORD_MAX = 256


class PasswordInput(GovPasswordInput):
    """The GOV.UK password input with the French hidden error prefix, like the other widgets of
    app/forms/workflows.py."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        if params.get("errorMessage"):
            params["errorMessage"]["visuallyHiddenText"] = ERROR_PREFIX
        return params


SERVICE_CHOICES = [SelectChoice(str(s), SERVICE_LABELS[s]) for s in Service]


def strip(value):
    return value.strip() if isinstance(value, str) else value


def compact(value):
    """SIRETs are often typed with spaces: keep the digits' order, drop the spaces."""
    return "".join(value.split()) if isinstance(value, str) else value


def email_format(form, field) -> None:
    if not field.data:
        return
    try:
        validate_email(
            field.data,
            check_deliverability=False,
            test_environment=current_app.config["APP_ENV"] != "production",
        )
    except EmailNotValidError:
        raise ValidationError(
            "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr"
        ) from None


def name_format(form, field) -> None:
    """A person's name: the one rule of app/domain/names.py (no control character, no markup)."""
    if field.data and (problem := person_name_error(field.data, "Ce nom")):
        field.data = without_control_characters(field.data)  # shown again, to be corrected
        raise ValidationError(problem)


def siret_format(form, field) -> None:
    if field.data and not siret_check.is_valid(field.data):
        raise ValidationError("Saisissez un SIRET valide : 14 chiffres, par exemple 732 829 320 00074")


def email_field(label: str, hint: str | None = None) -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[strip],
        validators=[
            DataRequired("Saisissez votre adresse e-mail"),
            Length(max=254, message="L'adresse e-mail doit faire au plus 254 caractères"),
        ],
        widget=TextInput(),
    )


def _password_field(label: str, required: str) -> PasswordField:
    """A password typed to prove who you are (sign-in, password change)."""
    return PasswordField(
        label,
        validators=[
            DataRequired(required),
            Length(max=PASSWORD_MAX, message=f"Le mot de passe doit faire au plus {PASSWORD_MAX} caractères"),
        ],
        widget=PasswordInput(),
    )


class LoginForm(FlaskForm):
    email = email_field("Adresse e-mail")
    password = _password_field("Mot de passe", "Saisissez votre mot de passe")
    next = HiddenField()
    submit = SubmitField("Se connecter", widget=GovSubmitInput())


class ForgotPasswordForm(FlaskForm):
    email = email_field(
        "Quelle est l'adresse e-mail de votre compte ?",
        "Nous vous enverrons un lien pour choisir un nouveau mot de passe.",
    )
    submit = SubmitField("Recevoir le lien", widget=GovSubmitInput())

    def validate_email(self, field):
        email_format(self, field)


def _new_password_fields(label: str = "Choisissez un mot de passe") -> tuple[PasswordField, PasswordField]:
    """The new password and its confirmation (created at each call: a form lists its fields in the
    order they were created)."""
    password = PasswordField(
        label,
        description=f"Au moins {MIN_LENGTH} caractères, difficiles à deviner : ni votre nom, ni une "
        "suite de chiffres ou de touches, ni un mot de passe courant. Trois ou quatre mots sans "
        "rapport entre eux sont faciles à retenir.",
        validators=[
            DataRequired("Saisissez un mot de passe"),
            Length(
                min=MIN_LENGTH,
                message=f"Le mot de passe doit faire au moins {MIN_LENGTH} caractères",
            ),
            Length(
                max=PASSWORD_MAX,
                message=f"Le mot de passe doit faire au plus {PASSWORD_MAX} caractères",
            ),
        ],
        widget=PasswordInput(),
    )
    confirm = PasswordField(
        "Saisissez à nouveau le mot de passe",
        validators=[
            DataRequired("Saisissez à nouveau le mot de passe"),
            EqualTo("password", message="Les deux mots de passe ne sont pas identiques"),
        ],
        widget=PasswordInput(),
    )
    return password, confirm


class NewPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()
    submit = SubmitField("Enregistrer le mot de passe", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    """A signed-in user changes their password: the current one first."""

    current = _password_field("Mot de passe actuel", "Saisissez votre mot de passe actuel")
    password, confirm = _new_password_fields("Nouveau mot de passe")
    submit = SubmitField("Modifier le mot de passe", widget=GovSubmitInput())


class EstablishmentGrantsMixin:
    """Adds one checkbox group per establishment (field ``est_<id>``), values = services."""

    establishment_fields: ClassVar[list[tuple[Establishment, str]]] = []

    def wanted(self) -> dict[int, set[str]]:
        """Establishment id → services ticked."""
        return {est.id: set(getattr(self, name).data or []) for est, name in self.establishment_fields}


def with_establishments(
    form_class: type[FlaskForm], establishments: Iterable[Establishment]
) -> type[FlaskForm]:
    """A subclass of ``form_class`` with a checkbox group of services per establishment."""
    establishments = list(establishments)
    attrs: dict = {"establishment_fields": []}
    for est in establishments:
        name = f"est_{est.id}"
        hint = (
            "Siège social : une habilitation ici vaut pour tous les établissements de l'entreprise."
            if est.is_head_office
            else None
        )
        attrs[name] = SelectMultipleField(
            est.label,
            description=hint,
            choices=SERVICE_CHOICES,
            invalid_choice_message="Choisissez des services de la liste",
            invalid_value_message="Choisissez des services de la liste",
            widget=CheckboxesInput(),
        )
        attrs["establishment_fields"].append((est, name))
    return type(f"{form_class.__name__}WithEstablishments", (form_class,), attrs)


class InviteForm(EstablishmentGrantsMixin, FlaskForm):
    full_name = StringField(
        "Nom et prénom",
        filters=[strip],
        validators=[
            DataRequired("Saisissez le nom et le prénom"),
            Length(max=200, message="Le nom et le prénom doivent faire au plus 200 caractères"),
            name_format,
        ],
        widget=TextInput(),
    )
    email = StringField(
        "Adresse e-mail",
        description="L'invitation sera envoyée à cette adresse.",
        filters=[strip],
        validators=[
            DataRequired("Saisissez l'adresse e-mail de la personne"),
            Length(max=254, message="L'adresse e-mail doit faire au plus 254 caractères"),
            email_format,
        ],
        widget=TextInput(),
    )
    is_admin = RadioField(
        "Cette personne administre-t-elle les comptes de l'entreprise ?",
        description="Un administrateur invite des utilisateurs, donne et retire les "
        "habilitations et les mandats.",
        choices=[SelectChoice("non", "Non"), SelectChoice("oui", "Oui")],
        default="non",
        validators=[InputRequired("Indiquez si cette personne est administrateur")],
        invalid_choice_message="Indiquez si cette personne est administrateur",
        widget=RadioInput(),
    )
    submit = SubmitField("Envoyer l'invitation", widget=GovSubmitInput())


class HabilitationsForm(EstablishmentGrantsMixin, FlaskForm):
    submit = SubmitField("Enregistrer les habilitations", widget=GovSubmitInput())


class MandateForm(FlaskForm):
    firm_siret = StringField(
        "Quel est le SIRET du cabinet ?",
        description="Le cabinet (tiers déclarant) doit être inscrit sur le service. "
        "14 chiffres, par exemple 732 829 320 00074.",
        filters=[compact],
        validators=[
            DataRequired("Saisissez le SIRET du cabinet"),
            Length(max=14, message="Le SIRET fait 14 chiffres"),
            siret_format,
        ],
        widget=TextInput(),
    )
    establishment = RadioField(
        "Pour quel établissement ?",
        coerce=int,
        validators=[InputRequired("Choisissez un établissement")],
        invalid_choice_message="Choisissez un établissement de la liste",
        invalid_value_message="Choisissez un établissement de la liste",
        widget=RadioInput(),
    )
    services = SelectMultipleField(
        "Pour quels services ?",
        choices=SERVICE_CHOICES,
        validators=[DataRequired("Choisissez au moins un service")],
        invalid_choice_message="Choisissez des services de la liste",
        invalid_value_message="Choisissez des services de la liste",
        widget=CheckboxesInput(),
    )
    submit = SubmitField("Donner le mandat", widget=GovSubmitInput())

    def set_establishments(self, establishments: Iterable[Establishment]) -> None:
        self.establishment.choices = [SelectChoice(e.id, e.label) for e in establishments]


class ConfirmForm(FlaskForm):
    """A button-only form (deactivate, revoke…): CSRF protection and nothing else."""


class JournalFiltersForm(FlaskForm):
    """The activity journal's filters, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    # An unknown person in the URL is ignored, not an error: these are filters.
    personne = FrenchSelectField("Personne", choices=[], validate_choice=False)
    du = date_filter("Depuis le", "La date de début")
    au = date_filter("Jusqu'au", "La date de fin")

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.personne.choices = [
            SelectChoice("", "Tout le monde"),
            *[SelectChoice(str(p.id), f"{p.full_name} ({p.email})") for p in people],
        ]

    def person_id(self) -> int | None:
        value = filter_choice(self.personne)
        return int(value) if value else None

    def day(self, name: str) -> date | None:
        return filter_day(self[name])
