"""Step 3: l'accident."""

from __future__ import annotations

from datetime import datetime

from wtforms.validators import DataRequired, ValidationError

from app.domain import dat as rules
from app.forms.workflows import FrenchDateField, FrenchTimeField, format_time, french_date

from .choices import LIEUX
from .fields import (
    CIRCONSTANCES_MIN,
    LONG_TEXT_MAX,
    MIN_AGE_YEARS,
    TEXT_MAX,
    DatStepForm,
    add_years,
    area_field,
    local_now,
    min_length,
    past_event,
    radio_field,
    raw_date,
    raw_moment,
    text_field,
    valid_data,
)


def accident_date_rules(form, field) -> None:
    """SPEC §2.2: accident ≤ now (and from 1900), ≥ birth + 14 years, ≥ hiring date."""
    if not field.data:
        return
    past_event("La date de l'accident")(form, field)
    birth = raw_date(form.answers, "victime", "date_naissance")
    if birth and field.data < add_years(birth, MIN_AGE_YEARS):
        raise ValidationError(
            f"La date de l'accident doit être au moins {MIN_AGE_YEARS} ans après la date de naissance "
            f"de la victime ({french_date(birth)})"
        )
    hired = raw_date(form.answers, "victime", "date_embauche")
    if hired and field.data < hired:
        raise ValidationError(
            f"La date de l'accident doit être le jour de l'embauche ({french_date(hired)}) ou après"
        )


def accident_time_rules(form, field) -> None:
    if not (field.data and valid_data(form.date_accident)):
        return
    moment = datetime.combine(form.date_accident.data, field.data)
    if moment > local_now(form):
        raise ValidationError("L'heure de l'accident ne peut pas être dans le futur")
    known = raw_moment(form.answers, "connaissance", "date_connaissance", "heure_connaissance")
    if known and moment > known:
        raise ValidationError(
            f"L'accident doit avoir eu lieu avant que l'employeur en ait connaissance "
            f"(le {french_date(known.date())} à {format_time(known.time())})"
        )


def range_complete(start_name: str):
    def check(form, field) -> None:
        start = form[start_name]
        if bool(start.data) != bool(field.data) and not start.errors:
            raise ValidationError("Saisissez l'heure de début et l'heure de fin de cette plage")

    return check


def range_not_empty(start_name: str):
    def check(form, field) -> None:
        if field.data and form[start_name].data and field.data == form[start_name].data:
            raise ValidationError("L'heure de fin doit être différente de l'heure de début")

    return check


class AccidentForm(DatStepForm):
    step_name = "accident"

    date_accident = FrenchDateField(
        "Date de l'accident",
        what="La date de l'accident",
        description="Par exemple 27 3 2026",
        validators=[DataRequired("Saisissez la date de l'accident"), accident_date_rules],
    )
    heure_accident = FrenchTimeField(
        "Heure de l'accident",
        what="L'heure de l'accident",
        description="Par exemple 14:30",
        validators=[DataRequired("Saisissez l'heure de l'accident"), accident_time_rules],
    )
    horaire1_debut = FrenchTimeField(
        "De",
        what="L'heure de début",
        validators=[DataRequired("Saisissez l'heure de début du travail ce jour-là")],
    )
    horaire1_fin = FrenchTimeField(
        "À",
        what="L'heure de fin",
        validators=[
            DataRequired("Saisissez l'heure de fin du travail ce jour-là"),
            range_not_empty("horaire1_debut"),
        ],
    )
    horaire2_debut = FrenchTimeField("Puis de (facultatif)", what="L'heure de début")
    horaire2_fin = FrenchTimeField(
        "À (facultatif)",
        what="L'heure de fin",
        validators=[range_complete("horaire2_debut"), range_not_empty("horaire2_debut")],
    )
    lieu = radio_field("Où l'accident a-t-il eu lieu ?", LIEUX, "Sélectionnez le lieu de l'accident")
    lieu_precis = text_field(
        "Adresse ou lieu précis de l'accident",
        hint="Par exemple : entrepôt, quai de chargement n° 3, 5 rue des Clercs à Metz",
        required="Saisissez l'adresse ou le lieu précis de l'accident",
        max_len=300,
        what="Le lieu précis",
    )
    activite = area_field(
        "Que faisait la victime au moment de l'accident ?",
        hint="Par exemple : elle déchargeait des palettes d'un camion",
        required="Décrivez l'activité de la victime au moment de l'accident",
        max_len=TEXT_MAX,
        what="L'activité de la victime",
        render_kw={"params": {"rows": 3}},
    )
    nature = text_field(
        "Nature de l'accident",
        hint="Ce qui s'est passé : chute de plain-pied, chute de hauteur, manutention, coupure, heurt…",
        required="Saisissez la nature de l'accident",
        max_len=300,
        what="La nature de l'accident",
    )
    objet = text_field(
        "Objet dont le contact a blessé la victime",
        hint="Par exemple : escabeau, cutter, sol mouillé, véhicule. Écrivez « aucun » s'il n'y en a pas.",
        required="Saisissez l'objet dont le contact a blessé la victime, ou « aucun »",
        max_len=300,
        what="L'objet",
    )
    circonstances = area_field(
        "Circonstances détaillées de l'accident",
        hint=(
            "Décrivez les faits tels que vous les connaissez, sans les interpréter : qui, où, quand, "
            "comment. 5 000 caractères au maximum."
        ),
        required="Décrivez les circonstances de l'accident",
        max_len=LONG_TEXT_MAX,
        what="La description des circonstances",
        validators=[
            min_length(
                CIRCONSTANCES_MIN,
                f"Décrivez les circonstances en quelques phrases ({CIRCONSTANCES_MIN} caractères au minimum)",
            )
        ],
        render_kw={"params": {"rows": 6}},
    )

    @property
    def is_trajet(self) -> bool:
        return rules.is_trajet(self.lieu.data)
