"""DAT, the CPAM's side (SPEC §2.3, §3.1; issue 3 item 6): the agent's inbox of received
declarations (its caisse's départements only), a declaration's full view, recording the day the
CMI was received (D0) and setting the status. Thin: parse, call app/services/dat.py, render.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.domain import dat as rules
from app.domain.accounts import Service
from app.forms import dat as dat_forms
from app.services import access, dat
from app.views.dat import pdf_response
from app.web import is_htmx, page_number

bp = Blueprint("cpam", __name__, url_prefix="/cpam")

INBOX_STATUSES = [s for s in rules.Status if s != rules.Status.BROUILLON]


@bp.before_request
def _signed_in_agent():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    access.authorize_agent(current_user, Service.DAT)
    return None


@bp.get("/")
def home():
    return redirect(url_for(".inbox"))


@bp.get("/declarations")
def inbox():
    form = dat_forms.ListFiltersForm(request.args, statuses=INBOX_STATUSES, meta={"csrf": False})
    form.validate()
    filters = dat.ListFilters(
        q=(form.q.data or "") if not form.q.errors else "",
        statut=form.choice("statut"),
        du=form.date_or_none("du"),
        au=form.date_or_none("au"),
        hors_delai=bool(form.hors_delai.data),
        cmi=form.choice("cmi"),
        reserves=bool(form.reserves.data),
        a_decider=bool(form.a_decider.data),
        page=page_number(request.args.get("page")),
    )
    listing = dat.caisse_inbox(current_user, filters)
    partial = is_htmx() and request.headers.get("HX-Target") == "cpam-results"
    return render_template(
        "cpam/_results.html" if partial else "cpam/inbox.html",
        form=form,
        listing=listing,
        query_args={k: v for k, v in request.args.items() if k != "page" and v},
        has_errors=bool(form.errors),
    )


def _render_declaration(record, *, cmi_form=None, status_form=None, status: int = 200):
    facts = dat.facts(record)
    targets = rules.allowed_targets(record.status, facts)
    return render_template(
        "cpam/declaration.html",
        declaration=record,
        sections=dat.sections(record),
        declarant=dat.declarant(record),
        reserves_deadline=dat.reserves_deadline(record),
        reserves_open=dat.reserves_open(record),
        attachment=dat.attachment_of(record),
        dat_start=dat.dat_start_of(record),
        duplicates=dat.duplicates_of_declaration(
            record, access.caisse_departements(current_user, Service.DAT)
        ),
        d0=dat.d0(record),
        facts=facts,
        cmi_form=cmi_form or dat_forms.CmiForm(),
        status_form=status_form or dat_forms.StatusForm(targets=targets),
        targets=targets,
        blocked=_blocked_reason(record, facts),
        has_errors=bool((cmi_form and cmi_form.errors) or (status_form and status_form.errors)),
    ), status


def _blocked_reason(record, facts) -> str | None:
    """Why no decision can be taken yet (shown instead of an empty choice)."""
    for target in rules.TRANSITIONS[record.status_enum]:
        try:
            rules.check_transition(record.status, target, facts)
        except rules.TransitionRefused as refused:
            return str(refused)
    return None


@bp.get("/declarations/<reference>")
def declaration(reference: str):
    return _render_declaration(dat.open_for_caisse(current_user, reference))


@bp.post("/declarations/<reference>/cmi")
def record_cmi(reference: str):
    record = dat.open_for_caisse(current_user, reference, action="cmi_form")
    form = dat_forms.CmiForm(request.form)
    if form.validate():
        try:
            dat.record_cmi(current_user, reference, form.recu_le.data)
        except dat.CmiRefused as refused:
            form.recu_le.errors = [refused.message]
        else:
            flash("La date de réception du certificat médical initial est enregistrée.", "success")
            return redirect(url_for(".declaration", reference=reference), 303)
    return _render_declaration(record, cmi_form=form, status=422)


@bp.post("/declarations/<reference>/statut")
def set_status(reference: str):
    record = dat.open_for_caisse(current_user, reference, action="status_form")
    targets = rules.allowed_targets(record.status, dat.facts(record))
    # Validated against every status of the CPAM's side, so that a refused change gets its reason.
    form = dat_forms.StatusForm(request.form, targets=INBOX_STATUSES)
    if form.validate():
        try:
            dat.change_status(current_user, reference, form.statut.data, comment=form.commentaire.data or "")
        except rules.TransitionRefused as refused:
            form.statut.errors = [str(refused)]
        else:
            flash(f"Statut enregistré : {rules.Status(form.statut.data).label}.", "success")
            return redirect(url_for(".declaration", reference=reference), 303)
    form.statut.choices = dat_forms.StatusForm(targets=targets).statut.choices
    return _render_declaration(record, status_form=form, status=422)


@bp.get("/declarations/<reference>/<any('declaration', 'accuse-reception'):kind>.pdf")
def pdf(reference: str, kind: str):
    record = dat.open_for_caisse(current_user, reference, action=f"pdf_{kind}")
    return pdf_response(dat.pdf(record, kind), f"{record.reference}-{kind}.pdf")
