"""Compte AT/MP (SPEC §5.3, issue 15): the employer's rates with their calculation step by step and its legal
basis, the claims that will weigh on future rates, the bilan individuel (SVG and table), the attestation
des indicateurs and its public check, the barèmes (page and CSV), « Comprendre la tarification », and a
Carsat agent's notification of one establishment. Thin: authorize, call app/services/compte, render."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.domain.accounts import Service, UserKind
from app.domain.rates import COST_COLUMNS
from app.extensions import limiter
from app.forms.compte import AttestationForm, ImportForm, NotifyForm
from app.services import access, accounts
from app.services import compte as service
from app.services import lucie as lucie_service
from app.views.documents import send_document
from app.web import request_user

bp = Blueprint("compte", __name__, url_prefix="/compte-atmp")


# -- French number formats (the notices' two decimals are the domain's display_rate; these only print) ---


@bp.app_context_processor
def _navigation():
    """Whether the main navigation shows « Compte AT/MP »: computed once per request, and not for an
    htmx fragment, which has no navigation (as the DAT's: an autosave reads no establishment list)."""
    if "compte_nav" not in g:
        shown = False
        user = request_user()
        if user and user.is_authenticated and not g.get("htmx"):
            shown = bool(service.navigation_entry(user))
        g.compte_nav = shown
    return {"compte_nav": g.compte_nav}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@bp.app_template_filter("fr_num")
def fr_num(value, places: int = 2) -> str:
    """« 43 262,00 », half-up to ``places`` decimals (a printed figure; exact ones stay in the data)."""
    number = _decimal(value)
    if number is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    text = f"{number.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"
    return text.replace(",", "\u202f").replace(".", ",")


@bp.app_template_filter("taux")
def taux(value) -> str:
    return "—" if _decimal(value) is None else f"{fr_num(value, 2)}\u00a0%"


@bp.app_template_filter("euros")
def euros(value) -> str:
    number = _decimal(value)
    if number is None:
        return "—"
    places = 0 if number == number.to_integral_value() else 2
    return f"{fr_num(number, places)}\u00a0€"


def _establishment(establishment_id: int):
    establishment = accounts.get_establishment(establishment_id)
    access.authorize(current_user, Service.COMPTE, establishment)
    return establishment


def _is_carsat_agent() -> bool:
    return current_user.is_authenticated and current_user.kind == UserKind.CARSAT


# -- the employer's account --------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    siret = "".join((request.args.get("siret") or "").split())
    if siret and _is_carsat_agent():
        # A Carsat agent opens an establishment of its area by its SIRET (404 outside it, or unknown).
        establishment = lucie_service.establishment_by_siret(siret)
        access.authorize_caisse_side(current_user, Service.COMPTE, establishment)
        return redirect(url_for(".account", establishment_id=establishment.id))
    establishments = access.employer_side_establishments(current_user, Service.COMPTE)
    latest = service.latest_rates(establishments)
    return render_template(
        "compte/index.html",
        establishments=establishments,
        latest=latest,
        mode_labels=service.MODE_LABELS,
        notify_form=NotifyForm() if _is_carsat_agent() else None,
    )


def _account_page(establishment, notify_form=None, status: int = 200):
    return render_template(
        "compte/account.html",
        establishment=establishment,
        profile=service.profile_of(establishment),
        rates=service.notified_rates(establishment),
        upcoming=service.upcoming_claims(establishment),
        indicators=service.bilan(establishment),
        claim_kinds=service.CLAIM_KINDS,
        mode_labels=service.MODE_LABELS,
        attestation_form=AttestationForm(),
        notify_form=notify_form or (NotifyForm() if _is_carsat_agent() else None),
        employer_side=not current_user.is_agent,
        has_errors=bool(notify_form and notify_form.errors),
    ), status


@bp.get("/<int:establishment_id>")
@login_required
def account(establishment_id: int):
    return _account_page(_establishment(establishment_id))


@bp.get("/<int:establishment_id>/taux/<int:year>")
@login_required
def rate(establishment_id: int, year: int):
    establishment = _establishment(establishment_id)
    view = service.notified_rate(establishment, year)
    if view is None:
        abort(404)
    return render_template(
        "compte/rate.html",
        establishment=establishment,
        rate=view.rate,
        calc=view.calc,
        legal_basis=service.LEGAL_BASIS,
        recourse=service.RECOURSE_NOTICE,
        mode_labels=service.MODE_LABELS,
        reason_labels=service.REASON_LABELS,
    )


@bp.get("/<int:establishment_id>/comprendre")
@login_required
def understand(establishment_id: int):
    establishment = _establishment(establishment_id)
    rates = service.notified_rates(establishment, 1)
    return render_template(
        "compte/understand.html",
        establishment=establishment,
        latest=rates[0] if rates else None,
        mode_labels=service.MODE_LABELS,
    )


@bp.post("/<int:establishment_id>/notifier")
@login_required
def notify(establishment_id: int):
    """A Carsat agent notifies one establishment's rate (as `flask compte notify --siret`)."""
    if not _is_carsat_agent():
        abort(404)
    establishment = accounts.get_establishment(establishment_id)
    access.authorize_caisse_side(current_user, Service.COMPTE, establishment)
    form = NotifyForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _account_page(establishment, form, 422)
    outcome = service.notify_establishment(establishment, form.annee.data, actor=current_user)
    status = 422 if outcome.status == "error" else 200
    return render_template(
        "compte/notify_result.html", establishment=establishment, form=form, outcome=outcome
    ), status


@bp.route("/imports", methods=["GET", "POST"])
@login_required
def imports():
    """A Carsat agent imports wages, claims or profiles of the establishments of its caisse's area."""
    if not _is_carsat_agent():
        abort(404)
    access.authorize_agent(current_user, Service.COMPTE)
    form = ImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        departements = access.caisse_departements(current_user, Service.COMPTE)
        report = service.IMPORTS[form.kind.data](
            form.fichier.data.read(), departements=departements, actor=current_user
        )
        status = 200 if report.ok else 422
    elif form.is_submitted():
        status = 422
    return render_template(
        "compte/imports.html", form=form, report=report, has_errors=bool(form.errors)
    ), status


# -- attestation des indicateurs ---------------------------------------------------------------------------


@bp.post("/<int:establishment_id>/attestation")
@login_required
def attestation(establishment_id: int):
    establishment = _establishment(establishment_id)
    if current_user.is_agent or not AttestationForm().validate_on_submit():
        abort(400)
    issued = service.issue_attestation(current_user, establishment)
    return redirect(url_for(".attestation_pdf", establishment_id=establishment.id, code=issued.code), 303)


@bp.get("/<int:establishment_id>/attestations/<code>.pdf")
@login_required
def attestation_pdf(establishment_id: int, code: str):
    establishment = _establishment(establishment_id)
    issued = service.attestation_for(establishment, code)
    if issued is None:
        abort(404)
    document = service.attestation_pdf(issued, url_for(".check", _external=True))
    return send_document(document, f"attestation-indicateurs-{establishment.siret}.pdf", inline=True)


@bp.get("/verifier-attestation")
@limiter.limit("30 per minute")  # public: no one tries codes by the thousand
def check():
    """Public: anyone (a buyer in a public tender) checks an attestation's code."""
    code = request.args.get("code")
    attestation = service.check_attestation(code) if code else None
    error, status = None, 200
    if code is not None and not code.strip():
        error, status = "Saisissez le code de vérification de l'attestation", 422
    elif code is not None and attestation is None:
        error, status = (
            "Aucune attestation ne porte ce code : vérifiez sa saisie (12 caractères, par exemple "
            "ABCD-EFGH-JKLM).",
            404,
        )
    return render_template(
        "compte/check.html",
        code=code or "",
        attestation=attestation,
        content=service.attestation_content(attestation) if attestation else None,
        error=error,
        has_errors=bool(error),
    ), status


# -- barèmes -----------------------------------------------------------------------------------------------


@bp.get("/baremes")
def baremes():
    return render_template("compte/baremes.html", rows=service.baremes(), columns=COST_COLUMNS)


@bp.get("/baremes.csv")
def baremes_csv():
    year = request.args.get("annee", type=int)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["year", "ctn", "scope", *COST_COLUMNS])
    for row in service.baremes(year):
        writer.writerow(
            [
                row.year,
                row.ctn,
                row.scope,
                *("" if getattr(row, c) is None else getattr(row, c) for c in COST_COLUMNS),
            ]
        )
    name = f"baremes-couts-moyens-{year}.csv" if year else "baremes-couts-moyens.csv"
    return send_document(out.getvalue().encode("utf-8"), name, media_type="text/csv; charset=utf-8")
