"""QR Pro, the CPAM agent's screens (issue 13, items 2–4 and 8): the work queue by next legal date, the
registration of an MP, a case's page (calendar with legal bases, letters, timeline) and its steps, each
its own form — open the instruction, choose the questionnaire models, send the questionnaires, change a
date, schedule the consultation and move it, record the decision. Thin: parse, call app/services/qrpro/,
render. Only agents of the competent CPAM see a case (another caisse: 404).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.domain import instruction as legal
from app.domain import qrpro as rules
from app.domain.accounts import Service
from app.domain.calendars import local_date
from app.domain.cases import Party
from app.forms import qrpro_agent as forms
from app.services import access
from app.services.qrpro import calendar, cases, consultation, instruction, letters, scheduling, timeline
from app.services.qrpro import decision as case_decision
from app.views.dat import pdf_response
from app.views.documents import send_document

TEXT_FIELDS = ("nir", "victim_name", "address", "postal_code", "city", "siret", "table", "disease_label")
FIXED_DATES = {
    rules.DateKind.CONSULTATION_OPENING,
    rules.DateKind.OBSERVATIONS_END,
    rules.DateKind.DECISION_PLANNED,
}

bp = Blueprint("qrpro_agent", __name__, url_prefix="/cpam/qrpro")


@bp.before_request
def _signed_in_agent():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    access.authorize_agent(current_user, Service.QRPRO)
    return None


@bp.get("/")
def queue():
    listing = cases.queue(
        current_user,
        after=request.args.get("apres"),
        before=request.args.get("avant"),
        last=request.args.get("fin") == "1",
    )
    today = local_date(datetime.now(UTC), "75")
    return render_template(
        "qrpro/agent/queue.html",
        listing=listing,
        urgency={case.id: rules.urgency(case.next_due_on, today) for case in listing.items},
        urgency_labels=rules.URGENCY_LABELS,
        stage_labels=rules.STAGE_LABELS,
    )


def _registration_field(form, name: str):
    """The form field of a service's error key: a field's name, or ``other_sirets-<i>`` (an entry)."""
    if name.startswith("other_sirets-"):
        return form.other_sirets.entries[int(name.rsplit("-", 1)[1])]
    return form[name]


@bp.route("/maladies/nouvelle", methods=["GET", "POST"])
def register_mp():
    form = forms.MpRegistrationForm(request.form if request.method == "POST" else None)
    if request.method == "POST" and request.form.get("action") == "ajouter-etablissement":
        # « Ajouter un autre établissement » (a submit button: works without JavaScript): the same page
        # with one more SIRET field, nothing checked nor stored yet.
        form.add_employer()
        focus = len(form.other_sirets.entries) - 1
        return render_template("qrpro/agent/register.html", form=form, focus=focus)
    if request.method == "POST" and "retirer" in request.form:
        form.remove_employer(request.form.get("retirer"))
        return render_template("qrpro/agent/register.html", form=form)
    if request.method == "POST":
        form.validate()
        data = cases.MpRegistration(
            **{name: (form[name].data if form[name].data is not None else "") for name in TEXT_FIELDS},
            other_sirets=[entry.data or "" for entry in form.other_sirets.entries],
            hors_tableau=bool(form.hors_tableau.data),
            first_finding_on=form.first_finding_on.data,
            declaration_received_on=form.declaration_received_on.data,
            cmi_received_on=form.cmi_received_on.data,
        )
        # With a form error already (a malformed date), the service only checks: nothing is stored.
        registered = cases.register_mp(current_user, data, check_only=bool(form.errors))
        for name, message in registered.errors.items():
            field = _registration_field(form, name)
            if not field.errors:
                field.errors = [message]
        # The list's own errors, as WTForms keeps them (the page's « Erreur : » and summary read them).
        form.other_sirets.errors = [entry.errors for entry in form.other_sirets.entries if entry.errors]
        if registered.case is not None:
            flash(f"Dossier de maladie professionnelle {registered.case.reference} enregistré.", "success")
            return redirect(url_for(".case", reference=registered.case.reference), 303)
        return render_template("qrpro/agent/register.html", form=form), 422
    return render_template("qrpro/agent/register.html", form=form)


def _models_form(data=None):
    return forms.ModelsForm(
        data,
        employer_choices=instruction.questionnaire_models(Party.EMPLOYER),
        victim_choices=instruction.questionnaire_models(Party.VICTIM),
    )


def _override_form(case, data=None):
    """The dates an agent may still change: computed ones not yet notified (the consultation's dates are
    changed by scheduling again)."""
    dates = calendar.dates_of(case)
    choices = [
        (str(kind), kind.label)
        for kind in rules.DATE_ORDER
        if kind in dates and kind not in FIXED_DATES and dates[kind].notified_on is None
    ]
    if case.stage == rules.Stage.DECIDE:
        choices = []
    return forms.OverrideForm(data, dates=choices)


def _render_case(case, *, status: int = 200, page_errors=None, **forms_given):
    models_form = forms_given.get("models_form") or _models_form()
    if not forms_given.get("models_form"):
        # The case's chosen models, else the QR Pro models of its kind when they are published.
        suffix = "at" if case.kind == "AT" else "mp"
        for field, party, chosen in (
            ("employer_model", "employeur", case.employer_model),
            ("victim_model", "victime", case.victim_model),
        ):
            code = chosen or f"qr-{suffix}-{party}"
            if any(choice.value == code for choice in models_form[field].choices):
                models_form[field].data = code
    dates = calendar.dates_of(case)
    edition = scheduling.schedule_edition(case)
    reschedule_form = forms_given.get("reschedule_form") or forms.RescheduleForm()
    return render_template(
        "qrpro/agent/case.html",
        case=case,
        stage=rules.Stage(case.stage),
        means=legal.investigation_means(case.kind, fatal=case.fatal),
        dates=[(kind, dates[kind]) for kind in rules.DATE_ORDER if kind in dates],
        letters=letters.letters_of(case),
        missing=case_decision.missing_information(case),
        uninformed=letters.uninformed_employers(case),
        timelines=timeline.party_timelines(case),
        models_form=models_form,
        chosen_models=instruction.chosen_models(case),
        due_if_sent=(
            instruction.questionnaire_due_if_sent(case) if case.stage == rules.Stage.OUVERTE else None
        ),
        override_form=forms_given.get("override_form") or _override_form(case),
        override_open="override_form" in forms_given,
        schedule_form=forms_given.get("schedule_form") or forms.ScheduleForm(),
        reschedule_form=reschedule_form,
        reschedule_open="reschedule_form" in forms_given,
        edition=edition,
        decision_form=forms_given.get("decision_form") or forms.DecisionForm(),
        page_errors=page_errors or [],
        documents=consultation.documents(case),
        author_label=consultation.author_label,
        piece_errors=forms_given.get("piece_errors") or {},
        decision=rules.Decision(case.decision) if case.decision else None,
    ), status


def _refused(record, refused: instruction.StepRefused, form=None, form_name: str = ""):
    """A refused step: each message next to its field, the others (a step out of order) at the top."""
    page_errors = []
    for name, message in refused.errors.items():
        if form is not None and name in form:
            form[name].errors = [message]
        else:
            page_errors.append(message)
    given = {form_name: form} if form is not None else {}
    return _render_case(record, status=422, page_errors=page_errors, **given)


def _step(record, run, done, *, form=None, form_name: str = "", unchanged: str = ""):
    """One of the agent's steps on a case: ``run()`` gives its outcome. Refused: the case page again,
    each message in its place (422). Done: ``done`` (a text, or a function of the outcome giving it)
    shown on the case page; a retry that changed nothing shows ``unchanged``, when given."""
    try:
        outcome = run()
    except instruction.StepRefused as refused:
        return _refused(record, refused, form, form_name)
    if outcome.done:
        flash(done(outcome) if callable(done) else done, "success")
    elif unchanged:
        flash(unchanged, "info")
    return redirect(url_for(".case", reference=record.reference), 303)


@bp.get("/dossiers/<reference>")
def case(reference: str):
    return _render_case(cases.case_for_agent(current_user, reference))


@bp.post("/dossiers/<reference>/ouverture")
def open_instruction(reference: str):
    record = cases.case_for_agent(current_user, reference, action="open")
    return _step(
        record,
        lambda: instruction.open_instruction(current_user, record),
        lambda outcome: (
            "Enquête ouverte : les courriers sont déposés."
            if outcome.case.stage == rules.Stage.ENQUETE
            else "Instruction ouverte : choisissez maintenant les modèles de questionnaire."
        ),
    )


@bp.post("/dossiers/<reference>/modeles")
def choose_models(reference: str):
    record = cases.case_for_agent(current_user, reference, action="models")
    form = _models_form(request.form)
    form.validate()
    return _step(
        record,
        lambda: instruction.choose_models(
            current_user, record, employer_model=form.employer_model.data, victim_model=form.victim_model.data
        ),
        "Modèles de questionnaire enregistrés : vous pouvez envoyer les questionnaires.",
        form=form,
        form_name="models_form",
    )


@bp.post("/dossiers/<reference>/envoi")
def send_questionnaires(reference: str):
    record = cases.case_for_agent(current_user, reference, action="send")
    return _step(
        record,
        lambda: instruction.send_questionnaires(current_user, record),
        "Questionnaires envoyés : les courriers sont déposés.",
    )


@bp.post("/dossiers/<reference>/dates")
def override_date(reference: str):
    record = cases.case_for_agent(current_user, reference, action="date")
    form = _override_form(record, request.form)
    if form.validate():
        kind = form.date.data
        try:
            calendar.override(current_user, record, kind, form.nouvelle_date.data, form.motif.data or "")
        except calendar.DateRefused as refused:
            field = form.motif if refused.field == "motif" else form.nouvelle_date
            field.errors = [refused.message]
        else:
            flash(f"Date modifiée : {rules.DateKind(kind).label}.", "success")
            return redirect(url_for(".case", reference=reference), 303)
    return _render_case(record, status=422, override_form=form)


@bp.post("/dossiers/<reference>/consultation")
def schedule(reference: str):
    record = cases.case_for_agent(current_user, reference, action="consultation")
    form = forms.ScheduleForm(request.form)
    form.validate()
    if form.errors:
        return _render_case(record, status=422, schedule_form=form)
    return _step(
        record,
        lambda: scheduling.schedule_consultation(
            current_user, record, opening=form.opening.data, decision_on=form.decision_on.data
        ),
        "Consultation programmée : les parties sont informées.",
        form=form,
        form_name="schedule_form",
    )


@bp.post("/dossiers/<reference>/consultation/nouvelles-dates")
def reschedule(reference: str):
    record = cases.case_for_agent(current_user, reference, action="reschedule")
    form = forms.RescheduleForm(request.form)
    form.validate()
    if form.errors:
        return _render_case(record, status=422, reschedule_form=form)
    return _step(
        record,
        lambda: scheduling.reschedule_consultation(
            current_user,
            record,
            opening=form.opening.data,
            decision_on=form.decision_on.data,
            reason=form.reason.data or "",
            seen_edition=form.seen_edition,
        ),
        "Consultation reprogrammée : un nouveau courrier informe les parties.",
        form=form,
        form_name="reschedule_form",
        unchanged="La consultation avait déjà été reprogrammée : aucun nouveau courrier.",
    )


@bp.post("/dossiers/<reference>/decision")
def decide(reference: str):
    record = cases.case_for_agent(current_user, reference, action="decision")
    form = forms.DecisionForm(request.form)
    form.validate()
    if form.errors:
        return _render_case(record, status=422, decision_form=form)
    return _step(
        record,
        lambda: case_decision.record_decision(
            current_user,
            record,
            decision=form.decision.data,
            reasons=form.reasons.data or "",
            without_information_reason=form.without_information_reason.data or "",
        ),
        "Décision enregistrée et notifiée.",
        form=form,
        form_name="decision_form",
    )


@bp.get("/dossiers/<reference>/courriers/<int:letter_id>.pdf")
def letter_pdf(reference: str, letter_id: int):
    record = cases.case_for_agent(current_user, reference, action="letter")
    row = next((row for row in letters.letters_of(record) if row.id == letter_id), None)
    if row is None:
        abort(404)
    addressee = f"{row.party}-{row.establishment.siret}" if row.establishment is not None else row.party
    return pdf_response(letters.content(row), f"{record.reference}-{row.letter_type}-{addressee}.pdf")


@bp.get("/dossiers/<reference>/chronologie.pdf")
def timeline_pdf(reference: str):
    record = cases.case_for_agent(current_user, reference, action="timeline")
    return pdf_response(timeline.timeline_pdf(record), f"{record.reference}-chronologie.pdf")


@bp.post("/dossiers/<reference>/pieces")
def add_piece(reference: str):
    record = cases.case_for_agent(current_user, reference, action="piece")
    try:
        consultation.add_piece(
            current_user,
            record,
            title=request.form.get("titre", ""),
            file=request.files.get("fichier"),
            secret_medical=request.form.get("secret_medical") == "oui",
        )
    except consultation.DocumentRefused as refused:
        return _render_case(record, status=422, piece_errors=refused.errors)
    flash("Pièce ajoutée au dossier.", "success")
    return redirect(url_for(".case", reference=reference), 303)


@bp.get("/dossiers/<reference>/documents/<int:document_id>")
def document(reference: str, document_id: int):
    record = cases.case_for_agent(current_user, reference, action="document")
    row, content = consultation.document_for(record, document_id)
    return send_document(content, row.filename or "document", media_type=row.media_type)


@bp.app_context_processor
def _navigation() -> dict:
    """« Dossiers en instruction » in the main navigation of a CPAM agent (no query)."""
    return {"qrpro_agent_nav": bool(current_user) and access.agent_serves(current_user, Service.QRPRO)}
