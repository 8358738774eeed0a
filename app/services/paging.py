"""Numbered pages of a listing: the DAT list, the CPAM inbox, the establishments of a habilitations
screen. (Listings that grow without end, like the journal and the mailbox, page by keyset instead.)"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db


@dataclass(frozen=True)
class Page:
    items: list
    total: int  # rows matching, on every page
    page: int  # 1-based, within 1..pages
    pages: int


def paginate(query, page: int, size: int) -> Page:
    """The ``page``-th ``size`` rows of ``query`` (ordered by the caller); a page out of range gives
    the nearest one."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    return Page(list(db.session.scalars(query.limit(size).offset((page - 1) * size))), total, page, pages)
