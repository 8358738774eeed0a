"""Déclaration d'accident du travail ou de trajet (DAT, SPEC §2, Cerfa 14463*03): seven question
steps in the Cerfa's order, then "Vérifier et envoyer" with the declarant and the certification
(the engine's check-answers page with this workflow's declaration form)."""

from __future__ import annotations

from app.forms import dat as forms
from app.models import Service
from app.workflows.engine import Step, Workflow, register


def _initial_answers(establishment, user):
    from app.services import dat

    return dat.initial_answers(establishment, user)


def _draft_note(draft):
    from app.services import dat

    return dat.draft_note(draft)


def _draft_label(draft):
    from app.services import dat

    return dat.draft_label(draft)


def _on_submit(submission, draft):
    from app.services import dat

    dat.record_declaration(submission, draft)


def _after_submit(submission):
    from app.services import dat

    dat.after_submit(submission)


def _confirmation_url(submission):
    from app.services import dat

    return dat.confirmation_url(submission)


declaration = register(
    Workflow(
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
        on_submit=_on_submit,
        after_submit=_after_submit,
        initial_answers=_initial_answers,
        draft_note=_draft_note,
        draft_label=_draft_label,
        declaration_form=forms.DeclarationForm,
        send_template="dat/_send.html",
        confirmation_url=_confirmation_url,
    )
)
