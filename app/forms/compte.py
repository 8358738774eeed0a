"""Forms of the Compte AT/MP: issuing an attestation (CSRF only), a Carsat agent's notification."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange


class AttestationForm(FlaskForm):
    """« Obtenir une attestation »: a POST with its CSRF token, nothing else."""


class NotifyForm(FlaskForm):
    annee = IntegerField(
        "Année du taux à notifier",
        validators=[
            InputRequired("Saisissez l'année du taux à notifier, par exemple 2027"),
            NumberRange(2000, 2100, "Saisissez une année entre 2000 et 2100"),
        ],
    )
