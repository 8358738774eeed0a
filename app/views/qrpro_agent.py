"""QR Pro, the CPAM agent's screens (issue 13, items 2–4 and 8): the work queue by next legal date, the
registration of an MP, a case's page (calendar with legal bases, letters, timeline) and its steps — open the
instruction, change a date, schedule the consultation, record the decision. Thin: parse, call
app/services/qrpro/, render. Only agents of the competent CPAM see a case (another caisse: 404).
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
from app.services.qrpro import calendar, cases, consultation, instruction, letters, timeline
from app.views.dat import pdf_response
from app.views.documents import send_document
from app.web import page_number

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
    listing = cases.queue(current_user, page_number(request.args.get("page")))
    today = local_date(datetime.now(UTC), "75")
    return render_template(
        "qrpro/agent/queue.html",
        listing=listing,
        query_args={},
        urgency={case.id: rules.urgency(case.next_due_on, today) for case in listing.items},
        urgency_labels=rules.URGENCY_LABELS,
        stage_labels=rules.STAGE_LABELS,
    )


@bp.route("/maladies/nouvelle", methods=["GET", "POST"])
def register_mp():
    form = forms.MpRegistrationForm(request.form if request.method == "POST" else None)
    if request.method == "POST":
        form.validate()
        data = cases.MpRegistration(
            **{name: (form[name].data if form[name].data is not None else "") for name in TEXT_FIELDS},
            hors_tableau=bool(form.hors_tableau.data),
            first_finding_on=form.first_finding_on.data,
            declaration_received_on=form.declaration_received_on.data,
            cmi_received_on=form.cmi_received_on.data,
        )
        # With a form error already (a malformed date), the service only checks: nothing is stored.
        registered = cases.register_mp(current_user, data, check_only=bool(form.errors))
        for name, message in registered.errors.items():
            if not form[name].errors:
                form[name].errors = [message]
        if registered.case is not None:
            flash(f"Dossier de maladie professionnelle {registered.case.reference} enregistré.", "success")
            return redirect(url_for(".case", reference=registered.case.reference), 303)
        return render_template("qrpro/agent/register.html", form=form), 422
    return render_template("qrpro/agent/register.html", form=form)


def _open_form(data=None):
    return forms.OpenForm(
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
    open_form = forms_given.get("open_form") or _open_form()
    if case.stage == rules.Stage.A_OUVRIR and not forms_given.get("open_form"):
        suffix = "at" if case.kind == "AT" else "mp"
        for field, party in (("employer_model", "employeur"), ("victim_model", "victime")):
            code = f"qr-{suffix}-{party}"
            if any(choice[0] == code for choice in open_form[field].choices):
                open_form[field].data = code
    dates = calendar.dates_of(case)
    return render_template(
        "qrpro/agent/case.html",
        case=case,
        stage=rules.Stage(case.stage),
        means=legal.investigation_means(case.kind, fatal=case.fatal),
        dates=[(kind, dates[kind]) for kind in rules.DATE_ORDER if kind in dates],
        letters=letters.letters_of(case),
        missing=instruction.missing_information(case),
        timelines=[(party, timeline.timeline(case, party)) for party in (Party.EMPLOYER, Party.VICTIM)],
        open_form=open_form,
        override_form=forms_given.get("override_form") or _override_form(case),
        override_open="override_form" in forms_given,
        schedule_form=forms_given.get("schedule_form") or forms.ScheduleForm(),
        decision_form=forms_given.get("decision_form") or forms.DecisionForm(),
        page_errors=page_errors or [],
        documents=consultation.documents(case),
        author_label=consultation.author_label,
        piece_errors=forms_given.get("piece_errors") or {},
        decision=rules.Decision(case.decision) if case.decision else None,
    ), status


@bp.get("/dossiers/<reference>")
def case(reference: str):
    return _render_case(cases.case_for_agent(current_user, reference))


@bp.post("/dossiers/<reference>/ouverture")
def open_instruction(reference: str):
    record = cases.case_for_agent(current_user, reference, action="open")
    form = _open_form(request.form)
    form.validate()
    try:
        outcome = instruction.open_instruction(
            current_user, record, employer_model=form.employer_model.data, victim_model=form.victim_model.data
        )
    except instruction.StepRefused as refused:
        page_errors = []
        for name, message in refused.errors.items():
            if name in form:
                form[name].errors = [message]
            else:
                page_errors.append(message)
        return _render_case(record, status=422, open_form=form, page_errors=page_errors)
    if outcome.done:
        flash("Instruction ouverte : les courriers sont déposés.", "success")
    return redirect(url_for(".case", reference=reference), 303)


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
    if not form.errors:
        try:
            outcome = instruction.schedule_consultation(
                current_user, record, opening=form.opening.data, decision_on=form.decision_on.data
            )
        except instruction.StepRefused as refused:
            for name, message in refused.errors.items():
                form[name].errors = [message]
        else:
            if outcome.done:
                flash("Consultation programmée : les parties sont informées.", "success")
            return redirect(url_for(".case", reference=reference), 303)
    return _render_case(record, status=422, schedule_form=form)


@bp.post("/dossiers/<reference>/decision")
def decide(reference: str):
    record = cases.case_for_agent(current_user, reference, action="decision")
    form = forms.DecisionForm(request.form)
    form.validate()
    if not form.errors:
        try:
            outcome = instruction.record_decision(
                current_user,
                record,
                decision=form.decision.data,
                reasons=form.reasons.data or "",
                without_information_reason=form.without_information_reason.data or "",
            )
        except instruction.StepRefused as refused:
            for name, message in refused.errors.items():
                form[name].errors = [message]
        else:
            if outcome.done:
                flash("Décision enregistrée et notifiée.", "success")
            return redirect(url_for(".case", reference=reference), 303)
    return _render_case(record, status=422, decision_form=form)


@bp.get("/dossiers/<reference>/courriers/<int:letter_id>.pdf")
def letter_pdf(reference: str, letter_id: int):
    record = cases.case_for_agent(current_user, reference, action="letter")
    row = next((row for row in letters.letters_of(record) if row.id == letter_id), None)
    if row is None:
        abort(404)
    return pdf_response(letters.content(row), f"{record.reference}-{row.letter_type}-{row.party}.pdf")


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
