"""Forms of the "Envoi de pièces complémentaires" workflow (app/workflows/pieces.py): a repeating
group of documents, each with its file — the engine's "add another" groups and file answers."""

from __future__ import annotations

from wtforms import SelectChoice, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.forms.workflow_groups import FileAnswerField
from app.forms.workflows import FrenchRadioField, StepForm, TextInput, strip

DOSSIER_KINDS = [
    SelectChoice("accident", "Un accident du travail ou de trajet"),
    SelectChoice("maladie", "Une maladie professionnelle"),
]
PIECE_KINDS = [
    SelectChoice("certificat", "Un certificat médical"),
    SelectChoice("salaire", "Une attestation de salaire"),
    SelectChoice("temoignage", "Un témoignage"),
    SelectChoice("autre", "Une autre pièce"),
]
MAX_PIECES = 5


class DossierForm(StepForm):
    nature = FrenchRadioField(
        "À quel dossier ces pièces se rapportent-elles ?",
        choices=DOSSIER_KINDS,
        validators=[DataRequired("Indiquez à quel dossier ces pièces se rapportent")],
    )
    reference = StringField(
        "Référence du dossier (facultatif)",
        description="Elle figure sur les courriers de la caisse.",
        filters=[strip],
        validators=[Optional(), Length(max=40, message="La référence doit faire 40 caractères au maximum")],
        widget=TextInput(),
        render_kw={"autocomplete": "off", "params": {"classes": "govuk-input--width-20"}},
    )
    courrier = FileAnswerField(
        "Courrier d'accompagnement (facultatif)",
        max_files=1,
    )
    summary_labels = {"nature": "Dossier", "reference": "Référence", "courrier": "Courrier"}  # noqa: RUF012


class PieceForm(StepForm):
    """One document of the list."""

    type_piece = FrenchRadioField(
        "De quelle pièce s'agit-il ?",
        choices=PIECE_KINDS,
        validators=[DataRequired("Indiquez de quelle pièce il s'agit")],
    )
    description = StringField(
        "Décrivez la pièce en quelques mots",
        description="Par exemple : certificat de prolongation du 3 mars.",
        filters=[strip],
        validators=[
            DataRequired("Décrivez la pièce"),
            Length(max=200, message="La description doit faire 200 caractères au maximum"),
        ],
        widget=TextInput(),
        render_kw={"autocomplete": "off"},
    )
    fichier = FileAnswerField(
        "Fichier de la pièce",
        min_files=1,
        max_files=3,
        required_message="Joignez le fichier de cette pièce",
    )
    summary_labels = {"type_piece": "Pièce", "description": "Description", "fichier": "Fichier"}  # noqa: RUF012


def piece_title(form: PieceForm) -> str:
    return form.description.data or ""
