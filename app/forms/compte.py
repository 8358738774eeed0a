"""Forms of the Compte AT/MP: an attestation (CSRF only), a Carsat agent's notification and imports."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import IntegerField, RadioField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from app.forms.workflows import FileInput, RadioInput


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


IMPORT_CHOICES = [
    SelectChoice(
        "salaires", "Masses salariales et effectifs (siret;annee;masse_salariale;effectif[;heures])"
    ),
    SelectChoice(
        "sinistres",
        "Sinistres reconnus (reference;siret;type;date_reconnaissance;annee_imputation;jours_arret…)",
    ),
    SelectChoice(
        "etablissements",
        "Profils de tarification (siret;ctn[;btp;date_creation;taux_unique;toujours_collectif])",
    ),
]


class ImportForm(FlaskForm):
    """A Carsat agent's import of a CSV file (the same imports as `flask compte import-…`)."""

    kind = RadioField(
        "Que contient le fichier ?",
        choices=IMPORT_CHOICES,
        validators=[InputRequired("Choisissez ce que contient le fichier")],
        invalid_choice_message="Choisissez ce que contient le fichier",
        widget=RadioInput(),
    )
    fichier = FileField(
        "Fichier CSV",
        description="Séparateur point-virgule ou virgule, encodage UTF-8, une ligne d'en-tête.",
        validators=[FileRequired("Choisissez le fichier CSV à importer")],
        widget=FileInput(),
    )
    submit = SubmitField("Importer", widget=GovSubmitInput())
