"""Subventions Prévention TPE, the Carsat's side (issue 14 item 3): the queue of its départements by
programme and status (sorted and paged in SQL), a dossier with its versions, lines and files, and the
decisions — accept (the amount reserved), ask for completion, refuse, validate the payment — each deposited
as a PDF letter in the establishment's LUCIE mailbox; closing a programme's budget and reopening it.

A Carsat agent of another region, or any employer, gets 404."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.domain.accounts import Service, UserKind
from app.domain.subsidies import DECIDABLE, DECISION_LABELS, STATUS_LABELS, DecisionKind, Status, next_step
from app.forms.subsidies import AcceptForm, ComplementForm, ConfirmForm, PayForm, RefuseForm
from app.services import access
from app.services.subsidies import dossiers, instruction, programmes

bp = Blueprint("subventions_carsat", __name__, url_prefix="/subventions/instruction")


def _agent() -> None:
    if not current_user.is_authenticated or current_user.kind != UserKind.CARSAT:
        abort(404)
    access.authorize_agent(current_user, Service.SUBVENTIONS)


def _dossier(dossier_id: int):
    _agent()
    dossier = dossiers.get_dossier(dossier_id)
    if dossier is None or dossier.status == Status.BROUILLON:
        abort(404)
    access.authorize_caisse_side(current_user, Service.SUBVENTIONS, dossier.establishment)
    return dossier


@bp.get("/")
@login_required
def queue():
    _agent()
    all_programmes = programmes.all_programmes()
    programme_id = request.args.get("programme", type=int)
    status = request.args.get("statut") or None
    if status is not None and status not in {s.value for s in Status}:
        status = None
    page = instruction.queue(
        access.caisse_departements(current_user, Service.SUBVENTIONS),
        programme_id=programme_id,
        status=status,
        page=request.args.get("page", 1, type=int),
    )
    query_args = {k: v for k, v in (("programme", programme_id), ("statut", status)) if v}
    return render_template(
        "subventions/carsat_queue.html",
        listing=page,
        programmes=all_programmes,
        programme_id=programme_id,
        status=status,
        statuses=[s for s in Status if s != Status.BROUILLON],
        status_labels=STATUS_LABELS,
        query_args=query_args,
        close_form=ConfirmForm(),
    )


def _page(dossier, *, forms=None, problem=None, status=200):
    forms = forms or {}
    accept = forms.get("accept") or AcceptForm(formdata=None, amount=dossier.requested_amount)
    return (
        render_template(
            "subventions/carsat_dossier.html",
            dossier=dossier,
            computation=json.loads(dossier.computation or "{}"),
            versions=dossiers.versions_of(dossier),
            decisions=instruction.decisions_of(dossier),
            status_labels=STATUS_LABELS,
            decision_labels=DECISION_LABELS,
            next_step=next_step(dossier.status, phase=dossier.phase, completion_due=dossier.completion_due),
            kinds={c: k.label for c, k in programmes.rules_of(dossier.programme).line_kinds.items()},
            accept_form=accept,
            complement_form=forms.get("complement") or ComplementForm(formdata=None),
            refuse_form=forms.get("refuse") or RefuseForm(formdata=None),
            pay_form=forms.get("pay") or PayForm(formdata=None),
            problem=problem,
            has_errors=bool(problem or any(f.errors for f in forms.values())),
            decidable=dossier.status in DECIDABLE,
            refusable=dossier.status in DECIDABLE or dossier.status == Status.COMPLEMENT_DEMANDE,
            agent=True,
        ),
        status,
    )


@bp.get("/<int:dossier_id>")
@login_required
def dossier(dossier_id: int):
    return _page(_dossier(dossier_id))


@bp.post("/<int:dossier_id>/<any(accepter, complement, refuser, verser):action>")
@login_required
def decide(dossier_id: int, action: str):
    dossier = _dossier(dossier_id)
    form_class, key, kind = {
        "accepter": (AcceptForm, "accept", DecisionKind.ACCEPTATION),
        "complement": (ComplementForm, "complement", DecisionKind.COMPLEMENT),
        "refuser": (RefuseForm, "refuse", DecisionKind.REFUS),
        "verser": (PayForm, "pay", DecisionKind.VERSEMENT),
    }[action]
    form = form_class()
    if not form.validate_on_submit():
        return _page(dossier, forms={key: form}, status=422)
    arguments = {}
    if kind == DecisionKind.ACCEPTATION:
        arguments["amount"] = form.amount.amount
    elif kind == DecisionKind.COMPLEMENT:
        arguments["reasons"], arguments["due_on"] = form.missing.data, form.due_on.data
    elif kind == DecisionKind.REFUS:
        arguments["reasons"] = form.reasons.data
    try:
        decision = instruction.decide(dossier, current_user, kind, **arguments)
    except instruction.DecisionRefused as refused:
        return _page(dossiers.get_dossier(dossier_id), problem=str(refused), status=409)
    message = f"{DECISION_LABELS[kind]} enregistrée."
    if decision.letter_id:
        message += " Le courrier a été déposé dans la boîte LUCIE de l'établissement."
    elif decision.not_deposited:
        message += f" Courrier non déposé : {decision.not_deposited}"
    flash(message, "success")
    return redirect(url_for(".dossier", dossier_id=dossier_id), 303)


@bp.post("/<int:dossier_id>/convention")
@login_required
def convention(dossier_id: int):
    dossier = _dossier(dossier_id)
    if ConfirmForm().validate_on_submit() and instruction.record_convention(dossier, current_user):
        flash("Signature de la convention enregistrée : le versement peut être validé.", "success")
    return redirect(url_for(".dossier", dossier_id=dossier_id), 303)


@bp.post("/programmes/<int:programme_id>/clore")
@login_required
def close_budget(programme_id: int):
    _agent()
    programme = programmes.get_programme(programme_id)
    if programme is None:
        abort(404)
    if ConfirmForm().validate_on_submit() and programmes.close_budget(programme, current_user):
        flash(
            f"Budget du programme {programme.name} clos : plus aucune demande ne peut y être déposée.",
            "success",
        )
    return redirect(url_for(".queue"), 303)


@bp.post("/programmes/<int:programme_id>/rouvrir")
@login_required
def reopen_budget(programme_id: int):
    _agent()
    programme = programmes.get_programme(programme_id)
    if programme is None:
        abort(404)
    if ConfirmForm().validate_on_submit() and programmes.reopen_budget(programme, current_user):
        flash(
            f"Budget du programme {programme.name} rouvert : les demandes peuvent y être déposées.", "success"
        )
    return redirect(url_for(".queue"), 303)


@bp.app_context_processor
def _navigation() -> dict:
    """« Subventions » in the main navigation of a Carsat agent (no query)."""
    serves = bool(current_user) and access.agent_serves(current_user, Service.SUBVENTIONS)
    return {"subsidies_agent_nav": serves}
