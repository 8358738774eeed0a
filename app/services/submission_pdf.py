"""The « récapitulatif » PDF of a démarche sent through the generic workflow engine (issue 12, item 2):
what was received, rendered from the exact form model version the draft was answered on.

Any workflow without documents of its own has it (« Modifier mes coordonnées », « Envoi de pièces
complémentaires », every form model); a workflow with its own confirmation page (the DAT, whose
receipt and Cerfa PDFs are app/services/dat/pdfs.py) has not. The rows are those of « Vérifier vos
réponses » (:func:`app.workflows.engine.check_answers`) built with the workflow pinned by the draft
(:func:`app.services.drafts.workflow_of`) from the raw answers the submission was validated from — a
sent draft no longer changes — so a newer version of the model never rewrites an older submission.
"""

from __future__ import annotations

from datetime import date

from app.domain.calendars import to_local
from app.domain.cases import Party
from app.domain.dat import french_day, french_moment
from app.models import Draft, Submission, User
from app.services import drafts
from app.services.pdf import render_pdf
from app.workflows.engine import Workflow, check_answers

TEMPLATE = "pdf/submission.html"


def has_summary_pdf(workflow: Workflow) -> bool:
    """Whether the generic « récapitulatif » is this workflow's document: not for a workflow that has
    its own confirmation page (and its own PDFs: the DAT)."""
    return workflow.confirmation_url is None


def received_text(submission: Submission, departement: str) -> str:
    """The server's timestamp of receipt in the establishment's legal time, to the second, as the DAT's
    accusé de réception prints it: ``"dimanche 6 décembre 2026 à 14 h 05 min 09 s"``."""
    local = to_local(submission.submitted_at, departement)
    return f"{french_moment(submission.submitted_at, departement)} min {local.second:02d} s"


def filename(submission: Submission) -> str:
    return f"recapitulatif-{submission.reference}.pdf"


def render(user: User, submission: Submission, draft: Draft, workflow: Workflow) -> bytes:
    """The PDF of ``submission`` (made from ``draft`` on ``workflow``, as
    :func:`app.services.drafts.open_submission` returns them: authorized and audited)."""
    data = submission.data
    departement = submission.establishment.departement or "75"
    case = data.get("case")
    party = None
    if case and case.get("party") in {p.value for p in Party}:
        party = Party(case["party"]).label
    model = workflow.model
    published = None
    if model is not None and model.published_at:
        try:
            published = french_day(date.fromisoformat(str(model.published_at)[:10]), weekday=False)
        except ValueError:
            published = str(model.published_at)
    return render_pdf(
        TEMPLATE,
        workflow=workflow,
        submission=submission,
        establishment=data.get("establishment") or {},
        case=case,
        party=party,
        model=model,
        model_published=published,
        received=received_text(submission, departement),
        departement=departement,
        sections=check_answers(workflow, draft.answers, drafts.context_for(draft, user)),
    )
