"""Déclaration d'accident du travail ou de trajet (DAT, SPEC §2, Cerfa 14463*03): seven question
steps in the Cerfa's order, then "Vérifier et envoyer" with the declarant and the certification
(the engine's check-answers page with this workflow's declaration form).

Its hooks (the declaration recorded on submit, the prefilled employer, the note and label on « Mes
démarches », the receipt page) are app/services/dat's ``WORKFLOW_HOOKS``, registered at start."""

from __future__ import annotations

from app.forms import dat as forms
from app.models import Service
from app.workflows.engine import Step, Workflow

declaration = Workflow(
    name="dat",
    title="Déclaration d'accident du travail",
    description=(
        "Déclarez dans les 48 heures (dimanches et jours fériés non compris) tout accident du travail "
        "ou de trajet dont vous avez connaissance. Vous recevez aussitôt un accusé de réception et la "
        "feuille d'accident à remettre à la victime."
    ),
    reference_prefix="DAT",
    service=Service.DAT,
    steps=[
        Step(
            "employeur",
            "L'employeur",
            forms.EmployeurForm,
            section="L'employeur",
            template="dat/steps/employeur.html",
        ),
        Step(
            "victime",
            "La victime",
            forms.VictimeForm,
            section="La victime",
            template="dat/steps/victime.html",
        ),
        Step(
            "accident",
            "L'accident",
            forms.AccidentForm,
            section="L'accident",
            template="dat/steps/accident.html",
        ),
        Step(
            "lesions",
            "Lésions et conséquences",
            forms.LesionsForm,
            section="Lésions et conséquences",
            template="dat/steps/lesions.html",
        ),
        Step(
            "connaissance",
            "Connaissance de l'accident",
            forms.ConnaissanceForm,
            section="Connaissance de l'accident",
            template="dat/steps/connaissance.html",
        ),
        Step(
            "temoins",
            "Témoins et tiers",
            forms.TemoinsForm,
            section="Témoins et tiers",
            template="dat/steps/temoins.html",
        ),
        Step(
            "reserves",
            "Réserves motivées",
            forms.ReservesForm,
            section="Réserves motivées",
            template="dat/steps/reserves.html",
        ),
    ],
    declaration_form=forms.DeclarationForm,
    send_template="dat/_send.html",
)
