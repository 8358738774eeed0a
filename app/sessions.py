"""Sessions that end: a signed-in session ends after ``SESSION_IDLE_MINUTES`` without a request, and
at the latest ``SESSION_MAX_HOURS`` after the sign-in (docs/security.md).

The session stays Flask's signed cookie. Its signature carries the time it was signed, and a
signed-in session is signed again on every request (``SESSION_REFRESH_EACH_REQUEST``), so that
time is the user's last activity. A request that is not activity (a static file, the status
app.js asks for before warning) leaves the cookie as it is.

The cookie itself lives as long as the maximum, longer than the idle time: a browser that comes
back after the session ended still sends it, so the user is told why they must sign in again
instead of being sent to the sign-in page without a word.

The messages of ``flash()`` travel in a signed cookie of their own (``<session cookie>-messages``),
set only by a request that adds or shows one. In the session's cookie they were lost to any
request of the page still on its way during a save: its answer, signed from the cookie sent before
the save, came last and replaced the one holding « Ligne enregistrée. ».
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

SIGNED_IN_AT = "signed_in_at"
USER_KEY = "_user_id"  # Flask-Login's key: a session that holds it is signed in
# The random token naming this browser's row in `user_session` (app/services/user_sessions.py): the
# server checks on every request that it is still open, so that signing out ends a copied cookie too.
SERVER_SESSION_KEY = "_sid"
# Requests that are not the user's activity: they never push the session's end back.
NOT_ACTIVITY = frozenset({"static", "auth.session_status"})
FLASHES = "_flashes"  # where flask.flash() keeps its messages in the session
MESSAGES_COOKIE_SUFFIX = "-messages"


class TimedSession(SecureCookieSession):
    #: When the cookie was last signed (epoch seconds): the last request that counted as activity.
    signed_at: float | None = None
    #: "idle" or "max" when the browser sent a signed-in session that has ended.
    ended: str | None = None
    #: The messages the browser sent in their cookie (a copy: flash() appends in place).
    messages_received: list | None = None


class _MessagesSigner(SecureCookieSessionInterface):
    """The session's keys and serializer, another salt: a messages cookie is no session cookie."""

    salt = "flash-messages"


def idle_seconds(app: Flask) -> float:
    return app.config["SESSION_IDLE_MINUTES"] * 60


def max_seconds(app: Flask) -> float:
    return app.config["SESSION_MAX_HOURS"] * 3600


class TimedSessionInterface(SecureCookieSessionInterface):
    session_class = TimedSession

    def open_session(self, app: Flask, request) -> TimedSession | None:
        session = self._open_session(app, request)
        if session is not None and (value := request.cookies.get(self.messages_cookie_name(app))):
            try:
                messages = _MessagesSigner().get_signing_serializer(app).loads(value)
            except BadSignature:
                messages = None
            if isinstance(messages, list) and messages:
                dict.__setitem__(session, FLASHES, messages)  # as if never left: not a change
                session.messages_received = list(messages)
        return session

    def _open_session(self, app: Flask, request) -> TimedSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return TimedSession()
        try:
            data, signed = serializer.loads(value, return_timestamp=True)
        except BadSignature:
            return TimedSession()
        now = time.time()
        signed_at = signed.timestamp()
        if USER_KEY in data:
            ended = None
            if now - data.get(SIGNED_IN_AT, now) > max_seconds(app):
                ended = "max"
            elif now - signed_at > idle_seconds(app):
                ended = "idle"
            if ended:
                session = TimedSession()
                session.ended = ended
                return session
        elif now - signed_at > max_seconds(app):
            return TimedSession()  # a sign-in page left open overnight: a fresh CSRF token
        session = TimedSession(data)
        session.signed_at = signed_at
        return session

    def get_expiration_time(self, app: Flask, session) -> datetime | None:
        if session.permanent:
            return datetime.now(UTC) + timedelta(seconds=max_seconds(app))
        return None

    def should_set_cookie(self, app: Flask, session) -> bool:
        if request.endpoint in NOT_ACTIVITY and not session.modified:
            return False
        return super().should_set_cookie(app, session)

    def messages_cookie_name(self, app: Flask) -> str:
        return self.get_cookie_name(app) + MESSAGES_COOKIE_SUFFIX

    def save_session(self, app: Flask, session, response) -> None:
        messages = dict.pop(session, FLASHES, None) or None  # their own cookie, below
        super().save_session(app, session, response)
        if messages == session.messages_received:
            return  # neither added nor shown: this answer leaves the browser's messages as they are
        options = {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": True,
        }
        name = self.messages_cookie_name(app)
        if messages:
            value = _MessagesSigner().get_signing_serializer(app).dumps(messages)
            response.set_cookie(name, value, **options)
        else:
            response.delete_cookie(name, **options)
        response.vary.add("Cookie")


def start(session) -> None:
    """Called right after a sign-in: the session is refreshed on each request and ends as above."""
    session.permanent = True
    session[SIGNED_IN_AT] = int(time.time())


def seconds_left(app: Flask, session: TimedSession, *, active_now: bool) -> int:
    """Seconds before this signed-in session ends if nothing more happens; ``active_now`` when the
    current request counts as activity (its response signs the cookie again)."""
    now = time.time()
    last_activity = now if active_now or session.signed_at is None else session.signed_at
    idle_end = last_activity + idle_seconds(app)
    max_end = session.get(SIGNED_IN_AT, now) + max_seconds(app)
    return max(0, math.ceil(min(idle_end, max_end) - now))


CARRIED = "reprise-"  # hidden inputs of a sign-in page that carry a step sent after the end
MAX_CARRIED = 200  # the engine keeps no more values for a step


def answers_sent(form) -> list[tuple[str, str]]:
    """What a step form sent after the session ended, to carry through the sign-in page: once
    signed in again, the user saves it in one click instead of typing it again."""
    return [(name, value) for name, value in form.items(multi=True) if name != "csrf_token"][:MAX_CARRIED]


def answers_carried(form) -> list[tuple[str, str]]:
    """The answers a sign-in page carried (see :func:`answers_sent`)."""
    return [
        (name.removeprefix(CARRIED), value)
        for name, value in form.items(multi=True)
        if name.startswith(CARRIED)
    ][:MAX_CARRIED]


def duration_fr(seconds: float) -> str:
    """« 30 minutes », « 12 heures », « 1 heure 30 minutes »: a setting's duration in words."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    for amount, word in ((hours, "heure"), (minutes, "minute"), (secs, "seconde")):
        if amount:
            parts.append(f"{amount}\u00a0{word}{'s' if amount > 1 else ''}")
    return " ".join(parts) or "0\u00a0seconde"


def ended_message(app: Flask, session: TimedSession) -> str | None:
    """Why the user must sign in again, when their session ended on this browser."""
    if session.ended == "idle":
        return (
            f"Vous avez été déconnecté après {duration_fr(idle_seconds(app))} sans activité, "
            "pour protéger les données."
        )
    if session.ended == "max":
        return (
            f"Vous avez été déconnecté : une session dure au plus {duration_fr(max_seconds(app))}, "
            "pour protéger les données."
        )
    return None
