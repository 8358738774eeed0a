"""Forms of the DAT (SPEC §2.2, Cerfa 14463*03): one per step, the declarant's block of the send
page, and the reserves addendum sent after the declaration.

Conditional questions (témoins, tiers, police report, contract, death…) are fields whose entry in
``conditions`` names the answer that reveals them. A hidden field is neither validated nor
submitted, whatever it still holds. Cross-step rules read the other steps' raw answers through
``form.context.answers`` (see app/workflows/engine.py).

``step_rows(step, data)`` turns a step's JSON answers into the rows people read; the check-answers
page, the declaration's page and the PDFs all use it, so they always say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from wtforms import BooleanField, FileField, Form, HiddenField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError

from app.domain import dat as rules
from app.domain.calendars import timezone_for
from app.domain.deadlines import EARLIEST_YEAR, LATEST_YEAR
from app.domain.identifiers import (
    format_nir,
    is_valid_postal_code,
    is_valid_siret,
    nir_errors,
    normalize_nir,
    normalize_siret,
)
from app.domain.names import person_name_error
from app.forms.workflows import (
    CheckboxInput,
    FrenchCheckboxesField,
    FrenchDateField,
    FrenchRadioField,
    FrenchSelectField,
    FrenchTimeField,
    StepForm,
    TextArea,
    TextInput,
    date_filter,
    filter_choice,
    filter_day,
    format_time,
    french_date,
    parse_time,
    strip,
)

MIN_AGE_YEARS = 14
CIRCONSTANCES_MIN = 20
RESERVES_MIN = 50
TEXT_MAX = 2000
LONG_TEXT_MAX = 5000

# --- choices ---------------------------------------------------------------------------------------

SEXES = {"M": "Homme", "F": "Femme"}
NATIONALITES = {"francaise": "Française", "ue": "D'un autre pays de l'Union européenne", "autre": "Autre"}
QUALIFICATIONS = {
    "cadre": "Cadre",
    "technicien": "Technicien",
    "agent_maitrise": "Agent de maîtrise",
    "employe": "Employé",
    "ouvrier_qualifie": "Ouvrier qualifié",
    "ouvrier_non_qualifie": "Ouvrier non qualifié",
    "apprenti": "Apprenti",
    "autre": "Autre",
}
CONTRATS = {
    "cdi": "Contrat à durée indéterminée (CDI)",
    "cdd": "Contrat à durée déterminée (CDD)",
    "interim": "Intérim (travail temporaire)",
    "apprentissage": "Contrat d'apprentissage",
    "autre": "Autre",
}
LIEUX = rules.LIEUX
SIEGES = {
    "tete": "Tête, face",
    "yeux": "Yeux",
    "cou": "Cou",
    "epaule": "Épaule",
    "bras": "Bras",
    "coude": "Coude",
    "avant_bras": "Avant-bras",
    "poignet": "Poignet",
    "main": "Main",
    "doigts": "Doigts",
    "thorax": "Thorax",
    "dos": "Dos, colonne vertébrale",
    "abdomen": "Abdomen",
    "bassin": "Bassin, hanche",
    "cuisse": "Cuisse",
    "genou": "Genou",
    "jambe": "Jambe",
    "cheville": "Cheville",
    "pied": "Pied",
    "orteils": "Orteils",
    "multiples": "Localisations multiples",
    "voir_cmi": "Voir le certificat médical",
}
COTES = {
    "gauche": "Côté gauche",
    "droit": "Côté droit",
    "deux": "Les deux côtés",
    "sans_objet": "Sans objet",
}
NATURES_LESIONS = {
    "fracture": "Fracture",
    "entorse": "Entorse",
    "luxation": "Luxation",
    "plaie": "Plaie, coupure",
    "contusion": "Contusion, hématome",
    "brulure": "Brûlure",
    "lumbago": "Lumbago",
    "douleur": "Douleur sans autre précision",
    "corps_etranger": "Corps étranger",
    "malaise": "Malaise",
    "autre": "Autre",
    "voir_cmi": "Voir le certificat médical",
}
CONSEQUENCES = {
    "sans_arret": "Sans arrêt de travail",
    "avec_arret": "Avec arrêt de travail",
    "deces": "Décès",
}
MODES_CONNAISSANCE = {
    "constate": "Constaté par l'employeur ou l'un de ses préposés",
    "connu": "Porté à la connaissance de l'employeur",
    "decrit": "Décrit par la victime",
}
OUI_NON = {"oui": "Oui", "non": "Non"}
TEMOINS = {
    "oui": "Oui, un ou plusieurs témoins",
    "premiere_personne": "Non, mais une première personne a été avisée",
    "non": "Non, ni témoin ni personne avisée avant l'employeur",
}
RESERVES = {"non": "Non, je n'émets pas de réserves", "oui": "Oui, j'émets des réserves motivées"}
CATEGORIES = {
    "lieu_temps": "Les circonstances de temps et de lieu de l'accident",
    "cause_etrangere": "Une cause totalement étrangère au travail",
}
WITNESS_SLOTS = (1, 2, 3)


def choices(labels: Mapping[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


# --- small parsers for the other steps' raw answers ------------------------------------------------


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


# --- validators ------------------------------------------------------------------------------------


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


# --- the base form ---------------------------------------------------------------------------------


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


# --- step 1: employeur -------------------------------------------------------------------------------


class EmployeurForm(DatStepForm):
    step_name = "employeur"

    siret = text_field(
        "Numéro SIRET de l'établissement",
        hint=(
            "14 chiffres. C'est l'établissement qui emploie la victime ; pour un intérimaire, "
            "l'entreprise de travail temporaire."
        ),
        required="Saisissez le numéro SIRET de l'établissement",
        max_len=20,
        what="Le numéro SIRET",
        filters=[strip, normalize_siret],
        validators=[siret_format, siret_habilitated],
        render_kw={
            "inputmode": "numeric",
            "spellcheck": "false",
            "params": {"classes": "govuk-input--width-20"},
        },
    )
    raison_sociale = text_field(
        "Raison sociale", required="Saisissez la raison sociale", max_len=200, what="La raison sociale"
    )
    adresse = text_field(
        "Adresse de l'établissement",
        hint="Numéro et voie",
        required="Saisissez l'adresse de l'établissement",
        max_len=200,
        what="L'adresse",
        render_kw={"autocomplete": "off"},
    )
    code_postal = text_field(
        "Code postal",
        required="Saisissez le code postal de l'établissement",
        max_len=10,
        what="Le code postal",
        validators=[postal_code],
        render_kw={"inputmode": "numeric", "params": {"classes": "govuk-input--width-5"}},
    )
    commune = text_field(
        "Commune",
        required="Saisissez la commune de l'établissement",
        max_len=120,
        what="La commune",
        render_kw={"params": {"classes": "govuk-!-width-two-thirds"}},
    )
    telephone = text_field(
        "Téléphone",
        hint="Le numéro auquel la caisse peut joindre la personne qui suit cet accident",
        required="Saisissez le numéro de téléphone de l'établissement",
        max_len=30,
        what="Le numéro de téléphone",
        filters=[strip, compact],
        validators=[phone],
        render_kw={"autocomplete": "tel", "params": {"type": "tel", "classes": "govuk-input--width-20"}},
    )
    courriel = text_field(
        "Adresse e-mail (facultatif)",
        required=None,
        max_len=254,
        what="L'adresse e-mail",
        validators=[email],
        render_kw={"autocomplete": "email", "spellcheck": "false", "params": {"type": "email"}},
    )
    code_risque = text_field(
        "Code risque de l'établissement",
        hint="Il figure sur votre notification de taux AT/MP, par exemple 45.2BD",
        required="Saisissez le code risque de l'établissement",
        max_len=10,
        what="Le code risque",
        filters=[strip, no_spaces, upper],
        validators=[code_risque],
        render_kw={"spellcheck": "false", "params": {"classes": "govuk-input--width-10"}},
    )
    sst_nom = text_field(
        "Nom du service de santé au travail",
        hint="Le service de prévention et de santé au travail auquel l'établissement adhère",
        required="Saisissez le nom du service de santé au travail",
        max_len=200,
        what="Le nom du service de santé au travail",
    )
    sst_adresse = text_field(
        "Adresse du service de santé au travail",
        hint="Numéro, voie, code postal et commune",
        required="Saisissez l'adresse du service de santé au travail",
        max_len=300,
        what="L'adresse du service de santé au travail",
    )


# --- step 2: victime ---------------------------------------------------------------------------------


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


# --- step 3: accident --------------------------------------------------------------------------------


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


# --- step 4: lésions ---------------------------------------------------------------------------------


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


# --- step 5: connaissance ----------------------------------------------------------------------------


def knowledge_rules(form, field) -> None:
    """SPEC §2.2: knowledge time ≥ accident time, and not in the future."""
    if not (field.data and valid_data(form.date_connaissance)):
        return
    known = datetime.combine(form.date_connaissance.data, field.data)
    if known > local_now(form):
        raise ValidationError(
            "L'heure à laquelle vous avez eu connaissance de l'accident ne peut pas être dans le futur"
        )
    accident = raw_moment(form.answers, "accident", "date_accident", "heure_accident")
    if accident and known < accident:
        raise ValidationError(
            f"L'employeur ne peut pas avoir eu connaissance de l'accident avant qu'il se produise "
            f"(le {french_date(accident.date())} à {format_time(accident.time())})"
        )


def registre_date_rules(form, field) -> None:
    if not field.data:
        return
    past_event("La date d'inscription au registre")(form, field)
    accident = raw_date(form.answers, "accident", "date_accident")
    if accident and field.data < accident:
        raise ValidationError(
            "La date d'inscription au registre doit être le jour de l'accident "
            f"({french_date(accident)}) ou après"
        )


def care_date_rules(form, field) -> None:
    if not field.data:
        return
    if field.data > local_now(form).date():
        raise ValidationError(
            "La date à laquelle vous avez appris les soins ou l'arrêt de travail "
            "ne peut pas être dans le futur"
        )
    registered = form.registre_date.data
    if registered and field.data < registered:
        raise ValidationError(
            "Vous avez appris les soins ou l'arrêt de travail après l'inscription au registre : "
            f"saisissez une date à partir du {french_date(registered)}"
        )


def care_time_rules(form, field) -> None:
    """The care or stoppage is learnt of after the accident itself, and not in the future."""
    if not (field.data and form.date_soins.data):
        return
    care = datetime.combine(form.date_soins.data, field.data)
    if care > local_now(form):
        raise ValidationError(
            "L'heure à laquelle vous avez appris les soins ou l'arrêt de travail "
            "ne peut pas être dans le futur"
        )
    known = form.known_at()
    if known and care < known:
        raise ValidationError(
            "Vous avez appris les soins ou l'arrêt de travail après avoir eu connaissance de l'accident "
            f"(le {french_date(known.date())} à {format_time(known.time())}) : vérifiez la date et l'heure"
        )


class ConnaissanceForm(DatStepForm):
    step_name = "connaissance"
    conditions = {  # noqa: RUF012
        "registre_date": conditional("registre", "oui"),
        "registre_numero": conditional("registre", "oui"),
        "date_soins": conditional("registre", "oui"),
        "heure_soins": conditional("registre", "oui"),
    }

    mode = radio_field(
        "Comment l'employeur a-t-il eu connaissance de l'accident ?",
        MODES_CONNAISSANCE,
        "Sélectionnez comment l'employeur a eu connaissance de l'accident",
    )
    date_connaissance = FrenchDateField(
        "Date à laquelle l'employeur en a eu connaissance",
        what="La date de connaissance",
        description=(
            "C'est à partir de ce moment que courent les 48 heures pour déclarer. Par exemple 27 3 2026"
        ),
        validators=[
            DataRequired("Saisissez la date à laquelle l'employeur a eu connaissance de l'accident"),
            past_event("La date de connaissance"),
        ],
    )
    heure_connaissance = FrenchTimeField(
        "Heure",
        what="L'heure de connaissance",
        description="Par exemple 14:30",
        validators=[
            DataRequired("Saisissez l'heure à laquelle l'employeur a eu connaissance de l'accident"),
            knowledge_rules,
        ],
    )
    registre = radio_field(
        "L'accident est-il inscrit au registre des accidents bénins ?",
        OUI_NON,
        "Indiquez si l'accident est inscrit au registre des accidents bénins",
        hint="Le registre, tenu par certains employeurs, recense les accidents sans arrêt ni soins médicaux.",
    )
    registre_date = FrenchDateField(
        "Date d'inscription au registre",
        what="La date d'inscription",
        validators=[DataRequired("Saisissez la date d'inscription au registre"), registre_date_rules],
    )
    registre_numero = text_field(
        "Numéro d'inscription",
        required="Saisissez le numéro d'inscription au registre",
        max_len=20,
        what="Le numéro d'inscription",
        render_kw={"params": {"classes": "govuk-input--width-10"}},
    )
    # R441-5, D441-1: an accident of the register declared because it later needed care or a stoppage.
    date_soins = FrenchDateField(
        "Date à laquelle l'employeur a appris que l'accident entraînait des soins médicaux "
        "ou un arrêt de travail",
        what="La date",
        description=(
            "Un accident inscrit au registre se déclare dans les 48 heures qui suivent ce moment-là, et non "
            "le jour de l'accident. Par exemple 27 3 2026"
        ),
        validators=[
            DataRequired(
                "Saisissez la date à laquelle l'employeur a appris les soins médicaux ou l'arrêt de travail"
            ),
            care_date_rules,
        ],
    )
    heure_soins = FrenchTimeField(
        "Heure",
        what="L'heure",
        description="Par exemple 14:30",
        validators=[
            DataRequired(
                "Saisissez l'heure à laquelle l'employeur a appris les soins médicaux ou l'arrêt de travail"
            ),
            care_time_rules,
        ],
    )

    def known_at(self) -> datetime | None:
        """The naive local moment the employer learnt of the accident (None until both boxes are valid)."""
        if self.date_connaissance.data and self.heure_connaissance.data:
            return datetime.combine(self.date_connaissance.data, self.heure_connaissance.data)
        return None

    def start(self) -> rules.DatStart | None:
        """Where the 48 hours run from, as typed on this page (SPEC §2.1)."""
        care = None
        if self.date_soins.data and self.heure_soins.data:
            care = datetime.combine(self.date_soins.data, self.heure_soins.data)
        return rules.dat_start(self.known_at(), registre=self.registre.data == "oui", care_known_at=care)

    def due_notice(self) -> rules.DueNotice | None:
        start, establishment = self.start(), getattr(self.context, "establishment", None)
        if start is None or establishment is None:
            return None
        return rules.due_notice(start.at, establishment.departement, datetime.now(UTC), benin=start.benin)


# --- step 6: témoins et tiers ------------------------------------------------------------------------


def witness_complete(slot: int):
    def check(form, field) -> None:
        names = [form[f"temoin{slot}_{part}"].data for part in ("nom", "prenom", "adresse")]
        if any(names) and not field.data:
            what = {"nom": "le nom", "prenom": "le prénom", "adresse": "l'adresse"}[field.name.split("_")[1]]
            raise ValidationError(
                f"Saisissez {what} de la personne n° {slot}, ou effacez ses autres informations"
            )

    return check


def _witness_fields(slot: int) -> tuple:
    """(nom, prénom, adresse) of witness ``slot``: the first is required when there is one."""
    required = slot == 1
    fields = []
    for label, what, max_len in (
        ("Nom", "Le nom", 100),
        ("Prénom", "Le prénom", 100),
        ("Adresse", "L'adresse", 300),
    ):
        message = f"Saisissez {what.lower()} du témoin" if required else None
        checks = [] if required else [witness_complete(slot)]
        if label != "Adresse":
            checks.append(person_name(what))
        fields.append(
            text_field(
                label,
                required=message,
                max_len=max_len,
                what=what,
                validators=checks,
                check_empty=not required,
                render_kw={"autocomplete": "off"},
            )
        )
    return tuple(fields)


class TemoinsForm(DatStepForm):
    step_name = "temoins"
    conditions = {  # noqa: RUF012
        **{
            f"temoin{slot}_{part}": conditional("temoins", "oui")
            for part in ("nom", "prenom", "adresse")
            for slot in WITNESS_SLOTS
        },
        **{
            f"pp_{part}": conditional("temoins", "premiere_personne") for part in ("nom", "prenom", "adresse")
        },
        "tiers_nom": conditional("tiers", "oui"),
        "tiers_adresse": conditional("tiers", "oui"),
        "tiers_assureur": conditional("tiers", "oui"),
        "police_autorite": conditional("police", "oui"),
    }

    temoins = radio_field(
        "L'accident a-t-il eu des témoins ?",
        TEMOINS,
        "Indiquez si l'accident a eu des témoins",
        hint="À défaut de témoin, indiquez la première personne avisée de l'accident.",
    )
    temoin1_nom, temoin1_prenom, temoin1_adresse = _witness_fields(1)
    temoin2_nom, temoin2_prenom, temoin2_adresse = _witness_fields(2)
    temoin3_nom, temoin3_prenom, temoin3_adresse = _witness_fields(3)
    pp_nom = text_field(
        "Nom",
        required="Saisissez le nom de la première personne avisée",
        max_len=100,
        what="Le nom",
        validators=[person_name("Le nom")],
    )
    pp_prenom = text_field(
        "Prénom",
        required="Saisissez le prénom de la première personne avisée",
        max_len=100,
        what="Le prénom",
        validators=[person_name("Le prénom")],
    )
    pp_adresse = text_field(
        "Adresse",
        required="Saisissez l'adresse de la première personne avisée",
        max_len=300,
        what="L'adresse",
    )
    tiers = radio_field(
        "Un tiers est-il responsable de l'accident ?",
        OUI_NON,
        "Indiquez si un tiers est responsable de l'accident",
        hint=(
            "Une personne extérieure à l'entreprise, par exemple l'automobiliste "
            "lors d'un accident de trajet."
        ),
    )
    tiers_nom = text_field(
        "Nom et prénom, ou raison sociale, du tiers",
        required="Saisissez le nom du tiers responsable",
        max_len=200,
        what="Le nom du tiers",
    )
    tiers_adresse = text_field(
        "Adresse du tiers", required="Saisissez l'adresse du tiers responsable", max_len=300, what="L'adresse"
    )
    tiers_assureur = text_field(
        "Assureur du tiers (facultatif)",
        hint="Le nom de la compagnie et, si vous le connaissez, le numéro de contrat",
        required=None,
        max_len=200,
        what="L'assureur",
    )
    police = radio_field(
        "Un rapport de police ou de gendarmerie a-t-il été établi ?",
        OUI_NON,
        "Indiquez si un rapport de police ou de gendarmerie a été établi",
    )
    police_autorite = text_field(
        "Par quelle autorité ?",
        hint="Par exemple : commissariat de police de Metz, brigade de gendarmerie de Boulay",
        required="Saisissez l'autorité qui a établi le rapport",
        max_len=200,
        what="L'autorité",
    )


# --- step 7: réserves --------------------------------------------------------------------------------

RESERVES_HINT = (
    "Des réserves ne sont recevables que si elles portent sur les circonstances de temps et de lieu "
    "de l'accident, ou sur l'existence d'une cause totalement étrangère au travail. Elles doivent être "
    "motivées : un simple « réserves » n'est pas recevable. Elles obligent la caisse à mener une "
    "instruction avant de décider."
)


def attachment_owned(form, field) -> None:
    """The attachment is a file this establishment uploaded for the DAT (not a forged id), under
    the name shown beside it."""
    if not field.data:
        return
    establishment = getattr(form.context, "establishment", None)
    upload = form.attachment()
    if (
        upload is None
        or establishment is None
        or upload.establishment_id != establishment.id
        or upload.service != "dat"
        or upload.filename != form.piece_jointe_nom.data
    ):
        raise ValidationError("La pièce jointe est introuvable : joignez de nouveau le fichier")


class ReservesForm(DatStepForm):
    step_name = "reserves"
    conditions = {  # noqa: RUF012
        "categorie": conditional("reserves", "oui"),
        "motivation": conditional("reserves", "oui"),
        "piece_jointe": conditional("reserves", "oui"),
        "piece_jointe_nom": conditional("reserves", "oui"),
    }

    reserves = radio_field(
        "Émettez-vous des réserves motivées sur le caractère professionnel de l'accident ?",
        RESERVES,
        "Indiquez si vous émettez des réserves motivées",
        hint=RESERVES_HINT,
    )
    categorie = radio_field(
        "Sur quoi portent vos réserves ?", CATEGORIES, "Sélectionnez sur quoi portent vos réserves"
    )
    motivation = area_field(
        "Motivez vos réserves",
        hint=(
            f"Expliquez précisément les faits qui fondent vos doutes ({RESERVES_MIN} caractères au minimum, "
            "5 000 au maximum)."
        ),
        required="Motivez vos réserves : un simple « réserves » n'est pas recevable",
        max_len=LONG_TEXT_MAX,
        what="La motivation",
        validators=[
            min_length(
                RESERVES_MIN,
                f"Motivez vos réserves en {RESERVES_MIN} caractères au moins : "
                "un simple « réserves » n'est pas recevable",
            )
        ],
        render_kw={"params": {"rows": 6}},
    )
    piece_jointe = HiddenField("Pièce jointe (facultatif)", filters=[strip], validators=[attachment_owned])
    # The file's name as stored, shown beside the id (checked against the upload on validation).
    piece_jointe_nom = HiddenField("Nom de la pièce jointe", filters=[strip])

    @property
    def attachment_id(self) -> int | None:
        """The upload id the hidden field holds; None unless it is one (a raw answer may hold anything)."""
        value = self.piece_jointe.data
        return int(value) if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value) else None

    def attachment(self):
        """The Upload the hidden field names, if any (a DB read: only on this step)."""
        if self.attachment_id is None:
            return None
        from app.extensions import db
        from app.models import Upload

        return db.session.get(Upload, self.attachment_id)


# --- step 8: declarant and certification (the send section) ----------------------------------------


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
        """The other declarations and drafts of this accident (``app.services.dat.duplicates_for``),
        read once per form: the check-answers page shows them, submitting checks them again."""
        if self._duplicates is None:
            from app.services import dat as dat_service

            self._duplicates = dat_service.duplicates_for(self.context) if self.context is not None else []
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


# --- reserves after the declaration -----------------------------------------------------------------


class ReserveAddendumForm(Form):
    """Reasoned reserves sent after the declaration, within its 10 jours francs (CSS R441-6)."""

    categorie = FrenchRadioField(
        "Sur quoi portent vos réserves ?",
        description=RESERVES_HINT,
        choices=choices(CATEGORIES),
        validators=[DataRequired("Sélectionnez sur quoi portent vos réserves")],
    )
    motivation = TextAreaField(
        "Motivez vos réserves",
        description=(
            f"Expliquez précisément les faits qui fondent vos doutes ({RESERVES_MIN} caractères au minimum, "
            "5 000 au maximum)."
        ),
        filters=[strip],
        validators=[
            DataRequired("Motivez vos réserves : un simple « réserves » n'est pas recevable"),
            max_length(LONG_TEXT_MAX, "La motivation"),
            min_length(
                RESERVES_MIN,
                f"Motivez vos réserves en {RESERVES_MIN} caractères au moins : "
                "un simple « réserves » n'est pas recevable",
            ),
        ],
        widget=TextArea(),
        render_kw={"params": {"rows": 8}},
    )
    fichier = FileField(
        "Pièce jointe (facultatif)", description="Un fichier PDF, PNG ou JPEG de 10 Mo au maximum."
    )


# --- rows people read --------------------------------------------------------------------------------


def _date(value) -> str:
    return french_date(date.fromisoformat(value)) if value else ""


def _time(value) -> str:
    return format_time(time.fromisoformat(value)) if value else ""


def _label(labels: Mapping[str, str], value) -> str:
    return labels.get(value, value or "") if value is not None else ""


def _labels(labels: Mapping[str, str], values) -> str:
    return ", ".join(labels.get(v, v) for v in values or [])


def _lines(*parts) -> str:
    return "\n".join(p for p in parts if p)


def _address(data: Mapping, prefix: str = "") -> str:
    city = " ".join(p for p in (data.get(f"{prefix}code_postal"), data.get(f"{prefix}commune")) if p)
    return _lines(data.get(f"{prefix}adresse"), city)


def _seniority(data: Mapping) -> str:
    years_, months_ = data.get("anciennete_annees"), data.get("anciennete_mois")
    if years_ is None and months_ is None:
        return ""
    if not all(re.fullmatch(r"[0-9]{1,2}", v or "0") for v in (years_, months_)):
        return _lines(years_ and f"{years_} an(s)", months_ and f"{months_} mois")
    y, m = int(years_ or 0), int(months_ or 0)
    parts = []
    if y:
        parts.append(f"{y} an{'s' if y > 1 else ''}")
    if m or not y:
        parts.append(f"{m} mois")
    return " et ".join(parts)


def _schedule(data: Mapping) -> str:
    ranges = []
    for i in (1, 2):
        start, end = data.get(f"horaire{i}_debut"), data.get(f"horaire{i}_fin")
        if start and end:
            ranges.append(f"de {_time(start)} à {_time(end)}")
    return ", puis ".join(ranges)


def _person(data: Mapping, prefix: str) -> str:
    name = " ".join(p for p in (data.get(f"{prefix}nom"), data.get(f"{prefix}prenom")) if p)
    return _lines(name, data.get(f"{prefix}adresse"))


def step_rows(step: str, data: Mapping) -> list[tuple[str, str, str]]:
    """(field, label, answer) of a step's JSON answers, as people read them. Unanswered optional
    questions show as empty strings; hidden conditional ones are left out."""
    d = data
    rows: list[tuple[str, str, str]] = []

    def row(field: str, label: str, value: str | None, *, when: bool = True) -> None:
        if when:
            rows.append((field, label, value or ""))

    if step == "employeur":
        row("siret", "SIRET", d.get("siret"))
        row("raison_sociale", "Raison sociale", d.get("raison_sociale"))
        row("adresse", "Adresse", _address(d))
        row("telephone", "Téléphone", d.get("telephone"))
        row("courriel", "Adresse e-mail", d.get("courriel"))
        row("code_risque", "Code risque", d.get("code_risque"))
        row("sst_nom", "Service de santé au travail", _lines(d.get("sst_nom"), d.get("sst_adresse")))
    elif step == "victime":
        row("nir", "Numéro de sécurité sociale", format_nir(d.get("nir")))
        row("nom", "Nom de famille", d.get("nom"))
        row("nom_usage", "Nom d'usage", d.get("nom_usage"))
        row("prenoms", "Prénoms", d.get("prenoms"))
        row("date_naissance", "Date de naissance", _date(d.get("date_naissance")))
        row("sexe", "Sexe", _label(SEXES, d.get("sexe")))
        row("nationalite", "Nationalité", _label(NATIONALITES, d.get("nationalite")))
        row("adresse", "Adresse", _address(d))
        row("telephone", "Téléphone", d.get("telephone"))
        row("date_embauche", "Date d'embauche", _date(d.get("date_embauche")))
        row("profession", "Profession", d.get("profession"))
        row("qualification", "Qualification", _label(QUALIFICATIONS, d.get("qualification")))
        row("anciennete_annees", "Ancienneté dans le poste", _seniority(d))
        contrat = _label(CONTRATS, d.get("contrat"))
        if d.get("contrat") == "autre" and d.get("contrat_autre"):
            contrat = f"Autre : {d['contrat_autre']}"
        row("contrat", "Type de contrat", contrat)
        row(
            "eu_raison_sociale",
            "Entreprise utilisatrice",
            _lines(d.get("eu_raison_sociale"), f"SIRET {d.get('eu_siret')}" if d.get("eu_siret") else ""),
            when=d.get("contrat") == "interim",
        )
    elif step == "accident":
        moment = _date(d.get("date_accident"))
        if d.get("heure_accident"):
            moment += f" à {_time(d.get('heure_accident'))}"
        row("date_accident", "Date et heure", moment)
        row("horaire1_debut", "Horaires de travail ce jour-là", _schedule(d))
        lieu = _label(LIEUX, d.get("lieu"))
        if rules.is_trajet(d.get("lieu")):
            lieu += " (accident de trajet)"
        row("lieu", "Lieu", lieu)
        row("lieu_precis", "Adresse ou lieu précis", d.get("lieu_precis"))
        row("activite", "Activité de la victime", d.get("activite"))
        row("nature", "Nature de l'accident", d.get("nature"))
        row("objet", "Objet en cause", d.get("objet"))
        row("circonstances", "Circonstances", d.get("circonstances"))
    elif step == "lesions":
        row("siege", "Siège des lésions", _labels(SIEGES, d.get("siege")))
        row("cote", "Côté", _label(COTES, d.get("cote")))
        natures = _labels(NATURES_LESIONS, d.get("nature_lesions"))
        if d.get("nature_autre"):
            natures += f" ({d['nature_autre']})"
        row("nature_lesions", "Nature des lésions", natures)
        consequences = _label(CONSEQUENCES, d.get("consequences"))
        if d.get("consequences") == "deces" and d.get("date_deces"):
            consequences += f" le {_date(d['date_deces'])}"
        row("consequences", "Conséquences", consequences)
        row("transport", "Transportée ou évacuée vers", d.get("transport"))
    elif step == "connaissance":
        row("mode", "Connaissance de l'accident", _label(MODES_CONNAISSANCE, d.get("mode")))
        moment = _date(d.get("date_connaissance"))
        if d.get("heure_connaissance"):
            moment += f" à {_time(d.get('heure_connaissance'))}"
        row("date_connaissance", "Connu de l'employeur le", moment)
        registre = _label(OUI_NON, d.get("registre"))
        if d.get("registre") == "oui":
            registre = f"Oui, le {_date(d.get('registre_date'))}, n° {d.get('registre_numero') or ''}"
        row("registre", "Registre des accidents bénins", registre)
        if d.get("registre") == "oui" and d.get("date_soins"):
            care = _date(d.get("date_soins"))
            if d.get("heure_soins"):
                care += f" à {_time(d.get('heure_soins'))}"
            row("date_soins", "Soins ou arrêt de travail connus de l'employeur le", care)
    elif step == "temoins":
        row("temoins", "Témoins", _label(TEMOINS, d.get("temoins")))
        for slot in WITNESS_SLOTS:
            row(
                f"temoin{slot}_nom",
                f"Témoin n° {slot}",
                _person(d, f"temoin{slot}_"),
                when=bool(d.get(f"temoin{slot}_nom")),
            )
        row("pp_nom", "Première personne avisée", _person(d, "pp_"), when=bool(d.get("pp_nom")))
        tiers = _label(OUI_NON, d.get("tiers"))
        if d.get("tiers") == "oui":
            assureur = f"Assureur : {d['tiers_assureur']}" if d.get("tiers_assureur") else ""
            tiers = _lines(d.get("tiers_nom"), d.get("tiers_adresse"), assureur)
        row("tiers", "Tiers responsable", tiers)
        police = _label(OUI_NON, d.get("police"))
        if d.get("police") == "oui":
            police = f"Oui, par {d.get('police_autorite') or ''}"
        row("police", "Rapport de police", police)
    elif step == "reserves":
        row("reserves", "Réserves motivées", _label(RESERVES, d.get("reserves")))
        if d.get("reserves") == "oui":
            row("categorie", "Portant sur", _label(CATEGORIES, d.get("categorie")))
            row("motivation", "Motivation", d.get("motivation"))
            if d.get("piece_jointe"):
                row("piece_jointe", "Pièce jointe", d.get("piece_jointe_nom") or "fichier joint")
    return rows


# --- lists and the CPAM's forms ----------------------------------------------------------------------


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


def row_value(step: str, data: Mapping, field: str) -> str:
    """The text :func:`step_rows` shows for one field (the PDFs' boxes)."""
    return next((value for name, _, value in step_rows(step, data) if name == field), "")
