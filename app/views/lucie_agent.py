"""The caisse agent's LUCIE screens: deposit a letter, see the caisse's latest deposits."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.domain.lucie import LetterSource
from app.forms.lucie import DepositForm
from app.services import lucie
from app.services.lucie import DepositRefused

bp = Blueprint("lucie_agent", __name__, url_prefix="/agent/courriers")

FORM_FIELDS = {"siret", "type", "reference_dossier", "titre", "fichier"}


@bp.before_request
@login_required
def only_agents():
    if not current_user.is_agent or current_user.caisse_id is None:
        abort(404)


@bp.get("/")
def deposits():
    return render_template("lucie/agent_deposits.html", letters=lucie.caisse_deposits(current_user))


def _form_page(form, status: int = 200):
    return render_template("lucie/agent_deposit.html", form=form, has_errors=bool(form.errors)), status


@bp.route("/deposer", methods=["GET", "POST"])
def deposit():
    form = DepositForm()
    if not form.is_submitted():
        form.idempotency_key.data = secrets.token_urlsafe(24)
        return _form_page(form)
    if form.validate():
        upload = form.fichier.data
        try:
            result = lucie.deposit_letter(
                establishment=lucie.agent_deposit_target(current_user, form.siret.data),
                letter_type=form.type.data,
                title=form.titre.data,
                case_reference=form.reference_dossier.data,
                document=upload.stream,
                filename=upload.filename,
                source=LetterSource.AGENT,
                caisse=current_user.caisse,
                deposited_by=current_user,
                idempotency_key=form.idempotency_key.data or None,
            )
        except DepositRefused as refusal:
            for field, message in refusal.errors.items():
                getattr(form, field if field in FORM_FIELDS else "fichier").errors = [message]
            if not refusal.errors:
                form.fichier.errors = [refusal.message]
        else:
            return redirect(url_for("lucie_agent.deposited", letter_id=result.letter.id), 303)
    return _form_page(form, 422)


@bp.get("/<int:letter_id>")
def deposited(letter_id: int):
    letter = lucie.letter_for_caisse(current_user.caisse, letter_id)
    if letter is None:
        abort(404)
    return render_template(
        "lucie/agent_deposited.html",
        letter=letter,
        alerts=lucie.alert_status(letter.id),
        dates=lucie.letter_dates(letter),
    )
