"""The consultation of the dossier (issue 13, item 7; SPEC §3.2): the caisse's pieces — a *secret médical*
piece is never listed to a party and its URL answers 404 —, and the parties' observations (text and an
optional file) during the 10 jours francs with observations, annexed and shown to the other party at once
with an e-mail (which names the case, never its content). After that window the dossier is read-only until
the decision; after the decision the case is closed.

The party's identity is checked by the caller's screen (the employer's: app/services/qrpro/employer.py;
the victim's: the victim space) — these functions take the party it found.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import abort, current_app
from sqlalchemy import exists, func, select, update

from app.domain.calendars import local_date, timezone_for
from app.domain.cases import Party
from app.domain.dat import french_day
from app.domain.qrpro import DateKind, EventKind, Stage
from app.extensions import db
from app.models import Case, CaseDate, CaseDocument, CaseEvent, Establishment, Service, User
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


def case_today(case: Case, now: datetime | None = None) -> date:
    """The case's day, where its establishment is (the day the window's dates are read against)."""
    return local_date(now or utcnow(), case.establishment.departement)


def is_consultable(case: Case, now: datetime | None = None) -> bool:
    """The parties see the dossier from the consultation's opening day."""
    opening = calendar.effective(case, DateKind.CONSULTATION_OPENING)
    return opening is not None and case_today(case, now) >= opening


def observations_open(case: Case, now: datetime | None = None) -> bool:
    """Observations are taken from the opening day through the last of the 10 jours francs, never after
    the decision."""
    if case.stage == Stage.DECIDE:
        return False
    opening = calendar.effective(case, DateKind.CONSULTATION_OPENING)
    last = calendar.effective(case, DateKind.OBSERVATIONS_END)
    return opening is not None and last is not None and opening <= case_today(case, now) <= last


def window_message(case: Case, now: datetime | None = None) -> str:
    """Why observations are not taken (or an empty string when they are)."""
    if case.stage == Stage.DECIDE:
        return "Le dossier est clos : la décision a été rendue."
    opening = calendar.effective(case, DateKind.CONSULTATION_OPENING)
    last = calendar.effective(case, DateKind.OBSERVATIONS_END)
    if opening is None or last is None:
        return "La consultation du dossier n'est pas encore programmée."
    today = case_today(case, now)
    if today < opening:
        return f"La consultation du dossier ouvre le {french_day(opening)}."
    if today > last:
        return (
            f"Le délai pour formuler des observations a expiré le {french_day(last)} : le dossier reste "
            "consultable jusqu'à la décision, sans nouvelles observations."
        )
    return ""


def window_end(case: Case, last_day: date) -> datetime:
    """The instant the window closes: the end of its last day in the case's local time (UTC)."""
    start_of_next = datetime.combine(
        last_day + timedelta(days=1), time(), tzinfo=timezone_for(_departement(case))
    )
    return start_of_next.astimezone(UTC)


def _departement(case: Case) -> str:
    return case.establishment.departement


def close_windows(now: datetime | None = None) -> int:
    """Record the « fenêtre d'observations close » event of every case whose 10 jours francs with
    observations have ended (the end of their last day, local time), dated at that end, with the legal
    basis, on both parties' timelines. Once per case: each case's row is locked while it is checked, so that
    two runs at once — or a run again — record nothing twice. A case decided since still gets it (its window
    ended before the decision). Returns how many were recorded; the periodic command
    `flask qrpro cloturer-consultations`."""
    moment = now or utcnow()
    last = func.coalesce(CaseDate.notified_on, CaseDate.override_on, CaseDate.computed_on)
    recorded = exists().where(CaseEvent.case_id == Case.id, CaseEvent.kind == str(EventKind.WINDOW_CLOSED))
    # A first cut in SQL: no local date is later than the UTC date + 1, so a window closed anywhere has its
    # last day on the UTC date at the latest; each case's own local date decides below.
    candidates = list(
        db.session.scalars(
            select(Case.id)
            .join(CaseDate, (CaseDate.case_id == Case.id) & (CaseDate.kind == str(DateKind.OBSERVATIONS_END)))
            .where(
                Case.stage.in_((str(Stage.CONSULTATION), str(Stage.DECIDE))),
                last <= moment.date(),
                ~recorded,
            )
            .order_by(Case.id)
        )
    )
    db.session.rollback()
    count = 0
    for case_id in candidates:
        if _close_window(case_id, moment):
            count += 1
    return count


def _close_window(case_id: int, moment: datetime) -> bool:
    # The lock first (a no-op UPDATE: the row on PostgreSQL, the database's write lock on SQLite), then the
    # checks, which therefore see what a concurrent run committed.
    db.session.execute(
        update(Case).where(Case.id == case_id).values(stage=Case.stage),
        execution_options={"synchronize_session": False},
    )
    case = db.session.get(Case, case_id, populate_existing=True)
    row = db.session.scalar(
        select(CaseDate).where(CaseDate.case_id == case_id, CaseDate.kind == str(DateKind.OBSERVATIONS_END))
    )
    already = db.session.scalar(
        select(CaseEvent.id).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == str(EventKind.WINDOW_CLOSED)
        )
    )
    if row is None or already is not None or case_today(case, moment) <= row.effective_on:
        db.session.rollback()
        return False
    db.session.add(
        CaseEvent(
            case_id=case.id,
            party=None,  # both parties' timelines
            at=window_end(case, row.effective_on),
            kind=str(EventKind.WINDOW_CLOSED),
            user_id=None,
            details={
                "last_day": row.effective_on.isoformat(),
                "legal_basis": row.legal_basis,
                "recorded_at": moment.isoformat(),
            },
        )
    )
    db.session.commit()
    return True


# --- observations -----------------------------------------------------------------------------------------


def _other_party_addresses(
    case: Case, author: Party, author_place: Establishment | None
) -> list[tuple[str, int, Party, Establishment | None]]:
    """(e-mail, user id, party, employer establishment) of everyone told of an observation: the victim
    and the QR Pro users of every employer establishment but the author's (a user holding QR Pro on
    several of them is told once)."""
    addresses = []
    if author != Party.VICTIM:
        victim = case.victim
        if victim is not None and victim.email:
            addresses.append((victim.email, victim.id, Party.VICTIM, None))
    told = set()
    for place in case.employers:
        if author_place is not None and place.id == author_place.id:
            continue
        for person in access.users_habilitated(Service.QRPRO, place):
            if person.id not in told:
                told.add(person.id)
                addresses.append((person.email, person.id, Party.EMPLOYER, place))
    return addresses


def add_observation(
    user: User,
    case: Case,
    party: Party,
    *,
    text: str,
    file=None,
    now: datetime | None = None,
    establishment: Establishment | None = None,
) -> CaseDocument:
    """A party's observations during the window (text, optional file): annexed to the dossier, an event on
    both timelines, and an e-mail to the other parties (the victim, every other employer establishment).
    An employer's observations name the establishment they come from (``establishment``: which of the
    case's employers, the case's own by default). Refused with a French message outside the window —
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
    place = (establishment or case.establishment) if party == Party.EMPLOYER else None
    title = f"Observations – {party.label.lower()}"
    if place is not None and len(case.employers) > 1:
        title = f"{title} {place.name}"[:200]
    document = CaseDocument(
        case_id=case.id,
        kind=OBSERVATION,
        party=str(party),
        establishment_id=place.id if place is not None else None,
        title=title,
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
            details={"auteur": str(party), **({"etablissement": place.siret} if place is not None else {})},
        )
    )
    for email, user_id, other, other_place in _other_party_addresses(case, party, place):
        link = current_app.config["BASE_URL"] + _case_path(case, other, other_place)
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
        "qrpro.observation",
        "case_document",
        document.id,
        establishment_id=(place or case.establishment).id,  # an employer's: the one it comes from
        actor=user,
    )
    db.session.commit()
    return document


def _case_path(case: Case, party: Party, place: Establishment | None = None) -> str:
    if party == Party.EMPLOYER:
        values = {"reference": case.reference}
        if place is not None and place.id != case.establishment_id:
            values["siret"] = place.siret  # the page of that employer establishment
        return current_app.url_map.bind("").build("qrpro_dossiers.case", values)
    return current_app.url_map.bind("").build("qrpro_victim.case", {"case_id": case.id})


def author_label(document: CaseDocument) -> str:
    """Who a document comes from: the caisse, the victim, or the employer — named by its establishment
    (name and SIRET) for observations."""
    if document.party is None:
        return "Caisse"
    label = Party(document.party).label
    place = document.establishment
    if document.party == Party.EMPLOYER and place is not None:
        return f"{label} – {place.name} (SIRET {place.siret})"
    return label
