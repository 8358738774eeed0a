"""The reference for bench/step_save.py: a bare Flask route doing one insert of a draft-sized JSON
row, served by the same gunicorn settings. No login, no CSRF, no validation, no audit."""

from __future__ import annotations

import os

from flask import Flask, request
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, Table, create_engine, func, insert

import app.extensions  # noqa: F401  (the same SQLite pragmas as the application: WAL, busy timeout)

metadata = MetaData()
bench_row = Table(
    "bench_bare_row",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("payload", JSON),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)


def create_table(url: str) -> None:
    """Called once by the benchmark before the server starts (workers would race)."""
    metadata.create_all(create_engine(url))


engine = create_engine(os.environ.get("DATABASE_URL", "sqlite://"))
application = Flask(__name__)


@application.post("/bare")
def bare():
    with engine.begin() as conn:
        conn.execute(insert(bench_row).values(payload={"nature": {"nature": request.form.get("nature", "")}}))
    return "", 204
