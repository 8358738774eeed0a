"""Abandoned drafts are not kept forever: a draft may hold a victim's NIR and health details.

A draft without a save for ``DRAFT_RETENTION_DAYS`` is deleted like « Supprimer ce brouillon » does
(its answers erased, the row kept), never without a warning: the people working on it are e-mailed
``DRAFT_RETENTION_WARNING_DAYS`` before (:func:`app.services.drafts.deletion_time`), and the lists
show the date. A save starts the count again. ``flask drafts expire`` runs :func:`expire_drafts`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Draft
from app.models.types import utcnow
from app.services import access, drafts, outbox
from app.services.drafts import retention
from app.services.drafts import retention_warning as warning_period
from app.web import paris
from app.workflows import get_workflow

WARNING_KIND = "draft_expiry_warning"


class Outcome(NamedTuple):
    warned: int  # drafts whose people were e-mailed
    deleted: int


def expire_drafts(now: datetime | None = None) -> Outcome:
    """Warn the people of drafts entering the warning period, then delete the drafts whose time has
    come. Each draft is one transaction; a draft saved meanwhile is left alone."""
    moment = now or utcnow()
    open_drafts = (Draft.submitted_at.is_(None), Draft.discarded_at.is_(None))
    to_warn = db.session.scalars(
        select(Draft)
        .where(
            *open_drafts,
            Draft.updated_at <= moment - (retention() - warning_period()),
            or_(Draft.expiry_warned_at.is_(None), Draft.expiry_warned_at < Draft.updated_at),
        )
        .options(joinedload(Draft.establishment))
        .order_by(Draft.id)
        .execution_options(populate_existing=True)
    ).all()
    warned = sum(_warn(draft, moment) for draft in to_warn)
    to_delete = db.session.scalars(
        select(Draft)
        .where(
            *open_drafts,
            Draft.updated_at <= moment - retention(),
            Draft.expiry_warned_at >= Draft.updated_at,
            Draft.expiry_warned_at <= moment - warning_period(),
        )
        .order_by(Draft.id)
        .execution_options(populate_existing=True)
    ).all()
    deleted = sum(_delete(draft, moment) for draft in to_delete)
    return Outcome(warned, deleted)


def _warn(draft: Draft, moment: datetime) -> bool:
    # Claim the warning with the version read: a save or another run meanwhile claims nothing.
    claimed = db.session.execute(
        update(Draft)
        .where(Draft.id == draft.id, Draft.version == draft.version)
        .values(expiry_warned_at=moment)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return False
    workflow = get_workflow(draft.workflow)
    deletion = max(draft.updated_at + retention(), moment + warning_period())
    people = {draft.created_by_id, draft.updated_by_id}
    for user in access.users_on_subject(workflow.service, access.Subject.of(draft)):
        if user.id in people:
            outbox.enqueue(
                user.email,
                *_warning_text(user, draft, workflow.title, deletion),
                kind=WARNING_KIND,
                related=("draft", draft.id),
                user_id=user.id,
            )
    db.session.commit()
    return True


def _warning_text(user, draft: Draft, title: str, deletion: datetime) -> tuple[str, str]:
    establishment = draft.establishment
    days = current_app.config["DRAFT_RETENTION_DAYS"]
    subject = f"Brouillon supprimé le {paris(deletion, '%d/%m/%Y')} sans nouvel enregistrement : {title}"
    body = (
        f"Bonjour {user.full_name},\n\n"
        f"Le brouillon « {title} » commencé pour {establishment.name} (SIRET {establishment.siret}) "
        f"n'a pas été enregistré depuis le {paris(draft.updated_at)}.\n"
        f"Sans nouvel enregistrement, il sera supprimé le {paris(deletion)}, avec ses réponses : "
        f"les brouillons sont conservés {days} jours après leur dernier enregistrement, pour protéger "
        "les données qu'ils contiennent.\n\n"
        f"Pour le garder, reprenez-le et enregistrez-le : {drafts.resume_link(draft)}\n"
        "S'il n'est plus utile, vous n'avez rien à faire.\n"
    )
    return subject, body


def _delete(draft: Draft, moment: datetime) -> bool:
    drafts.erase(draft, by_id=None, action="draft.expired", at=moment)
    try:
        db.session.commit()  # UPDATE … WHERE version = <read>: a save meanwhile wins
    except StaleDataError:
        db.session.rollback()
        return False
    return True
