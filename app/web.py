"""Request-level wiring shared by every blueprint: login loading, security headers, htmx helpers,
template globals, error pages."""

from __future__ import annotations

import contextlib
import json
import re
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_url
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter

from app import sessions
from app.domain.calendars import PARIS
from app.extensions import db, login_manager
from app.forms.accounts import LoginForm
from app.models import SERVICE_LABELS, Service, User
from app.services import user_sessions

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

ERROR_TEXTS = {
    400: ("Requête incorrecte", "La requête n'a pas pu être comprise. Revenez en arrière et réessayez."),
    401: ("Session expirée", "Votre session a expiré. Reconnectez-vous : vos brouillons sont conservés."),
    403: ("Accès refusé", "Vous n'avez pas d'habilitation pour ce service sur cet établissement."),
    404: ("Page introuvable", "Vérifiez l'adresse saisie, ou revenez à votre tableau de bord."),
    405: ("Action non autorisée", "Cette action n'est pas possible sur cette page."),
    409: ("Conflit", "Ces informations ont été modifiées entre-temps."),
    414: (
        "Adresse trop longue",
        "L'adresse de la page demandée est trop longue. Revenez en arrière, ou repartez de l'accueil.",
    ),
    413: ("Fichier trop volumineux", "Le fichier ou le formulaire envoyé dépasse la taille autorisée."),
    422: ("Données invalides", "Les informations envoyées ne sont pas valides."),
    429: (
        "Trop de tentatives",
        "Vous avez fait trop de tentatives. Patientez quelques minutes puis réessayez.",
    ),
    500: (
        "Erreur technique",
        "Une erreur s'est produite de notre côté. Vos données enregistrées ne sont pas perdues ; "
        "réessayez dans quelques instants.",
    ),
}


# htmx's settings, in a <meta> of every page (written once: the context processor runs for every
# template, each form field's included).
HTMX_CONFIG = json.dumps(
    {
        "historyCacheSize": 0,
        "includeIndicatorStyles": False,
        "allowScriptTags": False,
        "allowEval": False,
        # Never copy a style attribute while settling a swap (CSP: no inline style).
        "attributesToSettle": ["class", "width", "height"],
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "422", "swap": True, "error": False},
            {"code": "409", "swap": True, "error": False},
            {"code": "[45]..", "swap": False, "error": True},
        ],
    }
)


def request_user():
    """The user of this request — Flask-Login's anonymous user when nobody is signed in — as the
    object itself. ``current_user`` is a proxy that finds the user again (the request context, ``g``,
    Flask-Login's loader check) on every attribute read; a view reads it once here and gives services
    the object, which read a dozen of its attributes per request (issue 11)."""
    return current_user._get_current_object()


def is_htmx() -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def page_number(value: str | None) -> int:
    """The page a listing's ``page`` parameter asks for; 1 when it is missing or not a small number."""
    return int(value) if value and value.isdigit() and len(value) < 6 else 1


def navigate(url: str):
    """Leave the page: a 303 redirect, or for an htmx request a full navigation (HX-Redirect)."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def _page_left() -> str | None:
    """The page a request came from (the referrer, on this site), to go back to after signing in."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def paris(value, fmt: str = "%d/%m/%Y à %H h %M") -> str:
    """Format an aware datetime in Europe/Paris for the UI."""
    if value is None:
        return ""
    return local_format(value.astimezone(PARIS), fmt)


def local_format(value, fmt: str = "%d/%m/%Y à %H h %M") -> str:
    """strftime for a datetime already in its local time zone; the spaces around "h" do not break."""
    return value.strftime(fmt).replace(" h ", "\u00a0h\u00a0")


# Each service's page for one establishment; services not online yet have none.
# A service's page for one establishment: its endpoint and the argument naming the establishment.
SERVICE_PAGES = {
    Service.DAT: ("dat.index", "etablissement"),
    Service.LUCIE: ("lucie.mailbox", "etablissement"),
    Service.COMPTE: ("compte.account", "establishment_id"),
    Service.SUBVENTIONS: ("subventions.index", "etablissement"),
    Service.QRPRO: ("qrpro_dossiers.by_id", "establishment_id"),
}


def service_url(service, establishment) -> str | None:
    page = SERVICE_PAGES.get(Service(service))
    if page is None:
        return None
    endpoint, argument = page
    return url_for(endpoint, **{argument: establishment.id})


# Ids are INTEGER columns, 32-bit in PostgreSQL: a larger number in a URL names nothing.
DATABASE_INT_MAX = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` everywhere: a number the database cannot hold names nothing (404), instead of
    reaching a query and failing there (500)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > DATABASE_INT_MAX:
            # NotFound, not ValidationError: Werkzeug turns the latter into a 405 when a sibling
            # rule of the same path has other methods.
            raise NotFound()
        return number


def wants_json() -> bool:
    return request.path.startswith("/api/")


# Characters an HTML page may not hold (C0 and C1 controls but tab, line feed, form feed and carriage
# return; noncharacters). A draft keeps its raw answers as typed or pasted, whatever they hold: printed,
# these become U+FFFD, so that no stored answer makes a page invalid.
_NOT_IN_HTML = dict.fromkeys(
    [
        *range(0x00, 0x09),
        0x0B,
        *range(0x0E, 0x20),
        *range(0x7F, 0xA0),
        *range(0xFDD0, 0xFDF0),
        *(plane * 0x10000 + last for plane in range(17) for last in (0xFFFE, 0xFFFF)),
    ],
    "\ufffd",
)


# A superset of _NOT_IN_HTML in few ranges (all characters above U+1FFFD): one search, in C, tells
# whether a value holds none of them, without translating it char by char.
_MAYBE_NOT_IN_HTML = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\U0001fffe-\U0010ffff]"
)


def printable(value):
    """Jinja's ``finalize``: every printed value without the characters HTML forbids."""
    # Markup.translate stays Markup (markupsafe wraps it), a str stays a str to be escaped. Most
    # values pass str.isprintable() (which refuses each of these characters) or the search.
    if isinstance(value, str) and not value.isprintable() and _MAYBE_NOT_IN_HTML.search(value):
        return value.translate(_NOT_IN_HTML)
    return value


def _without_database() -> None:
    """A server error may come from the database itself (a dropped connection, an outage): end the
    request's transaction and show the error page as to a visitor, so that rendering it needs no
    query (loading the user in a failed transaction made the handler fail, and gunicorn answered
    its bare English page)."""
    with contextlib.suppress(Exception):
        db.session.rollback()
    g._login_user = login_manager.anonymous_user()  # Flask-Login's user of this request


def register_web(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter  # before any blueprint adds its rules
    from app.services import metrics

    metrics.init_app(app)  # first: its clock starts before the other hooks run
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The session must still be open on the server (revoked on sign-out, password change…).
        return user_sessions.signed_in_user(user_id, session.get(sessions.SERVER_SESSION_KEY))

    @login_manager.unauthorized_handler
    def sign_in_first():
        message = login_manager.login_message
        if ended := sessions.ended_message(app, session):
            message = f"{ended} Ce qui était enregistré est conservé : connectez-vous pour reprendre."
        flash(message, login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, next_url=request.url))

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        user = request_user()
        if user and user.is_authenticated:
            # Pages with personal data are never stored by the browser or a proxy.
            headers.setdefault("Cache-Control", "no-store")
        if "HX-Request" in request.headers:
            headers.add("Vary", "HX-Request")
        return response

    if app.config["TESTING"]:

        @app.after_request
        def no_pending_writes(response):
            # A request commits through a service; left-over changes are a bug the tests must see.
            session = db.session
            if session.new or session.dirty or session.deleted:
                raise RuntimeError(
                    f"request to {request.path} left uncommitted changes: "
                    f"{list(session.new) + list(session.dirty) + list(session.deleted)}"
                )
            return response

    @app.context_processor
    def globals_():
        return {
            "is_htmx": is_htmx(),
            "Service": Service,
            "SERVICE_LABELS": SERVICE_LABELS,
            "htmx_config": HTMX_CONFIG,
        }

    app.jinja_env.finalize = printable
    app.jinja_env.filters["paris"] = paris
    from app.forms.workflows import first_input_id

    app.jinja_env.globals["first_input_id"] = first_input_id
    app.jinja_env.globals["service_url"] = service_url
    app.jinja_env.filters["duration_fr"] = sessions.duration_fr

    def render_error(code: int, description: str | None = None):
        title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
        if code >= 500:
            _without_database()
        if wants_json():
            from app.views.api import error as api_error  # the API's codes, as docs/api.md lists them

            return api_error(code, description)
        sign_in = url_for("auth.login", next=_page_left()) if code == 401 else None
        return render_template(
            "errors/error.html", code=code, title=title, text=description or text, sign_in=sign_in
        ), code

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if is_htmx() and not current_user.is_authenticated:
            # An autosave after a sign-out (expiry, another tab): app.js says the session expired
            # and retries after a new sign-in, with a fresh token from auth.csrf_token.
            return render_error(401)
        ended = sessions.ended_message(app, session)
        if ended and request.endpoint == "workflows.save_step":
            # A step sent without JavaScript after the session ended: the sign-in page carries
            # what was typed, to be saved once signed in again (auth.login).
            form = LoginForm(formdata=None, next=request.path)
            notice = (
                f"{ended} Ce que vous venez d'envoyer n'est pas perdu : connectez-vous, "
                "puis confirmez son enregistrement."
            )
            carried = sessions.answers_sent(request.form)
            return render_template("auth/login.html", form=form, notice=notice, carried=carried), 401
        if ended:
            # Any other form sent without JavaScript after the session ended: say what was lost.
            return render_error(
                401,
                f"{ended} Ce que vous venez d'envoyer n'a pas été enregistré ; ce qui l'avait été "
                "avant est conservé. Connectez-vous pour reprendre.",
            )
        return render_error(
            400,
            "Votre session a expiré ou le formulaire est trop ancien. Rechargez la page : "
            "ce que vous aviez enregistré est conservé.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (301, 302, 303, 307, 308) or error.code is None:
            return error
        description = getattr(error, "french_description", None)
        response = make_response(render_error(error.code, description))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # RFC 9110 §15.5.6: a 405 lists the methods the resource does allow.
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.teardown_request
    def _rollback_leftovers(exc):
        # An unhandled error leaves nothing half-saved (Flask wraps it in a 500 handled above).
        if exc is not None:
            db.session.rollback()

    @app.before_request
    def _mark_start():
        g.htmx = is_htmx()
        # No page of ours needs a longer address; gunicorn lets longer ones through (gunicorn.conf.py)
        # so that this answer is French.
        if len(request.environ.get("RAW_URI") or request.full_path) > app.config["MAX_URL_LENGTH"]:
            abort(414)
