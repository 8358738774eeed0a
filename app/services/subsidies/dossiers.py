"""The employer's side of a subsidy dossier (SPEC §7, issue 14 items 1, 2, 4, 5): a draft started on a
programme and an establishment, its attestations, its lines (quotes, then paid invoices) with their files,
the amount computed on every save, and the submission — the one place where the company's caps are read,
under the company's row lock (`_hold_company`), so that two establishments submitting at once never go
above the TPE cap together.

Every state change goes through app.domain.subsidies.check_transition; each submission freezes a version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from blinker import Namespace
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.calendars import PARIS
from app.domain.subsidies import (
    STATUS_LABELS,
    ZERO,
    Attestations,
    Phase,
    Status,
    SubsidyResult,
    TransitionRefused,
    attestation_reasons,
    check_transition,
    committed_amount,
    compute_subsidy,
    convention_required,
    de_minimis_refusal,
    format_euros,
    rules_on,
)
from app.extensions import db
from app.models import Establishment, SubsidyCompany, SubsidyDossier, SubsidyLine, SubsidyVersion, User
from app.models.compte import RateProfile
from app.models.types import utcnow
from app.services import audit
from app.services.draft_submission import next_reference_number
from app.services.lucie.deposit import PDF_ONLY
from app.services.pdf import render_pdf
from app.services.subsidies.programmes import rules_of
from app.services.uploads import UploadRejected, read_blob, release_blob, store_blob

# Sent once a submission has read the company's other dossiers and computed its amount, before it
# writes: the concurrency test holds two submissions there (tests/integration/test_subsidies_cap.py).
cap_computed = Namespace().signal("subsidy-cap-computed")

ATTESTATION_KEYS = (
    "regime_general",
    "contributions_up_to_date",
    "duerp_updated_on",
    "prevention_contract_in_progress",
    "prevention_contract_ended_on",
    "injunction_or_surcharge",
    "occupational_health_member",
    "staff_representatives_informed",
    "de_minimis_aid",
)


class SubmissionRefused(ValueError):
    """Why a dossier cannot be sent (French messages, shown on « Vérifier vos réponses »)."""

    def __init__(self, reasons: list[str] | tuple[str, ...]):
        super().__init__(" ".join(reasons))
        self.reasons = tuple(reasons)


class LineRefused(ValueError):
    """A line's file refused (French), nothing kept."""


def today() -> date:
    return datetime.now(PARIS).date()


# -- reading ------------------------------------------------------------------------------------------


def get_dossier(dossier_id: int) -> SubsidyDossier | None:
    return db.session.get(SubsidyDossier, dossier_id)


def dossiers_of(establishment_ids: list[int]) -> list[SubsidyDossier]:
    if not establishment_ids:
        return []
    return list(
        db.session.scalars(
            select(SubsidyDossier)
            .where(SubsidyDossier.establishment_id.in_(establishment_ids))
            .order_by(SubsidyDossier.created_at.desc(), SubsidyDossier.id.desc())
        )
    )


def pending_completions(establishment_ids: list[int]) -> list[SubsidyDossier]:
    """The dossiers whose Carsat asked for completion, the nearest date first (the home page)."""
    if not establishment_ids:
        return []
    return list(
        db.session.scalars(
            select(SubsidyDossier)
            .where(
                SubsidyDossier.establishment_id.in_(establishment_ids),
                SubsidyDossier.status == Status.COMPLEMENT_DEMANDE,
            )
            .order_by(SubsidyDossier.completion_due, SubsidyDossier.id)
        )
    )


def attestations_of(dossier: SubsidyDossier) -> dict:
    return json.loads(dossier.attestations or "{}")


def attestations_complete(dossier: SubsidyDossier) -> bool:
    answers = attestations_of(dossier)
    return all(key in answers for key in ATTESTATION_KEYS)


def current_lines(dossier: SubsidyDossier) -> list[SubsidyLine]:
    return [line for line in dossier.lines if line.phase == dossier.phase]


def national_headcount(company_id: int) -> int:
    """The company's national headcount: its establishments' headcounts added."""
    return sum(
        db.session.scalars(select(Establishment.headcount).where(Establishment.company_id == company_id))
    )


def _ctn(establishment: Establishment) -> str | None:
    return db.session.scalar(select(RateProfile.ctn).where(RateProfile.establishment_id == establishment.id))


@dataclass
class CompanyTotals:
    """What a company holds under the caps, from its dossiers' statuses (app.domain committed_amount)."""

    tpe: Decimal = ZERO
    by_programme: dict[int, Decimal] = field(default_factory=dict)
    # (programme id, line kind) → what the dossiers hold for that kind (see `_held_by_kind`)
    by_kind: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    reserved: Decimal = ZERO
    paid: Decimal = ZERO


def company_totals(
    company_id: int, *, excluding: int | None = None, since: date | None = None
) -> CompanyTotals:
    """``since``: only the dossiers first requested on that day or after."""
    totals = CompanyTotals()
    query = select(SubsidyDossier).where(SubsidyDossier.company_id == company_id)
    if excluding is not None:
        query = query.where(SubsidyDossier.id != excluding)
    if since is not None:
        query = query.where(SubsidyDossier.requested_on >= since)
    dossiers = list(db.session.scalars(query.execution_options(populate_existing=True)))
    lines_of = _lines_by_dossier(dossiers)
    for dossier in dossiers:
        held = committed_amount(
            dossier.status,
            requested=dossier.requested_amount,
            reserved=dossier.reserved_amount,
            payment_requested=dossier.payment_requested_amount,
            paid=dossier.paid_amount,
        )
        if rules_of(dossier.programme).under_tpe_cap:
            totals.tpe += held
        totals.by_programme[dossier.programme_id] = totals.by_programme.get(dossier.programme_id, ZERO) + held
        for kind, amount in _held_by_kind(dossier, lines_of.get(dossier.id, []), held).items():
            key = (dossier.programme_id, kind)
            totals.by_kind[key] = totals.by_kind.get(key, ZERO) + amount
        if dossier.status in (Status.ACCEPTEE, Status.VERSEMENT_DEMANDE) and dossier.reserved_amount:
            totals.reserved += dossier.reserved_amount
        if dossier.status == Status.PAYEE and dossier.paid_amount:
            totals.paid += dossier.paid_amount
    return totals


def _lines_by_dossier(dossiers: list[SubsidyDossier]) -> dict[int, list[SubsidyLine]]:
    """The current lines (quotes or invoices, per each dossier's phase) of the dossiers that hold an
    amount, in one query."""
    phases = {
        dossier.id: dossier.phase
        for dossier in dossiers
        if dossier.status not in (Status.BROUILLON, Status.REFUSEE)
    }
    if not phases:
        return {}
    grouped: dict[int, list[SubsidyLine]] = {}
    for line in db.session.scalars(
        select(SubsidyLine).where(SubsidyLine.dossier_id.in_(phases)).order_by(SubsidyLine.id)
    ):
        if line.phase == phases[line.dossier_id]:
            grouped.setdefault(line.dossier_id, []).append(line)
    return grouped


def _held_by_kind(dossier: SubsidyDossier, lines: list[SubsidyLine], held: Decimal) -> dict[str, Decimal]:
    """What a dossier holds per line kind, for the caps per kind of the company's next requests: its
    current lines' amounts as computed (after the cap per line), added per kind and capped at the kind's
    cap, each kind then taken at most at what the dossier holds (``held``: 0 for a draft or a refusal).

    When a later cut left the dossier below the sum of its kinds, nothing says which kind was cut: each
    kind is counted at min(its amount, held) — never less than what may have been granted for it, so a
    kind's cap is never overrun; the kinds' figures added may then exceed ``held``, on the safe side."""
    if held <= ZERO or not lines:
        return {}
    programme = rules_of(dossier.programme)
    result = compute_subsidy(
        programme,
        [
            {
                "kind": line.kind,
                "amount_ht": line.amount_ht,
                "leased": line.leased,
                "second_hand": line.second_hand,
                "dated": line.issued_on,
            }
            for line in lines
        ],
        dossier.requested_on or today(),
        headcount=programme.headcount_min,  # the lines' amounts do not depend on the headcount
    )
    by_kind: dict[str, Decimal] = {}
    for line in result.lines:
        if line.excluded_reason is None and line.amount > ZERO:
            by_kind[line.kind] = by_kind.get(line.kind, ZERO) + line.amount
    for kind, amount in by_kind.items():
        cap = programme.line_kinds[kind].cap_per_kind
        by_kind[kind] = min(amount, cap, held) if cap is not None else min(amount, held)
    return by_kind


def compute(
    dossier: SubsidyDossier, *, on: date | None = None, totals: CompanyTotals | None = None
) -> SubsidyResult:
    """The dossier's amount for its current lines (quotes or invoices), under the rules of its first
    request (or ``on``, today for a draft), the company's other dossiers counted."""
    totals = totals or company_totals(dossier.company_id, excluding=dossier.id)
    lines = [
        {
            "kind": line.kind,
            "amount_ht": line.amount_ht,
            "leased": line.leased,
            "second_hand": line.second_hand,
            "dated": line.issued_on,
        }
        for line in current_lines(dossier)
    ]
    return compute_subsidy(
        rules_of(dossier.programme),
        lines,
        dossier.requested_on or on or today(),
        headcount=national_headcount(dossier.company_id),
        tpe_granted_before=totals.tpe,
        programme_granted_before=totals.by_programme.get(dossier.programme_id, ZERO),
        kind_granted_before={
            kind: amount
            for (programme_id, kind), amount in totals.by_kind.items()
            if programme_id == dossier.programme_id
        },
        ctn=_ctn(dossier.establishment),
        code_risque=dossier.establishment.code_risque,
    )


def estimate_line(dossier: SubsidyDossier, kind: str, amount_ht: Decimal) -> Decimal | None:
    """The subsidy one more line would give on its own (the live estimate while a line is typed)."""
    programme = rules_of(dossier.programme)
    line_kind = programme.line_kinds.get(kind)
    if line_kind is None or amount_ht < 0:
        return None
    result = compute_subsidy(
        programme,
        [{"kind": kind, "amount_ht": amount_ht}],
        dossier.requested_on or today(),
        headcount=max(national_headcount(dossier.company_id), programme.headcount_min),
    )
    return result.lines[0].amount


# -- the draft ------------------------------------------------------------------------------------------


def start(user: User, programme, establishment: Establishment, kind: str) -> SubsidyDossier:
    """A new draft: a reservation (quotes) or a payment request without reservation (invoices)."""
    dossier = SubsidyDossier(
        kind=kind,
        programme_id=programme.id,
        establishment_id=establishment.id,
        company_id=establishment.company_id,
        departement=establishment.departement,
        status=Status.BROUILLON,
        phase=Phase.DEVIS if kind == "reservation" else Phase.FACTURE,
        created_by_id=user.id,
    )
    db.session.add(dossier)
    db.session.flush()
    audit.record(
        "subventions.start", "subsidy_dossier", dossier.id, establishment_id=establishment.id, kind=kind
    )
    db.session.commit()
    return dossier


def save_attestations(dossier: SubsidyDossier, answers: dict) -> None:
    stored = {}
    for key in ATTESTATION_KEYS:
        value = answers.get(key)
        stored[key] = (
            value.isoformat()
            if isinstance(value, date)
            else (str(value) if isinstance(value, Decimal) else value)
        )
    dossier.attestations = json.dumps(stored, ensure_ascii=False)
    dossier.updated_at = utcnow()
    db.session.commit()


def _attestations(dossier: SubsidyDossier) -> tuple[Attestations, Decimal]:
    answers = attestations_of(dossier)

    def day(key):
        return date.fromisoformat(answers[key]) if answers.get(key) else None

    return (
        Attestations(
            contributions_up_to_date=bool(answers.get("contributions_up_to_date")),
            duerp_updated_on=day("duerp_updated_on"),
            prevention_contract_in_progress=bool(answers.get("prevention_contract_in_progress")),
            prevention_contract_ended_on=day("prevention_contract_ended_on"),
            injunction_or_surcharge=bool(answers.get("injunction_or_surcharge")),
            occupational_health_member=bool(answers.get("occupational_health_member")),
            staff_representatives_informed=bool(answers.get("staff_representatives_informed")),
            regime_general=bool(answers.get("regime_general")),
        ),
        Decimal(answers.get("de_minimis_aid") or "0"),
    )


def save_line(
    dossier: SubsidyDossier, user: User, values: dict, upload, line: SubsidyLine | None = None
) -> SubsidyLine:
    """Add (or change) a line of the current phase; ``upload`` (a werkzeug FileStorage, or None when the
    line keeps its file) is stored first: a refused file keeps nothing (LineRefused)."""
    stored = None
    if upload is not None and upload.filename:
        try:
            stored = store_blob(upload.stream, accepted=PDF_ONLY)
        except UploadRejected as error:
            raise LineRefused(str(error)) from None
    new = line is None
    if new:
        if stored is None:
            raise LineRefused("Joignez le document en PDF")
        line = SubsidyLine(phase=dossier.phase)
    with db.session.no_autoflush:
        for key in (
            "kind",
            "supplier",
            "number",
            "issued_on",
            "paid_on",
            "amount_ht",
            "leased",
            "second_hand",
        ):
            setattr(line, key, values.get(key))
        if stored is not None:
            if not new and line.file_sha256 != stored[0]:
                release_blob(line.file_sha256)  # the replaced file
            line.file_sha256, line.file_size = stored[0], stored[1]
            line.file_name = (upload.filename or "document.pdf")[-255:]
        if new:
            dossier.lines.append(line)
    dossier.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "subventions.line_save",
        "subsidy_line",
        line.id,
        establishment_id=dossier.establishment_id,
        actor=user,
    )
    db.session.commit()
    return line


def remove_line(dossier: SubsidyDossier, line: SubsidyLine, user: User) -> None:
    """Remove a line of the current phase; its PDF goes after the commit unless another row holds it."""
    release_blob(line.file_sha256)
    dossier.lines.remove(line)
    dossier.updated_at = utcnow()
    audit.record(
        "subventions.line_remove",
        "subsidy_line",
        line.id,
        establishment_id=dossier.establishment_id,
        actor=user,
    )
    db.session.commit()


def start_payment(dossier: SubsidyDossier, user: User) -> None:
    """An accepted reservation turns to its invoices (the quotes stay)."""
    dossier.phase = Phase.FACTURE
    dossier.updated_at = utcnow()
    audit.record(
        "subventions.payment_start",
        "subsidy_dossier",
        dossier.id,
        establishment_id=dossier.establishment_id,
        actor=user,
    )
    db.session.commit()


# -- the submission ----------------------------------------------------------------------------------------


def _hold_company(company_id: int) -> None:
    """THE lock of the caps: the company's row, updated first, is held until the transaction ends — a
    second submission of the same company waits here, then reads the first one's amount (PostgreSQL's
    row lock; SQLite's one writer)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(SubsidyCompany)
        .values(company_id=company_id, submissions=0, updated_at=utcnow())
        .on_conflict_do_nothing()
    )
    db.session.execute(
        update(SubsidyCompany)
        .where(SubsidyCompany.company_id == company_id)
        .values(submissions=SubsidyCompany.submissions + 1, updated_at=utcnow())
    )


def _target(dossier: SubsidyDossier) -> Status:
    status = Status(dossier.status)
    if status == Status.BROUILLON:
        return Status.DEPOSEE if dossier.kind == "reservation" else Status.VERSEMENT_DEMANDE
    if status == Status.COMPLEMENT_DEMANDE:
        return Status.EN_INSTRUCTION if dossier.phase == Phase.DEVIS else Status.VERSEMENT_DEMANDE
    return Status.VERSEMENT_DEMANDE  # an accepted reservation's payment request


def snapshot(dossier: SubsidyDossier, result: SubsidyResult | None) -> dict:
    lines = current_lines(dossier)
    return {
        "phase": dossier.phase,
        "attestations": attestations_of(dossier),
        "headcount": dossier.headcount,
        "lines": [
            {
                "id": line.id,
                "kind": line.kind,
                "supplier": line.supplier,
                "number": line.number,
                "issued_on": line.issued_on.isoformat(),
                "paid_on": line.paid_on.isoformat() if line.paid_on else None,
                "amount_ht": str(line.amount_ht),
                "leased": line.leased,
                "second_hand": line.second_hand,
                "file": line.file_name,
                "file_sha256": line.file_sha256,
                "subsidy": str(computed.amount) if result else None,
                "excluded_reason": computed.excluded_reason if result else None,
                "capped_reason": computed.capped_reason if result else None,
            }
            for line, computed in zip(lines, result.lines if result else [None] * len(lines), strict=True)
        ],
        "total": str(result.total) if result else None,
        "reasons": list(result.reasons) if result else [],
    }


def check_submittable(dossier: SubsidyDossier, on: date) -> list[str]:
    """What prevents sending the dossier now, before any amount is computed (French)."""
    reasons = []
    if Status(dossier.status) not in (Status.BROUILLON, Status.COMPLEMENT_DEMANDE, Status.ACCEPTEE):
        reasons.append("Ce dossier a déjà été envoyé.")
        return reasons
    if dossier.status == Status.ACCEPTEE and dossier.phase != Phase.FACTURE:
        reasons.append("Ajoutez les factures acquittées avant de demander le versement.")
    if dossier.status == Status.BROUILLON and not dossier.programme.budget_open:
        reasons.append(
            f"Le budget du programme {dossier.programme.name} est clos : "
            "aucune nouvelle demande n'est acceptée."
        )
    if not attestations_complete(dossier):
        reasons.append("Répondez aux attestations.")
    else:
        attestations, _aid = _attestations(dossier)
        reasons += attestation_reasons(attestations, dossier.requested_on or on)
    if not current_lines(dossier):
        reasons.append(
            "Ajoutez au moins une " + ("facture." if dossier.phase == Phase.FACTURE else "ligne de devis.")
        )
    return reasons


def submit(dossier: SubsidyDossier, user: User, *, on: date | None = None) -> SubsidyDossier:
    """Send the dossier (a reservation, a completion, a payment request). Raises SubmissionRefused with
    the reasons, having written nothing. The amount is computed under the company's row lock."""
    on = on or today()
    reasons = check_submittable(dossier, on)
    if reasons:
        raise SubmissionRefused(reasons)
    target = check_transition(dossier.status, _target(dossier))
    _hold_company(dossier.company_id)
    db.session.refresh(dossier)
    try:
        check_transition(dossier.status, target)  # a second click waited for the first one's commit
    except TransitionRefused:
        db.session.rollback()
        raise SubmissionRefused(["Ce dossier a déjà été envoyé."]) from None
    result = compute(dossier, on=on)
    cap_computed.send(dossier, result=result)
    refusal = result.refusal
    if refusal is None:
        _attestations_value, aid = _attestations(dossier)
        refusal = de_minimis_refusal(aid, result.total, on=dossier.requested_on or on)
    if refusal:
        db.session.rollback()
        raise SubmissionRefused([refusal])
    first = dossier.requested_on is None
    if first:
        dossier.requested_on = on
    dossier.headcount = national_headcount(dossier.company_id)
    if dossier.phase == Phase.DEVIS:
        dossier.requested_amount = result.total
    else:
        amount = result.total
        if dossier.reserved_amount is not None and amount > dossier.reserved_amount:
            amount = dossier.reserved_amount  # never above the reserved amount
        dossier.payment_requested_amount = amount
    dossier.convention_required = convention_required(
        _recent_prevention(dossier, on),
        dossier.payment_requested_amount or dossier.requested_amount or ZERO,
        on=on,
    )
    dossier.computation = json.dumps(snapshot(dossier, result), ensure_ascii=False)
    if dossier.reference is None:
        year = on.year
        dossier.reference = f"SUB-{year}-{next_reference_number('SUB', year):06d}"
    dossier.status = target
    dossier.completion_request = None if target != Status.COMPLEMENT_DEMANDE else dossier.completion_request
    dossier.versions += 1
    dossier.submitted_at = dossier.updated_at = utcnow()
    db.session.add(
        SubsidyVersion(
            dossier_id=dossier.id,
            number=dossier.versions,
            status=target,
            snapshot=dossier.computation,
            created_by_id=user.id,
        )
    )
    audit.record(
        "subventions.submit",
        "subsidy_dossier",
        dossier.id,
        establishment_id=dossier.establishment_id,
        actor=user,
        status=str(target),
        version=dossier.versions,
        amount=str(result.total),
    )
    db.session.commit()
    return dossier


def _recent_prevention(dossier: SubsidyDossier, on: date) -> Decimal:
    """The company's other Prévention subsidies first requested within the convention's window before
    ``on`` (the rules' months: 12), as they stand (asked, reserved or paid)."""
    since = rules_on(on).convention_window_start(on)
    totals = company_totals(dossier.company_id, excluding=dossier.id, since=since)
    return sum(totals.by_programme.values(), ZERO)


def versions_of(dossier: SubsidyDossier) -> list[SubsidyVersion]:
    return list(
        db.session.scalars(
            select(SubsidyVersion)
            .where(SubsidyVersion.dossier_id == dossier.id)
            .order_by(SubsidyVersion.number)
        )
    )


# -- documents ---------------------------------------------------------------------------------------------


def get_line(dossier: SubsidyDossier, line_id: int) -> SubsidyLine | None:
    line = db.session.get(SubsidyLine, line_id)
    return line if line is not None and line.dossier_id == dossier.id else None


def line_document(line: SubsidyLine) -> bytes:
    return read_blob(line.file_sha256)


def receipt_pdf(dossier: SubsidyDossier) -> bytes:
    """The receipt of the dossier's last submission (its frozen version)."""
    versions = versions_of(dossier)
    version = versions[-1]
    return render_pdf(
        "pdf/subvention_accuse.html",
        dossier=dossier,
        version=version,
        content=json.loads(version.snapshot),
        kinds={code: kind.label for code, kind in rules_of(dossier.programme).line_kinds.items()},
        status_labels=STATUS_LABELS,
        format_euros=format_euros,
    )
