"""Application factory: configuration, extensions, blueprints, CLI — nothing else."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from app.assets import vendored_assets
from app.config import load_config
from app.extensions import (
    compress,
    csrf,
    db,
    limiter,
    login_manager,
    mail,
    migrate,
    ping_opens_the_transaction,
)
from app.sessions import TimedSessionInterface
from app.templating import Environment


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.jinja_environment = Environment  # before app.jinja_env is first used
    app.config.update(vendored_assets())
    app.config.update(load_config(overrides))
    app.session_interface = TimedSessionInterface()

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("app"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    db.init_app(app)
    if app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        with app.app_context():
            ping_opens_the_transaction(db.engine)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from app import models  # noqa: F401  (registers the models on the metadata)
    from app.web import register_web

    register_web(app)

    # The workflows' registry, each with the hooks its service gives (the workflows never import
    # their services back: no import circle).
    from app.services import dat
    from app.workflows import register_workflows

    register_workflows({"dat": dat.WORKFLOW_HOOKS})

    from app.views import register_blueprints

    register_blueprints(app)

    from app.cli import register_cli

    register_cli(app)
    return app
