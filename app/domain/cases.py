"""The vocabulary of cases and of the subjects a draft belongs to (issue 12, items 5 and 6), and the rule
of a workflow instance's opening and closing times. Pure: no Flask, no database.

A draft belongs to a *subject*: an establishment (a DAT, a change of contact details), or a party of a
case — the employer side of an AT/MP case, or the victim (SPEC §1, §3.2: each party answers its own
questionnaire). A questionnaire closes at its legal due date (SPEC §3.1: 20 or 30 jours francs from
receipt); the server's clock alone decides whether the time has passed.
"""

from __future__ import annotations

import enum
from datetime import datetime

from app.domain.calendars import to_local
from app.domain.dat import clock, french_day, french_deadline


class CaseKind(enum.StrEnum):
    """An accident du travail (or de trajet) or a maladie professionnelle (SPEC §0)."""

    AT = "AT"
    MP = "MP"


class Party(enum.StrEnum):
    """A party of a case's contradictory instruction (SPEC §3.2)."""

    EMPLOYER = "employeur"
    VICTIM = "victime"

    @property
    def label(self) -> str:
        return PARTY_LABELS[self]


PARTY_LABELS = {Party.EMPLOYER: "Employeur", Party.VICTIM: "Victime"}


class SubjectKind(enum.StrEnum):
    """What a draft belongs to: it decides who may see it (app/services/access.py)."""

    ESTABLISHMENT = "etablissement"
    CASE_PARTY = "dossier"


class WindowState(enum.StrEnum):
    """Where the server clock stands against an instance's opening and closing times."""

    NOT_OPEN = "pas_ouverte"
    OPEN = "ouverte"
    CLOSED = "close"


def window_state(now: datetime, opens_at: datetime | None, closes_at: datetime | None) -> WindowState:
    """``opens_at`` is the first instant an answer is taken, ``closes_at`` the first one it is no longer
    taken (a save at ``closes_at`` exactly is late). ``None``: no bound on that side."""
    if opens_at is not None and now < opens_at:
        return WindowState.NOT_OPEN
    if closes_at is not None and now >= closes_at:
        return WindowState.CLOSED
    return WindowState.OPEN


def closed_message(closes_at: datetime, departement: str | None) -> str:
    """What a late save, autosave or submission is told (nothing of it is stored)."""
    return (
        f"Le délai pour répondre a expiré le {french_deadline(closes_at, departement)} (heure locale de "
        "l'établissement) : votre saisie n'a pas été enregistrée et cette démarche ne peut plus être "
        "modifiée ni envoyée."
    )


def not_open_message(opens_at: datetime, departement: str | None) -> str:
    """What an early attempt is told."""
    local = to_local(opens_at, departement or "75")
    return (
        f"Cette démarche ouvre le {french_day(local.date())} à {clock(local)} (heure locale de "
        "l'établissement) : elle ne peut pas encore être commencée."
    )
