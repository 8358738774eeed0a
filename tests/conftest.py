"""Shared fixtures. The database is SQLite by default, PostgreSQL when DATABASE_URL says so (CI runs
both). The schema always comes from the Alembic migrations."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import warnings
from datetime import datetime

import html5lib
import jinja2
import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.routing import Rule

from app import create_app
from app.domain.calendars import PARIS
from app.extensions import db

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


def _worker_database_url() -> str:
    """DATABASE_URL, or under pytest-xdist (`make test` runs two workers) a database of the worker's own,
    named after it and created on first use: each worker drops and migrates its schema."""
    url = os.environ.get("DATABASE_URL", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not (ON_POSTGRES and worker):
        return url
    base, _, name = url.rpartition("/")
    own = f"{base}/{name}_{worker}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": f"{name}_{worker}"})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}_{worker}"'))
    engine.dispose()
    os.environ["DATABASE_URL"] = own  # for a process a test starts
    return own


DATABASE_URL = _worker_database_url()

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
# Where a page prints its CSRF token (htmx's headers, a form's hidden field): one value per page, which
# never decides whether the page is valid HTML.
CSRF_ANY_RE = re.compile(r'"X-CSRFToken": "([^"]+)"|name="csrf_token"[^>]*?value="([^"]+)"')


def _without_csrf_token(body: str) -> str:
    match = CSRF_ANY_RE.search(body)
    return body.replace(match.group(1) or match.group(2), "") if match else body


def pytest_addoption(parser):
    parser.addoption(
        "--clock",
        action="append",
        default=[],
        metavar="YYYY-MM-DDTHH:MM",
        help="start the clock at this Paris time (it then runs as usual): `make test` runs the unit and "
        "integration tests again at moments where the calendar bites (docs/testing.md). Given N times with "
        "`-n N --dist each`, pytest-xdist's worker i runs every test at the i-th moment",
    )


_MOMENT = pytest.StashKey[str]()


def _moment(config) -> str | None:
    """The moment this process runs its tests at: the one ``--clock``, or with several, the worker's."""
    moments = config.getoption("--clock")
    if len(moments) <= 1:
        return moments[0] if moments else None
    if not hasattr(config, "workerinput"):  # the controller of `-n N --dist each` runs no test
        if config.getoption("dist", "no") != "each" or config.getoption("numprocesses") != len(moments):
            raise pytest.UsageError(f"{len(moments)} --clock moments need `-n {len(moments)} --dist each`")
        return None
    return moments[int(config.workerinput["workerid"].removeprefix("gw"))]


def pytest_configure(config):
    if moment := _moment(config):
        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(moment).replace(tzinfo=PARIS), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)
        config.stash[_MOMENT] = moment


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item):
    """A failure at another moment says which (with several, each worker has its own)."""
    report = yield
    if moment := item.config.stash.get(_MOMENT, None):
        report.sections.append(("clock", f"run at {moment} (Paris)"))
    return report


# Modules whose outcome cannot depend on the date or the hour: access rules, schema, sign-in, mail
# mechanics. The runs at other moments (`make test`, docs/testing.md) leave them out (`-m "not any_day"`);
# every other module, a new one included, runs at every moment. One test of a module that depends on the
# day may carry `@pytest.mark.any_day` itself, with the reason beside it (test_hostile_answers).
ANY_DAY_MODULES = {
    "test_form_model_groups",
    "test_form_model_cases",
    "test_form_model_groups_e2e",
    "test_workflow_groups",
    "test_workflow_groups_e2e",
    "test_identifiers",
    "test_schema",
    "test_api_contract",
    "test_url_map_access",
    "test_outbox",
    "test_lucie_outbox",
    "test_web",
    "test_uploads",
    "test_admin",
    "test_firm",
    "test_account",
    "test_auth",
    "test_auth_reset",
    "test_access",
    "test_outbox_claims",
    "test_background_faults",
    "test_background_stop",
    "test_database_fault_pages",
    "test_names",
    "test_rates",
    "test_instruction",
    "test_api_schemathesis",
    "test_api_http_errors",
    "test_auth_strength",
    "test_auth_sessions",
    "test_gunicorn",
    "test_safe_defaults",
    "test_layout_accessibility",
    "test_field_rendering",
    "test_templating",
    "test_pdf_accessibility",
    "test_draft_subjects",
    "test_draft_window",
    "test_form_expressions",
    "test_form_models",
    "test_submission_pdf",
    "test_ops_endpoints",
    "test_two_servers",
    "test_full_store",
    "test_caisses",
    "test_compte",
    "test_compte_indicators",
    "test_request_statements",
}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__.rpartition(".")[2] in ANY_DAY_MODULES:
            item.add_marker(pytest.mark.any_day)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Every app a test creates has a Jinja environment of its own, which compiled every template again:
    half of the suite's time. The apps share their compiled templates here, keyed by the template's name
    and checked against its source's checksum (Jinja's bucket), as `FileSystemBytecodeCache` does in a
    deployment — only in memory, for this test process."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if (code := self.compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()
_create_jinja_environment = Flask.create_jinja_environment


def _jinja_environment_with_shared_templates(self):
    environment = _create_jinja_environment(self)
    environment.bytecode_cache = _COMPILED_TEMPLATES
    return environment


Flask.create_jinja_environment = _jinja_environment_with_shared_templates


# Likewise for the URL map: werkzeug writes and compiles two Python functions for each rule (the URL
# builders of `url_for`), about 90 % of `create_app`'s time, and every test creates its app. The code
# depends only on the rule's text, parsed parts, converters and defaults (the rule is passed to it as
# an argument), so the apps of this test process share the compiled functions, keyed by exactly those.
_COMPILED_BUILDERS: dict[tuple, object] = {}
_compile_builder = Rule._compile_builder


def _shared_builder(self, append_unknown=True):
    key = (
        append_unknown,
        self.rule,
        self.host,
        self.subdomain,
        tuple(self._trace),
        tuple(sorted((name, type(converter)) for name, converter in self._converters.items())),
        repr(sorted((self.defaults or {}).items())),
    )
    if (builder := _COMPILED_BUILDERS.get(key)) is None:
        builder = _COMPILED_BUILDERS[key] = _compile_builder(self, append_unknown)
    return builder


Rule._compile_builder = _shared_builder


_VALID_PAGES: set[bytes] = set()  # digests of the pages this process found valid (CSRF tokens left out)


class StrictHtmlClient(FlaskClient):
    """A test client that parses every HTML response strictly and helps with CSRF tokens."""

    def open(self, *args, **kwargs):
        # The `app` fixture keeps one application context for the whole test and Flask reuses it
        # for every request, so `g` would carry the signed-in user (Flask-Login caches it there),
        # the CSRF token and cached grants from one request — or one client — to the next. A real
        # server starts each request with an empty `g`.
        if has_app_context():
            for name in list(g):
                g.pop(name)
        response = super().open(*args, **kwargs)
        if response.mimetype == "text/html" and response.status_code != 304:
            body = response.get_data(as_text=True)
            # A page already found valid in this process is not parsed again (a sixth of the suite's
            # time went to html5lib): pages that differ only by their CSRF token are the same page.
            seen = hashlib.blake2b(_without_csrf_token(body).encode(), digest_size=16).digest()
            if seen in _VALID_PAGES:
                return response
            parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
            try:
                if body.lstrip().lower().startswith("<!doctype"):
                    parser.parse(body)
                else:
                    parser.parseFragment(body)
            except html5lib.html5parser.ParseError as error:
                raise AssertionError(
                    f"invalid HTML from {response.request.path}: {error}\n{body[:3000]}"
                ) from error
            _VALID_PAGES.add(seen)
        return response

    def csrf(self, path: str = "/connexion") -> str:
        """A valid CSRF token for this client's session, read from a page's form."""
        body = self.get(path).get_data(as_text=True)
        match = CSRF_RE.search(body)
        assert match, f"no csrf_token in {path}"
        return match.group(1)


def _base_config(database_url: str, tmp_path) -> dict:
    return {
        "TESTING": True,
        "APP_ENV": "development",  # production is the default (app/config.py)
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "STORAGE_DIR": str(tmp_path / "storage"),
        "MAIL_SINK_DIR": str(tmp_path / "mails"),
        "SERVER_NAME": None,
        "PASSWORD_HASH_FAST": True,
        "DEV_MAIL_PAGE": True,
        "OUTBOX_BASE_DELAY_SECONDS": 1,
    }


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """Run the migrations once per test session; return what a test database is made from."""
    from flask_migrate import upgrade

    if ON_POSTGRES:
        engine = create_engine(DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        app = create_app(_base_config(DATABASE_URL, tmp_path_factory.mktemp("pg")))
        with app.app_context():
            upgrade()
        return DATABASE_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    app = create_app(_base_config(f"sqlite:///{path}", tmp_path_factory.mktemp("sq")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


def _fresh_database(template, tmp_path) -> str:
    if ON_POSTGRES:
        engine = create_engine(DATABASE_URL)
        with engine.begin() as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                        "AND tablename<>'alembic_version'"
                    )
                )
            ]
            if tables:
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return DATABASE_URL
    path = tmp_path / "test.sqlite3"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def demo_template(migrated_template, tmp_path_factory, pytestconfig):
    """The demo data (`flask demo load`) loaded once per run and moment, on SQLite: the folder holding the
    database (``test.sqlite3``) and its file store (``storage/``), which :func:`demo_database` copies
    for a test. Loading it takes seconds (its PDFs); a test that reads the demo need not pay them each
    time, nor each pytest-xdist worker of the run (the first loads it under a lock, the others copy it;
    workers at different ``--clock`` moments each load their own). ``None`` on PostgreSQL, where each
    test loads the demo into its own emptied database."""
    if ON_POSTGRES:
        return None
    from app.demo import load_demo

    base = tmp_path_factory.getbasetemp()
    if hasattr(pytestconfig, "workerinput"):  # the workers of one run share their base folder's parent
        base = base.parent
    folder = base / f"demo-{pytestconfig.stash.get(_MOMENT, 'present').replace(':', '')}"
    with open(f"{folder}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "output.txt").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a run that stopped halfway
            folder.mkdir()
            application = create_app(_base_config(_fresh_database(migrated_template, folder), folder))
            with application.app_context():
                output = "\n".join(load_demo())
                db.session.commit()
                db.session.remove()
                db.engine.dispose()
            (folder / "output.txt").write_text(output)  # last: the folder is complete
    return folder


def demo_database(migrated_template, demo_template, tmp_path) -> str:
    """A test's database holding the demo data: a copy of the session's (with its file store, at the
    test's ``STORAGE_DIR``), or, on PostgreSQL, an emptied one the caller loads the demo into."""
    if demo_template is None:
        return _fresh_database(migrated_template, tmp_path)
    shutil.copy(demo_template / "test.sqlite3", tmp_path / "test.sqlite3")
    shutil.copytree(demo_template / "storage", tmp_path / "storage")
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app_config():
    """Override in a test module to change settings: ``@pytest.fixture def app_config(): return {...}``."""
    return {}


@pytest.fixture
def app(migrated_template, tmp_path, app_config):
    config = _base_config(_fresh_database(migrated_template, tmp_path), tmp_path)
    config.update(app_config)
    application = create_app(config)
    application.test_client_class = StrictHtmlClient
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def demo_app(migrated_template, demo_template, tmp_path, app_config):
    """Like ``app``, on the demo data (a copy of the session's: ``demo_template``)."""
    config = _base_config(demo_database(migrated_template, demo_template, tmp_path), tmp_path)
    config.update(app_config)
    application = create_app(config)
    application.test_client_class = StrictHtmlClient
    with application.app_context():
        if demo_template is None:  # PostgreSQL: loaded into the test's emptied database
            from app.demo import load_demo

            output = list(load_demo())
            db.session.commit()
        else:
            output = (demo_template / "output.txt").read_text().split("\n")
        application.extensions["tests.demo_output"] = output  # what loading the demo said, line by line
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app) -> StrictHtmlClient:
    return app.test_client()


@pytest.fixture
def login(client):
    """``login(user)`` signs the client in through the real login form."""
    from tests.factories import PASSWORD

    def do(user, password: str = PASSWORD, follow: bool = False):
        token = client.csrf("/connexion")
        response = client.post(
            "/connexion",
            data={"email": user.email, "password": password, "csrf_token": token},
            follow_redirects=follow,
        )
        assert response.status_code in (200, 302, 303), response.status_code
        return response

    return do


warnings.filterwarnings("ignore", category=DeprecationWarning, module="html5lib")


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self):
        import socket

        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.refuse = False
        self.delay = 0.0  # seconds each message takes to be accepted (a slow server)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        from email import message_from_bytes, policy

        if self.refuse:
            return "451 Try again later"
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        for rcpt in envelope.rcpt_tos:
            self.messages.append((rcpt, message_from_bytes(envelope.original_content, policy=policy.default)))
        return "250 OK"

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if rcpt == address]


@pytest.fixture
def smtp():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_app(app, smtp):
    """The app, sending its mail to the ``smtp`` sink."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    app.extensions["mail"].server = "127.0.0.1"
    app.extensions["mail"].port = smtp.port
    return app
