"""QR Pro cases (issue 13, item 2): an AT case opens from the DAT the CPAM receives; an MP case is registered
by the CPAM agent. The competent caisse is the victim's CPAM (SPEC §1); D0 is the day the caisse holds both
the declaration and the CMI (SPEC §3.1). The agent's reading of a case goes through :func:`case_for_agent`
(another caisse's case answers 404), the work queue through :func:`queue`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import abort
from sqlalchemy import Date, bindparam, func, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from app.domain import dat as dat_rules
from app.domain import qrpro as rules
from app.domain.calendars import local_date
from app.domain.cases import CaseKind
from app.domain.identifiers import is_valid_siret, nir_errors, normalize_nir, normalize_siret
from app.extensions import db
from app.models import (
    Caisse,
    Case,
    CaseEmployer,
    CaseEvent,
    Declaration,
    Establishment,
    Service,
    User,
    UserKind,
)
from app.models.types import utcnow
from app.services import access, audit

from . import calendar

QUEUE_PAGE_SIZE = 25
MAX_EMPLOYERS = rules.MAX_EMPLOYERS


def _competent_caisse(victim_departement: str) -> Caisse | None:
    for caisse in db.session.scalars(select(Caisse).where(Caisse.kind == UserKind.CPAM).order_by(Caisse.id)):
        if caisse.covers(victim_departement):
            return caisse
    return None


def _event(case: Case, kind: rules.EventKind, *, party=None, user: User | None = None, at=None, **details):
    db.session.add(
        CaseEvent(
            case_id=case.id,
            party=str(party) if party is not None else None,
            at=at or utcnow(),
            kind=str(kind),
            user_id=user.id if user is not None else None,
            details=details,
        )
    )


# --- AT: from the received declaration -------------------------------------------------------------------


def open_from_declaration(declaration: Declaration, *, victime: dict | None = None) -> Case:
    """The DAT reception hook (inside the declaration's transaction): the AT case of ``declaration``, in the
    victim's CPAM, with the victim's identity and address from the DAT, its fatal flag, and D0 once the
    caisse holds the CMI too. One case per declaration."""
    existing = db.session.scalar(select(Case).where(Case.declaration_id == declaration.id))
    if existing is not None:
        return existing
    victime = victime if victime is not None else declaration.answers.get("victime", {})
    address = " ".join(
        part for part in (victime.get("adresse"), victime.get("code_postal"), victime.get("commune")) if part
    )
    caisse = _competent_caisse(declaration.cpam_departement)
    case = Case(
        reference=declaration.reference,
        kind=CaseKind.AT,
        establishment_id=declaration.establishment_id,
        victim_name=declaration.victim_name[:200],
        caisse_id=caisse.id if caisse is not None else None,
        declaration_id=declaration.id,
        stage=rules.Stage.A_OUVRIR,
        fatal=declaration.is_fatal,
        victim_departement=declaration.cpam_departement,
        victim_nir=normalize_nir(victime.get("nir"))[:15],
        victim_address=address[:300],
        declaration_received_on=local_date(declaration.submitted_at, declaration.departement),
        cmi_received_on=declaration.cmi_received_on,
    )
    case.d0 = dat_rules.d0(declaration.submitted_at, declaration.cmi_received_on, declaration.departement)
    db.session.add(case)
    db.session.flush()
    _event(case, rules.EventKind.CASE_OPENED, at=declaration.submitted_at, source="dat")
    calendar.compute(case, declaration.establishment.departement)
    return case


def cmi_recorded(declaration: Declaration) -> None:
    """The CMI's receipt recorded on a declaration (app/services/dat/caisse.py): the case's D0 and calendar
    follow it while its instruction is not open (inside the caller's transaction)."""
    case = db.session.scalar(select(Case).where(Case.declaration_id == declaration.id))
    if case is None or case.stage != rules.Stage.A_OUVRIR:
        return
    case.cmi_received_on = declaration.cmi_received_on
    case.d0 = dat_rules.d0(declaration.submitted_at, declaration.cmi_received_on, declaration.departement)
    calendar.compute(case, case.establishment.departement)


def instructed_case_reference(declaration_id: int) -> str | None:
    """The reference of the case whose instruction is open on a declaration (None before the opening):
    from then on the declaration's decision is QR Pro's (``app.domain.dat.CaseFacts.qrpro_case``)."""
    return db.session.scalar(
        select(Case.reference).where(
            Case.declaration_id == declaration_id, Case.stage != str(rules.Stage.A_OUVRIR)
        )
    )


# --- MP: registered by the agent --------------------------------------------------------------------------


@dataclass
class MpRegistration:
    """What the agent types to register an occupational disease (issue 13, item 2)."""

    nir: str = ""
    victim_name: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""
    siret: str = ""  # the principal employer establishment (the case's own)
    # The other establishments where the victim was exposed, in the agent's order (blank ones ignored).
    other_sirets: list[str] = field(default_factory=list)
    hors_tableau: bool = False
    table: str = ""
    disease_label: str = ""
    first_finding_on: date | None = None
    declaration_received_on: date | None = None
    cmi_received_on: date | None = None


@dataclass
class Registered:
    case: Case | None = None
    errors: dict[str, str] = field(default_factory=dict)


def register_mp(
    agent: User, data: MpRegistration, *, now: datetime | None = None, check_only: bool = False
) -> Registered:
    """Register an MP case for the agent's caisse, with one or more employer establishments (the first is
    the case's own, the others its :class:`CaseEmployer` rows, in order). Every bad field gets its French
    message, by the form's field name (``other_sirets-<i>`` for the others), and nothing is stored; else
    the case is committed with its calendar. ``check_only``: the form found an error of its own, only
    the messages are returned."""
    access.authorize_agent(agent, Service.QRPRO)
    errors: dict[str, str] = {}
    nir_problems = nir_errors(data.nir)
    if nir_problems:
        errors["nir"] = nir_problems[0]
    if not data.victim_name.strip():
        errors["victim_name"] = "Saisissez le nom et le prénom de la victime"
    if not data.address.strip():
        errors["address"] = "Saisissez l'adresse de la victime"
    victim_departement = None
    from app.domain.caisses import departement_of_postal_code

    if not data.postal_code.strip():
        errors["postal_code"] = "Saisissez le code postal de la victime"
    else:
        victim_departement = departement_of_postal_code(data.postal_code.strip())
        if victim_departement is None:
            errors["postal_code"] = "Ce code postal ne correspond à aucun département pourvu d'une CPAM"
        elif not (agent.caisse and agent.caisse.covers(victim_departement)):
            errors["postal_code"] = (
                f"La victime réside dans le département {victim_departement}, qui ne relève pas de votre "
                "caisse : le dossier appartient à la CPAM de sa résidence"
            )
    if not data.city.strip():
        errors["city"] = "Saisissez la commune de la victime"
    establishment, others = _employers(data, errors)
    table_error = rules.disease_table_error(data.table, data.hors_tableau)
    if table_error:
        errors["table"] = table_error
    if not data.disease_label.strip():
        errors["disease_label"] = "Saisissez l'intitulé de la maladie"
    today = local_date(now or utcnow(), victim_departement or "75")
    for name, value, what in (
        ("first_finding_on", data.first_finding_on, "de la première constatation médicale"),
        ("declaration_received_on", data.declaration_received_on, "de réception de la déclaration"),
        ("cmi_received_on", data.cmi_received_on, "de réception du certificat médical initial"),
    ):
        if value is None:
            errors.setdefault(name, f"Saisissez la date {what}")
        elif value > today:
            errors.setdefault(name, f"La date {what} ne peut pas être dans le futur")
    if (
        data.first_finding_on
        and data.declaration_received_on
        and "declaration_received_on" not in errors
        and data.declaration_received_on < data.first_finding_on
    ):
        errors["declaration_received_on"] = (
            "La déclaration ne peut pas avoir été reçue avant la première constatation médicale"
        )
    if errors or check_only:
        return Registered(errors=errors)

    # The engine's counters (a lazy import: no import circle).
    from app.services.draft_submission import next_reference_number

    year = today.year
    number = next_reference_number("MP", year)
    d0 = rules.mp_d0(data.declaration_received_on, data.cmi_received_on)
    address = f"{data.address.strip()} {data.postal_code.strip()} {data.city.strip()}"
    case = Case(
        reference=f"MP-{year}-{number:06d}",
        kind=CaseKind.MP,
        establishment_id=establishment.id,
        victim_name=data.victim_name.strip()[:200],
        caisse_id=agent.caisse_id,
        stage=rules.Stage.A_OUVRIR,
        fatal=False,
        victim_departement=victim_departement,
        victim_nir=normalize_nir(data.nir),
        victim_address=address[:300],
        disease_table=None if data.hors_tableau else data.table.strip(),
        disease_label=data.disease_label.strip()[:300],
        first_finding_on=data.first_finding_on,
        declaration_received_on=data.declaration_received_on,
        cmi_received_on=data.cmi_received_on,
        d0=d0,
    )
    db.session.add(case)
    db.session.flush()
    for position, other in enumerate(others, start=1):
        db.session.add(CaseEmployer(case_id=case.id, establishment_id=other.id, position=position))
    _event(case, rules.EventKind.CASE_OPENED, user=agent, at=now, source="agent")
    calendar.compute(case, establishment.departement)
    audit.record(
        "qrpro.register_mp",
        "case_file",
        case.id,
        establishment_id=establishment.id,
        actor=agent,
        **({"other_employers": [other.siret for other in others]} if others else {}),
    )
    db.session.commit()
    return Registered(case=case)


def other_siret_field(index: int) -> str:
    """The form field of the ``index``-th other employer's SIRET (0 for the second establishment)."""
    return f"other_sirets-{index}"


def _establishment_error(siret: str) -> str:
    if not is_valid_siret(siret):
        return "Ce SIRET n'est pas valide (14 chiffres avec leur clé de contrôle) : vérifiez-le"
    return "Aucun établissement inscrit ne porte ce SIRET : vérifiez-le"


def _employers(
    data: MpRegistration, errors: dict[str, str]
) -> tuple[Establishment | None, list[Establishment]]:
    """The principal employer establishment and the others (SPEC §3: an MP may have several
    employers, each a party), each SIRET checked with its message by its field: unknown or malformed,
    given twice, too many."""
    sirets = [("siret", normalize_siret(data.siret))]
    sirets += [
        (other_siret_field(index), normalize_siret(value))
        for index, value in enumerate(data.other_sirets)
        if normalize_siret(value)
    ]
    if len(sirets) > MAX_EMPLOYERS:
        errors[sirets[MAX_EMPLOYERS][0]] = (
            f"Un dossier compte au plus {MAX_EMPLOYERS} établissements employeurs : retirez celui-ci"
        )
        sirets = sirets[:MAX_EMPLOYERS]
    found = {
        row.siret: row
        for row in db.session.scalars(
            select(Establishment).where(Establishment.siret.in_([siret for _, siret in sirets if siret]))
        )
    }
    seen: set[str] = set()
    chosen: list[Establishment | None] = []
    for name, siret in sirets:
        if not siret:
            errors[name] = "Saisissez le SIRET de l'établissement employeur"
            chosen.append(None)
        elif siret in seen:
            errors[name] = "Cet établissement est déjà un employeur du dossier : ne le saisissez qu'une fois"
        elif siret not in found:
            errors[name] = _establishment_error(siret)
            chosen.append(None)
        else:
            chosen.append(found[siret])
        seen.add(siret)
    principal = chosen[0] if chosen else None
    return principal, [row for row in chosen[1:] if row is not None]


# --- reading, for the agent --------------------------------------------------------------------------------


def is_competent(agent: User, case: Case) -> bool:
    return access.caisse_competent(
        agent.caisse,
        victim_departement=case.victim_departement,
        establishment_departement=case.establishment.departement,
    )


def case_for_agent(agent: User, reference: str, *, action: str = "read") -> Case:
    """A case for an agent of the competent CPAM (access.caisse_competent); 404 for anyone else and for
    an unknown reference. The access is audited (SPEC §1) as ``qrpro.agent_access`` with what it was
    for: the step the agent then takes records its own event (``qrpro.decision``…) only once done, so
    that a refused attempt never reads as the act in the trail."""
    access.authorize_agent(agent, Service.QRPRO)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None or agent.caisse is None or not is_competent(agent, case):
        abort(404)
    audit.record(
        "qrpro.agent_access",
        "case_file",
        case.id,
        establishment_id=case.establishment_id,
        actor=agent,
        purpose=action,
    )
    db.session.commit()
    return case


@dataclass(frozen=True)
class QueuePage:
    """One page of the agent's work queue, paged by keyset on (next_due_on, id): ``previous`` and
    ``next`` are the cursors of the neighbouring pages (None at either end), ``first_position`` the rank
    of the page's first case in the whole queue (1-based; 0 when the queue is empty)."""

    items: list[Case]
    total: int
    first_position: int
    previous: str | None
    next: str | None
    size: int

    @property
    def last_position(self) -> int:
        return self.first_position + len(self.items) - 1 if self.items else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def page(self) -> int:
        """The page this one ends on, counted in pages of ``size`` (the last page is ``pages``)."""
        return max(1, -(-self.last_position // self.size))


_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(\d{1,12})$")


def encode_cursor(case: Case) -> str:
    """« 2026-12-20.1234 »: a case's place in the queue (its next date, then its id)."""
    return f"{case.next_due_on.isoformat()}.{case.id}"


def decode_cursor(value: str | None) -> tuple[date, int] | None:
    """The (next date, id) of a cursor, None when absent or malformed (the first page then)."""
    match = _CURSOR.match(value or "")
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1)), int(match.group(2))
    except ValueError:
        return None


def _rows(query) -> list[Case]:
    return list(db.session.scalars(query))


def _key_of(case: Case) -> tuple[date, int]:
    return case.next_due_on, case.id


def _bound(cursor: tuple[date, int]):
    return tuple_(bindparam(None, cursor[0], type_=Date()), bindparam(None, cursor[1]))


def queue(
    agent: User,
    *,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """The agent's work queue: its caisse's cases not decided, by the next legal date then id (cases
    without a date are left out), along ``ix_case_file_queue`` — by keyset, so that a page deep in the
    queue costs what the first one does (no OFFSET): ``after`` a cursor gives the next page, ``before``
    one the previous page, ``last`` the last page. The position comes from a count of the cases before
    the page, on the same index."""
    access.authorize_agent(agent, Service.QRPRO)
    if agent.caisse_id is None:
        return QueuePage([], 0, 0, None, None, size)
    scope = (Case.caisse_id == agent.caisse_id, Case.next_due_on.is_not(None))
    key = tuple_(Case.next_due_on, Case.id)
    # One statement per page, and one for the other employers of its cases (each is shown).
    query = (
        select(Case).options(joinedload(Case.establishment), selectinload(Case.other_employers)).where(*scope)
    )
    forward = query.order_by(Case.next_due_on, Case.id).limit(size)
    backward = query.order_by(Case.next_due_on.desc(), Case.id.desc()).limit(size)
    total = db.session.scalar(select(func.count()).select_from(Case).where(*scope)) or 0
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    position = None
    if last:
        items = _rows(backward)[::-1]
        position = total - len(items) + 1
    elif before_key is not None:
        items = _rows(backward.where(key < _bound(before_key)))[::-1]
        if len(items) < size:  # the head of the queue: the first page as it is now
            items, position = _rows(forward), 1
    elif after_key is not None:
        items = _rows(forward.where(key > _bound(after_key)))
        if not items and total:  # the cases after it were decided meanwhile: the last page
            return queue(agent, last=True, size=size)
    else:
        items, position = _rows(forward), 1
    if not items:
        return QueuePage([], total, 0, None, None, size)
    if position is None:
        ahead = select(func.count()).select_from(Case).where(*scope, key < _bound(_key_of(items[0])))
        position = (db.session.scalar(ahead) or 0) + 1
    last_position = position + len(items) - 1
    return QueuePage(
        items,
        total,
        position,
        previous=encode_cursor(items[0]) if position > 1 else None,
        next=encode_cursor(items[-1]) if last_position < total else None,
        size=size,
    )


def open_missing_cases(batch: int = 500) -> int:
    """The AT cases of the declarations received before QR Pro (issue 13's data migration): one per
    declaration without a case, through :func:`open_from_declaration` (victim, CPAM, D0 and calendar as for
    a new one), a transaction per batch, resumable. Returns how many were opened."""
    opened = 0
    after = 0
    while True:
        rows = list(
            db.session.scalars(
                select(Declaration)
                .where(
                    Declaration.id > after,
                    Declaration.id.not_in(
                        select(Case.declaration_id).where(Case.declaration_id.is_not(None))
                    ),
                )
                .order_by(Declaration.id)
                .limit(batch)
            )
        )
        if not rows:
            return opened
        for declaration in rows:
            if db.session.scalar(select(Case.id).where(Case.reference == declaration.reference)) is None:
                open_from_declaration(declaration)
                opened += 1
        db.session.commit()
        after = rows[-1].id
        db.session.expunge_all()
