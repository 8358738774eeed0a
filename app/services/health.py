"""`/sante`: is this application server able to serve? The database answers and the file store is
reachable. Built for a load balancer or an orchestrator polling every few seconds: no sign-in, no
ORM session (one pooled connection, returned at once), no file written."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from app.extensions import db

OK, UNREACHABLE, FULL = "ok", "injoignable", "plein"


@dataclass(frozen=True)
class Health:
    database: str
    file_store: str

    @property
    def serving(self) -> bool:
        """A full store does not take the server out of service: sign-ins, pages and DAT submits
        work without it (a receipt waits for room), and every server shares the same store."""
        return self.database == OK and self.file_store != UNREACHABLE


def check() -> Health:
    return Health(database=_database(), file_store=_file_store())


def _database() -> str:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        current_app.logger.warning("health: database unreachable", exc_info=True)
        return UNREACHABLE
    return OK


def _file_store() -> str:
    """Reachable: the store's directory exists and this process may write in it (a mount gone stale
    or read-only fails here). Full: less free space than the reserve, or none."""
    root = Path(current_app.config["STORAGE_DIR"])
    try:
        root.mkdir(parents=True, exist_ok=True)  # a new installation: created as the first upload would
        if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
            return UNREACHABLE
        free = shutil.disk_usage(root).free
    except OSError:
        return UNREACHABLE
    reserve = current_app.config.get("STORAGE_RESERVE_BYTES", 0)
    return FULL if free <= reserve or free == 0 else OK
