"""What every DAT use case shares: the workflow's name, the page size, the clock and the search key."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time

from app.models.types import utcnow

WORKFLOW = "dat"
PAGE_SIZE = 20
STEP_SECTIONS = (
    ("employeur", "L'employeur"),
    ("victime", "La victime"),
    ("accident", "L'accident"),
    ("lesions", "Lésions et conséquences"),
    ("connaissance", "Connaissance de l'accident"),
    ("temoins", "Témoins et tiers"),
    ("reserves", "Réserves motivées"),
)


def now_utc(now: datetime | None = None) -> datetime:
    return now or utcnow()


def search_key(text: str) -> str:
    """Lower case without accents, so "Éloïse" matches "eloise" on every database."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def _local(day: str, hour: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hour))
