"""The items of an "add another" group and the files of a draft's answers (issue 12, items 4 and 7).
Thin: parse the request, call app/services/draft_items.py, render.

The group's own page is the step's page (app/views/workflows.py): the list of items with « Modifier »
and « Supprimer », « Ajouter … », « Continuer ». Each item is added or changed on its own page, with
autosave; without JavaScript every button is a plain POST → redirect → GET. A file is sent by its own
button (``formaction`` with ``formenctype="multipart/form-data"``, or ``hx-post`` multipart), which
stores it and saves the whole page with it.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from app.services import draft_items, drafts
from app.services.draft_items import FileRefused, GroupFull
from app.services.drafts import (
    AUTOSAVE,
    CONTINUE,
    LATER,
    AlreadySubmitted,
    DraftConflict,
    OutsideWindow,
    StepNotReachable,
)
from app.views.workflows import _render_step, _signed_in, posted_version
from app.web import is_htmx, navigate, request_user
from app.workflows.engine import CHECK_ANSWERS, build_form

bp = Blueprint(
    "workflow_items", __name__, url_prefix="/demarches/brouillons/<int:draft_id>/etapes/<step_name>"
)


# Signed in, like every page of the démarches (an expired autosave answers 401, not a login page).
bp.before_request(_signed_in)


def _step_url(draft_id: int, step_name: str, **args) -> str:
    return url_for("workflows.step", draft_id=draft_id, step_name=step_name, **args)


def _item_url(draft_id: int, step_name: str, index: int | None, **args) -> str:
    if index is None:
        return url_for(".new_item", draft_id=draft_id, step_name=step_name, **args)
    return url_for(".item", draft_id=draft_id, step_name=step_name, index=index, **args)


def _load(draft_id: int, step_name: str, *, read: bool = False):
    draft, workflow = (drafts.open_draft if read else drafts.load_draft)(request_user(), draft_id)
    step = workflow.step(step_name)
    if step is None:
        abort(404)
    return draft, workflow, step


def _back_to_check() -> bool:
    return request.values.get("retour") == "verifier"


def _render_item(draft, workflow, step, form, index, *, version: int, status: int = 200):
    group = step.group
    position, total = workflow.position(step, draft.answers)
    response = make_response(
        render_template(
            "workflows/item.html",
            workflow=workflow,
            draft=draft,
            step=step,
            form=form,
            group=group,
            index=index,
            item_label=group().label_of(
                index if index is not None else len(draft_items.items_of(draft, step))
            ),
            version=version,
            position=position,
            total=total,
            back_url=url_for("workflows.check_answers", draft_id=draft.id)
            if _back_to_check()
            else _step_url(draft.id, step.name),
            return_to_check=_back_to_check(),
            has_errors=bool(form.errors),
        ),
        status,
    )
    if is_htmx() and status >= 400:
        response.headers["HX-Push-Url"] = "false"
    return response


def _shown(draft, workflow, step):
    """None when the item pages of ``step`` may be shown, else where to go instead."""
    if draft.submitted_at is not None:
        return redirect(url_for("workflows.confirmation", draft_id=draft.id))
    if step.group is None:
        abort(404)
    window = drafts.window_of(draft)
    if window.closed or window.not_open:  # no item to change: the group's page, read-only
        return redirect(_step_url(draft.id, step.name))
    if not workflow.reachable(step, draft.answers, draft.valid_steps):
        first = workflow.first_incomplete(draft.answers, draft.valid_steps)
        target = first.name if first else None
        return redirect(
            _step_url(draft.id, target) if target else url_for("workflows.check_answers", draft_id=draft.id)
        )
    return None


WRITE_REFUSED = (AlreadySubmitted, StepNotReachable, GroupFull, DraftConflict, OutsideWindow)


def _refused(error, draft_id: int, step_name: str, check: str):
    """Where a refused write goes: the confirmation once sent, the step to answer first, or the
    group's page saying why (its item limit, or a save by someone else since: ``check`` what)."""
    if isinstance(error, AlreadySubmitted):
        return navigate(url_for("workflows.confirmation", draft_id=draft_id))
    if isinstance(error, StepNotReachable):
        return navigate(_target(draft_id, error.target))
    if isinstance(error, OutsideWindow):  # nothing stored: the group's page shows it read-only, and why
        flash(error.message, "info")
        return navigate(_step_url(draft_id, step_name))
    flash(
        error.message
        if isinstance(error, GroupFull)
        else f"Cette démarche a été modifiée entre-temps : {check}.",
        "info",
    )
    return navigate(_step_url(draft_id, step_name))


def _target(draft_id: int, target: str) -> str:
    if target == CHECK_ANSWERS:
        return url_for("workflows.check_answers", draft_id=draft_id)
    return _step_url(draft_id, target)


# -- an item's page --------------------------------------------------------------------------------


@bp.get("/elements/nouveau", endpoint="new_item")
def new_item(draft_id: int, step_name: str):
    draft, workflow, step = _load(draft_id, step_name, read=True)
    if (elsewhere := _shown(draft, workflow, step)) is not None:
        return elsewhere
    group = step.group
    if len(draft_items.items_of(draft, step)) >= group.max_items:
        flash(group().limit_message, "info")
        return redirect(_step_url(draft.id, step.name))
    form = draft_items.item_form(request_user(), draft, step, None)
    return _render_item(draft, workflow, step, form, None, version=draft.version)


@bp.get("/elements/<int:index>", endpoint="item")
def item(draft_id: int, step_name: str, index: int):
    draft, workflow, step = _load(draft_id, step_name, read=True)
    if (elsewhere := _shown(draft, workflow, step)) is not None:
        return elsewhere
    form = draft_items.item_form(request_user(), draft, step, index)
    if request.args.get("erreurs"):
        form.validate()
    return _render_item(draft, workflow, step, form, index, version=draft.version)


@bp.post("/elements", endpoint="save_item")
def save_item(draft_id: int, step_name: str):
    draft, workflow, step = _load(draft_id, step_name)
    if step.group is None:
        abort(404)
    action = request.form.get("action", CONTINUE)
    if action not in (CONTINUE, LATER):
        abort(400)
    index = draft_items.parse_index(request.form.get("element"))
    try:
        saved = draft_items.save_item(
            request_user(),
            draft,
            workflow,
            step,
            index,
            request.form,
            base_version=posted_version(),
            mode=action,
        )
    except WRITE_REFUSED as error:
        return _refused(error, draft_id, step_name, "vérifiez la liste, puis reprenez votre saisie")
    if action == LATER:
        days = current_app.config["DRAFT_RETENTION_DAYS"]
        flash(
            f"Votre brouillon est enregistré. Vous le reprendrez à l'étape « {step.title} ». "
            f"Il est conservé {days} jours après son dernier enregistrement.",
            "success",
        )
        return navigate(url_for("workflows.drafts"))
    if not saved.valid:
        return _render_item(draft, workflow, step, saved.form, saved.index, version=saved.version, status=422)
    if _back_to_check():
        return redirect(url_for("workflows.check_answers", draft_id=draft_id), 303)
    return redirect(_step_url(draft_id, step_name), 303)


@bp.post("/elements/enregistrement-automatique", endpoint="autosave_item")
def autosave_item(draft_id: int, step_name: str):
    draft, workflow, step = _load(draft_id, step_name)
    if step.group is None:
        abort(404)
    index = draft_items.parse_index(request.form.get("element"))
    template = "workflows/_item_autosave_status.html"
    try:
        saved = draft_items.save_item(
            request_user(),
            draft,
            workflow,
            step,
            index,
            request.form,
            base_version=posted_version(),
            mode=AUTOSAVE,
        )
    except AlreadySubmitted:
        return make_response(render_template(template, state="submitted"), 409)
    except OutsideWindow as refused:
        return make_response(render_template(template, state="closed", message=refused.message), 409)
    except (StepNotReachable, GroupFull):
        return make_response(render_template(template, state="unreachable"), 409)
    except DraftConflict as conflict:
        return make_response(render_template(template, state="conflict", draft=conflict.draft), 409)
    return render_template(template, state="saved", draft=draft, version=saved.version, index=saved.index)


@bp.route("/elements/<int:index>/supprimer", methods=["GET", "POST"], endpoint="delete_item")
def delete_item(draft_id: int, step_name: str, index: int):
    """GOV.UK's removal page: « Voulez-vous vraiment supprimer … ? », then the list."""
    draft, workflow, step = _load(draft_id, step_name, read=request.method == "GET")
    if (elsewhere := _shown(draft, workflow, step)) is not None:
        return elsewhere
    group_form = build_form(step, draft.answers.get(step.name, {}), drafts.context_for(draft, request_user()))
    if not 0 <= index < len(group_form.items):
        abort(404)
    label = group_form.label_of(index)
    if request.method == "GET":
        return render_template(
            "workflows/delete_item.html",
            workflow=workflow,
            draft=draft,
            step=step,
            index=index,
            label=label,
            title=group_form.title_of(index),
            back_url=_step_url(draft.id, step.name),
        )
    try:
        draft_items.delete_item(request_user(), draft, workflow, step, index, base_version=posted_version())
    except WRITE_REFUSED as error:
        return _refused(error, draft_id, step_name, "vérifiez la liste avant de supprimer")
    flash(f"« {label} » a été supprimé de la liste.", "success")
    return navigate(_step_url(draft_id, step_name))


# -- files -------------------------------------------------------------------------------------------


def _file_outcome(draft_id, step_name, item_page: bool, saved):
    if item_page:
        return redirect(_item_url(draft_id, step_name, saved.index, **_retour()), 303)
    return redirect(_step_url(draft_id, step_name, **_retour()), 303)


def _retour() -> dict:
    return {"retour": "verifier"} if _back_to_check() else {}


def _file_refused(draft, workflow, step, item_page: bool, index, refused: FileRefused):
    """The page again, as typed, with the file's error beside its input (422)."""
    if item_page:
        form = draft_items.item_form(request_user(), draft, step, None, formdata=request.form)
    else:
        form = build_form(step, None, drafts.context_for(draft, request_user()))
        form.process(request.form)
    form[refused.field].errors = [refused.message]
    if item_page:
        return _render_item(draft, workflow, step, form, index, version=draft.version, status=422)
    return _render_step(draft, workflow, step, form, version=draft.version, status=422)


@bp.post("/fichiers", endpoint="attach")
def attach(draft_id: int, step_name: str):
    """« Joindre le fichier »: ``?champ=`` names the answer; ``element`` posted on an item's page."""
    draft, workflow, step = _load(draft_id, step_name)
    field_name = request.args.get("champ", "")
    item_page = "element" in request.form
    index = draft_items.parse_index(request.form.get("element"))
    upload = request.files.get("fichier-" + field_name)
    try:
        saved = draft_items.attach_file(
            request_user(),
            draft,
            workflow,
            step,
            field_name,
            upload.stream if upload else None,
            upload.filename if upload else "",
            request.form,
            base_version=posted_version(),
            item=item_page,
            index=index,
        )
    except FileRefused as refused:
        return _file_refused(draft, workflow, step, item_page, index, refused)
    except WRITE_REFUSED as error:
        return _refused(error, draft_id, step_name, "vérifiez cette page, puis joignez le fichier")
    return _file_outcome(draft_id, step_name, item_page, saved)


@bp.post("/fichiers/retirer", endpoint="remove_file")
def remove_file(draft_id: int, step_name: str):
    """« Supprimer » beside an attached file: ``?champ=`` the answer, ``?fichier=`` the upload."""
    draft, workflow, step = _load(draft_id, step_name)
    value = request.args.get("fichier", "")
    if not value.isdigit() or len(value) > 9:
        abort(400)
    item_page = "element" in request.form
    index = draft_items.parse_index(request.form.get("element"))
    try:
        saved = draft_items.remove_file(
            request_user(),
            draft,
            workflow,
            step,
            request.args.get("champ", ""),
            int(value),
            request.form,
            base_version=posted_version(),
            item=item_page,
            index=index,
        )
    except WRITE_REFUSED as error:
        return _refused(error, draft_id, step_name, "vérifiez cette page, puis supprimez le fichier")
    return _file_outcome(draft_id, step_name, item_page, saved)
