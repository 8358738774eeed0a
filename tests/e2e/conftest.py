"""End-to-end fixtures: the app served on loopback by a real HTTP server thread on a fresh database,
driven by headless Chromium through Playwright, with axe-core checks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.demo import load_demo
from app.extensions import db
from app.models import Service
from tests.conftest import _base_config, _fresh_database, demo_database
from tests.factories import make_company, make_establishment, make_user

AXE = sorted((Path(__file__).parent / "vendor").glob("axe-*.min.js"))[-1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = dict(browser_type_launch_args)
    if Path(CHROMIUM).exists():
        args["executable_path"] = CHROMIUM
    args["args"] = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
    ]
    return args


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        app.config["BASE_URL"] = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@contextlib.contextmanager
def _application(database_url: str, tmp_path, app_config):
    config = _base_config(database_url, tmp_path)
    config.update({"RATELIMIT_ENABLED": False}, **app_config)
    application = create_app(config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@contextlib.contextmanager
def _served(application):
    server = LiveServer(application)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_app(migrated_template, tmp_path, app_config):
    with _application(_fresh_database(migrated_template, tmp_path), tmp_path, app_config) as application:
        yield application


@pytest.fixture
def live_server(live_app):
    with _served(live_app) as server:
        yield server


@pytest.fixture
def demo_server(migrated_template, demo_template, tmp_path, app_config):
    """The app served on the demo data (`flask demo load`): a copy of the session's, loaded once
    (tests/conftest.py ``demo_template``); on PostgreSQL, loaded into the test's database."""
    database_url = demo_database(migrated_template, demo_template, tmp_path)
    with _application(database_url, tmp_path, app_config) as application:
        if demo_template is None:
            list(load_demo())
            db.session.commit()
        with _served(application) as server:
            yield server


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page; return its violations of the given impacts."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe on {page.url}:\n{json.dumps(violations, indent=1, ensure_ascii=False)}"


def login_as(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion" not in url)


def wait_for(page, condition, seconds: float = 2.0) -> None:
    """Until ``condition()`` holds (a route's or a request's handler runs while Playwright waits)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        page.wait_for_timeout(20)


def shot(page, name: str) -> None:
    """A screenshot under $E2E_SCREENSHOTS (when set), to look at by hand."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.fixture
def claire(live_app):
    """An employer habilitated for the Compte AT/MP service on one establishment (in Moselle)."""
    company = make_company("Transports Lorrains")
    make_establishment(
        company, departement="75", head_office=True, name="Transports Lorrains Siège", city="Paris"
    )
    metz = make_establishment(company, departement="57", name="Transports Lorrains Metz", city="Metz")
    user = make_user(
        "claire@transports.test",
        company=company,
        full_name="Claire Dupont",
        grants=[(metz, Service.COMPTE)],
    )
    db.session.commit()
    return user


@pytest.fixture
def no_script_error(page):
    """No uncaught exception and no Content-Security-Policy refusal in the test's main page."""
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield
    assert problems == []


@pytest.fixture
def assert_accessible_without_javascript(browser):
    """axe-core needs script, which a JavaScript-less context does not run: ``check(page)`` loads the
    HTML that page shows, at its own URL, in a page that runs axe but none of ours (same styles, no
    js-enabled class)."""
    served: dict[str, str] = {}

    def serve(route):
        if route.request.url in served:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=served[route.request.url])
        elif route.request.resource_type == "script":
            route.abort()
        else:
            route.continue_()

    context = browser.new_context()
    checker = context.new_page()
    checker.route("**/*", serve)

    def check(page) -> None:
        served[page.url] = page.content()
        checker.goto(page.url)
        assert checker.evaluate("document.body.classList.contains('js-enabled')") is False
        assert_accessible(checker)

    yield check
    context.close()
