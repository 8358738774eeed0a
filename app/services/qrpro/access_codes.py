"""The victim's one-time access code (issue 13, item 6; SPEC §1, §3.2): printed in the victim's letter by
the caisse, typed once with the case's reference to open the victim's account on that case, or to add
the case to the account they already have.

The code: 12 characters drawn by :mod:`secrets` from 32 that cannot be confused when read on paper
(no I, O, 0 or 1), shown in three groups (``K7QM-3WHT-ZP9C``): 60 bits. Typed, spaces, dashes and case
do not matter.

Stored: only ``HMAC-SHA256(SECRET_KEY, code)``. A slow hash (Argon2, as for passwords) exists to make
a *guessable* secret expensive to guess from a stolen table; 60 random bits are not guessable — 2⁶⁰
HMACs, and without the key none at all — and the keyed hash lets a code be looked up and compared in
constant time without making every attempt cost a password hash's CPU (the page is public).
Online guessing is what remains: the attempts are counted per case (the reference is asked with the
code), and the fifth wrong one locks the case's code for ``LOCKOUT_MINUTES`` (15) — even the right code
is then refused —, the page is rate-limited per IP (``ACCESS_CODE_RATE_LIMIT``), and every attempt,
right or wrong, is in the audit trail with its IP.

Single use: a code is bound to an account once (an UPDATE that only an unused, unrevoked code
matches); issuing a new code for a case revokes its previous unused one.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.extensions import db
from app.models import Case, User
from app.models.qrpro_access import VictimAccessCode
from app.models.types import utcnow
from app.services import audit

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols: 5 bits each, no I/1 nor O/0
LENGTH = 12
GROUP = 4


def generate_code() -> str:
    """A fresh code, grouped for reading: ``"K7QM-3WHT-ZP9C"``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize_code(typed: str) -> str:
    """What was typed, without spaces, dashes or case; ``""`` when it cannot be a code."""
    value = re.sub(r"[\s\-\u00a0\u202f.]", "", typed or "").upper()
    if len(value) != LENGTH or any(ch not in ALPHABET for ch in value):
        return ""
    return value


def normalize_reference(typed: str) -> str:
    return re.sub(r"\s", "", typed or "").upper()[:40]


def code_hash(normalized: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"qrpro-access-code:{normalized}".encode(), hashlib.sha256).hexdigest()


def _live_code(case_id: int) -> VictimAccessCode | None:
    return db.session.scalar(
        select(VictimAccessCode)
        .where(
            VictimAccessCode.case_id == case_id,
            VictimAccessCode.used_at.is_(None),
            VictimAccessCode.revoked_at.is_(None),
        )
        .order_by(VictimAccessCode.id.desc())
        .limit(1)
    )


def _revoke_unused(case: Case, now: datetime) -> None:
    db.session.execute(
        update(VictimAccessCode)
        .where(
            VictimAccessCode.case_id == case.id,
            VictimAccessCode.used_at.is_(None),
            VictimAccessCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


def issue_access_code(case: Case, *, by: User | None) -> str:
    """A new code for ``case``'s victim, returned in clear this once (to be printed in their letter);
    the previous unused code of the case stops working. Joins the caller's transaction (the letter
    that prints it commits both, or neither)."""
    now = utcnow()
    _revoke_unused(case, now)
    return _store(case, generate_code(), by=by, now=now)


def issue_demo_code(case: Case, code: str) -> str:
    """The demo data's fixed, documented code (app/demo/qrpro_parties.py), issued like any other: a
    real platform never calls this."""
    now = utcnow()
    _revoke_unused(case, now)
    return _store(case, code, by=None, now=now)


def _store(case: Case, code: str, *, by: User | None, now: datetime) -> str:
    if not normalize_code(code):
        raise ValueError("not an access code")
    row = VictimAccessCode(
        case_id=case.id,
        code_hash=code_hash(normalize_code(code)),
        created_at=now,
        created_by_id=by.id if by is not None else None,
        failed_attempts=0,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "qrpro.access_code.issued",
        "case",
        case.id,
        establishment_id=case.establishment_id,
        actor=by,
        code_id=row.id,
    )
    return code


# -- checking a typed code ----------------------------------------------------------------------------


class CodeRefusal(enum.StrEnum):
    INVALID = "invalid"  # unknown reference, wrong code, or a code replaced or already used
    LOCKED = "locked"


@dataclass
class CodeCheck:
    code_id: int | None = None
    case: Case | None = None
    refusal: CodeRefusal | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def _threshold() -> int:
    return current_app.config["LOCKOUT_THRESHOLD"]


def _lock_minutes() -> int:
    return current_app.config["LOCKOUT_MINUTES"]


def check_code(reference: str, typed: str) -> CodeCheck:
    """Whether ``typed`` is the live code of the case ``reference``: audited whatever the answer,
    counted against the case's code when wrong, committed. The answer for a wrong code, an unknown
    reference and a used or replaced code is the same (the page tells no one which cases exist)."""
    reference = normalize_reference(reference)
    normalized = normalize_code(typed)
    case = db.session.scalar(select(Case).where(Case.reference == reference)) if reference else None
    if case is None:
        audit.record("qrpro.access_code.failed", reason="dossier_inconnu", reference=reference[:40])
        db.session.commit()
        return CodeCheck(refusal=CodeRefusal.INVALID)
    live = _live_code(case.id)
    if live is None:
        audit.record("qrpro.access_code.failed", "case", case.id, reason="aucun_code_valide")
        db.session.commit()
        return CodeCheck(refusal=CodeRefusal.INVALID)
    now = utcnow()
    if live.locked_until is not None and live.locked_until > now:
        audit.record("qrpro.access_code.refused_locked", "case", case.id, code_id=live.id)
        db.session.commit()
        return CodeCheck(refusal=CodeRefusal.LOCKED, locked_until=live.locked_until)
    if normalized and hmac.compare_digest(code_hash(normalized), live.code_hash):
        live.failed_attempts = 0
        live.locked_until = None
        audit.record("qrpro.access_code.verified", "case", case.id, code_id=live.id)
        db.session.commit()
        return CodeCheck(code_id=live.id, case=case)
    return _count_failure(live, case, now)


def _count_failure(live: VictimAccessCode, case: Case, now: datetime) -> CodeCheck:
    if live.locked_until is not None:  # an expired lock starts a fresh count
        live.locked_until = None
        live.failed_attempts = 0
        db.session.flush()
    # In SQL: concurrent attempts cannot each read the same count.
    db.session.execute(
        update(VictimAccessCode)
        .where(VictimAccessCode.id == live.id)
        .values(failed_attempts=VictimAccessCode.failed_attempts + 1)
    )
    db.session.refresh(live, ["failed_attempts"])
    audit.record(
        "qrpro.access_code.failed", "case", case.id, reason="code_incorrect", failures=live.failed_attempts
    )
    if live.failed_attempts >= _threshold():
        live.locked_until = now + timedelta(minutes=_lock_minutes())
        live.failed_attempts = 0
        audit.record("qrpro.access_code.locked", "case", case.id, code_id=live.id, minutes=_lock_minutes())
        db.session.commit()
        return CodeCheck(refusal=CodeRefusal.LOCKED, locked_until=live.locked_until)
    db.session.commit()
    return CodeCheck(refusal=CodeRefusal.INVALID)


# -- using a verified code ------------------------------------------------------------------------------


class CodeNoLongerValid(Exception):
    """The verified code was used, or replaced by a newer one, since it was typed."""


def live_code_matches(case: Case, code: str) -> bool:
    """Whether ``code`` is ``case``'s live code (no attempt counted: the demo loader's check)."""
    live = _live_code(case.id)
    normalized = normalize_code(code)
    return (
        live is not None and bool(normalized) and hmac.compare_digest(code_hash(normalized), live.code_hash)
    )


def verified_case(code_id: int) -> Case | None:
    """The case of a verified code that is still unused and unrevoked (None otherwise)."""
    row = db.session.get(VictimAccessCode, code_id)
    if row is None or row.used_at is not None or row.revoked_at is not None:
        return None
    return row.case


def redeem(code_id: int, user: User) -> Case:
    """Bind the verified code's case to the victim's account ``user``, once: the code is used. Joins
    the caller's transaction. Raises :class:`CodeNoLongerValid` when another request used the code
    first, or a newer code replaced it."""
    now = utcnow()
    claimed = db.session.execute(
        update(VictimAccessCode)
        .where(
            VictimAccessCode.id == code_id,
            VictimAccessCode.used_at.is_(None),
            VictimAccessCode.revoked_at.is_(None),
        )
        .values(used_at=now, used_by_id=user.id)
    )
    if claimed.rowcount != 1:
        raise CodeNoLongerValid
    row = db.session.get(VictimAccessCode, code_id)
    db.session.refresh(row)
    case = row.case
    bind_victim(case, user)
    audit.record(
        "qrpro.access_code.used",
        "case",
        case.id,
        establishment_id=case.establishment_id,
        actor=user,
        code_id=code_id,
    )
    return case


def bind_victim(case: Case, user: User) -> None:
    """The one place that sets ``Case.victim_id``: the account that used the case's code. A newer code
    used by another account moves the case to it (the caisse issued that code); audited with the
    previous account."""
    previous = case.victim_id
    case.victim_id = user.id
    audit.record(
        "qrpro.victim_bound",
        "case",
        case.id,
        establishment_id=case.establishment_id,
        actor=user,
        previous_victim_id=previous if previous != user.id else None,
    )
