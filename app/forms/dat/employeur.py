"""Step 1: l'employeur."""

from __future__ import annotations

from app.domain.identifiers import normalize_siret
from app.forms.workflows import strip

from .fields import (
    DatStepForm,
    code_risque,
    compact,
    email,
    no_spaces,
    phone,
    postal_code,
    siret_format,
    siret_habilitated,
    text_field,
    upper,
)


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
