"""Deadlines: the e-mail reminders of a draft's 48 hours and the home page's « échéances »."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.domain import dat as rules
from app.domain.calendars import local_date
from app.extensions import db
from app.models import Declaration, Draft, Establishment, OutboxMessage, Service, User
from app.services import access, drafts, outbox

from .common import WORKFLOW, now_utc
from .filling import due_notice_for
from .listings import _draft_row, employer_establishments
from .reading import reserves_deadline

REMINDER_KIND = "dat_deadline_reminder"
REMINDER_RECENT = timedelta(days=10)


def send_deadline_reminders(now: datetime | None = None) -> int:
    """E-mail the people working on a DAT draft whose 48 hours end within
    ``DAT_REMINDER_HOURS`` (and have not ended yet): the draft's creator and its last editor, when
    they still hold the DAT on the establishment. One round per draft: a draft with a reminder in
    the outbox is not looked at again, and a unique index (draft, recipient) guards two runs at
    once. The e-mail names the establishment and the due time, never the victim. Returns how many
    reminders were queued.

    Only drafts saved in the last ``REMINDER_RECENT`` are read: 48 hours last at most six days with a
    weekend and holidays, from a knowledge time typed before the save."""
    moment = now_utc(now)
    window = timedelta(hours=current_app.config["DAT_REMINDER_HOURS"])
    reminded = select(OutboxMessage.related_id).where(
        OutboxMessage.kind == REMINDER_KIND, OutboxMessage.related_type == "draft"
    )
    open_drafts = db.session.scalars(
        select(Draft)
        .where(
            Draft.workflow == WORKFLOW,
            Draft.submitted_at.is_(None),
            Draft.discarded_at.is_(None),
            Draft.updated_at >= moment - REMINDER_RECENT,
            Draft.id.not_in(reminded),
        )
        .options(joinedload(Draft.establishment))
        .order_by(Draft.id)
    ).all()
    queued = 0
    for draft in open_drafts:
        notice = due_notice_for(draft, now=moment)
        if notice is None or notice.late or notice.left > window:
            continue
        people = {draft.created_by_id, draft.updated_by_id}
        recipients = [u for u in access.users_habilitated(Service.DAT, draft.establishment) if u.id in people]
        for user in recipients:
            outbox.enqueue(
                user.email,
                *_reminder_text(user, draft, notice),
                kind=REMINDER_KIND,
                related=("draft", draft.id),
                user_id=user.id,
            )
        try:
            db.session.commit()
        except IntegrityError:  # another run queued the same reminder meanwhile
            db.session.rollback()
            continue
        queued += len(recipients)
    return queued


def _reminder_text(user: User, draft: Draft, notice: rules.DueNotice) -> tuple[str, str]:
    establishment = draft.establishment
    link = drafts.resume_link(draft)
    subject = f"Déclaration d'accident à transmettre avant le {notice.due_text}"
    body = (
        f"Bonjour {user.full_name},\n\n"
        f"Une déclaration d'accident du travail commencée pour {establishment.name} "
        f"(SIRET {establishment.siret}) n'est pas encore transmise.\n"
        f"Elle doit l'être avant le {notice.due_text} (il reste {rules.french_duration(notice.left)}) : "
        "48 heures après que vous avez eu connaissance de l'accident, dimanches et jours fériés non "
        "compris. Passé ce délai, elle reste possible, mais elle sera marquée hors délai.\n\n"
        f"Reprendre la déclaration : {link}\n"
    )
    return subject, body


@dataclass
class DeadlineItem:
    """One deadline of the employer's home page: what, where, until when, and where to act."""

    label: str
    establishment: Establishment
    due: datetime  # aware, the instant it passes
    url: str
    late: bool = False
    # A jours-francs deadline: its last day, which still counts (worded "jusqu'au … inclus").
    last_day: date | None = None


def deadlines_for(
    user: User,
    now: datetime | None = None,
    limit: int = 5,
    *,
    summaries: list[drafts.DraftSummary] | None = None,
) -> list[DeadlineItem]:
    """The nearest DAT deadlines on ``user``'s establishments, soonest first: drafts' 48 hours
    (late ones first) and reserves windows still open. For the home page's "échéances".
    ``summaries``: ``drafts.list_drafts(user)`` when the caller has read it already."""
    moment = now_utc(now)
    items: list[DeadlineItem] = []
    for summary in drafts.list_drafts(user) if summaries is None else summaries:
        if summary.workflow.name != WORKFLOW:
            continue
        row = _draft_row(summary, moment)
        if row.notice is not None:
            items.append(
                DeadlineItem(
                    label=f"Déclarer l'accident de {row.victim_name or 'la victime'}",
                    establishment=summary.draft.establishment,
                    due=row.notice.due,
                    url=url_for("workflows.resume", draft_id=summary.draft.id),
                    late=row.notice.late,
                )
            )
    ids = [e.id for e in employer_establishments(user)]
    if ids:
        open_ones = db.session.scalars(
            select(Declaration)
            .where(
                Declaration.establishment_id.in_(ids), Declaration.reserves_due_on >= local_date(moment, "75")
            )
            .options(joinedload(Declaration.establishment))
            .order_by(Declaration.reserves_due_on)
            .limit(limit)
        )
        for declaration in open_ones:
            deadline = reserves_deadline(declaration)
            if deadline.is_late(moment):
                continue
            items.append(
                DeadlineItem(
                    label=f"Réserves éventuelles sur la déclaration {declaration.reference}",
                    establishment=declaration.establishment,
                    due=deadline.ends_at,
                    url=url_for("dat.declaration", reference=declaration.reference),
                    last_day=deadline.effective_due,
                )
            )
    items.sort(key=lambda item: (not item.late, item.due))
    return items[:limit]
