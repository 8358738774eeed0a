"""Step 6: témoins et tiers."""

from __future__ import annotations

from wtforms.validators import ValidationError

from .choices import OUI_NON, TEMOINS, WITNESS_SLOTS
from .fields import DatStepForm, conditional, person_name, radio_field, text_field


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
