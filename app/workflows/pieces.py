"""Envoi de pièces complémentaires (Compte AT/MP): the employer sends the caisse documents for a
work-accident or occupational-disease file — a list of pieces, each with its file, built on the
engine's "add another" group and file answers (docs/workflows.md, « Groupes répétés et fichiers »)."""

from __future__ import annotations

from app.forms import pieces as forms
from app.forms.workflow_groups import GroupSpec
from app.models import Service
from app.workflows.engine import Step, Workflow, group_step

PIECES = GroupSpec(
    name="pieces",
    item_form=forms.PieceForm,
    item_label="pièce",
    items_label="pièces",
    min_items=1,
    max_items=forms.MAX_PIECES,
    item_title=forms.piece_title,
    add_label="Ajouter une pièce",
)

pieces = Workflow(
    name="pieces",
    title="Envoi de pièces complémentaires",
    description=(
        "Transmettez à votre caisse les pièces d'un dossier d'accident du travail ou de maladie "
        "professionnelle : certificats, attestations, témoignages."
    ),
    reference_prefix="PIECES",
    service=Service.COMPTE,
    steps=[
        Step("dossier", "Le dossier concerné", forms.DossierForm, section="Le dossier"),
        group_step("pieces", "Les pièces à transmettre", PIECES, section="Les pièces"),
    ],
)
