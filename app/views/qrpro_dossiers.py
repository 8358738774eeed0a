"""QR Pro, the employer's « Dossiers en instruction » (issue 13, item 9): per establishment, each case's
stage, its next date and what is expected; an .ics of a case's dates and of all cases of an establishment.
For users habilitated for QR Pro on the establishment and tiers déclarants with a QR Pro mandate (404 for
anyone else).
Thin: parse, call app/services/qrpro/employer.py, render."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.domain.cases import Party
from app.services.qrpro import consultation, employer
from app.services.qrpro import timeline as case_timeline
from app.views.documents import send_document

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


@bp.get("/etablissement/<int:establishment_id>")
def by_id(establishment_id: int):
    """The establishment's cases from the home page's service links (which name establishments by id)."""
    place = employer.establishment_by_id(establishment_id)
    employer.authorize(current_user, place)
    return redirect(url_for(".establishment", siret=place.siret), 303)


@bp.get("/<siret>/calendrier.ics")
def establishment_ics(siret: str):
    place = employer.establishment_by_siret(siret)
    return _ics(employer.establishment_ics(current_user, place), f"qrpro-{siret}.ics")


def _siret() -> str | None:
    """Which employer establishment of the case the page is for (a case may have several employers):
    ``siret`` in the query string or the form, else the first the user works for."""
    return request.values.get("siret") or None


@bp.get("/dossier/<reference>/calendrier.ics")
def case_ics(reference: str):
    case = employer.case_for_employer(current_user, reference, _siret())
    return _ics(employer.ics([case], f"QR Pro – dossier {case.reference}"), f"qrpro-{case.reference}.ics")


def _render_case(case, place, *, errors=None, text="", status=200):
    own = {} if place.id == case.establishment_id else {"siret": place.siret}
    return render_template(
        "qrpro/dossiers/case.html",
        case=case,
        place=place,
        own=own,
        entry=employer.line(case, consultation.case_today(case)),
        dates=employer.notified_dates(case),
        consultable=consultation.is_consultable(case),
        documents=consultation.documents(case, for_party=Party.EMPLOYER),
        open_for_observations=consultation.observations_open(case),
        window_message=consultation.window_message(case),
        author_label=consultation.author_label,
        document_url=lambda document: url_for(
            "qrpro_dossiers.document", reference=case.reference, document_id=document.id, **own
        ),
        observe_url=url_for("qrpro_dossiers.observe", reference=case.reference, **own),
        other_party="de la victime" if len(case.employers) == 1 else "de la victime et des autres employeurs",
        timeline=case_timeline.timeline(case, Party.EMPLOYER, establishment=place),
        errors=errors or {},
        text=text,
    ), status


@bp.get("/dossier/<reference>")
def case(reference: str):
    return _render_case(*employer.case_and_employer(current_user, reference, _siret()))


@bp.post("/dossier/<reference>/observations")
def observe(reference: str):
    record, place = employer.case_and_employer(current_user, reference, _siret())
    text = request.form.get("observations", "")
    try:
        consultation.add_observation(
            current_user,
            record,
            Party.EMPLOYER,
            text=text,
            file=request.files.get("fichier"),
            establishment=place,
        )
    except consultation.DocumentRefused as refused:
        return _render_case(record, place, errors=refused.errors, text=text, status=422)
    told = "la victime en est informée"
    if len(record.employers) > 1:
        told = "la victime et les autres employeurs en sont informés"
    flash(f"Vos observations sont annexées au dossier ; {told}.", "success")
    own = {} if place.id == record.establishment_id else {"siret": place.siret}
    return redirect(url_for(".case", reference=reference, **own), 303)


@bp.get("/dossier/<reference>/documents/<int:document_id>")
def document(reference: str, document_id: int):
    record = employer.case_for_employer(current_user, reference, _siret())
    row, content = consultation.document_for(record, document_id, for_party=Party.EMPLOYER)
    return send_document(content, row.filename or "document", media_type=row.media_type)
