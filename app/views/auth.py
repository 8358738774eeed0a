"""Sign-in, sign-out, password reset and invitation links (SPEC §1)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException

from app import sessions
from app.extensions import limiter
from app.forms.accounts import (
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
)
from app.services import accounts, user_sessions
from app.services.accounts import AccountError, SignInError

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "Adresse e-mail ou mot de passe incorrect"


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def reset_rate_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site ("/..."), else None: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _saves_a_step(path: str) -> bool:
    """Whether ``path`` is where a workflow step is saved: the only place carried answers go."""
    try:
        endpoint, _ = current_app.url_map.bind(request.host).match(urlsplit(path).path, method="POST")
    except HTTPException:
        return False
    return endpoint == "workflows.save_step"


def _new_session() -> None:
    """Forget everything in the session (sign-in, sign-out, password change). The CSRF token this
    request already generated belonged to the old session: drop it so the next one is fresh."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _sign_in(user) -> None:
    """A fresh session (nothing from before survives: session fixation) that ends after a while
    without activity, and at the latest some hours later (app/sessions.py), or as soon as it is
    revoked on the server (sign-out, password change…: app/services/user_sessions.py)."""
    _new_session()
    token = user_sessions.open_session(user, request.headers.get("User-Agent"))
    login_user(user)
    session[sessions.SERVER_SESSION_KEY] = token
    sessions.start(session)


def _sign_out() -> None:
    logout_user()
    _new_session()


def _lockout_rule() -> dict:
    config = current_app.config
    return {"threshold": config["LOCKOUT_THRESHOLD"], "minutes": config["LOCKOUT_MINUTES"]}


def _failed_attempts_message(count: int) -> str:
    attempts = (
        "1 tentative de connexion a échoué" if count == 1 else f"{count} tentatives de connexion ont échoué"
    )
    return (
        f"{attempts} sur votre compte depuis votre dernière connexion (mot de passe incorrect). "
        "Si ce n'était pas vous, changez votre mot de passe dans « Mon compte »."
    )


def _form_page(template: str, form, **context):
    """Render a form page; a form with errors answers 422 (htmx swaps it, browsers show it)."""
    has_errors = bool(form.errors)
    return render_template(template, form=form, has_errors=has_errors, **context), (
        422 if has_errors else 200
    )


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    carried = sessions.answers_carried(request.form)
    if form.validate_on_submit():
        result = accounts.sign_in(form.email.data, form.password.data)
        if result.ok:
            _sign_in(result.user)
            if result.failed_before:
                flash(_failed_attempts_message(result.failed_before), "warning")
            target = safe_next(form.next.data)
            if carried and target and _saves_a_step(target):
                return render_template("auth/resume_answers.html", target=target, carried=carried)
            return redirect(target or url_for("main.dashboard"))
        if result.error == SignInError.INACTIVE:  # the right password: the holder may know it
            message = "Ce compte est désactivé. Adressez-vous à l'administrateur de votre entreprise."
        else:
            # A locked account gets the unknown e-mail's answer, word for word (and the same work:
            # accounts.sign_in), so that the page tells no one which addresses have an account.
            # The holder learns of the lock by e-mail.
            message = GENERIC_FAILURE
        form.email.errors.append(message)
        form.password.data = ""
    return _form_page("auth/login.html", form, carried=carried, lockout=_lockout_rule())


@bp.post("/deconnexion")
@login_required
def logout():
    accounts.record_sign_out(current_user, session.get(sessions.SERVER_SESSION_KEY))
    _sign_out()
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("auth.login"))


@bp.post("/compte/sessions/fermer")
@login_required
def sign_out_everywhere():
    """« Se déconnecter de tous les appareils »: every session of the account ends, this one too."""
    count = accounts.sign_out_everywhere(current_user._get_current_object())
    _sign_out()
    flash(
        "Vous êtes déconnecté de tous vos appareils"
        + (f" ({count} sessions fermées)." if count > 1 else "."),
        "success",
    )
    return redirect(url_for("auth.login"), 303)


@bp.get("/compte")
@login_required
def account():
    return render_template(
        "auth/account.html",
        user=current_user,
        sign_ins=accounts.recent_sign_ins(current_user),
        open_sessions=user_sessions.open_sessions(current_user, current_app.config["SESSION_MAX_HOURS"]),
        form=ConfirmForm(),
    )


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@login_required
@limiter.limit(login_rate_limit, methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current.data, form.password.data)
        except AccountError as error:
            form[error.field].errors.append(error.message)
        else:
            # The other sessions end (credentials_version); this one goes on, as a fresh session.
            _sign_in(user)
            flash("Votre mot de passe est modifié. Vos autres sessions ouvertes sont fermées.", "success")
            return redirect(url_for(".account"), 303)
    return _form_page("auth/change_password.html", form, user=current_user)


@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
@limiter.limit(reset_rate_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        return render_template("auth/reset_sent.html", email=form.email.data)
    return _form_page("auth/forgot_password.html", form)


@bp.route("/mot-de-passe/nouveau/<token>", methods=["GET", "POST"])
@limiter.limit(reset_rate_limit, methods=["POST"])
def reset_password(token: str):
    user = accounts.user_for_reset_token(token)
    if user is None:
        return render_template("auth/link_invalid.html", purpose="reset"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(user, form.password.data)
        except AccountError as error:
            form[error.field].errors.append(error.message)
        else:
            _sign_out()
            flash("Votre mot de passe est modifié. Connectez-vous avec le nouveau.", "success")
            return redirect(url_for("auth.login"))
    return _form_page("auth/new_password.html", form, user=user, purpose="reset")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(reset_rate_limit, methods=["POST"])
def accept_invitation(token: str):
    user = accounts.user_for_invitation_token(token)
    if user is None:
        return render_template("auth/link_invalid.html", purpose="invitation"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.accept_invitation(user, form.password.data)
        except AccountError as error:
            form[error.field].errors.append(error.message)
        else:
            _sign_out()
            flash("Votre compte est activé. Connectez-vous avec votre adresse e-mail.", "success")
            return redirect(url_for("auth.login"))
    return _form_page("auth/new_password.html", form, user=user, purpose="invitation")


def _session_expired():
    return jsonify(error="session_expiree", message="Votre session a expiré. Reconnectez-vous."), 401


def _time_left(*, active_now: bool):
    response = jsonify(remaining_seconds=sessions.seconds_left(current_app, session, active_now=active_now))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/session/etat")
def session_status():
    """Seconds before the session ends: app.js asks before warning, because another tab may have
    been active meanwhile. Not activity: the session's end stays where it was (app/sessions.py)."""
    if not current_user.is_authenticated:
        return _session_expired()
    return _time_left(active_now=False)


@bp.post("/session/prolonger")
def extend_session():
    """« Rester connecté » in the warning: like any request, it pushes the session's end back."""
    if not current_user.is_authenticated:
        return _session_expired()
    return _time_left(active_now=True)


@bp.get("/session/jeton")
def csrf_token():
    """A fresh CSRF token for a page whose session was renewed meanwhile (a sign-in in another tab):
    app.js fetches it before retrying a failed autosave. 401 while signed out."""
    if not current_user.is_authenticated:
        return _session_expired()
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response
