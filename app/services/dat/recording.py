"""Submission → declaration: the declaration recorded when the engine submits a DAT draft, its
receipt in the employer's LUCIE mailbox, and the links to it.
"""

from __future__ import annotations

import logging
from datetime import UTC

from flask import current_app, url_for
from sqlalchemy import func, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from app.domain import dat as rules
from app.domain.caisses import competent_cpam_departement
from app.domain.calendars import to_local
from app.extensions import db
from app.models import Declaration, DeclarationEvent, Draft, Submission, User
from app.services import outbox
from app.services.qrpro import cases as qrpro_cases

from .common import _local, search_key
from .duplicates import refuse_unconfirmed_duplicate
from .pdfs import pdf
from .reading import attachment_of, caisse_of, start_of

log = logging.getLogger(__name__)

DATABASE_FAULTS = (OperationalError, InterfaceError)


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
        cpam_departement=competent_cpam_departement(victime.get("code_postal"), departement),
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
    # The AT case the victim's CPAM instructs (QR Pro, issue 13): opened as the caisse receives the DAT.
    qrpro_cases.open_from_declaration(declaration, victime=victime)
    if lucie_subscribed(declaration):
        # Rendered and deposited once this transaction commits (deposit_receipt): the reference
        # counter stays locked for the number only, and a full file store cannot stop the declaration.
        declaration.receipt_pending_since = submission.submitted_at
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


def lucie_subscribed(declaration: Declaration) -> bool:
    from app.services import lucie

    db.session.flush()
    return lucie.is_subscribed(declaration.establishment)


def deposit_receipt(declaration_id: int) -> bool:
    """Deposit the accusé de réception of a declaration whose receipt is pending in the
    establishment's LUCIE mailbox (SPEC §4), in a transaction of its own, after the submission's.
    Returns whether this call deposited it.

    The PDF is rendered before any row is locked. The pending mark is then taken back with a
    conditional UPDATE in the deposit's transaction: of two callers (the request that submitted,
    the background loop), one deposits and the other finds nothing to do. A full file store leaves
    the receipt pending for the next try; another refusal (e.g. no longer subscribed) is logged and
    ends the wait — LUCIE refusing it never undoes the declaration."""
    from app.domain.lucie import LetterType
    from app.models import LetterSource
    from app.services import lucie

    declaration = db.session.get(Declaration, declaration_id)
    if declaration is None or declaration.receipt_pending_since is None:
        return False
    document = pdf(declaration, "accuse-reception")
    claimed = db.session.execute(
        update(Declaration)
        .where(Declaration.id == declaration_id, Declaration.receipt_pending_since.is_not(None))
        .values(receipt_pending_since=None)
    ).rowcount  # the loaded declaration is updated too: sessions keep objects after commit
    if not claimed:  # deposited meanwhile by another process
        db.session.rollback()
        return False
    try:
        lucie.deposit_letter(
            establishment=declaration.establishment,
            letter_type=LetterType.ACCUSE_RECEPTION,
            title=f"Accusé de réception de la déclaration d'accident {declaration.reference}",
            document=document,
            source=LetterSource.SERVICE,
            filename=f"{declaration.reference}-accuse-reception.pdf",
            case_reference=declaration.reference,
            caisse=caisse_of(declaration),
            commit=False,
        )
    except lucie.DepositRefused as refused:
        if refused.code == "storage_full":
            db.session.rollback()  # still pending: the next try deposits it
            log.warning("accusé de réception %s waits for the file store: %s", declaration.reference, refused)
            return False
        log.warning("accusé de réception %s not deposited in LUCIE: %s", declaration.reference, refused.code)
        db.session.commit()  # the wait ends: nothing will change the refusal
        return False
    db.session.commit()
    return True


def deposit_pending_receipts(limit: int = 100) -> tuple[int, int]:
    """Background job: deposit the receipts still pending (oldest first). Returns (deposited,
    still pending). Stops at the first full-store refusal: the others would meet the same."""
    ids = db.session.scalars(
        select(Declaration.id)
        .where(Declaration.receipt_pending_since.is_not(None))
        .order_by(Declaration.receipt_pending_since, Declaration.id)
        .limit(limit)
    ).all()
    db.session.rollback()  # no transaction held while rendering
    deposited = 0
    for declaration_id in ids:
        try:
            if deposit_receipt(declaration_id):
                deposited += 1
                continue
        except DATABASE_FAULTS:
            raise  # the loop's business (app/cli/background.py): it reconnects
        except Exception:  # one receipt that cannot be made must not hold the others back
            db.session.rollback()
            log.exception("accusé de réception of declaration %s not deposited", declaration_id)
            continue
        if db.session.get(Declaration, declaration_id).receipt_pending_since is not None:
            break  # the store is full: the next ones would meet the same
    db.session.rollback()
    return deposited, pending_receipts()


def pending_receipts() -> int:
    """How many accusés de réception wait to be deposited (a metric)."""
    return db.session.scalar(
        select(func.count(Declaration.id)).where(Declaration.receipt_pending_since.is_not(None))
    )


def after_submit(submission: Submission) -> None:
    """Engine hook, after the submission committed: the receipt goes to LUCIE now if it can."""
    declaration_id = db.session.scalar(
        select(Declaration.id).where(
            Declaration.submission_id == submission.id, Declaration.receipt_pending_since.is_not(None)
        )
    )
    if declaration_id is None:
        return
    try:
        deposit_receipt(declaration_id)
    except Exception:  # the declaration is recorded: its receipt stays pending for the background loop
        db.session.rollback()
        log.exception("accusé de réception of declaration %s left pending", declaration_id)


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
