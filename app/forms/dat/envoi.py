"""Step 8, the send section: the declarant and the certification."""

from __future__ import annotations

from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, ValidationError

from app.domain import dat as rules
from app.forms.workflows import CheckboxInput, StepForm, TextInput, strip

from .fields import due_notice_from, max_length, person_name, raw_value


def duplicate_confirmed(form, field) -> None:
    """Another declaration or draft of the same accident exists: sending needs an explicit confirmation."""
    if form.duplicates() and not field.data:
        raise ValidationError(
            "Cet accident semble déjà déclaré : cochez la case pour confirmer qu'il s'agit d'un autre "
            "accident ou que vous le déclarez à nouveau, ou n'envoyez pas cette déclaration"
        )


class DeclarationForm(StepForm):
    """Who sends the declaration, and the certification (SPEC §2.2, step 8); when the same accident
    (NIR, establishment, date and time) is already declared or being declared, the confirmation that
    this one is wanted all the same."""

    declarant_nom = StringField(
        "Nom et prénom du déclarant",
        filters=[strip],
        validators=[
            DataRequired("Saisissez le nom et le prénom de la personne qui déclare"),
            max_length(200, "Le nom du déclarant"),
            person_name("Le nom du déclarant"),
        ],
        widget=TextInput(),
        render_kw={"autocomplete": "name"},
    )
    declarant_qualite = StringField(
        "Qualité du déclarant",
        description=(
            "Votre fonction, par exemple : responsable des ressources humaines, gérant, "
            "cabinet comptable mandaté"
        ),
        filters=[strip],
        validators=[
            DataRequired("Saisissez la qualité (fonction) de la personne qui déclare"),
            max_length(120, "La qualité du déclarant"),
        ],
        widget=TextInput(),
        render_kw={"autocomplete": "organization-title"},
    )
    certification = BooleanField(
        "Je certifie exactes les informations de cette déclaration",
        description=(
            "La loi punit quiconque se rend coupable de fraude ou de fausse déclaration (articles L114-13 du "
            "code de la sécurité sociale, 441-1 du code pénal)."
        ),
        validators=[DataRequired("Cochez la case pour certifier l'exactitude de la déclaration")],
        widget=CheckboxInput(),
    )
    confirme_doublon = BooleanField(
        "Je confirme qu'il s'agit d'un autre accident, ou que je déclare à nouveau cet accident en "
        "connaissance de cause",
        validators=[duplicate_confirmed],
        widget=CheckboxInput(),
    )
    summary_labels = {"declarant_nom": "Déclarant", "declarant_qualite": "Qualité"}  # noqa: RUF012
    # Shown under the title of « Vérifier vos réponses » (the engine's check-answers page).
    warning_template = "dat/_duplicates.html"
    _duplicates = None

    def duplicates(self) -> list:
        """The other declarations and drafts of this accident (``app.services.dat.duplicates_for``,
        registered as the DAT workflow's ``duplicates`` lookup: a form never imports a service), read
        once per form: the check-answers page shows them, submitting checks them again."""
        if self._duplicates is None:
            lookup = self.context.lookups["duplicates"] if self.context is not None else None
            self._duplicates = lookup(self.context) if lookup is not None else []
        return self._duplicates

    def to_data(self) -> dict:
        """The declarant and certification; the duplicate confirmation only when there was one to
        confirm, with the references it was about."""
        data = super().to_data()
        data.pop("confirme_doublon", None)
        duplicates = self.duplicates()
        if duplicates:
            data["confirme_doublon"] = bool(self.confirme_doublon.data)
            data["doublons"] = [d.token for d in duplicates]
        return data

    def __init__(self, formdata=None, *, context=None, **kwargs):
        super().__init__(formdata, context=context, **kwargs)
        user = getattr(context, "user", None)
        if formdata is None and user is not None:
            self.declarant_nom.data = user.full_name

    def due_notice(self) -> rules.DueNotice | None:
        return due_notice_from(self.context)

    @property
    def is_fatal(self) -> bool:
        return raw_value(getattr(self.context, "answers", None), "lesions", "consequences") == "deces"
