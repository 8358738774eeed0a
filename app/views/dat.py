"""DAT, the employer's side (SPEC §2, issue 3): the follow-up list, a declaration's page, its
accusé de réception and PDFs, reserves added afterwards, and two helpers of the draft's steps (the
live 48-hour deadline, the reserves attachment). The steps themselves are the workflow engine's
pages (/demarches/…). Thin: parse the request, call app/services/dat.py, render.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.domain import dat as rules
from app.domain.calendars import to_local
from app.domain.identifiers import format_nir
from app.forms import dat as dat_forms
from app.services import dat
from app.services import drafts as drafts_service
from app.services.drafts import AlreadySubmitted, DraftConflict, StepNotReachable
from app.views.documents import send_document
from app.views.workflows import posted_version
from app.web import is_htmx, navigate, page_number, request_user
from app.workflows.engine import build_form, extract_raw

bp = Blueprint("dat", __name__, url_prefix="/dat")

EMPLOYER_STATUSES = list(rules.Status)


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        if is_htmx():
            abort(401)
        return current_app.login_manager.unauthorized()
    return None


@bp.app_template_filter("dat_duration")
def _duration(value) -> str:
    return rules.french_duration(value)


@bp.app_template_filter("dat_moment")
def _moment(value, departement: str | None = None, seconds: bool = False) -> str:
    """An instant in the establishment's local time: "mardi 7 avril 2026 à 10 h 00"."""
    if value is None:
        return ""
    text = rules.french_moment(value, departement)
    if seconds:
        text += f" min {to_local(value, departement or '75').second:02d} s"
    return text


@bp.app_template_filter("dat_deadline")
def _deadline(value, departement: str | None = None, weekday: bool = True) -> str:
    """The end of a deadline in local time; at midnight, "mardi 8 décembre 2026 à 24 h 00"."""
    return rules.french_deadline(value, departement, weekday=weekday) if value is not None else ""


@bp.app_template_filter("dat_time")
def _time(value) -> str:
    """ "14:30" (JSON answers) → "14 h 30"."""
    from app.forms.workflows import format_time, parse_time

    parsed = parse_time(value) if isinstance(value, str) else None
    return format_time(parsed) if parsed else ""


@bp.app_template_filter("dat_day")
def _day(value) -> str:
    return rules.french_day(value) if value else ""


@bp.app_template_filter("dat_until")
def _until(value) -> str:
    """The last day of a jours-francs deadline: "jusqu'au mercredi 16 décembre 2026 inclus"."""
    return rules.until_day_included(value) if value else ""


@bp.app_template_filter("nir")
def _nir(value) -> str:
    """A NIR grouped as on the carte Vitale: "1 85 05 78 006 048 22" (stored without spaces)."""
    return format_nir(value) if isinstance(value, str) else ""


@bp.app_template_filter("dat_iso_date")
def _iso_date(value) -> str:
    try:
        return rules.french_day(date.fromisoformat(value), weekday=False)
    except (TypeError, ValueError):
        return ""


@bp.app_context_processor
def _navigation():
    """Whether the main navigation shows the DAT entries (employer side / CPAM side): computed once
    per request (every form field's widget renders through render_template too), and not for an htmx
    fragment, which has no navigation (an autosave read the user's establishments for nothing: two
    statements of its seven, issue 11)."""
    if "dat_nav" not in g:
        entry = None
        user = request_user()
        if user and user.is_authenticated and not g.get("htmx"):
            entry = dat.navigation_entry(user)
        g.dat_nav = entry
    return {"dat_nav": g.dat_nav, "labels_categories": dat_forms.CATEGORIES}


def _filters(form: dat_forms.ListFiltersForm) -> dat.ListFilters:
    etablissement = form.choice("etablissement")
    return dat.ListFilters(
        q=(form.q.data or "") if not form.q.errors else "",
        statut=form.choice("statut"),
        etablissement=int(etablissement) if etablissement and etablissement.isdigit() else None,
        du=form.date_or_none("du"),
        au=form.date_or_none("au"),
        hors_delai=bool(form.hors_delai.data),
        page=page_number(request.args.get("page")),
    )


@bp.get("/")
def index():
    if current_user.is_agent:  # the caisse's side of the declarations
        return redirect(url_for("cpam.inbox"))
    establishments = dat.employer_establishments(request_user())
    form = dat_forms.ListFiltersForm(
        request.args, statuses=EMPLOYER_STATUSES, establishments=establishments, meta={"csrf": False}
    )
    form.validate()
    listing = dat.follow_up(request_user(), _filters(form))
    template = (
        "dat/_results.html"
        if is_htmx() and request.headers.get("HX-Target") == "dat-results"
        else "dat/index.html"
    )
    return render_template(
        template,
        form=form,
        listing=listing,
        can_declare=bool(establishments),
        query_args=_query_args(),
        has_errors=bool(form.errors),
    )


def _query_args() -> dict:
    """The current filters, for pagination links."""
    return {k: v for k, v in request.args.items() if k != "page" and v}


@bp.get("/declarations/<reference>")
def declaration(reference: str):
    record = dat.open_declaration(request_user(), reference)
    return render_template(
        "dat/declaration.html",
        declaration=record,
        sections=dat.sections(record),
        declarant=dat.declarant(record),
        reserves_deadline=dat.reserves_deadline(record),
        reserves_open=dat.reserves_open(record),
        attachment=dat.attachment_of(record),
        dat_start=dat.dat_start_of(record),
        duplicates=dat.duplicates_of_declaration(record),
    )


@bp.get("/declarations/<reference>/accuse-reception")
def receipt(reference: str):
    record = dat.open_declaration(request_user(), reference, action="receipt")
    return render_template(
        "dat/receipt.html",
        declaration=record,
        declarant=dat.declarant(record),
        reserves_deadline=dat.reserves_deadline(record),
        reserves_open=dat.reserves_open(record),
        dat_start=dat.dat_start_of(record),
    )


def pdf_response(data: bytes, filename: str):
    """A PDF the platform made (receipt, declaration, feuille d'accident), shown in the browser."""
    return send_document(data, filename, inline=True)


@bp.get("/declarations/<reference>/<any('accuse-reception', 'declaration', 'feuille-accident'):kind>.pdf")
def pdf(reference: str, kind: str):
    record = dat.open_declaration(request_user(), reference, action=f"pdf_{kind}")
    return pdf_response(dat.pdf(record, kind), f"{record.reference}-{kind}.pdf")


@bp.route("/declarations/<reference>/reserves", methods=["GET", "POST"])
def reserves(reference: str):
    record = dat.open_declaration(request_user(), reference, action="reserves_page")
    form = dat_forms.ReserveAddendumForm(request.form if request.method == "POST" else None)
    context = {
        "declaration": record,
        "reserves_deadline": dat.reserves_deadline(record),
        "form": form,
    }
    if not dat.reserves_open(record):
        return render_template(
            "dat/reserves.html", closed=True, **context
        ), 409 if request.method == "POST" else 200
    if request.method == "GET":
        return render_template("dat/reserves.html", closed=False, **context)
    upload = request.files.get("fichier")
    if form.validate():
        try:
            dat.add_reserves(
                request_user(),
                reference,
                category=form.categorie.data,
                motivation=form.motivation.data,
                stream=upload.stream if upload and upload.filename else None,
                filename=upload.filename if upload else "",
            )
        except dat.ReservesClosed:
            return render_template("dat/reserves.html", closed=True, **context), 409
        except dat.AttachmentRefused as error:
            form.fichier.errors = [error.message]
        else:
            flash("Vos réserves motivées ont été transmises à la caisse avec la déclaration.", "success")
            return redirect(url_for(".declaration", reference=reference), 303)
    return render_template("dat/reserves.html", closed=False, has_errors=True, **context), 422


# -- helpers of the draft's steps ---------------------------------------------------------------------


@bp.get("/brouillons/<int:draft_id>/echeance")
def due(draft_id: int):
    """The 48-hour deadline for the knowledge time being typed (htmx; nothing is saved)."""
    _, notice = dat.due_preview(request_user(), draft_id, request.args)
    return render_template("dat/_due.html", notice=notice, live=True)


def _step_url(draft_id: int, step: str) -> str:
    return url_for("workflows.step", draft_id=draft_id, step_name=step)


@bp.post("/brouillons/<int:draft_id>/reserves/piece-jointe")
def attach(draft_id: int):
    """ "Joindre le fichier" on the reserves step: store it and save the step, then back to it."""
    upload = request.files.get("fichier")
    try:
        dat.attach_reserves_file(
            request_user(),
            draft_id,
            request.form,
            upload.stream if upload else None,
            upload.filename if upload else "",
            base_version=posted_version(),
        )
    except dat.AttachmentRefused as error:
        return _reserves_step_with_error(draft_id, error.message)
    except AlreadySubmitted:
        return navigate(url_for("workflows.confirmation", draft_id=draft_id))
    except (DraftConflict, StepNotReachable):
        flash(
            "Cette déclaration a été modifiée entre-temps : vérifiez cette étape, puis joignez le fichier.",
            "info",
        )
        return navigate(_step_url(draft_id, "reserves"))
    return redirect(_step_url(draft_id, "reserves"), 303)


@bp.post("/brouillons/<int:draft_id>/reserves/piece-jointe/retirer")
def detach(draft_id: int):
    try:
        dat.detach_reserves_file(request_user(), draft_id, request.form, base_version=posted_version())
    except AlreadySubmitted:
        return navigate(url_for("workflows.confirmation", draft_id=draft_id))
    except (DraftConflict, StepNotReachable):
        flash("Cette déclaration a été modifiée entre-temps : vérifiez cette étape.", "info")
        return navigate(_step_url(draft_id, "reserves"))
    return redirect(_step_url(draft_id, "reserves"), 303)


def _reserves_step_with_error(draft_id: int, message: str):
    """The reserves step again, as typed, with the file's error next to the file input (422)."""
    draft, workflow = drafts_service.load_draft(request_user(), draft_id)
    step = workflow.step("reserves")
    raw = {**draft.answers, "reserves": {**draft.answers.get("reserves", {})}}
    raw["reserves"].update(extract_raw(step, request.form))
    form = build_form(step, raw["reserves"], drafts_service.context_for(draft, request_user(), raw))
    form.piece_jointe.errors = [message]
    position, total = workflow.position(step, draft.answers)
    before = workflow.step_before(step, draft.answers)
    response = make_response(
        render_template(
            "workflows/step.html",
            workflow=workflow,
            draft=draft,
            step=step,
            form=form,
            version=draft.version,
            position=position,
            total=total,
            back_url=_step_url(draft_id, before.name) if before else url_for("workflows.drafts"),
            return_to_check=False,
            has_errors=True,
        ),
        422,
    )
    if is_htmx():
        response.headers["HX-Push-Url"] = "false"
    return response
