"""While the DAT draft is being filled: its first answers, the 48-hour due time shown on each step, and
the reserves' attached file.
"""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.domain import dat as rules
from app.extensions import db
from app.forms import dat as dat_forms
from app.models import Declaration, Draft, Establishment, Service, Submission, User
from app.services import drafts, uploads

from .common import now_utc


def initial_answers(establishment: Establishment, user: User) -> dict:
    """The employer block of a new draft: the establishment's identity (SPEC §2.2, step 1), and the
    contact and occupational-health service of this establishment's last declaration, if any."""
    employeur = {
        "siret": establishment.siret,
        "raison_sociale": establishment.company.name if establishment.company else establishment.name,
        "adresse": establishment.address,
        "code_postal": establishment.postal_code,
        "commune": establishment.city,
        "code_risque": establishment.code_risque,
    }
    last = db.session.scalar(
        select(Submission.data)
        .join(Declaration, Declaration.submission_id == Submission.id)
        .where(Declaration.establishment_id == establishment.id)
        .order_by(Declaration.submitted_at.desc(), Declaration.id.desc())
        .limit(1)
    )
    if last:
        previous = last.get("answers", {}).get("employeur", {})
        for name in ("telephone", "courriel", "sst_nom", "sst_adresse"):
            if previous.get(name):
                employeur[name] = previous[name]
    return {"employeur": {k: v for k, v in employeur.items() if v}}


def due_notice_for(draft: Draft, answers=None, now: datetime | None = None) -> rules.DueNotice | None:
    """The 48-hour deadline of a draft from its (or the given) answers, None before step 5. For an
    accident of the registre des accidents bénins they run from the care or stoppage (SPEC §2.1)."""
    start = dat_forms.raw_start(draft.answers if answers is None else answers)
    if start is None:
        return None
    return rules.due_notice(start.at, draft.establishment.departement, now_utc(now), benin=start.benin)


def draft_note(draft: Draft) -> str | None:
    """The drafts list's line (engine hook): the time left to send it, or that the knowledge date and
    time saved give none (a date typed 31/12/9999 is kept as typed)."""
    notice = due_notice_for(draft)
    if notice is None:
        if dat_forms.raw_value(draft.answers, "connaissance", "date_connaissance"):
            return "Délai de 48 heures : vérifiez la date et l'heure de connaissance de l'accident"
        return None
    if notice.late:
        return f"Délai de 48 heures dépassé depuis le {notice.due_text}"
    return f"À transmettre avant le {notice.due_text} (reste {rules.french_duration(notice.left)})"


def due_preview(user: User, draft_id: int, formdata: MultiDict, now: datetime | None = None):
    """The live due time for the knowledge date and time being typed on step 5 (nothing is saved).
    Returns (draft, notice), the notice being None while a box is empty or not a real date/time."""
    draft, _ = drafts.load_draft(user, draft_id)
    raw = {
        "connaissance": {
            "date_connaissance": formdata.getlist("date_connaissance")[:3],
            "heure_connaissance": formdata.get("heure_connaissance", "")[:20],
            "registre": formdata.get("registre", "")[:10],
            "date_soins": formdata.getlist("date_soins")[:3],
            "heure_soins": formdata.get("heure_soins", "")[:20],
        }
    }
    return draft, due_notice_for(draft, raw, now)


class AttachmentRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def store_attachment(user: User, stream: BinaryIO, filename: str, establishment_id: int, **holder):
    """The DAT's one way to keep an attached file: the upload service's checks, held by what
    ``holder`` names (``draft_id=`` or ``declaration_id=``); a refused file rolls back and raises
    :class:`AttachmentRefused` with the French reason."""
    try:
        upload = uploads.save_upload(
            stream,
            filename,
            establishment_id=establishment_id,
            user_id=user.id,
            service=Service.DAT,
            **holder,
        )
        db.session.flush()
    except uploads.UploadRejected as error:
        db.session.rollback()
        raise AttachmentRefused(error.message) from None
    return upload


def attach_reserves_file(
    user: User,
    draft_id: int,
    formdata: MultiDict,
    stream: BinaryIO | None,
    filename: str,
    *,
    base_version: int,
) -> drafts.StepSaved:
    """Store the file chosen on the reserves step and save the step with it (and whatever else was
    typed there), in one transaction. Raises :class:`AttachmentRefused` with a French message."""
    draft, workflow = drafts.load_draft(user, draft_id)
    step = workflow.step("reserves")
    if stream is None or not filename:
        raise AttachmentRefused("Choisissez le fichier à joindre")
    upload = store_attachment(user, stream, filename, draft.establishment_id, draft_id=draft.id)
    data = MultiDict(formdata)
    data.setlist("piece_jointe", [str(upload.id)])
    data.setlist("piece_jointe_nom", [upload.filename])
    try:
        return drafts.save_step(
            user, draft, workflow, step, data, base_version=base_version, mode=drafts.LATER
        )
    except Exception:
        db.session.rollback()
        raise


def detach_reserves_file(
    user: User, draft_id: int, formdata: MultiDict, *, base_version: int
) -> drafts.StepSaved:
    """Save the reserves step without its attachment (the stored file stays, unreferenced)."""
    draft, workflow = drafts.load_draft(user, draft_id)
    data = MultiDict(formdata)
    data.setlist("piece_jointe", [""])
    data.setlist("piece_jointe_nom", [""])
    return drafts.save_step(
        user, draft, workflow, workflow.step("reserves"), data, base_version=base_version, mode=drafts.LATER
    )
