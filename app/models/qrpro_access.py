"""The victim's access codes (issue 13, item 6; SPEC §1, §3.2): the one-time code printed in the
victim's letter, with which the victim opens (or adds to) their own account on the case.

Only a keyed hash of the code is stored (app/services/qrpro/access_codes.py says which and why). A code
is used once; a new code for the same case revokes the previous unused one; wrong attempts on a case's
live code are counted on it, and the fifth locks it for a while.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.cases import Case
from app.models.types import UTCDateTime, utcnow


class VictimAccessCode(db.Model):
    __tablename__ = "victim_access_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    # HMAC-SHA256 of the normalized code under the application's secret key (hex).
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Set once: the account the code was bound to, and when.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Set when a new code replaced this one before it was used.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Wrong codes typed for this case since the last lock (or since the code was issued).
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id])
