"""The consultation of the dossier (issue 13, item 7; SPEC §3.2): the caisse's pieces — a *secret médical*
piece is never listed to a party and its URL answers 404 —, and the parties' observations (text and an
optional file) during the 10 jours francs with observations, annexed and shown to the other party at once
with an e-mail (which names the case, never its content). After that window the dossier is read-only until
the decision; after the decision the case is closed.

The party's identity is checked by the caller's screen (the employer's: app/services/qrpro/employer.py;
the victim's: the victim space) — these functions take the party it found.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, current_app
from sqlalchemy import select

from app.domain.calendars import local_date
from app.domain.cases import Party
from app.domain.dat import french_day
from app.domain.qrpro import DateKind, EventKind, Stage
from app.extensions import db
from app.models import Case, CaseDocument, CaseEvent, Service, User
from app.models.types import utcnow
from app.services import access, audit, outbox
from app.services.uploads import UploadRejected, read_blob, store_blob

from . import calendar

PIECE = "piece"
OBSERVATION = "observation"
MAX_TEXT = 10_000
MAIL_KIND = "qrpro_observation"


class DocumentRefused(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def _store(file, errors: dict[str, str], field: str) -> tuple[str | None, str, str, int]:
    if file is None or not getattr(file, "filename", ""):
        return None, "", "", 0
    try:
        sha, size, media_type = store_blob(file.stream)
    except UploadRejected as rejected:
        errors[field] = rejected.message
        return None, "", "", 0
    return sha, (file.filename or "document")[-200:], media_type, size


# --- the caisse's pieces ----------------------------------------------------------------------------------


def add_piece(agent: User, case: Case, *, title: str, file, secret_medical: bool) -> CaseDocument:
    """A piece of the dossier added by the agent (before the decision), optionally *secret médical*."""
    errors: dict[str, str] = {}
    if case.stage == Stage.DECIDE:
        errors["titre"] = "Le dossier est clos : la décision a été rendue"
    if not (title or "").strip():
        errors["titre"] = "Indiquez le titre de la pièce"
    elif len(title.strip()) > 200:
        errors["titre"] = "Le titre doit faire 200 caractères au maximum"
    if file is None or not getattr(file, "filename", ""):
        errors["fichier"] = "Joignez la pièce (PDF, PNG ou JPEG)"
    if errors:
        raise DocumentRefused(errors)
    sha, filename, media_type, size = _store(file, errors, "fichier")
    if errors:
        raise DocumentRefused(errors)
    document = CaseDocument(
        case_id=case.id,
        kind=PIECE,
        party=None,
        title=title.strip(),
        text="",
        sha256=sha,
        filename=filename,
        media_type=media_type,
        size=size,
        secret_medical=bool(secret_medical),
        created_by_id=agent.id,
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        "qrpro.piece",
        "case_document",
        document.id,
        establishment_id=case.establishment_id,
        actor=agent,
        secret_medical=document.secret_medical,
    )
    db.session.commit()
    return document


def documents(case: Case, *, for_party: Party | None = None) -> list[CaseDocument]:
    """The dossier's documents; for a party, never a *secret médical* piece."""
    query = select(CaseDocument).where(CaseDocument.case_id == case.id)
    if for_party is not None:
        query = query.where(CaseDocument.secret_medical.is_(False))
    return list(db.session.scalars(query.order_by(CaseDocument.created_at, CaseDocument.id)))


def document_for(
    case: Case, document_id: int, *, for_party: Party | None = None
) -> tuple[CaseDocument, bytes]:
    """A document and its bytes: 404 when it is not this case's — or, for a party, when it is *secret
    médical* or the dossier is not open to consultation yet."""
    document = db.session.get(CaseDocument, document_id)
    if document is None or document.case_id != case.id or document.sha256 is None:
        abort(404)
    if for_party is not None and (document.secret_medical or not is_consultable(case)):
        abort(404)
    return document, read_blob(document.sha256)


# --- the window -------------------------------------------------------------------------------------------


def _today(case: Case, now: datetime | None = None) -> date:
    return local_date(now or utcnow(), case.establishment.departement)


def is_consultable(case: Case, now: datetime | None = None) -> bool:
    """The parties see the dossier from the consultation's opening day."""
    opening = calendar.effective(case, DateKind.CONSULTATION_OPENING)
    return opening is not None and _today(case, now) >= opening


def observations_open(case: Case, now: datetime | None = None) -> bool:
    """Observations are taken from the opening day through the last of the 10 jours francs, never after
    the decision."""
    if case.stage == Stage.DECIDE:
        return False
    opening = calendar.effective(case, DateKind.CONSULTATION_OPENING)
    last = calendar.effective(case, DateKind.OBSERVATIONS_END)
    return opening is not None and last is not None and opening <= _today(case, now) <= last


def window_message(case: Case, now: datetime | None = None) -> str:
    """Why observations are not taken (or an empty string when they are)."""
    if case.stage == Stage.DECIDE:
        return "Le dossier est clos : la décision a été rendue."
    opening = calendar.effective(case, DateKind.CONSULTATION_OPENING)
    last = calendar.effective(case, DateKind.OBSERVATIONS_END)
    if opening is None or last is None:
        return "La consultation du dossier n'est pas encore programmée."
    today = _today(case, now)
    if today < opening:
        return f"La consultation du dossier ouvre le {french_day(opening)}."
    if today > last:
        return (
            f"Le délai pour formuler des observations a expiré le {french_day(last)} : le dossier reste "
            "consultable jusqu'à la décision, sans nouvelles observations."
        )
    return ""


# --- observations -----------------------------------------------------------------------------------------


def _other_party_addresses(case: Case, author: Party) -> list[tuple[str, int]]:
    if author == Party.EMPLOYER:
        victim = case.victim
        return [(victim.email, victim.id)] if victim is not None and victim.email else []
    return [(user.email, user.id) for user in access.users_habilitated(Service.QRPRO, case.establishment)]


def add_observation(
    user: User, case: Case, party: Party, *, text: str, file=None, now: datetime | None = None
) -> CaseDocument:
    """A party's observations during the window (text, optional file): annexed to the dossier, an event on
    both timelines, and an e-mail to the other party. Refused with a French message outside the window —
    nothing is stored then."""
    errors: dict[str, str] = {}
    if not observations_open(case, now):
        errors["observations"] = window_message(case, now)
    text = (text or "").strip()
    if not text:
        errors.setdefault("observations", "Saisissez vos observations")
    elif len(text) > MAX_TEXT:
        errors.setdefault("observations", "Vos observations doivent faire 10 000 caractères au maximum")
    if errors:
        raise DocumentRefused(errors)
    sha, filename, media_type, size = _store(file, errors, "fichier")
    if errors:
        raise DocumentRefused(errors)
    moment = now or utcnow()
    document = CaseDocument(
        case_id=case.id,
        kind=OBSERVATION,
        party=str(party),
        title=f"Observations – {party.label.lower()}",
        text=text,
        sha256=sha,
        filename=filename,
        media_type=media_type,
        size=size,
        secret_medical=False,
        created_at=moment,
        created_by_id=user.id,
    )
    db.session.add(document)
    db.session.flush()
    db.session.add(
        CaseEvent(
            case_id=case.id,
            party=None,  # annexed to the dossier: on both parties' timelines
            at=moment,
            kind=str(EventKind.OBSERVATION),
            user_id=user.id,
            details={"auteur": str(party)},
        )
    )
    other = Party.VICTIM if party == Party.EMPLOYER else Party.EMPLOYER
    link = current_app.config["BASE_URL"] + _case_path(case, other)
    for email, user_id in _other_party_addresses(case, party):
        outbox.enqueue(
            email,
            f"Nouvelles observations sur le dossier {case.reference}",
            "\n".join(
                [
                    "Bonjour,",
                    "",
                    f"Des observations ont été annexées au dossier {case.reference} pendant la consultation "
                    "du dossier.",
                    "",
                    "Pour les lire, connectez-vous à votre espace Services AT/MP :",
                    link,
                    "",
                    "Ce message est envoyé automatiquement : merci de ne pas y répondre.",
                ]
            ),
            kind=MAIL_KIND,
            related=("case_document", document.id),
            user_id=user_id,
        )
    audit.record(
        "qrpro.observation", "case_document", document.id, establishment_id=case.establishment_id, actor=user
    )
    db.session.commit()
    return document


def _case_path(case: Case, party: Party) -> str:
    if party == Party.EMPLOYER:
        return current_app.url_map.bind("").build("qrpro_dossiers.case", {"reference": case.reference})
    return current_app.url_map.bind("").build("qrpro_victim.case", {"case_id": case.id})


def author_label(document: CaseDocument) -> str:
    if document.party is None:
        return "Caisse"
    return Party(document.party).label
