"""QR Pro, the employer's « Dossiers en instruction » (issue 13, item 9): per establishment, each case's
stage, its next date and what is expected; an .ics of a case's dates and of all cases of an establishment.
For users habilitated for QR Pro on the establishment and tiers déclarants with a QR Pro mandate (404 for
anyone else).
Thin: parse, call app/services/qrpro/employer.py, render."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from flask_login import current_user

from app.services.qrpro import employer

bp = Blueprint("qrpro_dossiers", __name__, url_prefix="/qrpro/dossiers")


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


@bp.get("/")
def index():
    places = employer.establishments(current_user)
    return render_template(
        "qrpro/dossiers/index.html",
        places=[(place, employer.cases_of(current_user, place)) for place in places],
    )


@bp.get("/<siret>")
def establishment(siret: str):
    place = employer.establishment_by_siret(siret)
    employer.authorize(current_user, place)
    return render_template(
        "qrpro/dossiers/index.html", places=[(place, employer.cases_of(current_user, place))], single=True
    )


def _ics(content: bytes, filename: str) -> Response:
    return Response(
        content,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<siret>/calendrier.ics")
def establishment_ics(siret: str):
    place = employer.establishment_by_siret(siret)
    return _ics(employer.establishment_ics(current_user, place), f"qrpro-{siret}.ics")


@bp.get("/dossier/<reference>/calendrier.ics")
def case_ics(reference: str):
    case = employer.case_for_employer(current_user, reference)
    return _ics(employer.ics([case], f"QR Pro – dossier {case.reference}"), f"qrpro-{case.reference}.ics")
