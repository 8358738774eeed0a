"""The operator's page of the mail outbox: failed messages and those waiting for a retry, with a
re-queue button (SPEC §4: no alert may be silently lost)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.forms.lucie import ConfirmForm
from app.services import outbox
from app.services.access import authorize_operator

bp = Blueprint("outbox_admin", __name__, url_prefix="/operateur/courriels")


@bp.before_request
@login_required
def only_operators():
    authorize_operator(current_user)


@bp.get("/")
def index():
    return render_template(
        "lucie/outbox.html",
        messages=outbox.attention_list(),
        counts=outbox.queue_counts(),
        form=ConfirmForm(),
    )


@bp.post("/<int:message_id>/remettre-en-file")
def requeue(message_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if outbox.requeue(message_id):
        flash(
            f"Le message n° {message_id} est remis en file : il part au prochain passage du worker.",
            "success",
        )
    else:
        flash(f"Le message n° {message_id} n'est plus en attente : rien à faire.", "info")
    return redirect(url_for("outbox_admin.index"))
