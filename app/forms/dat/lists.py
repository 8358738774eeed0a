"""The lists' filters and the CPAM's forms (CMI date, status)."""

from __future__ import annotations

from datetime import date

from wtforms import BooleanField, Form, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from app.forms.workflows import (
    CheckboxInput,
    FrenchDateField,
    FrenchRadioField,
    FrenchSelectField,
    TextArea,
    TextInput,
    date_filter,
    filter_choice,
    filter_day,
    strip,
)

from .fields import max_length


class ListFiltersForm(Form):
    """Filters of the employer's follow-up list and of the CPAM inbox (a GET form)."""

    q = StringField(
        "Rechercher",
        description="Nom de la victime ou référence de la déclaration",
        filters=[strip],
        validators=[Optional(), max_length(100, "La recherche")],
        widget=TextInput(),
        render_kw={"autocomplete": "off", "spellcheck": "false", "params": {"type": "search"}},
    )
    # An unknown value in the URL is ignored (see ``choice``), not an error: these are filters.
    statut = FrenchSelectField("Statut", choices=[SelectChoice("", "Tous")], validate_choice=False)
    etablissement = FrenchSelectField(
        "Établissement", choices=[SelectChoice("", "Tous")], validate_choice=False
    )
    du = date_filter("Accident survenu depuis le", "La date de début")
    au = date_filter("Jusqu'au", "La date de fin")
    hors_delai = BooleanField("Hors délai uniquement", widget=CheckboxInput())
    cmi = FrenchSelectField(
        "Certificat médical initial",
        choices=[
            SelectChoice("", "Tous"),
            SelectChoice("attente", "En attente"),
            SelectChoice("recu", "Reçu"),
        ],
        validate_choice=False,
    )
    reserves = BooleanField("Avec réserves uniquement", widget=CheckboxInput())
    a_decider = BooleanField(
        "À instruire ou à décider uniquement",
        description="Certificat médical reçu, pas encore de décision",
        widget=CheckboxInput(),
    )

    def __init__(self, formdata=None, *, statuses=(), establishments=(), **kwargs):
        super().__init__(formdata, **kwargs)
        self.statut.choices = [SelectChoice("", "Tous"), *[SelectChoice(str(s), s.label) for s in statuses]]
        self.etablissement.choices = [
            SelectChoice("", "Tous"),
            *[SelectChoice(str(e.id), f"{e.name} ({e.siret})") for e in establishments],
        ]

    def choice(self, name: str) -> str:
        """The selected value of a select filter when it is one of its choices, else ""."""
        return filter_choice(self[name])

    def date_or_none(self, name: str) -> date | None:
        return filter_day(self[name])


class CmiForm(Form):
    """The day the CPAM received the initial medical certificate (D0 of SPEC §3.1)."""

    recu_le = FrenchDateField(
        "Date de réception du certificat médical initial",
        what="La date de réception",
        description=(
            "Par exemple 27 3 2026. Avec la déclaration, elle fixe le point de départ D0 de l'instruction."
        ),
        validators=[DataRequired("Saisissez la date de réception du certificat médical initial")],
    )


class StatusForm(Form):
    """The CPAM's next status for a declaration (choices: the transitions allowed now)."""

    statut = FrenchRadioField(
        "Nouveau statut", validators=[DataRequired("Sélectionnez le nouveau statut de la déclaration")]
    )
    commentaire = TextAreaField(
        "Commentaire (facultatif)",
        description=(
            "Visible par l'employeur dans l'historique de la déclaration. 1 000 caractères au maximum."
        ),
        filters=[strip],
        validators=[Optional(), max_length(1000, "Le commentaire")],
        widget=TextArea(),
        render_kw={"params": {"rows": 3}},
    )

    def __init__(self, formdata=None, *, targets=(), **kwargs):
        super().__init__(formdata, **kwargs)
        self.statut.choices = [SelectChoice(str(t), t.label) for t in targets]
