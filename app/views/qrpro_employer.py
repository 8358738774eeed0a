"""The employer side's entry to QR Pro questionnaires (issue 13, item 5): the questionnaires of the cases
of the establishments where the user holds QR Pro (habilitated users, a tiers déclarant with a QR Pro
mandate), to start or resume on the workflow pages, where the draft is shared by all of them."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from flask_login import current_user, login_required

from app.domain.accounts import Service
from app.services import access
from app.services.qrpro import questionnaires

bp = Blueprint("qrpro_employer", __name__)


@bp.get("/qrpro/questionnaires")
@login_required
def questionnaires_list():
    if current_user.is_agent or current_user.kind not in ("employer", "firm"):
        abort(404)
    rows = questionnaires.employer_questionnaires(current_user)
    return render_template("qrpro/questionnaire/employer.html", rows=rows)


@bp.app_context_processor
def _navigation() -> dict:
    """« Questionnaires » in the main navigation for an employer or firm user holding QR Pro somewhere
    (computed once per request, never for an htmx fragment, which has no navigation)."""
    if "qrpro_questionnaires_nav" not in g:
        signed_in = bool(current_user and current_user.is_authenticated) and not g.get("htmx")
        g.qrpro_questionnaires_nav = (
            signed_in
            and current_user.kind in ("employer", "firm")
            and bool(access.employer_side_establishments(current_user, Service.QRPRO))
        )
    return {"qrpro_questionnaires_nav": g.qrpro_questionnaires_nav}
