"""The form models, read-only, for the caisses' agents (docs/workflows.md): every version of the models
of their services, and one version's sections, pages and questions with their conditions — what a
person answering a draft pinned to that version was asked. Thin: parse, call app/services/form_models.py,
render."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from app.services import form_models
from app.workflows.factory import bound_text
from app.workflows.form_models import STATUS_LABELS, SUBJECT_LABELS

bp = Blueprint("form_models", __name__, url_prefix="/modeles-de-formulaires")


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


@bp.get("/")
def index():
    return render_template(
        "form_models/index.html",
        versions=form_models.versions_for_agent(current_user),
        statuses=STATUS_LABELS,
    )


@bp.get("/<model_code>/version-<int:version>")
def version(model_code: str, version: int):
    row, definition = form_models.open_version(current_user, model_code, version)
    subjects = " ; ".join(SUBJECT_LABELS[s] for s in definition.subjects)
    return render_template(
        "form_models/version.html", row=row, model=definition, bound=bound_text, subjects=subjects
    )
