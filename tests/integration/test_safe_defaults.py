"""Safe by default (docs/security.md): without APP_ENV the application runs in production — no key
written in the source, a rate-limit store shared by every process, no development mail page — and
that page, in development, answers only to a browser on this machine."""

import pytest

from app import create_app
from app.config import ConfigError
from tests.conftest import StrictHtmlClient

REAL_KEY = "k" * 40


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """An environment without any of the settings the tests and `make run` give."""
    for name in ("APP_ENV", "SECRET_KEY", "RATELIMIT_STORAGE_URI", "DEV_MAIL_PAGE", "RATELIMIT_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return monkeypatch


def test_without_app_env_the_development_key_is_refused(bare_env):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_without_app_env_the_application_runs_in_production(bare_env):
    bare_env.setenv("SECRET_KEY", REAL_KEY)
    bare_env.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:1/0")
    app = create_app()
    assert app.config["APP_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["DEV_MAIL_PAGE"] is False


def test_production_refuses_rate_limits_counted_in_each_worker(bare_env):
    bare_env.setenv("SECRET_KEY", REAL_KEY)
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        create_app()
    bare_env.setenv("RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        create_app()


def test_an_unknown_app_env_is_refused(bare_env):
    bare_env.setenv("APP_ENV", "prod")
    with pytest.raises(ConfigError, match="APP_ENV"):
        create_app()


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_the_mail_page_answers_in_development_from_this_machine(client, address):
    response = client.get("/dev/courriels", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200


@pytest.mark.parametrize("address", ["203.0.113.9", "10.0.0.2", "2001:db8::1", ""])
def test_the_mail_page_does_not_exist_for_another_machine(client, address):
    response = client.get("/dev/courriels", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 404
    assert client.get("/dev/courriels/x.eml", environ_base={"REMOTE_ADDR": address}).status_code == 404


def test_the_mail_page_does_not_exist_in_production(bare_env, tmp_path):
    bare_env.setenv("SECRET_KEY", REAL_KEY)
    bare_env.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:1/0")
    bare_env.setenv("DEV_MAIL_PAGE", "true")
    app = create_app({"MAIL_SINK_DIR": str(tmp_path)})
    app.test_client_class = StrictHtmlClient
    response = app.test_client().get("/dev/courriels", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 404
