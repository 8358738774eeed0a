"""Signalement d'un changement de coordonnées (Compte AT/MP): the small, real workflow that
exercises the engine end to end — radios, a conditional step, a date, a text area, sections."""

from __future__ import annotations

from app.forms import demo_form as forms
from app.models import Service
from app.workflows.engine import Step, Workflow


def _nature(answers) -> str | None:
    value = answers.get("nature", {}).get("nature")
    return value if isinstance(value, str) else None


coordonnees = Workflow(
    name="coordonnees",
    title="Signalement d'un changement de coordonnées",
    description=(
        "Signalez à votre caisse la nouvelle adresse d'un établissement ou le nouveau contact "
        "pour les questions d'accidents du travail et de maladies professionnelles."
    ),
    reference_prefix="COORD",
    service=Service.COMPTE,
    steps=[
        Step("nature", "Nature du changement", forms.NatureForm, section="Le changement"),
        Step(
            "adresse",
            "Nouvelle adresse",
            forms.AdresseForm,
            condition=lambda answers: _nature(answers) == "adresse",
            section="Le changement",
        ),
        Step(
            "contact",
            "Nouveau contact",
            forms.ContactForm,
            condition=lambda answers: _nature(answers) == "contact",
            section="Le changement",
        ),
        Step("date_effet", "Date du changement", forms.DateEffetForm, section="Le changement"),
        Step("motif", "Motif du changement", forms.MotifForm, section="Précisions"),
    ],
)
