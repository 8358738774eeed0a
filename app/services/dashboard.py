"""The home page per role (*tableau de bord*, issue 2 item 8): what a returning user resumes from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask import url_for
from sqlalchemy import select

from app.models import Caisse, Establishment, Service, User, UserKind
from app.models.lucie import Letter
from app.services import access, dat, drafts, lucie, outbox
from app.services.accounts import ESTABLISHMENTS_PAGE, establishment_matches
from app.services.drafts import DraftSummary
from app.services.mandates import ClientCompany, portfolio_for
from app.services.paging import Page, paginate
from app.services.qrpro import cases as qrpro_cases
from app.services.qrpro import employer as qrpro_employer
from app.services.subsidies import dossiers as subsidy_dossiers
from app.services.subsidies import instruction as subsidy_instruction

DRAFTS_SHOWN = 10
LETTERS_SHOWN = 5
# Up to this many establishments, the home page shows each as a card; past it, a search and a link to
# the list of them all (a company may have hundreds).
CARDS_SHOWN = 9


@dataclass
class EstablishmentServices:
    establishment: Establishment
    services: list[Service]


@dataclass
class Dashboard:
    role: str  # "employer" | "firm" | "agent" | "operator" (an operator with no other role)
    establishments: list[EstablishmentServices] = field(default_factory=list)
    portfolio: list[ClientCompany] = field(default_factory=list)
    drafts: list[DraftSummary] = field(default_factory=list)
    unread_letters: list[Letter] = field(default_factory=list)
    unread_total: int = 0
    # What the navigation's LUCIE entry shows (None: no mailbox), the same count, not read again.
    navigation_unread: int | None = None
    deadlines: list = field(default_factory=list)
    work_queues: list = field(default_factory=list)
    caisse: Caisse | None = None
    establishments_in_scope: int = 0  # an agent's caisse's; an employer's, when not shown as cards
    # For platform operators: messages of the mail outbox per state (failed ones need them).
    outbox_counts: dict[str, int] | None = None
    # Subsidy dossiers whose Carsat asked for completion, the nearest date first (issue 14 item 5).
    subsidy_completions: list = field(default_factory=list)


def dashboard_for(user: User) -> Dashboard:
    """Everything the home page shows ``user``, according to their role; an operator also sees the
    state of the mail outbox."""
    board = _board_for_role(user)
    if user.is_operator:
        board.outbox_counts = outbox.queue_counts()
    return board


def _board_for_role(user: User) -> Dashboard:
    if user.is_operator and not (user.is_agent or user.company_id or user.firm_id):
        return Dashboard(role="operator")
    if user.is_agent:
        return Dashboard(
            role="agent",
            caisse=user.caisse,
            establishments_in_scope=access.establishments_in_scope(user),
            work_queues=work_queues_for(user),
        )
    # Every draft the user may resume, read once: the list shows the most recent, the deadlines
    # look at all of them (the same query, in the same order, without its limit).
    summaries = drafts.list_drafts(user)
    if user.kind == UserKind.FIRM:
        portfolio = portfolio_for(user)
        unread = lucie.unread_count(user)
        return Dashboard(
            role="firm",
            portfolio=portfolio,
            drafts=summaries[:DRAFTS_SHOWN],
            unread_letters=unread_letters_for(user),
            unread_total=unread,
            navigation_unread=unread if lucie.mailbox_establishments(user) else None,
            deadlines=nearest_deadlines(user, summaries=summaries),
            subsidy_completions=subsidy_completions_for(user),
        )
    visible = access.establishments_for(user)
    unread = lucie.unread_count(user)
    return Dashboard(
        role="employer",
        establishments=_with_services(user, sorted(visible, key=lambda e: (not e.is_head_office, e.siret)))
        if len(visible) <= CARDS_SHOWN
        else [],
        establishments_in_scope=len(visible),
        drafts=summaries[:DRAFTS_SHOWN],
        unread_letters=unread_letters_for(user),
        unread_total=unread,
        navigation_unread=unread if lucie.mailbox_establishments(user) else None,
        deadlines=nearest_deadlines(user, summaries=summaries),
        subsidy_completions=subsidy_completions_for(user),
    )


def subsidy_completions_for(user: User) -> list:
    establishments = access.employer_side_establishments(user, Service.SUBVENTIONS)
    return subsidy_dossiers.pending_completions([e.id for e in establishments])


def _with_services(user: User, establishments) -> list[EstablishmentServices]:
    return [EstablishmentServices(est, access.services_on(user, est)) for est in establishments]


def establishments_page(user: User, search: str = "", page: int = 1) -> Page:
    """The establishments ``user`` may see, matching ``search``, head office first, then by SIRET,
    with the user's services on each, a page at a time (the list « Vos établissements »)."""
    query = select(Establishment).where(Establishment.id.in_([e.id for e in access.establishments_for(user)]))
    if search.strip():
        query = query.where(establishment_matches(search))
    query = query.order_by(Establishment.is_head_office.desc(), Establishment.siret)
    listing = paginate(query, page, ESTABLISHMENTS_PAGE)
    return replace(listing, items=_with_services(user, listing.items))


def drafts_in_progress(
    user: User, limit: int = DRAFTS_SHOWN, establishment: Establishment | None = None
) -> list[DraftSummary]:
    """Drafts the user may resume (on ``establishment`` only, if given), most recently saved
    first — the workflow engine decides which (app/services/drafts.py)."""
    return drafts.list_drafts(user, limit=limit, establishment=establishment)


def unread_letters_for(user: User) -> list[Letter]:
    """The most recent unread letters of ``user``'s LUCIE mailboxes (issue 4)."""
    return lucie.unread_letters(user, limit=LETTERS_SHOWN)


def nearest_deadlines(
    user: User, limit: int = 5, *, summaries: list[DraftSummary] | None = None
) -> list[dat.DeadlineItem]:
    """The nearest deadlines on ``user``'s establishments: the DAT's 48 hours, open reserves
    windows, and drafts about to be deleted for lack of a save (QR Pro questionnaires will join
    them). ``summaries``: ``drafts.list_drafts(user)`` when the caller has read it already."""
    if summaries is None:
        summaries = drafts.list_drafts(user)
    items = dat.deadlines_for(user, limit=limit, summaries=summaries)
    for summary in summaries:
        if summary.deleted_on is not None:
            what = f"« {summary.workflow.title} »" + (f" ({summary.label})" if summary.label else "")
            items.append(
                dat.DeadlineItem(
                    label=f"Enregistrer le brouillon {what} pour le garder",
                    establishment=summary.draft.establishment,
                    due=summary.deleted_on,
                    url=url_for("workflows.resume", draft_id=summary.draft.id),
                )
            )
    for near in qrpro_employer.nearest(user, limit=limit):  # QR Pro: the dates the caisse notified
        items.append(
            dat.DeadlineItem(
                label=near.label,
                establishment=near.establishment,
                due=near.due,
                url=near.url,
                last_day=near.last_day,
            )
        )
    items.sort(key=lambda item: (not item.late, item.due))
    return items[:limit]


@dataclass
class WorkQueue:
    label: str
    count: int
    url: str


def work_queues_for(user: User) -> list[WorkQueue]:
    """An agent's work queues: for a CPAM agent, received declarations waiting for their CMI and
    those to instruct or decide. The Carsat's queues (rate notifications, subsidy requests) come
    with the Compte AT/MP and Subventions services."""
    if user.kind == UserKind.CARSAT:
        departements = access.caisse_departements(user, Service.SUBVENTIONS)
        return [
            WorkQueue(
                "Subventions Prévention à instruire",
                subsidy_instruction.waiting_count(departements),
                url_for("subventions_carsat.queue"),
            )
        ]
    if user.kind != UserKind.CPAM:
        return []
    counts = dat.caisse_work_queue(user)
    return [
        WorkQueue(
            "Déclarations en attente du certificat médical initial",
            counts["attente_cmi"],
            url_for("cpam.inbox", cmi="attente"),
        ),
        WorkQueue(
            "Déclarations à instruire ou à décider (CMI reçu)",
            counts["a_traiter"],
            url_for("cpam.inbox", a_decider="1"),
        ),
        WorkQueue(
            "Dossiers QR Pro en instruction (par prochaine date légale)",
            qrpro_cases.queue(user, size=1).total,
            url_for("qrpro_agent.queue"),
        ),
    ]
