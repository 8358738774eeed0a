"""Multi-step forms (démarches): start, steps, autosave, check answers, submit, confirmation, and
the list of drafts. Thin: parse the request, call app/services/drafts.py, render.

Without JavaScript every form is a plain POST → redirect → GET. With htmx, a step form posts with
``hx-post`` and swaps ``#workflow-step``: a valid step follows the redirect to the next step's
fragment (its URL pushed), an invalid one answers 422 with the form, a conflict 409.
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
from flask_login import current_user

from app.domain.cases import SubjectKind
from app.forms.workflows import StartForm
from app.services import draft_submission, drafts, submission_pdf
from app.services.drafts import (
    AUTOSAVE,
    CONTINUE,
    LATER,
    AlreadySubmitted,
    DraftConflict,
    DraftDiscarded,
    OutsideWindow,
    StepNotReachable,
)
from app.views.auth import safe_next
from app.views.documents import send_document
from app.web import is_htmx, navigate, paris, request_user
from app.workflows.engine import CHECK_ANSWERS, build_form, check_answers, extract_raw, to_formdata

bp = Blueprint("workflows", __name__, url_prefix="/demarches")


@bp.before_request
def _signed_in():
    if not current_user.is_authenticated:
        if is_htmx():
            # An autosave after the session expired: a status the page can show, not a login page.
            abort(401)
        return current_app.login_manager.unauthorized()
    return None


def _target_url(draft_id: int, target: str) -> str:
    if target == CHECK_ANSWERS:
        return url_for(".check_answers", draft_id=draft_id)
    return url_for(".step", draft_id=draft_id, step_name=target)


def posted_version() -> int:
    """The draft version a form was read at (every save names it: no lost update)."""
    value = request.form.get("version", "")
    if not value.isdigit() or len(value) > 9:
        abort(400)
    return int(value)


def _render(template: str, status: int = 200, **context):
    response = make_response(render_template(template, **context), status)
    if is_htmx() and status >= 400:
        response.headers["HX-Push-Url"] = "false"  # same URL, no new history entry
    return response


# -- list and start ------------------------------------------------------------------------------


@bp.get("/", endpoint="drafts")
def drafts_list():
    known = drafts.known_workflows()
    return render_template(
        "workflows/drafts.html",
        summaries=drafts.list_drafts(request_user()),
        submissions=drafts.recent_submissions(request_user()),
        startable=drafts.startable_workflows(request_user()),
        workflow_titles={w.name: w.title for w in known},
        summary_pdfs={w.name for w in known if submission_pdf.has_summary_pdf(w)},
    )


@bp.route("/<workflow_name>/commencer", methods=["GET", "POST"])
def start(workflow_name: str):
    workflow = drafts.workflow_or_404(workflow_name, SubjectKind.ESTABLISHMENT)
    establishments = drafts.establishments_to_start(request_user(), workflow)
    if not establishments:
        abort(403)
    form = StartForm(request.form if request.method == "POST" else None, establishments=establishments)
    # Started from a page about one establishment (e.g. /dat/?etablissement=2): it is preselected, and
    # « Retour » goes back to that page (a path of this site only).
    back_url = safe_next(request.values.get("retour")) or url_for(".drafts")
    if request.method == "GET":
        wanted = request.args.get("etablissement", "")
        if len(establishments) == 1:
            form.establishment.data = str(establishments[0].id)
        elif any(str(e.id) == wanted for e in establishments):
            form.establishment.data = wanted
    if request.method == "POST":
        if form.validate():
            chosen = next(e for e in establishments if str(e.id) == form.establishment.data)
            draft = drafts.start_draft(request_user(), workflow, chosen)
            return redirect(_target_url(draft.id, draft.current_step), 303)
        return _render(
            "workflows/start.html", 422, workflow=workflow, form=form, has_errors=True, back_url=back_url
        )
    return render_template("workflows/start.html", workflow=workflow, form=form, back_url=back_url)


@bp.post("/<workflow_name>/dossiers/<int:case_id>/<party>/commencer")
def start_for_case(workflow_name: str, case_id: int, party: str):
    """Start the draft answering for ``party`` (« employeur » or « victime ») of a case: the case's
    own pages link here (a questionnaire). ``etablissement``: which employer establishment of the case
    answers (a case may have several; each has its own draft). Refused before the case's opening time
    and after its closing time, with the date in the establishment's local time."""
    workflow = drafts.workflow_or_404(workflow_name, SubjectKind.CASE_PARTY)
    case = drafts.case_or_404(case_id)
    subject_party = drafts.party_or_404(party)
    answering = drafts.case_establishment_or_404(case, request.form.get("etablissement"))
    try:
        draft = drafts.start_case_draft(
            request_user(), workflow, case, subject_party, establishment=answering
        )
    except OutsideWindow as refused:
        flash(refused.message, "info")
        return redirect(url_for(".drafts"), 303)
    return redirect(_target_url(draft.id, draft.current_step), 303)


@bp.get("/brouillons/<int:draft_id>")
def resume(draft_id: int):
    draft, workflow = drafts.load_draft(request_user(), draft_id)
    if draft.submitted_at is not None:
        return redirect(url_for(".confirmation", draft_id=draft.id))
    target = workflow.resume_point(draft.answers, draft.valid_steps, draft.current_step)
    return redirect(_target_url(draft.id, target))


# -- deleting a draft ----------------------------------------------------------------------------


@bp.route("/brouillons/<int:draft_id>/supprimer", methods=["GET", "POST"])
def discard(draft_id: int):
    """ "Supprimer ce brouillon": a confirmation page naming the draft, then the deletion. The page
    carries the version it showed: a draft saved since is not deleted unseen."""
    if request.method == "GET":
        draft, workflow = drafts.open_draft(request_user(), draft_id)
    else:
        draft, workflow = drafts.load_draft(request_user(), draft_id)
    if draft.submitted_at is not None:
        flash("Cette démarche a été envoyée : elle ne peut plus être supprimée.", "info")
        return redirect(url_for(".confirmation", draft_id=draft.id), 303)
    if request.method == "GET":
        return render_template("workflows/discard.html", item=drafts.summary_of(draft))
    try:
        drafts.discard_draft(request_user(), draft, base_version=posted_version())
    except AlreadySubmitted:
        return redirect(url_for(".confirmation", draft_id=draft_id), 303)
    except DraftConflict as conflict:
        item = drafts.summary_of(conflict.draft)
        return _render("workflows/discard.html", 409, item=item, changed=True)
    flash(f"Le brouillon « {workflow.title} » ({draft.establishment.name}) a été supprimé.", "success")
    return redirect(url_for(".drafts"), 303)


@bp.app_errorhandler(DraftDiscarded)
def _draft_discarded(error: DraftDiscarded):
    """Any page or save of a deleted draft (a stale tab, a bookmark): who deleted it and when. htmx
    requests get 409, which they swap in: the step's place gets the page, a smaller target (the
    autosave status, the DAT's live due time) the one-line message."""
    draft = error.draft
    if request.endpoint == "workflows.discard":  # a second click, or another user was first
        flash("Ce brouillon a déjà été supprimé.", "info")
        return redirect(url_for(".drafts"), 303)
    if is_htmx() and request.headers.get("HX-Target") != "workflow-step":
        return _render("workflows/_autosave_status.html", 409, state="discarded", draft=draft)
    return _render(
        "workflows/discarded.html",
        409 if is_htmx() else 410,
        draft=draft,
        workflow=drafts.workflow_of(draft),
        typed=request.method == "POST",
    )


# -- steps -----------------------------------------------------------------------------------------


def _render_step(draft, workflow, step, form, *, version: int, status: int = 200, refused: str | None = None):
    """A step's page; outside the draft's window (not open yet, or closed), its answers read-only with
    the reason (``refused``: what a refused save is told)."""
    position, total = workflow.position(step, draft.answers)
    before = workflow.step_before(step, draft.answers)
    return_to_check = request.values.get("retour") == "verifier"
    if return_to_check:
        back_url = url_for(".check_answers", draft_id=draft.id)
    elif before is not None:
        back_url = _target_url(draft.id, before.name)
    else:
        back_url = url_for(".drafts")
    return _render(
        "workflows/step.html",
        status,
        workflow=workflow,
        draft=draft,
        step=step,
        form=form,
        version=version,
        position=position,
        total=total,
        back_url=back_url,
        return_to_check=return_to_check,
        has_errors=bool(form.errors),
        window=drafts.window_of(draft),
        refused=refused,
    )


@bp.get("/brouillons/<int:draft_id>/sommaire")
def overview(draft_id: int):
    """The draft's overview: its sections with their status (GOV.UK task list), to see what is
    done and what is left, and go back to a finished section."""
    draft, workflow = drafts.open_draft(request_user(), draft_id)
    if draft.submitted_at is not None:
        return redirect(url_for(".confirmation", draft_id=draft.id))
    return render_template(
        "workflows/overview.html",
        item=drafts.summary_of(draft),
        tasks=workflow.task_list(draft.answers, draft.valid_steps),
        window=drafts.window_of(draft),
        check_answers=CHECK_ANSWERS,
    )


@bp.get("/brouillons/<int:draft_id>/etapes/<step_name>")
def step(draft_id: int, step_name: str):
    draft, workflow = drafts.open_draft(request_user(), draft_id)
    if draft.submitted_at is not None:
        return redirect(url_for(".confirmation", draft_id=draft.id))
    current = workflow.step(step_name)
    if current is None:
        abort(404)
    if not workflow.reachable(current, draft.answers, draft.valid_steps):
        first = workflow.first_incomplete(draft.answers, draft.valid_steps)
        return redirect(_target_url(draft.id, first.name if first else CHECK_ANSWERS))
    form = build_form(current, draft.answers.get(current.name), drafts.context_for(draft, request_user()))
    if request.args.get("erreurs"):
        form.validate()  # sent back here by a refused submission: show what to correct
    return _render_step(draft, workflow, current, form, version=draft.version)


@bp.post("/brouillons/<int:draft_id>/etapes/<step_name>")
def save_step(draft_id: int, step_name: str):
    draft, workflow = drafts.load_draft(request_user(), draft_id)
    current = workflow.step(step_name)
    if current is None:
        abort(404)
    action = request.form.get("action", CONTINUE)
    if action not in (CONTINUE, LATER):
        abort(400)
    base_version = posted_version()
    try:
        saved = drafts.save_step(
            request_user(),
            draft,
            workflow,
            current,
            request.form,
            base_version=base_version,
            mode=action,
            return_to_check=request.form.get("retour") == "verifier",
        )
    except AlreadySubmitted:
        return navigate(url_for(".confirmation", draft_id=draft_id))
    except StepNotReachable as error:
        return navigate(_target_url(draft_id, error.target))
    except DraftConflict as conflict:
        if current.group is not None:  # its page posts no answer: nothing typed to compare
            flash("Cette démarche a été modifiée entre-temps : vérifiez la liste, puis continuez.", "info")
            return navigate(_target_url(draft_id, current.name))
        return _render_conflict(conflict.draft, workflow, current, action)
    except OutsideWindow as refused:
        # Nothing was stored: the page shows the stored answers, read-only, and why.
        context = drafts.context_for(draft, request_user())
        stored = build_form(current, draft.answers.get(current.name), context)
        return _render_step(
            draft, workflow, current, stored, version=draft.version, status=409, refused=refused.message
        )
    if action == LATER:
        message = f"Votre brouillon est enregistré. Vous le reprendrez à l'étape « {current.title} »."
        if not saved.valid:
            message += " Certaines réponses de cette étape seront à corriger."
        days = current_app.config["DRAFT_RETENTION_DAYS"]
        message += f" Il est conservé {days} jours après son dernier enregistrement."
        flash(message, "success")
        return navigate(url_for(".drafts"))
    if not saved.valid:
        return _render_step(draft, workflow, current, saved.form, version=saved.version, status=422)
    return redirect(_target_url(draft_id, saved.target), 303)


def _render_conflict(draft, workflow, step, action: str):
    """409: what is stored now (who saved it, when) next to what the user just typed — kept in
    hidden inputs so "Remplacer par ma saisie" re-posts it against the current version."""
    typed = extract_raw(step, request.form)
    return _render(
        "workflows/conflict.html",
        409,
        workflow=workflow,
        draft=draft,
        step=step,
        stored_rows=build_form(step, draft.answers.get(step.name, {})).summary_rows(),
        typed_rows=build_form(step, typed).summary_rows(),
        typed_inputs=list(to_formdata(typed).items(multi=True)),
        action=action,
        return_to_check=request.form.get("retour") == "verifier",
    )


@bp.post("/brouillons/<int:draft_id>/etapes/<step_name>/enregistrement-automatique")
def autosave(draft_id: int, step_name: str):
    draft, workflow = drafts.load_draft(request_user(), draft_id)
    current = workflow.step(step_name)
    if current is None:
        abort(404)
    base_version = posted_version()
    try:
        saved = drafts.save_step(
            request_user(), draft, workflow, current, request.form, base_version=base_version, mode=AUTOSAVE
        )
    except AlreadySubmitted:
        return _render("workflows/_autosave_status.html", 409, state="submitted")
    except StepNotReachable:
        return _render("workflows/_autosave_status.html", 409, state="unreachable")
    except DraftConflict as conflict:
        return _render("workflows/_autosave_status.html", 409, state="conflict", draft=conflict.draft)
    except OutsideWindow as refused:
        return _render("workflows/_autosave_status.html", 409, state="closed", message=refused.message)
    return _render("workflows/_autosave_status.html", state="saved", draft=draft, version=saved.version)


# -- check answers, submit, confirmation -----------------------------------------------------------


@bp.get("/brouillons/<int:draft_id>/verifier", endpoint="check_answers")
def check_answers_page(draft_id: int):
    draft, workflow = drafts.open_draft(request_user(), draft_id)
    if draft.submitted_at is not None:
        return redirect(url_for(".confirmation", draft_id=draft.id))
    first = workflow.first_incomplete(draft.answers, draft.valid_steps)
    if first is not None:
        return redirect(_target_url(draft.id, first.name))
    declaration_form = None
    if workflow.declaration_form is not None:
        declaration_form = workflow.declaration_form(context=drafts.context_for(draft, request_user()))
    return _render_check_answers(draft, workflow, declaration_form)


def _render_check_answers(draft, workflow, declaration_form, status: int = 200, refused: str | None = None):
    last = workflow.path(draft.answers)[-1]
    return _render(
        "workflows/check_answers.html",
        status,
        workflow=workflow,
        draft=draft,
        sections=check_answers(workflow, draft.answers, drafts.context_for(draft, request_user())),
        back_url=_target_url(draft.id, last.name),
        declaration_form=declaration_form,
        has_errors=bool(declaration_form is not None and declaration_form.errors),
        window=drafts.window_of(draft),
        refused=refused,
    )


@bp.post("/brouillons/<int:draft_id>/envoyer")
def submit(draft_id: int):
    draft, workflow = drafts.load_draft(request_user(), draft_id)
    base_version = posted_version()
    try:
        outcome = draft_submission.submit_draft(
            request_user(), draft, workflow, base_version=base_version, declaration=request.form
        )
    except DraftConflict as conflict:
        saved = conflict.draft
        flash(
            f"Ces réponses ont été modifiées par {saved.updated_by.full_name} "
            f"le {paris(saved.updated_at)}. "
            "Vérifiez-les avant d'envoyer.",
            "info",
        )
        return navigate(url_for(".check_answers", draft_id=draft_id))
    except OutsideWindow as refused:
        return _render_check_answers(draft, workflow, None, 409, refused=refused.message)
    if outcome.declaration_form is not None:
        return _render_check_answers(draft, workflow, outcome.declaration_form, 422)
    if outcome.invalid_step is not None:
        flash("Une réponse n'est plus valide. Corrigez-la, puis envoyez de nouveau.", "info")
        url = url_for(".step", draft_id=draft_id, step_name=outcome.invalid_step.name, erreurs=1)
        return navigate(url)
    return navigate(url_for(".confirmation", draft_id=draft_id))


@bp.get("/brouillons/<int:draft_id>/confirmation")
def confirmation(draft_id: int):
    submission, draft, workflow = drafts.open_submission(request_user(), draft_id)
    if workflow.confirmation_url is not None:
        return redirect(workflow.confirmation_url(submission))
    return render_template(
        "workflows/confirmation.html", workflow=workflow, draft=draft, submission=submission
    )


@bp.get("/brouillons/<int:draft_id>/recapitulatif.pdf")
def summary_pdf(draft_id: int):
    """The « récapitulatif » PDF of a sent démarche, rendered from the form model version it was
    answered on (404 for a workflow with PDFs of its own: the DAT)."""
    submission, draft, workflow = drafts.open_submission(request_user(), draft_id)
    if not submission_pdf.has_summary_pdf(workflow):
        abort(404)
    data = submission_pdf.render(request_user(), submission, draft, workflow)
    return send_document(data, submission_pdf.filename(submission), inline=True)
