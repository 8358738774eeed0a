"""The one authorization entry point (SPEC §1).

Every view that touches an establishment's object calls :func:`authorize`. An establishment the
user has no link to at all answers 404 (its existence is not revealed); an establishment the
user may see but without the requested service answers 403. A draft is authorized by its subject
(:func:`authorize_subject`): an establishment, or a party of a case.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import abort, g, has_request_context, request
from sqlalchemy import Select, bindparam, func, join, or_, select
from sqlalchemy.orm import aliased

from app.domain.cases import Party, SubjectKind
from app.extensions import db
from app.models import (
    Caisse,
    Case,
    CaseEmployer,
    Declaration,
    Draft,
    Establishment,
    Habilitation,
    Letter,
    Mandate,
    Service,
    Upload,
    User,
    UserKind,
)

# Services an agent of each kind of caisse works on.
AGENT_SERVICES = {
    UserKind.CPAM: {Service.DAT, Service.QRPRO, Service.LUCIE},
    UserKind.CARSAT: {Service.COMPTE, Service.SUBVENTIONS, Service.LUCIE},
}


def _grants(user: User, establishment_id: int | None = None) -> dict[int, set[str]]:
    """Establishment id → services, for employer and firm users (cached for the request).

    With ``establishment_id``, only that establishment is sure to be in the answer (when the user may
    see it): one query reading it and the company's head offices, not every establishment of the
    company. A step save in a company of 800 establishments then reads two rows, not 800."""
    whole = g.setdefault("_grants", {})
    if user.id in whole:
        return whole[user.id]
    if establishment_id is None or _page_with_navigation():
        whole[user.id] = _read_grants(user)
        return whole[user.id]
    some = g.setdefault("_grants_on", {})
    key = (user.id, establishment_id)
    if key not in some:
        some[key] = _read_grants(user, establishment_id)
    return some[key]


def _page_with_navigation() -> bool:
    """A full page is being asked for (GET, not an htmx fragment): its navigation reads every grant
    of the user anyway (the DAT, LUCIE, Compte entries), so one query for all of them serves the
    page's own check too, instead of two queries."""
    return has_request_context() and request.method == "GET" and not g.get("htmx")


# The grants' queries, built once with bound parameters: one of them runs on nearly every signed-in
# request, and building a statement (then its cache key) each time cost as much as running it on
# SQLite (docs/performance.md, issue 11). Only the user's own company counts, whatever rows exist.
# Each row: an establishment of the company, whether it is a head office, one service the user holds
# there (none: NULL).
def _employer_grant_rows(establishment: type[Establishment], habilitation: type[Habilitation]):
    return (
        (establishment.id, establishment.is_head_office, habilitation.service),
        (habilitation.establishment_id == establishment.id) & (habilitation.user_id == bindparam("user_id")),
        establishment.company_id == bindparam("company_id"),
    )


_columns, _habilitation_join, _of_company = _employer_grant_rows(Establishment, Habilitation)
_EMPLOYER_GRANTS = select(*_columns).outerjoin(Habilitation, _habilitation_join).where(_of_company)
# With one establishment: that establishment and the company's head offices, not every establishment.
_EMPLOYER_GRANTS_ON = _EMPLOYER_GRANTS.where(
    or_(Establishment.id == bindparam("establishment_id"), Establishment.is_head_office)
)
# Each row: an establishment and one service the firm holds a mandate for there.
_FIRM_GRANTS = select(Mandate.establishment_id, Mandate.service).where(
    Mandate.firm_id == bindparam("firm_id"), Mandate.revoked_at.is_(None)
)
_FIRM_GRANTS_ON = _FIRM_GRANTS.where(Mandate.establishment_id == bindparam("establishment_id"))


def _grant_params(user: User) -> dict[str, int] | None:
    if user.kind == UserKind.EMPLOYER and user.company_id is not None:
        return {"user_id": user.id, "company_id": user.company_id}
    if user.kind == UserKind.FIRM and user.firm_id is not None:
        return {"firm_id": user.firm_id}
    return None


def _read_grants(user: User, establishment_id: int | None = None) -> dict[int, set[str]]:
    params = _grant_params(user)
    if params is None:
        return {}
    employer = user.kind == UserKind.EMPLOYER
    if establishment_id is None:
        statement = _EMPLOYER_GRANTS if employer else _FIRM_GRANTS
    else:
        statement = _EMPLOYER_GRANTS_ON if employer else _FIRM_GRANTS_ON
        params = {**params, "establishment_id": establishment_id}
    return _grants_from(user, db.session.execute(statement, params).all())


def _grants_from(user: User, rows) -> dict[int, set[str]]:
    """The grants read from the rows of the queries above (a row of NULLs: an outer join that found
    nothing, :func:`with_grants`)."""
    grants: dict[int, set[str]] = defaultdict(set)
    if user.kind == UserKind.FIRM:
        for est_id, service in rows:
            if est_id is not None:
                grants[est_id].add(service)
        return dict(grants)
    all_ids = {est_id for est_id, _, _ in rows if est_id is not None}
    if user.is_company_admin:
        for est_id in all_ids:
            grants[est_id]  # the administrator sees every establishment (services still granted)
    for est_id, is_head_office, service in rows:
        if service is None:
            continue
        for target in all_ids if is_head_office else (est_id,):
            grants[target].add(service)
    return dict(grants)


@dataclass(frozen=True)
class WithGrants:
    """A query of one object joined, in the same statement, with the rows the user's grants on the
    object's establishment are read from (:func:`with_grants`): a save or an autosave checks them
    without a query of its own — one round trip less (issue 11)."""

    plain: Select
    employer: Select
    firm: Select
    establishment_key: str  # the object's attribute holding its establishment's id


def with_grants(statement: Select, establishment_id) -> WithGrants:
    """``statement`` (built once) and its two forms joined with the grant rows on the establishment
    whose id is the column ``establishment_id`` of its FROM, as :data:`_EMPLOYER_GRANTS_ON` and
    :data:`_FIRM_GRANTS_ON` read them: each row of the answer is then the object and one grant row
    (outer joins: the object comes back even without any grant)."""
    establishment = aliased(Establishment, name="granted_establishment")
    habilitation = aliased(Habilitation, name="granted_habilitation")
    columns, habilitation_join, of_company = _employer_grant_rows(establishment, habilitation)
    grant_rows = join(establishment, habilitation, habilitation_join, isouter=True)
    employer = statement.add_columns(*columns).outerjoin(
        grant_rows, of_company & or_(establishment.id == establishment_id, establishment.is_head_office)
    )
    mandate = aliased(Mandate, name="granted_mandate")
    firm = statement.add_columns(mandate.establishment_id, mandate.service).outerjoin(
        mandate,
        (mandate.establishment_id == establishment_id)
        & (mandate.firm_id == bindparam("firm_id"))
        & mandate.revoked_at.is_(None),
    )
    return WithGrants(statement, employer, firm, establishment_id.key)


def read_with_grants(user: User, query: WithGrants, params: dict) -> object | None:
    """The one object ``query`` reads (None: none), its establishment's grants for ``user`` read with
    it and kept for the request, unless the grants are read otherwise anyway (a page whose navigation
    reads them all, a user without grants): then the plain query."""
    grant_params = _grant_params(user)
    if grant_params is None or _page_with_navigation() or user.id in g.get("_grants", {}):
        return db.session.execute(query.plain, params).scalar_one_or_none()
    statement = query.employer if user.kind == UserKind.EMPLOYER else query.firm
    rows = db.session.execute(statement, {**params, **grant_params}).all()
    if not rows:
        return None
    found = rows[0][0]
    grant_rows = [tuple(row)[1:] for row in rows]
    key = (user.id, getattr(found, query.establishment_key))
    g.setdefault("_grants_on", {})[key] = _grants_from(user, grant_rows)
    return found


def reset_cache() -> None:
    """Forget the grants computed in this request (after a habilitation or mandate change)."""
    for key in ("_grants", "_grants_on", "_establishments"):
        g.pop(key, None)


def _agent_sees(user: User, establishment: Establishment) -> bool:
    return user.caisse is not None and caisse_covers(user.caisse, establishment)


def can_see(user: User, establishment: Establishment) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_agent:
        return _agent_sees(user, establishment)
    return establishment.id in _grants(user, establishment.id)


def agent_serves(user: User, service: Service | str) -> bool:
    """True when ``user`` is a caisse agent whose caisse works on ``service`` (no query)."""
    return (
        user.is_authenticated
        and user.is_agent
        and Service(service) in AGENT_SERVICES.get(UserKind(user.kind), set())
    )


def can(user: User, service: Service | str, establishment: Establishment) -> bool:
    """True when ``user`` may use ``service`` on ``establishment``."""
    if not can_see(user, establishment):
        return False
    if user.is_agent:
        return Service(service) in AGENT_SERVICES.get(UserKind(user.kind), set())
    return str(service) in _grants(user, establishment.id).get(establishment.id, set())


def authorize(user: User, service: Service | str | None, establishment: Establishment | None) -> None:
    """Abort with 404 when the establishment is not visible to ``user``, 403 when the service is not
    granted there. ``service=None`` asks only whether the establishment is visible."""
    if establishment is None or not can_see(user, establishment):
        abort(404)
    if service is not None and not can(user, service, establishment):
        abort(403)


def can_read_letter(user: User, letter: Letter) -> bool:
    """LUCIE letters (SPEC §1, §4): employer users and tiers déclarants holding LUCIE on the letter's
    establishment; a caisse agent only the letters its own caisse deposited — never another caisse's,
    nor a letter the application itself deposited, whatever the establishments its caisse covers."""
    if not user.is_authenticated:
        return False
    if user.is_agent:
        return user.caisse_id is not None and letter.caisse_id == user.caisse_id
    return can(user, Service.LUCIE, letter.establishment)


def authorize_letter(user: User, letter: Letter | None) -> None:
    """Abort unless ``user`` may read ``letter`` (:func:`can_read_letter`). An agent asking for a
    letter its caisse did not deposit gets 404 (its existence is not revealed); employer users and
    tiers déclarants get 404 / 403 as with :func:`authorize`."""
    if letter is None:
        abort(404)
    if user.is_authenticated and user.is_agent:
        if not can_read_letter(user, letter):
            abort(404)
        return
    authorize(user, Service.LUCIE, letter.establishment)


def authorize_company_admin(user: User, company_id: int | None) -> None:
    """Company-administration screens: 404 for another company, 403 for a non-administrator."""
    if user.kind != UserKind.EMPLOYER or user.company_id is None or user.company_id != company_id:
        abort(404)
    if not user.is_company_admin:
        abort(403)


def authorize_firm(user: User) -> None:
    """Tiers-déclarant screens (portfolio): 404 for anyone who is not a firm's user."""
    if not user.is_authenticated or user.kind != UserKind.FIRM or user.firm_id is None:
        abort(404)


def establishments_for(user: User, service: Service | str | None = None) -> list[Establishment]:
    """The establishments ``user`` may act on (for ``service``, or at all), ordered by SIRET. A page
    asks several times (menu, lists, counts): they are read once per request."""
    if not user.is_authenticated:
        return []
    if user.is_agent:
        if service is not None and Service(service) not in AGENT_SERVICES.get(UserKind(user.kind), set()):
            return []
        return _visible_establishments(user)
    grants = _grants(user)
    return [e for e in _visible_establishments(user) if service is None or str(service) in grants[e.id]]


def _visible_establishments(user: User) -> list[Establishment]:
    cache = g.setdefault("_establishments", {})
    if user.id not in cache:
        if user.is_agent:
            if user.caisse is None:
                cache[user.id] = []
                return []
            query = select(Establishment).where(_covered_establishments(user.caisse))
        else:
            query = select(Establishment).where(Establishment.id.in_(list(_grants(user))))
        cache[user.id] = list(db.session.scalars(query.order_by(Establishment.siret)))
    return cache[user.id]


def services_on(user: User, establishment: Establishment) -> list[Service]:
    """The services ``user`` holds on ``establishment``, in menu order."""
    return [s for s in Service if can(user, s, establishment)]


def users_habilitated(service: Service | str, establishment: Establishment) -> list[User]:
    """The active users holding ``service`` on ``establishment``: employer users of its company,
    directly or through a habilitation on the head office, and the users of a tiers-déclarant firm
    holding a live mandate for it. The reverse of :func:`can` for non-agents (used to alert them,
    e.g. on a LUCIE deposit)."""
    head_offices = select(Establishment.id).where(
        Establishment.company_id == establishment.company_id, Establishment.is_head_office.is_(True)
    )
    habilitated = select(Habilitation.user_id).where(
        Habilitation.service == str(service),
        or_(
            Habilitation.establishment_id == establishment.id,
            Habilitation.establishment_id.in_(head_offices),
        ),
    )
    mandated_firms = select(Mandate.firm_id).where(
        Mandate.establishment_id == establishment.id,
        Mandate.service == str(service),
        Mandate.revoked_at.is_(None),
    )
    query = (
        select(User)
        .where(
            User.is_active_account.is_(True),
            or_(
                (User.kind == UserKind.EMPLOYER)
                & (User.company_id == establishment.company_id)
                & User.id.in_(habilitated),
                (User.kind == UserKind.FIRM) & User.firm_id.in_(mandated_firms),
            ),
        )
        .order_by(User.id)
    )
    return list(db.session.scalars(query))


def _is_cpam(caisse: Caisse) -> bool:
    return caisse.kind == UserKind.CPAM


def _employers_of_insured(caisse: Caisse):
    """The ids of the establishments employing a victim of one of the CPAM's declarations or cases (a
    declaration or case whose competent CPAM, by the victim's residence, is this caisse's: SPEC §1 — an MP
    case registered by the CPAM has no declaration, and may have several employers)."""
    departements = caisse.departements.split()
    return (
        select(Declaration.establishment_id)
        .where(Declaration.cpam_departement.in_(departements))
        .union(
            select(Case.establishment_id).where(Case.victim_departement.in_(departements)),
            # An MP's other employers (the victim was exposed at several): each gets the CPAM's letters.
            select(CaseEmployer.establishment_id)
            .join(Case, Case.id == CaseEmployer.case_id)
            .where(Case.victim_departement.in_(departements)),
        )
    )


def _covered_establishments(caisse: Caisse):
    """The condition on :class:`Establishment` of :func:`caisse_covers`, for a query."""
    in_area = Establishment.departement.in_(caisse.departements.split())
    if not _is_cpam(caisse):
        return in_area
    return in_area | Establishment.id.in_(_employers_of_insured(caisse))


def caisse_covers(caisse: Caisse, establishment: Establishment | None) -> bool:
    """The establishments a caisse acts on — its agents and its system (API token) alike: those of
    its départements, and for a CPAM also any establishment that employs a victim of one of its
    declarations or cases — each employer of an MP with several —, wherever it is (SPEC §1: the CPAM
    deposits its letters into the mailbox of whichever establishment employs its insured). A Carsat stays
    with the establishments of its départements."""
    if establishment is None:
        return False
    if caisse.covers(establishment.departement):
        return True
    if not _is_cpam(caisse):
        return False
    departements = caisse.departements.split()
    by_declaration = select(Declaration.id).where(
        Declaration.cpam_departement.in_(departements), Declaration.establishment_id == establishment.id
    )
    by_case = select(Case.id).where(
        Case.victim_departement.in_(departements), Case.establishment_id == establishment.id
    )
    by_other_employer = (
        select(CaseEmployer.id)
        .join(Case, Case.id == CaseEmployer.case_id)
        .where(Case.victim_departement.in_(departements), CaseEmployer.establishment_id == establishment.id)
    )
    return (
        db.session.scalar(by_declaration.limit(1)) is not None
        or db.session.scalar(by_case.limit(1)) is not None
        or db.session.scalar(by_other_employer.limit(1)) is not None
    )


def caisse_competent(
    caisse: Caisse | None, *, victim_departement: str, establishment_departement: str
) -> bool:
    """Whether ``caisse`` handles a victim's declaration or case (SPEC §1): a CPAM when the victim
    lives in one of its départements (``victim_departement``: the competent CPAM's, see
    app/domain/caisses.py), a Carsat when the establishment is in one of its départements."""
    if caisse is None:
        return False
    return caisse.covers(victim_departement if _is_cpam(caisse) else establishment_departement)


def authorize_caisse_declaration(user: User, service: Service | str, declaration: Declaration | None) -> None:
    """A declaration on the caisse's side (SPEC §1): 404 for employer and firm users, for an unknown
    declaration and for an agent whose caisse is not competent for it (a CPAM: the victim does not
    live in its départements — whatever the establishment's département); 403 for a competent
    agent whose caisse does not work on ``service``."""
    if not user.is_authenticated or not user.is_agent or declaration is None:
        abort(404)
    if not caisse_competent(
        user.caisse,
        victim_departement=declaration.cpam_departement,
        establishment_departement=declaration.establishment.departement,
    ):
        abort(404)
    if Service(service) not in AGENT_SERVICES.get(UserKind(user.kind), set()):
        abort(403)


def authorize_operator(user: User) -> None:
    """Operator screens (mail outbox): 404 for anyone who is not a platform operator."""
    if not user.is_authenticated or not user.is_operator:
        abort(404)


def authorize_employer_side(user: User, service: Service | str, establishment: Establishment | None) -> None:
    """Work done on the employer's side (drafts of multi-step forms): employer users and tiers
    déclarants with ``service`` on ``establishment``. An agent never sees an employer's draft (404),
    whatever their caisse covers."""
    if not user.is_authenticated or user.is_agent:
        abort(404)
    authorize(user, service, establishment)


def authorize_upload(user: User, upload: Upload | None) -> None:
    """An uploaded file is read under the rules of what holds it (404 when nothing visible holds it):

    - a sent declaration's file (attached to the draft, then sent; or a reserves addendum's): whoever
      reads the declaration — the employer's side with the service, the agents of the competent
      caisse (the victim's CPAM);
    - a draft's file: whoever works on that draft, never an agent, and nobody once it is deleted;
    - a file nothing holds (detached from a draft before issue 10, or of a draft deleted before):
      nobody.

    A LUCIE letter's document is not an upload: it is read by the letter's rules (services/lucie.py)."""
    if upload is None or upload.service is None:
        abort(404)
    if upload.declaration_id is not None:
        declaration = db.session.get(Declaration, upload.declaration_id)
        if user.is_authenticated and user.is_agent:
            authorize_caisse_declaration(user, upload.service, declaration)
        else:
            authorize_employer_side(user, upload.service, declaration.establishment if declaration else None)
        return
    draft = db.session.get(Draft, upload.draft_id) if upload.draft_id is not None else None
    if draft is None or draft.discarded_at is not None or draft.establishment_id != upload.establishment_id:
        abort(404)
    authorize_subject(user, upload.service, Subject.of(draft))


def employer_side_establishments(user: User, service: Service | str) -> list[Establishment]:
    """The establishments where ``user`` may do employer-side work for ``service`` (none for agents)."""
    if not user.is_authenticated or user.is_agent:
        return []
    return establishments_for(user, service)


def authorize_caisse_side(user: User, service: Service | str, establishment: Establishment | None) -> None:
    """Work done on the caisse's side on an establishment: agents whose caisse covers it
    (:func:`caisse_covers`) and works on ``service`` (403 otherwise). Employer and firm users get 404:
    these screens do not exist for them. A declaration is authorized by its victim's residence
    instead: :func:`authorize_caisse_declaration`."""
    if not user.is_authenticated or not user.is_agent:
        abort(404)
    authorize(user, service, establishment)


def caisse_departements(user: User, service: Service | str) -> list[str]:
    """The départements whose ``service`` records an agent works on: its caisse's, when the caisse
    works on ``service`` (none for other users). For a CPAM they are its insured's départements of
    residence (a declaration's ``cpam_departement``), for a Carsat its establishments' (SPEC §1). A
    caisse-side list filters its records by these, never by a list of establishment ids (a
    département may have hundreds of thousands)."""
    if not user.is_authenticated or not user.is_agent or user.caisse is None:
        return []
    if Service(service) not in AGENT_SERVICES.get(UserKind(user.kind), set()):
        return []
    return user.caisse.departements.split()


def establishments_in_scope(user: User) -> int:
    """How many establishments an agent's caisse covers (:func:`caisse_covers`; a count: the agent's
    home page says it). For a CPAM, two counts added rather than a UNION of ids to deduplicate (three
    times slower on PostgreSQL with 100 000 establishments, bench/caisse_scope.py): those of its
    départements, and the employers of its insured outside them — read from the declarations alone,
    whose ``departement`` is their establishment's (a SIRET does not move)."""
    if not user.is_authenticated or not user.is_agent or user.caisse is None:
        return 0
    departements = user.caisse.departements.split()
    in_area = db.session.scalar(
        select(func.count(Establishment.id)).where(Establishment.departement.in_(departements))
    )
    if not _is_cpam(user.caisse):
        return in_area
    elsewhere = select(func.count(func.distinct(Declaration.establishment_id))).where(
        Declaration.cpam_departement.in_(departements), Declaration.departement.not_in(departements)
    )
    return in_area + db.session.scalar(elsewhere)


def authorize_agent(user: User, service: Service | str) -> None:
    """A caisse-side list screen (e.g. the CPAM's received declarations): 404 for anyone who is not
    an agent, 403 for an agent whose caisse does not work on ``service``."""
    if not user.is_authenticated or not user.is_agent:
        abort(404)
    if not agent_serves(user, service):
        abort(403)


# -- draft subjects (issue 12, item 5) --------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What a draft belongs to: an establishment, or a ``party`` of a ``case`` (the establishment is then
    one of the case's employer establishments — the one answering, for the employer party; the case's
    own for the victim —: it gives the local time and the employer side's rights)."""

    establishment: Establishment
    case: Case | None = None
    party: Party | None = None

    @property
    def kind(self) -> SubjectKind:
        return SubjectKind.ESTABLISHMENT if self.case is None else SubjectKind.CASE_PARTY

    @classmethod
    def of(cls, draft: Draft) -> Subject:
        party = Party(draft.party) if draft.party is not None else None
        return cls(draft.establishment, draft.case, party)


def is_victim_of(user: User, case: Case | None) -> bool:
    """The victim's own account (no company): a case whose victim is someone else is not theirs."""
    return (
        user.is_authenticated
        and user.kind == UserKind.VICTIM
        and case is not None
        and case.victim_id is not None
        and case.victim_id == user.id
    )


def authorize_subject(user: User, service: Service | str, subject: Subject) -> None:
    """The rule of each kind of draft subject (another subject answers 404, never revealing it):

    - an establishment: the employer side with ``service`` there (:func:`authorize_employer_side`);
    - the employer party of a case: the same, on the draft's establishment, one of the case's employers
      (the users habilitated for ``service`` there and a tiers déclarant holding a mandate for it share
      the draft; another employer establishment of the same case has its own);
    - the victim party of a case: only the case's victim, signed in with their own account — never
      the employer's users, never an agent, never another victim.
    """
    if not user.is_authenticated or user.is_agent:
        abort(404)
    if subject.kind == SubjectKind.ESTABLISHMENT:
        authorize_employer_side(user, service, subject.establishment)
        return
    case = subject.case
    if case is None or subject.establishment is None:
        abort(404)
    if subject.party == Party.VICTIM:
        if case.establishment_id != subject.establishment.id or not is_victim_of(user, case):
            abort(404)
        return
    if subject.establishment.id not in case.employer_ids:
        abort(404)
    if subject.party != Party.EMPLOYER or user.kind not in (UserKind.EMPLOYER, UserKind.FIRM):
        abort(404)
    authorize_employer_side(user, service, subject.establishment)


def victim_case_ids(user: User):
    """A subquery of the ids of the cases whose victim ``user`` is (``None`` for anyone else)."""
    if not user.is_authenticated or user.kind != UserKind.VICTIM:
        return None
    return select(Case.id).where(Case.victim_id == user.id)


def users_on_subject(service: Service | str, subject: Subject) -> list[User]:
    """The active users who may act on a draft of ``subject`` (the reverse of
    :func:`authorize_subject`): the victim alone for the victim's side of a case, else the users
    habilitated for ``service`` on the establishment (:func:`users_habilitated`)."""
    if subject.kind == SubjectKind.CASE_PARTY and subject.party == Party.VICTIM:
        victim = subject.case.victim if subject.case is not None else None
        return [victim] if victim is not None and victim.is_active_account else []
    return users_habilitated(service, subject.establishment)
