"""Settings read from the environment.

Every setting can be overridden by an environment variable of the same name. The application runs
in production mode unless ``APP_ENV=development`` says otherwise (``make run`` does): production
refuses to start without a real ``SECRET_KEY`` and a rate-limit store shared by every process, and
never serves the development mail page.
"""

from __future__ import annotations

import os
from pathlib import Path

DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"  # noqa: S105 (refused in production)

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe for the chosen environment."""


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask configuration from the environment, then apply ``overrides`` (tests)."""
    # Safe by default: development only when asked for (make run, the tests).
    env = (overrides or {}).get("APP_ENV") or os.environ.get("APP_ENV") or "production"
    if env not in ("development", "production"):
        raise ConfigError(f"APP_ENV must be development or production, not {env!r}.")
    cfg: dict = {
        "APP_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'atmp.sqlite3'}"
        ),
        # A pooled connection is checked before use (one round trip), so that a connection the
        # database dropped (restart, failover, pg_terminate_backend) is replaced, not given to a request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": _bool("DATABASE_POOL_PRE_PING", True)},
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(INSTANCE_DIR / "storage")),
        # Free bytes the file store keeps: a write that would leave less is refused as a full disk is
        # (ENOSPC), so that the store fills up before the disk it shares (database, logs) does.
        "STORAGE_RESERVE_BYTES": _int("STORAGE_RESERVE_BYTES", 0),
        # One uploaded file; a whole request may carry a little more (form fields).
        "MAX_UPLOAD_BYTES_PER_FILE": _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024) + 1024 * 1024,
        # All the files one draft holds together (the answers of type file, docs/workflows.md).
        "MAX_UPLOAD_BYTES_PER_DRAFT": _int("MAX_UPLOAD_BYTES_PER_DRAFT", 30 * 1024 * 1024),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": _int("MAIL_PORT", 8025),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "Services AT/MP <ne-pas-repondre@atmp.localhost>"
        ),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 10),
        # Where the accessibility statement (/accessibilite) tells users to report a problem.
        "ACCESSIBILITY_CONTACT": os.environ.get("ACCESSIBILITY_CONTACT", "accessibilite@atmp.localhost"),
        # Flask-Mail suppresses sending under TESTING by default; our tests use a real SMTP server.
        "MAIL_SUPPRESS_SEND": False,
        # Outbox worker: attempts before a message is parked as failed, first retry delay.
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_BASE_DELAY_SECONDS": _int("OUTBOX_BASE_DELAY_SECONDS", 30),
        # A worker's claim on a batch, renewed every third of it while the batch is sent: a worker
        # that dies lets its rows go this long after its last renewal.
        "OUTBOX_CLAIM_SECONDS": _float("OUTBOX_CLAIM_SECONDS", 30),
        # A DAT draft's 48 hours: its creator and last editor are e-mailed this many hours before the end.
        "DAT_REMINDER_HOURS": _int("DAT_REMINDER_HOURS", 12),
        # A draft without a save for this many days is deleted (its answers erased), after an e-mail
        # to the people working on it this many days before.
        "DRAFT_RETENTION_DAYS": _int("DRAFT_RETENTION_DAYS", 90),
        "DRAFT_RETENTION_WARNING_DAYS": _int("DRAFT_RETENTION_WARNING_DAYS", 7),
        # LUCIE: the legal reading of an unopened letter's notification date, "loi" (CSS L242-5: deposit
        # + 15 days) or "mise_a_disposition" (arrêté of 30 Dec 2019, CRPA R112-20); see app/domain/lucie.py.
        "LUCIE_NOTIFICATION_READING": os.environ.get("LUCIE_NOTIFICATION_READING", "loi"),
        # Where the development SMTP sink writes .eml files (make run).
        "MAIL_SINK_DIR": os.environ.get("MAIL_SINK_DIR", str(INSTANCE_DIR / "mails")),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "RESET_RATE_LIMIT": os.environ.get("RESET_RATE_LIMIT", "5 per minute"),
        # The victim's access-code page, per IP (QR Pro, app/views/qrpro_victim.py).
        "ACCESS_CODE_RATE_LIMIT": os.environ.get("ACCESS_CODE_RATE_LIMIT", "10 per minute"),
        # Per caisse token (app/views/api.py).
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "1200 per minute"),
        # Lock-out after repeated failures (SPEC §1, security).
        "LOCKOUT_THRESHOLD": _int("LOCKOUT_THRESHOLD", 5),
        "LOCKOUT_MINUTES": _int("LOCKOUT_MINUTES", 15),
        "PASSWORD_TOKEN_MAX_AGE": _int("PASSWORD_TOKEN_MAX_AGE", 3600),
        "INVITATION_TOKEN_MAX_AGE": _int("INVITATION_TOKEN_MAX_AGE", 7 * 24 * 3600),
        # A signed-in session ends after this long without a request (with JavaScript, a warning
        # offers to stay signed in this long before), and at the latest this long after the sign-in.
        "SESSION_IDLE_MINUTES": _float("SESSION_IDLE_MINUTES", 30),
        "SESSION_WARNING_MINUTES": _float("SESSION_WARNING_MINUTES", 5),
        "SESSION_MAX_HOURS": _float("SESSION_MAX_HOURS", 12),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,  # the session bounds the token; long forms must not expire mid-way
        # htmx may be served from a CDN with the same integrity hash; empty = the vendored file.
        "HTMX_URL": os.environ.get("HTMX_URL", ""),
        "PROXY_FIX": _bool("PROXY_FIX", False),
        # /metrics (Prometheus text format, docs/deployment.md): open to a scraper presenting
        # `Authorization: Bearer <METRICS_TOKEN>` or coming from METRICS_ALLOWED_NETWORKS (comma-
        # separated addresses or CIDR blocks); neither set: the page does not exist (404).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "METRICS_ALLOWED_NETWORKS": os.environ.get("METRICS_ALLOWED_NETWORKS", ""),
        # Where each gunicorn worker writes its request-latency counts so that a scrape sees the whole
        # server's (a local directory, one per application server; emptied when gunicorn starts).
        "METRICS_DIR": os.environ.get("METRICS_DIR", ""),
        # A longer URL answers 414 in French (app/web.py); gunicorn's own limit is above it.
        "MAX_URL_LENGTH": _int("MAX_URL_LENGTH", 4096),
        # The page that shows the e-mails the development sink received (reset links!): development
        # only, and only from this machine (app/views/dev.py).
        "DEV_MAIL_PAGE": env == "development" and _bool("DEV_MAIL_PAGE", True),
        # Static assets only: compressing HTML that carries a CSRF token next to reflected input
        # would expose the token to BREACH-style attacks.
        "COMPRESS_MIMETYPES": [
            "text/css",
            "text/javascript",
            "application/javascript",
            "image/svg+xml",
            "application/json",
        ],
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_ALGORITHM_STREAMING": ["br", "deflate"],  # static files are streamed
        "COMPRESS_MIN_SIZE": 1024,
        "TESTING": False,
    }
    if overrides:
        cfg.update(overrides)
    if cfg["APP_ENV"] == "production" and (
        not cfg["SECRET_KEY"] or cfg["SECRET_KEY"] == DEV_SECRET_KEY or len(cfg["SECRET_KEY"]) < 32
    ):
        raise ConfigError("SECRET_KEY must be set to a random value of at least 32 characters in production.")
    if (
        cfg["APP_ENV"] == "production"
        and cfg["RATELIMIT_ENABLED"]
        and cfg["RATELIMIT_STORAGE_URI"].startswith("memory://")
    ):
        # Each process would count on its own: with N gunicorn workers (or N machines) a limit of 10
        # sign-in attempts a minute lets N × 10 through. Required whatever the worker count: the
        # count can change without this process knowing (WEB_CONCURRENCY, a second machine).
        raise ConfigError(
            "RATELIMIT_STORAGE_URI must name a store shared by every process in production, "
            "e.g. redis://127.0.0.1:6379/0 (memory:// counts in each worker separately)."
        )
    from app.domain.lucie import notification_rule

    try:
        notification_rule(cfg["LUCIE_NOTIFICATION_READING"])
    except ValueError as error:
        raise ConfigError(str(error)) from error
    if not 0 < cfg["DRAFT_RETENTION_WARNING_DAYS"] < cfg["DRAFT_RETENTION_DAYS"]:
        raise ConfigError("Draft retention: 0 < DRAFT_RETENTION_WARNING_DAYS < DRAFT_RETENTION_DAYS.")
    if not 0 < cfg["SESSION_WARNING_MINUTES"] < cfg["SESSION_IDLE_MINUTES"] <= cfg["SESSION_MAX_HOURS"] * 60:
        raise ConfigError(
            "Session settings: 0 < SESSION_WARNING_MINUTES < SESSION_IDLE_MINUTES <= SESSION_MAX_HOURS × 60."
        )
    return cfg
