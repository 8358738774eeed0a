"""Lists: the employer's follow-up (drafts and declarations) and the CPAM's inbox and work queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.domain import dat as rules
from app.extensions import db
from app.forms import dat as dat_forms
from app.models import Declaration, Draft, Establishment, ReserveAddendum, Service, User
from app.services import access, drafts
from app.services.paging import paginate

from .common import PAGE_SIZE, WORKFLOW, now_utc, search_key
from .duplicates import possible_duplicates
from .filling import due_notice_for


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
    """The CPAM agent's received declarations (SPEC §1: those of its insured, by their département
    of residence, wherever they work), newest first."""
    listing = Listing()
    departements = access.caisse_departements(agent, Service.DAT)
    if not departements:
        return listing
    query = _apply_filters(select(Declaration).where(Declaration.cpam_departement.in_(departements)), filters)
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
    listing.duplicates = possible_duplicates(listing.declarations, departements)
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
    base = select(func.count(Declaration.id)).where(Declaration.cpam_departement.in_(departements))
    return {
        "attente_cmi": db.session.scalar(
            base.where(Declaration.status == rules.Status.TRANSMISE, Declaration.cmi_received_on.is_(None))
        )
        or 0,
        "a_traiter": db.session.scalar(base.where(_to_decide())) or 0,
    }
