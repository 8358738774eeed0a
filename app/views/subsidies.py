"""Subventions Prévention TPE, the employer's side (issue 14 items 1, 2, 5): the company's dossiers and what
remains under the cap; a request as a resumable multi-step form — programme and establishment, attestations,
lines (« add another »: quotes or paid invoices with their PDF; the amount computed on every save and, with
htmx, live as a line is typed), « Vérifier vos réponses », submission → reference and receipt PDF; the
completion the Carsat asked for (same dossier, a new version); the payment request.

Thin: authorize (users habilitated for SUBVENTIONS on the establishment, firms with the mandate; anyone
else 404), call app/services/subsidies, render."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.domain.accounts import Service
from app.domain.subsidies import (
    DECISION_LABELS,
    EDITABLE,
    STATUS_LABELS,
    Phase,
    Status,
    format_euros,
    next_step,
    rules_on,
)
from app.forms.subsidies import AttestationsForm, ConfirmForm, LineForm, StartForm, parse_amount
from app.services import access, accounts
from app.services.subsidies import dossiers as service
from app.services.subsidies import instruction, programmes
from app.views.documents import send_document

bp = Blueprint("subventions", __name__, url_prefix="/subventions")

TYPES = {"reservation": "Demande de réservation", "versement": "Demande de versement sans réservation"}


@bp.app_template_filter("eur")
def eur(value) -> str:
    """An amount (a Decimal, or its exact text as a frozen version keeps it) as « 1 250,50 € »."""
    return "—" if value is None or value == "" else format_euros(Decimal(str(value)))


def _dossier(dossier_id: int):
    """The dossier, for a user habilitated on its establishment (404 for anyone else, agents included)."""
    dossier = service.get_dossier(dossier_id)
    if dossier is None:
        abort(404)
    access.authorize_employer_side(current_user, Service.SUBVENTIONS, dossier.establishment)
    return dossier


def _editable(dossier_id: int):
    dossier = _dossier(dossier_id)
    if Status(dossier.status) not in EDITABLE or (
        dossier.status == Status.ACCEPTEE and dossier.phase != Phase.FACTURE
    ):
        return dossier, redirect(url_for(".dossier", dossier_id=dossier.id), 303)
    return dossier, None


def _kinds(dossier) -> dict[str, str]:
    return {code: kind.label for code, kind in programmes.rules_of(dossier.programme).line_kinds.items()}


def _page(template: str, form=None, status: int | None = None, **context):
    has_errors = bool(form is not None and form.errors) or bool(context.get("problems"))
    return render_template(template, form=form, has_errors=has_errors, **context), (
        status or (422 if has_errors else 200)
    )


# -- the company's subsidies ------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    establishments = access.employer_side_establishments(current_user, Service.SUBVENTIONS)
    rows = service.dossiers_of([e.id for e in establishments])
    companies = {}
    for establishment in establishments:
        if establishment.company_id not in companies:
            companies[establishment.company_id] = (
                establishment.company,
                service.company_totals(establishment.company_id),
            )
    cap = rules_on(service.today()).tpe_cap
    return render_template(
        "subventions/index.html",
        establishments=establishments,
        dossiers=rows,
        companies=companies.values(),
        cap=cap,
        status_labels=STATUS_LABELS,
        next_step=next_step,
        types=TYPES,
    )


@bp.route("/nouvelle", methods=["GET", "POST"])
@login_required
def start():
    kind = request.args.get("type", "reservation")
    if kind not in TYPES:
        abort(404)
    establishments = access.employer_side_establishments(current_user, Service.SUBVENTIONS)
    if not establishments:
        abort(404)
    open_programmes = programmes.open_programmes(service.today())
    form = StartForm()
    form.programme.choices = [SelectChoice(str(p.id), p.name) for p in open_programmes]
    form.etablissement.choices = [SelectChoice(str(e.id), e.label) for e in establishments]
    if form.validate_on_submit():
        establishment = accounts.get_establishment(int(form.etablissement.data))
        access.authorize_employer_side(current_user, Service.SUBVENTIONS, establishment)
        programme = programmes.get_programme(int(form.programme.data))
        dossier = service.start(current_user, programme, establishment, kind)
        return redirect(url_for(".attestations", dossier_id=dossier.id), 303)
    return _page("subventions/start.html", form, kind=kind, title=TYPES[kind], programmes=open_programmes)


@bp.route("/<int:dossier_id>/attestations", methods=["GET", "POST"])
@login_required
def attestations(dossier_id: int):
    dossier, leave = _editable(dossier_id)
    if leave:
        return leave
    form = AttestationsForm()
    if request.method == "GET" and service.attestations_complete(dossier):
        answers = service.attestations_of(dossier)
        for name, value in answers.items():
            field = getattr(form, name)
            if isinstance(value, bool):
                field.data = "oui" if value else "non"
            elif name.endswith("_on"):
                field.data = date.fromisoformat(value) if value else None
            else:
                field.process_data(parse_amount(value) if value is not None else None)
    if form.validate_on_submit():
        service.save_attestations(dossier, form.answers())
        return redirect(url_for(".lines", dossier_id=dossier.id), 303)
    return _page("subventions/attestations.html", form, dossier=dossier)


@bp.get("/<int:dossier_id>/lignes")
@login_required
def lines(dossier_id: int):
    dossier, leave = _editable(dossier_id)
    if leave:
        return leave
    return render_template(
        "subventions/lines.html",
        dossier=dossier,
        lines=service.current_lines(dossier),
        result=service.compute(dossier),
        kinds=_kinds(dossier),
        remove_form=ConfirmForm(),
    )


def _line_form(dossier) -> LineForm:
    form = LineForm()
    form.kind.choices = [SelectChoice(code, label) for code, label in _kinds(dossier).items()]
    if dossier.phase == Phase.FACTURE:
        form.for_invoices()
    return form


@bp.route("/<int:dossier_id>/lignes/ajouter", methods=["GET", "POST"])
@bp.route("/<int:dossier_id>/lignes/<int:line_id>", methods=["GET", "POST"])
@login_required
def line(dossier_id: int, line_id: int | None = None):
    dossier, leave = _editable(dossier_id)
    if leave:
        return leave
    existing = None
    if line_id is not None:
        existing = service.get_line(dossier, line_id)
        if existing is None or existing.phase != dossier.phase:
            abort(404)
    form = _line_form(dossier)
    if request.method == "GET" and existing is not None:
        form.kind.data = existing.kind
        form.supplier.data = existing.supplier
        form.number.data = existing.number
        form.issued_on.data = existing.issued_on
        form.paid_on.data = existing.paid_on
        form.amount_ht.process_data(existing.amount_ht)
        form.condition.data = [
            c for c, on in (("loue", existing.leased), ("occasion", existing.second_hand)) if on
        ]
    problem = None
    if form.validate_on_submit():
        upload = request.files.get(form.document.name)
        if existing is None and (upload is None or not upload.filename):
            form.document.errors = [
                f"Joignez {form.document.label.text[0].lower()}{form.document.label.text[1:]}"
            ]
        else:
            try:
                service.save_line(dossier, current_user, form.values(), upload, existing)
            except service.LineRefused as refused:
                form.document.errors = [str(refused)]
            else:
                flash("Ligne enregistrée.", "success")
                return redirect(url_for(".lines", dossier_id=dossier.id), 303)
    estimate = _estimate(dossier, form)
    return _page(
        "subventions/line.html", form, dossier=dossier, existing=existing, estimate=estimate, problem=problem
    )


def _estimate(dossier, form):
    kind = form.kind.data
    amount = form.amount_ht.amount
    if not kind or amount is None or kind not in _kinds(dossier):
        return None
    return service.estimate_line(dossier, kind, amount)


@bp.post("/<int:dossier_id>/estimation")
@login_required
def estimate(dossier_id: int):
    """htmx: the subsidy the line being typed would give (nothing is saved)."""
    dossier, leave = _editable(dossier_id)
    if leave:
        abort(409)
    form = _line_form(dossier)
    form.validate()  # reads the typed values; the errors are not shown here
    return render_template("subventions/_estimate.html", estimate=_estimate(dossier, form), dossier=dossier)


@bp.post("/<int:dossier_id>/lignes/<int:line_id>/supprimer")
@login_required
def remove_line(dossier_id: int, line_id: int):
    dossier, leave = _editable(dossier_id)
    if leave:
        return leave
    existing = service.get_line(dossier, line_id)
    if existing is None or existing.phase != dossier.phase:
        abort(404)
    if ConfirmForm().validate_on_submit():
        service.remove_line(dossier, existing, current_user)
        flash("Ligne supprimée.", "success")
    return redirect(url_for(".lines", dossier_id=dossier.id), 303)


@bp.get("/<int:dossier_id>/verifier")
@login_required
def check(dossier_id: int):
    dossier, leave = _editable(dossier_id)
    if leave:
        return leave
    return _check_page(dossier, service.check_submittable(dossier, service.today()), status=200)


def _check_page(dossier, problems, status=None):
    return _page(
        "subventions/check.html",
        ConfirmForm(),
        status=status,
        dossier=dossier,
        problems=problems,
        answers=service.attestations_of(dossier),
        lines=service.current_lines(dossier),
        result=service.compute(dossier),
        kinds=_kinds(dossier),
    )


@bp.post("/<int:dossier_id>/envoyer")
@login_required
def submit(dossier_id: int):
    dossier, leave = _editable(dossier_id)
    if leave:
        return leave
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        service.submit(dossier, current_user)
    except service.SubmissionRefused as refused:
        dossier = service.get_dossier(dossier_id)
        return _check_page(dossier, list(refused.reasons), status=422)
    return redirect(url_for(".confirmation", dossier_id=dossier.id), 303)


@bp.get("/<int:dossier_id>/confirmation")
@login_required
def confirmation(dossier_id: int):
    dossier = _dossier(dossier_id)
    if dossier.reference is None:
        abort(404)
    return render_template("subventions/confirmation.html", dossier=dossier, status_labels=STATUS_LABELS)


@bp.get("/<int:dossier_id>/accuse-reception.pdf")
@login_required
def receipt(dossier_id: int):
    dossier = _dossier(dossier_id)
    if not dossier.versions:
        abort(404)
    return send_document(
        service.receipt_pdf(dossier), f"accuse-reception-{dossier.reference}.pdf", inline=True
    )


@bp.get("/<int:dossier_id>")
@login_required
def dossier(dossier_id: int):
    dossier = _dossier(dossier_id)
    return render_template(
        "subventions/dossier.html",
        dossier=dossier,
        computation=json.loads(dossier.computation or "{}"),
        versions=service.versions_of(dossier),
        decisions=instruction.decisions_of(dossier),
        status_labels=STATUS_LABELS,
        decision_labels=DECISION_LABELS,
        next_step=next_step(dossier.status, phase=dossier.phase, completion_due=dossier.completion_due),
        kinds=_kinds(dossier),
        form=ConfirmForm(),
        agent=False,
    )


@bp.post("/<int:dossier_id>/versement")
@login_required
def start_payment(dossier_id: int):
    dossier = _dossier(dossier_id)
    if dossier.status != Status.ACCEPTEE:
        abort(409)
    if ConfirmForm().validate_on_submit() and dossier.phase != Phase.FACTURE:
        service.start_payment(dossier, current_user)
    return redirect(url_for(".lines", dossier_id=dossier.id), 303)


@bp.get("/<int:dossier_id>/lignes/<int:line_id>/document")
@login_required
def document(dossier_id: int, line_id: int):
    """A line's PDF: the employer's side, or a Carsat agent covering the establishment."""
    dossier = service.get_dossier(dossier_id)
    if dossier is None:
        abort(404)
    if current_user.is_agent:
        access.authorize_caisse_side(current_user, Service.SUBVENTIONS, dossier.establishment)
        if dossier.status == Status.BROUILLON:
            abort(404)
    else:
        access.authorize_employer_side(current_user, Service.SUBVENTIONS, dossier.establishment)
    existing = service.get_line(dossier, line_id)
    if existing is None:
        abort(404)
    return send_document(service.line_document(existing), existing.file_name)
