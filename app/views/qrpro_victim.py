"""The victim's side of QR Pro (issue 13, item 6; SPEC §1, §3.2): the access code printed in the
victim's letter (public page, no account needed), the account it opens, and « Mes dossiers » — the
victim's own cases: each case's stage and next date, the victim's letters, their questionnaire, the
dossier during the consultation with the victim's observations (items 7–8), their timeline and its PDF.
Any other case, letter or piece answers 404 — to another victim, an employer, an agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.domain.calendars import PARIS
from app.domain.cases import Party
from app.extensions import limiter
from app.forms.qrpro_victim import AccessCodeForm, VictimAccountForm
from app.services.accounts import AccountError
from app.services.qrpro import access_accounts, access_codes, consultation, employer, questionnaires, victim
from app.services.qrpro import letters as case_letters
from app.services.qrpro import timeline as case_timeline
from app.services.qrpro.access_codes import CodeNoLongerValid, CodeRefusal
from app.views.auth import _sign_in
from app.views.dat import pdf_response
from app.views.documents import send_document

bp = Blueprint("qrpro_victim", __name__)

# The session remembers a verified code this long, while its holder chooses an e-mail and a password.
VERIFIED_MINUTES = 30
SESSION_KEY = "qrpro_access_code"
INVALID = (
    "Le numéro de dossier ou le code d'accès est incorrect. Vérifiez-les sur votre courrier ; si un "
    "nouveau courrier vous a donné un autre code, seul le plus récent fonctionne."
)
NO_LONGER_VALID = (
    "Ce code d'accès n'est plus valable : il a déjà été utilisé, ou la caisse vous en a envoyé un "
    "nouveau. Saisissez le code de votre courrier le plus récent."
)


def access_code_rate_limit() -> str:
    return current_app.config["ACCESS_CODE_RATE_LIMIT"]


def _form_page(template: str, form, **context):
    has_errors = bool(form.errors)
    return render_template(template, form=form, has_errors=has_errors, **context), (
        422 if has_errors else 200
    )


def _locked_message(until: datetime) -> str:
    local = until.astimezone(PARIS)
    return (
        "Trop de codes incorrects ont été saisis pour ce dossier : par sécurité, il est bloqué jusqu'à "
        f"{local:%H} h {local:%M} (heure de Paris). Réessayez après cette heure-là avec le code de votre "
        "courrier le plus récent."
    )


def _verified_code_id() -> int | None:
    """The code verified in this browser a moment ago, if still fresh."""
    held = session.get(SESSION_KEY)
    if not isinstance(held, dict):
        return None
    try:
        at = datetime.fromisoformat(held["at"])
        code_id = int(held["id"])
    except (KeyError, TypeError, ValueError):
        return None
    if datetime.now(UTC) - at > timedelta(minutes=VERIFIED_MINUTES):
        return None
    return code_id


@bp.route("/acces-victime", methods=["GET", "POST"])
@limiter.limit(access_code_rate_limit, methods=["POST"])
def access_code():
    """Step 1: the case's reference and the access code of the letter."""
    signed_in = current_user.is_authenticated
    if signed_in and current_user.kind != "victim":
        return render_template("qrpro/victime/not_for_you.html"), 403
    form = AccessCodeForm()
    if form.validate_on_submit():
        result = access_codes.check_code(form.reference.data, form.code.data)
        if result.ok:
            if signed_in:
                try:
                    case = access_accounts.add_case(result.code_id, current_user._get_current_object())
                except CodeNoLongerValid:
                    form.code.errors.append(NO_LONGER_VALID)
                else:
                    flash(f"Le dossier {case.reference} est ajouté à votre compte.", "success")
                    return redirect(url_for(".case", case_id=case.id), 303)
            else:
                session[SESSION_KEY] = {"id": result.code_id, "at": datetime.now(UTC).isoformat()}
                return redirect(url_for(".create_account"), 303)
        elif result.refusal == CodeRefusal.LOCKED:
            form.code.errors.append(_locked_message(result.locked_until))
        else:
            form.code.errors.append(INVALID)
        form.code.data = ""
    return _form_page("qrpro/victime/access_code.html", form, signed_in=signed_in)


@bp.route("/acces-victime/compte", methods=["GET", "POST"])
@limiter.limit(access_code_rate_limit, methods=["POST"])
def create_account():
    """Step 2: the victim's e-mail and password; the account then sees this case."""
    if current_user.is_authenticated:
        return redirect(url_for(".cases"))
    code_id = _verified_code_id()
    case = access_codes.verified_case(code_id) if code_id is not None else None
    if case is None:
        session.pop(SESSION_KEY, None)
        flash("Saisissez d'abord le numéro de dossier et le code d'accès de votre courrier.", "info")
        return redirect(url_for(".access_code"))
    form = VictimAccountForm()
    if form.validate_on_submit():
        try:
            user, case = access_accounts.open_victim_account(code_id, form.email.data, form.password.data)
        except AccountError as error:
            form[error.field].errors.append(error.message)
        except CodeNoLongerValid:
            session.pop(SESSION_KEY, None)
            flash(NO_LONGER_VALID, "info")
            return redirect(url_for(".access_code"), 303)
        else:
            _sign_in(user)  # a fresh session: the verified code goes with the old one
            flash("Votre compte est créé. Vous pouvez répondre au questionnaire de la caisse.", "success")
            return redirect(url_for(".case", case_id=case.id), 303)
    return _form_page("qrpro/victime/create_account.html", form, case=case)


@bp.get("/mes-dossiers/")
@login_required
def cases():
    """« Mes dossiers »: the victim's cases, each with their questionnaire."""
    return cases_page()


def cases_page():
    """« Mes dossiers » (also the victim's home page, app/views/main.py)."""
    questionnaires.authorize_victim(current_user)
    rows = [
        (case, questionnaires.questionnaire_of(case, Party.VICTIM))
        for case in questionnaires.victim_cases(current_user)
    ]
    return render_template("qrpro/victime/cases.html", rows=rows)


def _render_case(case, *, errors=None, text="", status=200):
    return render_template(
        "qrpro/victime/case.html",
        case=case,
        questionnaire=questionnaires.questionnaire_of(case, Party.VICTIM),
        situation=victim.situation(case, consultation.case_today(case)),
        dates=employer.notified_dates(case),
        letters=victim.letters(case),
        consultable=consultation.is_consultable(case),
        documents=consultation.documents(case, for_party=Party.VICTIM),
        open_for_observations=consultation.observations_open(case),
        window_message=consultation.window_message(case),
        author_label=consultation.author_label,
        document_url=lambda document: url_for(
            "qrpro_victim.document", case_id=case.id, document_id=document.id
        ),
        observe_url=url_for("qrpro_victim.observe", case_id=case.id),
        other_party="de l'employeur" if len(case.employers) == 1 else "des employeurs",
        timeline=case_timeline.victim_timeline(case),
        errors=errors or {},
        text=text,
    ), status


@bp.get("/mes-dossiers/<int:case_id>")
@login_required
def case(case_id: int):
    return _render_case(questionnaires.open_victim_case(current_user, case_id))


@bp.post("/mes-dossiers/<int:case_id>/observations")
@login_required
def observe(case_id: int):
    record = questionnaires.victim_case_or_404(current_user, case_id)
    text = request.form.get("observations", "")
    try:
        consultation.add_observation(
            current_user, record, Party.VICTIM, text=text, file=request.files.get("fichier")
        )
    except consultation.DocumentRefused as refused:
        return _render_case(record, errors=refused.errors, text=text, status=422)
    told = "l'employeur en est informé" if len(record.employers) == 1 else "les employeurs en sont informés"
    flash(f"Vos observations sont annexées au dossier ; {told}.", "success")
    return redirect(url_for(".case", case_id=case_id), 303)


@bp.get("/mes-dossiers/<int:case_id>/courriers/<int:letter_id>")
@login_required
def letter(case_id: int, letter_id: int):
    record = questionnaires.victim_case_or_404(current_user, case_id)
    row = victim.letter_for(current_user, record, letter_id)
    return send_document(case_letters.content(row), f"{record.reference}-{row.letter_type}.pdf", inline=True)


@bp.get("/mes-dossiers/<int:case_id>/chronologie.pdf")
@login_required
def timeline_pdf(case_id: int):
    """The victim's own timeline, a tagged PDF to keep."""
    record = questionnaires.victim_case_or_404(current_user, case_id)
    return pdf_response(victim.timeline_pdf(current_user, record), f"{record.reference}-chronologie.pdf")


@bp.get("/mes-dossiers/<int:case_id>/documents/<int:document_id>")
@login_required
def document(case_id: int, document_id: int):
    record = questionnaires.victim_case_or_404(current_user, case_id)
    row, content = consultation.document_for(record, document_id, for_party=Party.VICTIM)
    return send_document(content, row.filename or "document", media_type=row.media_type)


@bp.app_context_processor
def _victim_nav() -> dict:
    return {
        "victim_nav": bool(current_user and current_user.is_authenticated and current_user.kind == "victim")
    }
