"""Step 4: lésions et conséquences."""

from __future__ import annotations

from wtforms.validators import DataRequired, ValidationError

from app.forms.workflows import FrenchCheckboxesField, FrenchDateField, french_date

from .choices import CONSEQUENCES, COTES, NATURES_LESIONS, SIEGES, choices
from .fields import DatStepForm, conditional, past_event, radio_field, raw_date, text_field


def death_date_rules(form, field) -> None:
    if not field.data:
        return
    past_event("La date du décès")(form, field)
    accident = raw_date(form.answers, "accident", "date_accident")
    if accident and field.data < accident:
        raise ValidationError(
            f"La date du décès doit être le jour de l'accident ({french_date(accident)}) ou après"
        )


class LesionsForm(DatStepForm):
    step_name = "lesions"
    conditions = {  # noqa: RUF012
        "nature_autre": conditional("nature_lesions", "autre"),
        "date_deces": conditional("consequences", "deces"),
    }

    siege = FrenchCheckboxesField(
        "Siège des lésions",
        description="Sélectionnez toutes les parties du corps atteintes.",
        choices=choices(SIEGES),
        validators=[DataRequired("Sélectionnez au moins une partie du corps atteinte")],
    )
    cote = radio_field("De quel côté ?", COTES, "Sélectionnez le côté des lésions, ou « Sans objet »")
    nature_lesions = FrenchCheckboxesField(
        "Nature des lésions",
        description=(
            "Sélectionnez toutes les lésions constatées. En cas de doute : « Voir le certificat médical »."
        ),
        choices=choices(NATURES_LESIONS),
        validators=[DataRequired("Sélectionnez au moins une nature de lésion")],
    )
    nature_autre = text_field(
        "Précisez la nature des lésions",
        required="Précisez la nature des lésions",
        max_len=200,
        what="La précision",
    )
    consequences = radio_field("Conséquences", CONSEQUENCES, "Sélectionnez les conséquences de l'accident")
    date_deces = FrenchDateField(
        "Date du décès",
        what="La date du décès",
        validators=[DataRequired("Saisissez la date du décès"), death_date_rules],
    )
    transport = text_field(
        "Victime transportée ou évacuée vers (facultatif)",
        hint="Par exemple : centre hospitalier de Metz, cabinet médical du Dr Martin",
        required=None,
        max_len=200,
        what="Le lieu",
    )

    @property
    def is_fatal(self) -> bool:
        return self.consequences.data == "deces"
