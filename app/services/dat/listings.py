"""DAT use cases (SPEC §2, issue 3): the declaration made when the engine submits a DAT draft, the
48-hour deadline shown while filling it, the employer's follow-up list, reserves added after the
declaration, the CPAM's inbox, CMI date and status changes — and the three PDFs.

Every function that writes is one transaction and commits; reads of a declaration are audited.
Status changes go through :func:`change_status` only, which applies
``app.domain.dat.check_transition``. Functions that depend on the clock take ``now`` (tests pass it).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import BinaryIO

from flask import abort, current_app, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from app.domain import dat as rules
from app.domain.calendars import local_date, to_local
from app.domain.deadlines import Deadline
from app.extensions import db
from app.forms import dat as dat_forms
from app.models import (
    Caisse,
    Declaration,
    DeclarationEvent,
    Draft,
    Establishment,
    OutboxMessage,
    ReserveAddendum,
    Service,
    Submission,
    Upload,
    User,
)
from app.models.types import utcnow
from app.services import access, audit, drafts, outbox, uploads
from app.services.paging import paginate
from app.services.pdf import render_pdf
from app.workflows.engine import sha256_of

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------------------------------
# While filling the draft
# --------------------------------------------------------------------------------------------------


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


def known_at_of(answers) -> datetime | None:
    """The naive local knowledge time typed on step 5, if both boxes hold a real date and time."""
    return dat_forms.raw_moment(answers, "connaissance", "date_connaissance", "heure_connaissance")


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
        return f"Délai de 48 heures dépassé depuis le {rules.french_moment(notice.due, notice.departement)}"
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


# Reserves attachment on the draft (step 7) ------------------------------------------------------


class AttachmentRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
    try:
        upload = uploads.save_upload(
            stream,
            filename,
            establishment_id=draft.establishment_id,
            user_id=user.id,
            service=Service.DAT,
            draft_id=draft.id,
        )
        db.session.flush()
    except uploads.UploadRejected as error:
        db.session.rollback()
        raise AttachmentRefused(error.message) from None
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


# --------------------------------------------------------------------------------------------------
# Submission → declaration
# --------------------------------------------------------------------------------------------------


def _local(day: str, hour: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hour))


def record_declaration(submission: Submission, draft: Draft) -> Declaration:
    """Engine hook (``on_submit``), inside the submission's transaction: the declaration with its
    deadline facts, the first line of its timeline, and a notification to the sender."""
    refuse_unconfirmed_duplicate(submission, draft)
    answers = submission.data["answers"]
    establishment = draft.establishment
    departement = establishment.departement
    victime, accident, connaissance = answers["victime"], answers["accident"], answers["connaissance"]
    accident_local = _local(accident["date_accident"], accident["heure_accident"])
    known = to_local(
        _local(connaissance["date_connaissance"], connaissance["heure_connaissance"]), departement
    )
    deadline = start_of(connaissance, departement).deadline(departement)
    late = deadline.is_late(submission.submitted_at)
    names = [victime["nom"].upper(), victime.get("nom_usage") or "", victime["prenoms"]]
    declaration = Declaration(
        submission_id=submission.id,
        reference=submission.reference,
        establishment_id=establishment.id,
        departement=departement,
        victim_name=f"{victime['nom'].upper()} {victime['prenoms']}"[:250],
        search_text=search_key(" ".join([*names, submission.reference]))[:300],
        accident_at=to_local(accident_local, departement).astimezone(UTC),
        accident_on=accident_local.date(),
        is_trajet=rules.is_trajet(accident.get("lieu")),
        is_fatal=answers["lesions"].get("consequences") == "deces",
        known_at=known.astimezone(UTC),
        due_at=deadline.ends_at.astimezone(UTC),
        submitted_at=submission.submitted_at,
        late=late,
        has_reserves=answers.get("reserves", {}).get("reserves") == "oui",
        reserves_due_on=rules.reserves_deadline(submission.submitted_at, departement).due,
        status=rules.Status.TRANSMISE,
        status_changed_at=submission.submitted_at,
    )
    rules.check_transition(rules.Status.BROUILLON, rules.Status.TRANSMISE)
    db.session.add(declaration)
    db.session.flush()
    attachment = attachment_of(declaration)
    if attachment is not None and attachment.draft_id == draft.id:
        # The file sent with the declaration is the declaration's now: the CPAM reads it too.
        attachment.declaration_id = declaration.id
    # Through the relationship: the loaded collection stays true (sessions keep objects after commit).
    declaration.events.append(
        DeclarationEvent(
            at=submission.submitted_at,
            kind="transmise",
            from_status=rules.Status.BROUILLON,
            to_status=rules.Status.TRANSMISE,
            user_id=submission.submitted_by_id,
            details={"late": late, "reserves": declaration.has_reserves},
        )
    )
    _deposit_receipt(declaration)
    sender = db.session.get(User, submission.submitted_by_id)
    receipt_link = _absolute(receipt_path(submission.reference))
    if sender is not None and sender.email:
        # A notification that links back; never the victim's health details (SPEC §1).
        outbox.enqueue(
            sender.email,
            f"Déclaration d'accident {submission.reference} transmise",
            (
                f"Bonjour,\n\nLa déclaration d'accident du travail {submission.reference} pour "
                f"l'établissement {establishment.name} (SIRET {establishment.siret}) a été transmise le "
                f"{rules.french_moment(submission.submitted_at, departement)}"
                f"{' (hors délai)' if late else ''}.\n\n"
                f"Accusé de réception et suivi : {receipt_link}\n"
            ),
            kind="dat_transmise",
            related=("dat_declaration", declaration.id),
            user_id=sender.id,
        )
    return declaration


def start_of(connaissance: dict, departement: str) -> rules.DatStart:
    """Where a sent declaration's 48 hours ran from, from its step 5 (JSON answers): the knowledge
    of the accident, or of the care or stoppage of an accident in the registre des accidents bénins."""
    registre = connaissance.get("registre") == "oui" and bool(connaissance.get("date_soins"))
    if registre:
        care = _local(connaissance["date_soins"], connaissance["heure_soins"])
        return rules.DatStart(to_local(care, departement), benin=True)
    known = _local(connaissance["date_connaissance"], connaissance["heure_connaissance"])
    return rules.DatStart(to_local(known, departement))


def dat_start_of(declaration: Declaration) -> rules.DatStart:
    """When and why a sent declaration's 48 hours started (receipt, declaration pages, PDFs)."""
    return start_of(declaration.answers.get("connaissance", {}), declaration.departement)


def _deposit_receipt(declaration: Declaration) -> None:
    """The accusé de réception also goes to the establishment's LUCIE mailbox when it is subscribed
    (SPEC §4), inside the submission's transaction: both are kept, or neither. LUCIE refusing it
    never stops the declaration."""
    from app.domain.lucie import LetterType
    from app.models import LetterSource
    from app.services import lucie

    db.session.flush()
    if not lucie.is_subscribed(declaration.establishment):
        return
    try:
        lucie.deposit_letter(
            establishment=declaration.establishment,
            letter_type=LetterType.ACCUSE_RECEPTION,
            title=f"Accusé de réception de la déclaration d'accident {declaration.reference}",
            document=pdf(declaration, "accuse-reception"),
            source=LetterSource.SERVICE,
            filename=f"{declaration.reference}-accuse-reception.pdf",
            case_reference=declaration.reference,
            caisse=caisse_of(declaration),
            commit=False,
        )
    except lucie.DepositRefused as refused:
        log.warning("accusé de réception %s not deposited in LUCIE: %s", declaration.reference, refused.code)


def _absolute(path: str) -> str:
    return f"{current_app.config['BASE_URL']}{path}"


def _path(endpoint: str, fallback: str, **values) -> str:
    """``url_for`` in a request; outside one (a command, the worker), the route's known path."""
    try:
        return url_for(endpoint, **values)
    except RuntimeError:
        return fallback


def receipt_path(reference: str) -> str:
    """The accusé de réception's path (also outside a request, e.g. from a command)."""
    return _path("dat.receipt", f"/dat/declarations/{reference}/accuse-reception", reference=reference)


def confirmation_url(submission: Submission) -> str:
    """Engine hook: after sending, the accusé de réception."""
    return receipt_path(submission.reference)


# --------------------------------------------------------------------------------------------------
# Reading a declaration
# --------------------------------------------------------------------------------------------------


def _by_reference(reference: str) -> Declaration | None:
    if len(reference) > 40:
        return None
    return db.session.scalar(
        select(Declaration)
        .where(Declaration.reference == reference)
        .options(
            joinedload(Declaration.establishment).joinedload(Establishment.company),
            joinedload(Declaration.submission),
            selectinload(Declaration.addenda).joinedload(ReserveAddendum.upload),
            selectinload(Declaration.addenda).joinedload(ReserveAddendum.submitted_by),
            selectinload(Declaration.events).joinedload(DeclarationEvent.user),
        )
    )


def _open(user: User, reference: str, authorize, action: str) -> Declaration:
    declaration = _by_reference(reference)
    authorize(user, Service.DAT, declaration.establishment if declaration else None)
    audit.record(
        action,
        "dat_declaration",
        declaration.id,
        establishment_id=declaration.establishment_id,
        reference=declaration.reference,
    )
    db.session.commit()
    return declaration


def open_declaration(user: User, reference: str, *, action: str = "read") -> Declaration:
    """A declaration on the employer's side (404 unknown or not visible, 403 without DAT), audited."""
    return _open(user, reference, access.authorize_employer_side, f"dat.{action}")


def open_for_caisse(agent: User, reference: str, *, action: str = "read") -> Declaration:
    """A declaration on the CPAM's side (404 unless the agent's caisse covers it), audited."""
    return _open(agent, reference, access.authorize_caisse_side, f"dat.caisse_{action}")


@dataclass
class Section:
    step: str
    title: str
    rows: list[tuple[str, str, str]]


def sections(declaration: Declaration) -> list[Section]:
    """The declared answers by section, as people read them (same rows as "Vérifier vos réponses")."""
    answers = declaration.answers
    return [
        Section(step, title, dat_forms.step_rows(step, answers[step]))
        for step, title in STEP_SECTIONS
        if step in answers
    ]


def declarant(declaration: Declaration) -> dict:
    return declaration.submission.data.get("declaration", {})


def reserves_deadline(declaration: Declaration) -> Deadline:
    return rules.reserves_deadline(declaration.submitted_at, declaration.departement)


def reserves_open(declaration: Declaration, now: datetime | None = None) -> bool:
    return rules.reserves_open(declaration.submitted_at, declaration.departement, now_utc(now))


def attachment_of(declaration: Declaration) -> Upload | None:
    """The file attached to the reserves made in the declaration itself."""
    value = declaration.answers.get("reserves", {}).get("piece_jointe")
    if not value or not str(value).isdigit():
        return None
    return db.session.get(Upload, int(value))


def has_any_reserves(declaration: Declaration) -> bool:
    return declaration.has_reserves or bool(declaration.addenda)


def facts(declaration: Declaration, now: datetime | None = None) -> rules.CaseFacts:
    return rules.CaseFacts(
        cmi_received=declaration.cmi_received_on is not None,
        has_reserves=has_any_reserves(declaration),
        reserves_window_closed=not reserves_open(declaration, now),
    )


def d0(declaration: Declaration) -> date | None:
    return rules.d0(declaration.submitted_at, declaration.cmi_received_on, declaration.departement)


def caisse_of(declaration: Declaration) -> Caisse | None:
    """The CPAM covering the declaration's establishment (named on the feuille d'accident)."""
    for caisse in db.session.scalars(select(Caisse).where(Caisse.kind == "cpam").order_by(Caisse.id)):
        if caisse.covers(declaration.establishment.departement):
            return caisse
    return None


# --------------------------------------------------------------------------------------------------
# Reserves after the declaration (CSS R441-6)
# --------------------------------------------------------------------------------------------------


class ReservesClosed(Exception):
    """The 10 jours francs after the declaration are over: reserves are refused."""

    def __init__(self, due: date):
        super().__init__(f"reserves window closed on {due}")
        self.due = due


def add_reserves(
    user: User,
    reference: str,
    *,
    category: str,
    motivation: str,
    stream: BinaryIO | None = None,
    filename: str = "",
    now: datetime | None = None,
) -> ReserveAddendum:
    """Reasoned reserves added to a sent declaration while its window is open (SPEC §2.1), one
    transaction: the addendum (immutable, with its SHA-256), its file, a timeline line, the audit.
    Raises :class:`ReservesClosed` after the window, :class:`AttachmentRefused` for a bad file."""
    declaration = _by_reference(reference)
    access.authorize_employer_side(user, Service.DAT, declaration.establishment if declaration else None)
    moment = now_utc(now)
    if not reserves_open(declaration, moment):
        raise ReservesClosed(declaration.reserves_due_on)
    if category not in dat_forms.CATEGORIES:
        raise ValueError("unknown reserves category")
    upload = None
    if stream is not None and filename:
        try:
            upload = uploads.save_upload(
                stream,
                filename,
                establishment_id=declaration.establishment_id,
                user_id=user.id,
                service=Service.DAT,
                declaration_id=declaration.id,
            )
            db.session.flush()
        except uploads.UploadRejected as error:
            db.session.rollback()
            raise AttachmentRefused(error.message) from None
    content = {
        "declaration": declaration.reference,
        "declaration_sha256": declaration.submission.sha256,
        "categorie": category,
        "motivation": motivation,
        "piece_jointe": upload.sha256 if upload else None,
        "submitted_at": moment.isoformat(),
    }
    addendum = ReserveAddendum(
        category=category,
        motivation=motivation,
        upload_id=upload.id if upload else None,
        submitted_at=moment,
        submitted_by_id=user.id,
        sha256=sha256_of(content),
    )
    declaration.addenda.append(addendum)
    db.session.flush()
    # Through the relationship: the loaded collection stays true (sessions keep objects after commit).
    declaration.events.append(
        DeclarationEvent(
            at=moment,
            kind="reserves",
            user_id=user.id,
            details={"categorie": category, "addendum": addendum.id},
        )
    )
    audit.record(
        "dat.reserves",
        "dat_declaration",
        declaration.id,
        establishment_id=declaration.establishment_id,
        reference=declaration.reference,
        addendum=addendum.id,
        sha256=addendum.sha256,
    )
    db.session.commit()
    return addendum


# --------------------------------------------------------------------------------------------------
# CPAM side
# --------------------------------------------------------------------------------------------------


class CmiRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def record_cmi(agent: User, reference: str, received_on: date, *, now: datetime | None = None) -> Declaration:
    """Record the day the CPAM received the initial medical certificate: with the declaration it
    fixes D0 (SPEC §3.1), the start of the instruction's calendar. Correctable until a status
    change has been made from it."""
    declaration = _by_reference(reference)
    access.authorize_caisse_side(agent, Service.DAT, declaration.establishment if declaration else None)
    moment = now_utc(now)
    if received_on > local_date(moment, declaration.departement):
        raise CmiRefused("La date de réception du certificat médical ne peut pas être dans le futur")
    if received_on < declaration.accident_on:
        raise CmiRefused("Le certificat médical initial ne peut pas avoir été reçu avant l'accident")
    if declaration.status != rules.Status.TRANSMISE:
        raise CmiRefused(
            "L'instruction ou la décision est déjà engagée : la date D0 ne peut plus être modifiée"
        )
    previous = declaration.cmi_received_on
    declaration.cmi_received_on = received_on
    declaration.cmi_recorded_at = moment
    declaration.cmi_recorded_by_id = agent.id
    # Through the relationship: the loaded collection stays true (sessions keep objects after commit).
    declaration.events.append(
        DeclarationEvent(
            at=moment,
            kind="cmi",
            user_id=agent.id,
            details={
                "received_on": received_on.isoformat(),
                "previous": previous.isoformat() if previous else None,
                "d0": d0(declaration).isoformat(),
            },
        )
    )
    audit.record(
        "dat.cmi",
        "dat_declaration",
        declaration.id,
        establishment_id=declaration.establishment_id,
        reference=declaration.reference,
        received_on=received_on.isoformat(),
    )
    db.session.commit()
    return declaration


def change_status(
    agent: User, reference: str, target: str, *, comment: str = "", now: datetime | None = None
) -> Declaration:
    """THE way a declaration's status changes after it was sent (SPEC §2.3): the transition rules
    (``app.domain.dat.check_transition``), a timeline line and the audit, in one transaction.
    Raises ``TransitionRefused`` with the French reason."""
    declaration = _by_reference(reference)
    access.authorize_caisse_side(agent, Service.DAT, declaration.establishment if declaration else None)
    moment = now_utc(now)
    current = declaration.status_enum
    rules.check_transition(current, target, facts(declaration, moment))
    target_status = rules.Status(target)
    declaration.status = target_status
    declaration.status_changed_at = moment
    # Through the relationship: the loaded collection stays true (sessions keep objects after commit).
    declaration.events.append(
        DeclarationEvent(
            at=moment,
            kind="statut",
            from_status=current,
            to_status=target_status,
            user_id=agent.id,
            details={"comment": comment} if comment else {},
        )
    )
    audit.record(
        "dat.status",
        "dat_declaration",
        declaration.id,
        establishment_id=declaration.establishment_id,
        reference=declaration.reference,
        from_status=str(current),
        to_status=str(target_status),
    )
    db.session.commit()
    return declaration


# --------------------------------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------------------------------


def employer_establishments(user: User) -> list[Establishment]:
    """The establishments where ``user`` may declare (habilitation, or mandate for a firm)."""
    return access.employer_side_establishments(user, Service.DAT)


def navigation_entry(user: User) -> str | None:
    """Which DAT entry the main navigation shows ``user``: ``"employer"``, ``"cpam"`` or none."""
    if user.is_agent:
        return "cpam" if user.kind == "cpam" and user.caisse_id else None
    return "employer" if access.employer_side_establishments(user, Service.DAT) else None


@dataclass
class ListFilters:
    q: str = ""
    statut: str = ""
    etablissement: int | None = None
    du: date | None = None
    au: date | None = None
    hors_delai: bool = False
    cmi: str = ""  # CPAM: "" | "attente" | "recu"
    reserves: bool = False  # CPAM: with reserves only
    a_decider: bool = False  # CPAM: CMI received and no decision yet (the home page's count)
    page: int = 1


@dataclass
class DraftRow:
    summary: drafts.DraftSummary
    victim_name: str
    accident_on: date | None
    notice: rules.DueNotice | None


@dataclass
class Listing:
    declarations: list[Declaration] = field(default_factory=list)
    drafts: list[DraftRow] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    establishments: list[Establishment] = field(default_factory=list)
    # declaration id → the other declarations of the same accident (« doublon possible »)
    duplicates: dict[int, list[Declaration]] = field(default_factory=dict)


def _apply_filters(query, filters: ListFilters):
    if filters.q:
        pattern = f"%{search_key(filters.q)[:100]}%"
        query = query.where(
            or_(Declaration.search_text.like(pattern), Declaration.reference == filters.q.strip().upper())
        )
    if filters.statut in set(rules.Status) - {rules.Status.BROUILLON}:
        query = query.where(Declaration.status == filters.statut)
    if filters.du:
        query = query.where(Declaration.accident_on >= filters.du)
    if filters.au:
        query = query.where(Declaration.accident_on <= filters.au)
    if filters.hors_delai:
        query = query.where(Declaration.late.is_(True))
    return query


def _page(query, filters: ListFilters) -> tuple[list[Declaration], int, int, int]:
    query = query.options(joinedload(Declaration.establishment), selectinload(Declaration.addenda)).order_by(
        Declaration.submitted_at.desc(), Declaration.id.desc()
    )
    result = paginate(query, filters.page, PAGE_SIZE)
    return result.items, result.total, result.page, result.pages


def victim_name_of(answers) -> str:
    """« NOM Prénoms » as typed on a draft's victim step so far ("" before)."""
    nom = dat_forms.raw_value(answers, "victime", "nom")
    prenoms = dat_forms.raw_value(answers, "victime", "prenoms")
    parts = ((nom.upper() if isinstance(nom, str) else ""), (prenoms if isinstance(prenoms, str) else ""))
    return " ".join(p for p in parts if p)[:250]


def draft_label(draft: Draft) -> str | None:
    """What names a draft besides its establishment (engine hook): the victim, once typed."""
    name = victim_name_of(draft.answers)
    return f"Victime : {name}" if name else None


def _draft_row(summary: drafts.DraftSummary, now: datetime) -> DraftRow:
    answers = summary.draft.answers
    return DraftRow(
        summary=summary,
        victim_name=victim_name_of(answers),
        accident_on=dat_forms.raw_date(answers, "accident", "date_accident"),
        notice=due_notice_for(summary.draft, now=now),
    )


def follow_up(user: User, filters: ListFilters, now: datetime | None = None) -> Listing:
    """The employer's follow-up list (SPEC §2.3): drafts and sent declarations of the
    establishments where ``user`` holds DAT (habilitation or mandate), filtered, newest first."""
    moment = now_utc(now)
    establishments = access.employer_side_establishments(user, Service.DAT)
    listing = Listing(establishments=establishments)
    ids = [e.id for e in establishments]
    if filters.etablissement is not None:
        ids = [i for i in ids if i == filters.etablissement]
    if not ids:
        return listing
    if filters.statut in ("", rules.Status.BROUILLON):
        chosen = next((e for e in establishments if e.id == filters.etablissement), None)
        rows = [
            _draft_row(s, moment)
            for s in drafts.list_drafts(user, establishment=chosen)
            if s.workflow.name == WORKFLOW
        ]
        key = search_key(filters.q)
        listing.drafts = [
            row
            for row in rows
            if (not key or key in search_key(row.victim_name))
            and (not filters.du or (row.accident_on and row.accident_on >= filters.du))
            and (not filters.au or (row.accident_on and row.accident_on <= filters.au))
            and (not filters.hors_delai or (row.notice and row.notice.late))
        ]
    if filters.statut != rules.Status.BROUILLON:
        query = _apply_filters(select(Declaration).where(Declaration.establishment_id.in_(ids)), filters)
        listing.declarations, listing.total, listing.page, listing.pages = _page(query, filters)
    return listing


def caisse_inbox(agent: User, filters: ListFilters) -> Listing:
    """The CPAM agent's received declarations (SPEC §1: scoped to its caisse), newest first."""
    listing = Listing()
    departements = access.caisse_departements(agent, Service.DAT)
    if not departements:
        return listing
    query = _apply_filters(select(Declaration).where(Declaration.departement.in_(departements)), filters)
    if filters.cmi == "attente":
        query = query.where(Declaration.cmi_received_on.is_(None))
    elif filters.cmi == "recu":
        query = query.where(Declaration.cmi_received_on.is_not(None))
    if filters.a_decider:
        query = query.where(_to_decide())
    if filters.reserves:
        with_addenda = select(ReserveAddendum.declaration_id)
        query = query.where(or_(Declaration.has_reserves.is_(True), Declaration.id.in_(with_addenda)))
    listing.declarations, listing.total, listing.page, listing.pages = _page(query, filters)
    listing.duplicates = possible_duplicates(listing.declarations)
    return listing


def _to_decide():
    """THE rule of a declaration the caisse has to instruct or decide: its CMI is received and no
    decision is taken yet (transmise or en instruction). The home page counts it, the inbox filters it."""
    return Declaration.cmi_received_on.is_not(None) & Declaration.status.in_(
        [rules.Status.TRANSMISE, rules.Status.EN_INSTRUCTION]
    )


def caisse_work_queue(agent: User) -> dict[str, int]:
    """Counts for the agent's home page: declarations waiting for their CMI, and to decide."""
    departements = access.caisse_departements(agent, Service.DAT)
    if not departements:
        return {"attente_cmi": 0, "a_traiter": 0}
    base = select(func.count(Declaration.id)).where(Declaration.departement.in_(departements))
    return {
        "attente_cmi": db.session.scalar(
            base.where(Declaration.status == rules.Status.TRANSMISE, Declaration.cmi_received_on.is_(None))
        )
        or 0,
        "a_traiter": db.session.scalar(base.where(_to_decide())) or 0,
    }


# --------------------------------------------------------------------------------------------------
# PDFs
# --------------------------------------------------------------------------------------------------


def _pdf_context(declaration: Declaration) -> dict:
    return {
        "declaration": declaration,
        "submission": declaration.submission,
        "establishment": declaration.establishment,
        "answers": declaration.answers,
        "sections": sections(declaration),
        "declarant": declarant(declaration),
        "reserves_deadline": reserves_deadline(declaration),
        "dat_start": dat_start_of(declaration),
        "attachment": attachment_of(declaration),
        "caisse": caisse_of(declaration),
        "labels": dat_forms,
        "rules": rules,
    }


PDF_TEMPLATES = {
    "accuse-reception": "pdf/accuse_reception.html",
    "declaration": "pdf/declaration.html",
    "feuille-accident": "pdf/feuille_accident.html",
}


def pdf(declaration: Declaration, kind: str) -> bytes:
    """One of the declaration's PDFs: ``accuse-reception``, ``declaration`` (Cerfa 14463*03
    layout) or ``feuille-accident`` (Cerfa 11383*02, page 1)."""
    template = PDF_TEMPLATES.get(kind)
    if template is None:
        abort(404)
    return render_pdf(template, **_pdf_context(declaration))


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


def deadlines_for(user: User, now: datetime | None = None, limit: int = 5) -> list[DeadlineItem]:
    """The nearest DAT deadlines on ``user``'s establishments, soonest first: drafts' 48 hours
    (late ones first) and reserves windows still open. For the home page's "échéances"."""
    moment = now_utc(now)
    items: list[DeadlineItem] = []
    for summary in drafts.list_drafts(user):
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


# --------------------------------------------------------------------------------------------------
# Two declarations of the same accident (issue 10): same victim NIR, establishment, accident date and
# time. Warned on "Vérifier vos réponses", confirmed by a checkbox, checked again on submit; flagged
# « doublon possible » to the CPAM.
# --------------------------------------------------------------------------------------------------


@dataclass
class Duplicate:
    """Another declaration, or another draft, of the same accident. ``declaration`` or ``draft`` is
    None when the person looking may not see it (then only its existence is said)."""

    kind: str  # "declaration" | "draft"
    declaration: Declaration | None = None
    draft: Draft | None = None

    @property
    def token(self) -> str:
        return self.declaration.reference if self.declaration is not None else "brouillon"


def _nir_of(answers: dict) -> str:
    from app.domain.identifiers import normalize_nir

    value = (answers.get("victime") or {}).get("nir")
    return normalize_nir(value) if isinstance(value, str) else ""


def _raw_accident(answers) -> tuple[str, datetime] | None:
    """(NIR, naive local accident time) from a draft's raw answers, None while either is missing."""
    nir = _nir_of(answers)
    moment = dat_forms.raw_moment(answers, "accident", "date_accident", "heure_accident")
    return (nir, moment) if nir and moment else None


def duplicates_for(context) -> list[Duplicate]:
    """The declarations and other drafts of the accident being declared in ``context`` (a
    :class:`~app.workflows.engine.StepContext`): same NIR, establishment, accident date and time.
    A draft is named only when ``context.user`` may see it (DAT on its establishment)."""
    establishment, user = getattr(context, "establishment", None), getattr(context, "user", None)
    key = _raw_accident(getattr(context, "answers", None) or {})
    if establishment is None or key is None:
        return []
    nir, local_moment = key
    try:
        accident_at = to_local(local_moment, establishment.departement).astimezone(UTC)
    except (OverflowError, ValueError):
        return []
    current = getattr(context, "draft", None)
    found = [
        Duplicate("declaration", declaration=d)
        for d in _declarations_at(establishment.id, accident_at)
        if _nir_of(d.answers) == nir and (current is None or d.submission.draft_id != current.id)
    ]
    others = db.session.scalars(
        select(Draft)
        .where(
            Draft.workflow == WORKFLOW,
            Draft.establishment_id == establishment.id,
            Draft.submitted_at.is_(None),
            Draft.discarded_at.is_(None),
            Draft.id != (current.id if current is not None else -1),
        )
        .options(joinedload(Draft.updated_by), joinedload(Draft.created_by))
        .order_by(Draft.updated_at.desc())
    )
    visible = (
        {e.id for e in access.employer_side_establishments(user, Service.DAT)} if user is not None else set()
    )
    for draft in others:
        if _raw_accident(draft.answers) == key:
            found.append(Duplicate("draft", draft=draft if draft.establishment_id in visible else None))
    return found


def _declarations_at(establishment_id: int, accident_at: datetime) -> list[Declaration]:
    return list(
        db.session.scalars(
            select(Declaration)
            .where(Declaration.establishment_id == establishment_id, Declaration.accident_at == accident_at)
            .options(joinedload(Declaration.submission))
            .order_by(Declaration.submitted_at)
        )
    )


def duplicates_of_declaration(declaration: Declaration) -> list[Declaration]:
    """The other sent declarations of the same accident (« doublon possible »). They are on the same
    establishment, so whoever may see ``declaration`` may see them."""
    nir = _nir_of(declaration.answers)
    return [
        other
        for other in _declarations_at(declaration.establishment_id, declaration.accident_at)
        if other.id != declaration.id and _nir_of(other.answers) == nir
    ]


def possible_duplicates(declarations: list[Declaration]) -> dict[int, list[Declaration]]:
    """For a page of a list: each declaration's other declarations of the same accident, in one query."""
    if not declarations:
        return {}
    candidates = db.session.scalars(
        select(Declaration)
        .where(
            Declaration.establishment_id.in_({d.establishment_id for d in declarations}),
            Declaration.accident_at.in_({d.accident_at for d in declarations}),
        )
        .options(joinedload(Declaration.submission))
        .order_by(Declaration.submitted_at)
    ).all()
    result: dict[int, list[Declaration]] = {}
    for declaration in declarations:
        nir = _nir_of(declaration.answers)
        others = [
            c
            for c in candidates
            if c.id != declaration.id
            and c.establishment_id == declaration.establishment_id
            and c.accident_at == declaration.accident_at
            and _nir_of(c.answers) == nir
        ]
        if others:
            result[declaration.id] = others
    return result


def refuse_unconfirmed_duplicate(submission: Submission, draft: Draft) -> None:
    """Inside the submission's transaction, once the reference number is taken (which makes
    concurrent submissions wait for each other): a declaration of the same accident sent meanwhile
    must have been seen and confirmed. Raises ``SubmitRefused`` (nothing is kept) otherwise."""
    from app.workflows.engine import StepContext, SubmitRefused

    confirmed = bool(submission.data.get("declaration", {}).get("confirme_doublon"))
    context = StepContext(answers=draft.answers, establishment=draft.establishment, draft=draft)
    if not confirmed and any(d.kind == "declaration" for d in duplicates_for(context)):
        raise SubmitRefused("a declaration of the same accident was sent meanwhile")
