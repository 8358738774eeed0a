"""Step 2: la victime."""

from __future__ import annotations

import re

from wtforms.validators import DataRequired, ValidationError

from app.domain.identifiers import nir_errors, normalize_nir, normalize_siret
from app.forms.workflows import FrenchDateField, french_date, strip

from .choices import CONTRATS, NATIONALITES, QUALIFICATIONS, SEXES
from .fields import (
    MIN_AGE_YEARS,
    DatStepForm,
    add_years,
    compact,
    conditional,
    past_event,
    person_name,
    phone,
    postal_code,
    radio_field,
    raw_date,
    siret_format,
    text_field,
    valid_data,
)


def nir_consistent(form, field) -> None:
    """SPEC §2.2: the NIR's key, and its first digits against the sex and the date of birth."""
    if not field.data:
        return
    sexe = form.sexe.data if form.sexe.data in SEXES else None
    errors = nir_errors(field.data, sexe, valid_data(form.date_naissance))
    if errors:
        raise ValidationError(errors[0])


def hired_after_birth(form, field) -> None:
    birth = valid_data(form.date_naissance)
    if field.data and birth and field.data < add_years(birth, MIN_AGE_YEARS):
        raise ValidationError(
            f"La date d'embauche doit être au moins {MIN_AGE_YEARS} ans après la date de naissance "
            f"({french_date(birth)})"
        )


def hired_before_accident(form, field) -> None:
    accident = raw_date(form.answers, "accident", "date_accident")
    if field.data and accident and field.data > accident:
        raise ValidationError(
            f"La date d'embauche doit être le jour de l'accident ({french_date(accident)}) ou avant"
        )


def born_14_years_before_accident(form, field) -> None:
    accident = raw_date(form.answers, "accident", "date_accident")
    if field.data and accident and add_years(field.data, MIN_AGE_YEARS) > accident:
        raise ValidationError(
            f"La victime doit avoir au moins {MIN_AGE_YEARS} ans le jour de l'accident "
            f"({french_date(accident)}) : vérifiez la date de naissance"
        )


def months(form, field) -> None:
    if field.data and not (re.fullmatch(r"[0-9]{1,2}", field.data) and int(field.data) <= 11):
        raise ValidationError("Le nombre de mois doit être un nombre entier entre 0 et 11")


def years(form, field) -> None:
    if field.data and not (re.fullmatch(r"[0-9]{1,2}", field.data) and int(field.data) <= 70):
        raise ValidationError("Le nombre d'années doit être un nombre entier entre 0 et 70")


class VictimeForm(DatStepForm):
    step_name = "victime"
    conditions = {  # noqa: RUF012
        "contrat_autre": conditional("contrat", "autre"),
        "eu_raison_sociale": conditional("contrat", "interim"),
        "eu_siret": conditional("contrat", "interim"),
    }

    nir = text_field(
        "Numéro de sécurité sociale",
        hint=(
            "15 caractères : 13 chiffres puis la clé de 2 chiffres, par exemple 1 85 05 78 006 084 36. "
            "Pour une personne née en Corse, le département s'écrit 2A ou 2B."
        ),
        required="Saisissez le numéro de sécurité sociale de la victime",
        max_len=30,
        what="Le numéro de sécurité sociale",
        filters=[strip, normalize_nir],
        validators=[nir_consistent],
        render_kw={
            "spellcheck": "false",
            "autocomplete": "off",
            "params": {"classes": "govuk-input--width-20"},
        },
    )
    nom = text_field(
        "Nom de famille",
        hint="Le nom de naissance",
        required="Saisissez le nom de famille de la victime",
        max_len=100,
        what="Le nom de famille",
        validators=[person_name("Le nom de famille")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    nom_usage = text_field(
        "Nom d'usage (facultatif)",
        hint="Par exemple le nom d'épouse ou d'époux",
        required=None,
        max_len=100,
        what="Le nom d'usage",
        validators=[person_name("Le nom d'usage")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    prenoms = text_field(
        "Prénoms",
        hint="Dans l'ordre de l'état civil",
        required="Saisissez le ou les prénoms de la victime",
        max_len=150,
        what="Les prénoms",
        validators=[person_name("Les prénoms")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    date_naissance = FrenchDateField(
        "Date de naissance",
        what="La date de naissance",
        description="Par exemple 27 3 1985",
        validators=[
            DataRequired("Saisissez la date de naissance de la victime"),
            past_event("La date de naissance"),
            born_14_years_before_accident,
        ],
    )
    sexe = radio_field("Sexe", SEXES, "Sélectionnez le sexe de la victime")
    nationalite = radio_field("Nationalité", NATIONALITES, "Sélectionnez la nationalité de la victime")
    adresse = text_field(
        "Adresse de la victime",
        hint="Numéro et voie",
        required="Saisissez l'adresse de la victime",
        max_len=200,
        what="L'adresse",
        render_kw={"autocomplete": "off"},
    )
    code_postal = text_field(
        "Code postal",
        required="Saisissez le code postal de la victime",
        max_len=10,
        what="Le code postal",
        validators=[postal_code],
        render_kw={
            "inputmode": "numeric",
            "autocomplete": "off",
            "params": {"classes": "govuk-input--width-5"},
        },
    )
    commune = text_field(
        "Commune",
        required="Saisissez la commune de la victime",
        max_len=120,
        what="La commune",
        render_kw={"autocomplete": "off", "params": {"classes": "govuk-!-width-two-thirds"}},
    )
    telephone = text_field(
        "Téléphone de la victime (facultatif)",
        required=None,
        max_len=30,
        what="Le numéro de téléphone",
        filters=[strip, compact],
        validators=[phone],
        render_kw={"autocomplete": "off", "params": {"type": "tel", "classes": "govuk-input--width-20"}},
    )
    date_embauche = FrenchDateField(
        "Date d'embauche",
        what="La date d'embauche",
        description="Par exemple 1 9 2020",
        validators=[
            DataRequired("Saisissez la date d'embauche de la victime"),
            past_event("La date d'embauche"),
            hired_after_birth,
            hired_before_accident,
        ],
    )
    profession = text_field(
        "Profession",
        hint="L'emploi occupé par la victime, par exemple maçon, cariste, aide-soignante",
        required="Saisissez la profession de la victime",
        max_len=150,
        what="La profession",
    )
    qualification = radio_field(
        "Qualification professionnelle", QUALIFICATIONS, "Sélectionnez la qualification professionnelle"
    )
    anciennete_annees = text_field(
        "Années",
        required="Saisissez l'ancienneté dans le poste en années (0 si moins d'un an)",
        max_len=3,
        what="Le nombre d'années",
        validators=[years],
        render_kw={"inputmode": "numeric", "params": {"classes": "govuk-input--width-3"}},
    )
    anciennete_mois = text_field(
        "Mois",
        required="Saisissez l'ancienneté dans le poste en mois (de 0 à 11)",
        max_len=3,
        what="Le nombre de mois",
        validators=[months],
        render_kw={"inputmode": "numeric", "params": {"classes": "govuk-input--width-3"}},
    )
    contrat = radio_field("Type de contrat", CONTRATS, "Sélectionnez le type de contrat de la victime")
    contrat_autre = text_field(
        "Précisez le type de contrat",
        required="Précisez le type de contrat",
        max_len=120,
        what="Le type de contrat",
    )
    eu_raison_sociale = text_field(
        "Raison sociale de l'entreprise utilisatrice",
        hint="L'entreprise où l'intérimaire travaillait ; elle doit vous avoir informé de l'accident",
        required="Saisissez la raison sociale de l'entreprise utilisatrice",
        max_len=200,
        what="La raison sociale",
    )
    eu_siret = text_field(
        "SIRET de l'entreprise utilisatrice",
        required="Saisissez le SIRET de l'entreprise utilisatrice",
        max_len=20,
        what="Le numéro SIRET",
        filters=[strip, normalize_siret],
        validators=[siret_format],
        render_kw={"inputmode": "numeric", "params": {"classes": "govuk-input--width-20"}},
    )
