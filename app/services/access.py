"""The one authorization entry point (SPEC §1).

Every view that touches an establishment's object calls :func:`authorize`. An establishment the
user has no link to at all answers 404 (its existence is not revealed); an establishment the
user may see but without the requested service answers 403. A draft is authorized by its subject
(:func:`authorize_subject`): an establishment, or a party of a case.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import abort, g
from sqlalchemy import bindparam, func, or_, select

from app.domain.cases import Party, SubjectKind
from app.extensions import db
from app.models import (
    Caisse,
    Case,
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
    if establishment_id is None:
        whole[user.id] = _read_grants(user)
        return whole[user.id]
    some = g.setdefault("_grants_on", {})
    key = (user.id, establishment_id)
    if key not in some:
        some[key] = _read_grants(user, establishment_id)
    return some[key]


# The grants' queries, built once with bound parameters: one of them runs on nearly every signed-in
# request, and building a statement (then its cache key) each time cost as much as running it on
# SQLite (docs/performance.md, issue 11). Only the user's own company counts, whatever rows exist.
_EMPLOYER_GRANTS = (
    select(Establishment.id, Establishment.is_head_office, Habilitation.service)
    .outerjoin(
        Habilitation,
        (Habilitation.establishment_id == Establishment.id) & (Habilitation.user_id == bindparam("user_id")),
    )
    .where(Establishment.company_id == bindparam("company_id"))
)
# With one establishment: that establishment and the company's head offices, not every establishment.
_EMPLOYER_GRANTS_ON = _EMPLOYER_GRANTS.where(
    or_(Establishment.id == bindparam("establishment_id"), Establishment.is_head_office)
)
_FIRM_GRANTS = select(Mandate.establishment_id, Mandate.service).where(
    Mandate.firm_id == bindparam("firm_id"), Mandate.revoked_at.is_(None)
)
_FIRM_GRANTS_ON = _FIRM_GRANTS.where(Mandate.establishment_id == bindparam("establishment_id"))


def _read_grants(user: User, establishment_id: int | None = None) -> dict[int, set[str]]:
    grants: dict[int, set[str]] = defaultdict(set)
    if user.kind == UserKind.EMPLOYER and user.company_id is not None:
        # One query: the establishments of the user's own company, with the user's habilitations on
        # each (none: NULL).
        params = {"user_id": user.id, "company_id": user.company_id}
        if establishment_id is None:
            rows = db.session.execute(_EMPLOYER_GRANTS, params).all()
        else:
            rows = db.session.execute(
                _EMPLOYER_GRANTS_ON, {**params, "establishment_id": establishment_id}
            ).all()
        all_ids = {est_id for est_id, _, _ in rows}
        if user.is_company_admin:
            for est_id in all_ids:
                grants[est_id]  # the administrator sees every establishment (services still granted)
        for est_id, is_head_office, service in rows:
            if service is None:
                continue
            for target in all_ids if is_head_office else (est_id,):
                grants[target].add(service)
    elif user.kind == UserKind.FIRM and user.firm_id is not None:
        if establishment_id is None:
            rows = db.session.execute(_FIRM_GRANTS, {"firm_id": user.firm_id})
        else:
            rows = db.session.execute(
                _FIRM_GRANTS_ON, {"firm_id": user.firm_id, "establishment_id": establishment_id}
            )
        for est_id, service in rows:
            grants[est_id].add(service)
    return dict(grants)


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
    case registered by the CPAM has no declaration)."""
    departements = caisse.departements.split()
    return (
        select(Declaration.establishment_id)
        .where(Declaration.cpam_departement.in_(departements))
        .union(select(Case.establishment_id).where(Case.victim_departement.in_(departements)))
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
    declarations, wherever it is (SPEC §1: the CPAM deposits its letters into the mailbox of whichever
    establishment employs its insured). A Carsat stays with the establishments of its départements."""
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
    return (
        db.session.scalar(by_declaration.limit(1)) is not None
        or db.session.scalar(by_case.limit(1)) is not None
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
    if Service(service) not in AGENT_SERVICES.get(UserKind(user.kind), set()):
        abort(403)


# -- draft subjects (issue 12, item 5) --------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What a draft belongs to: an establishment, or a ``party`` of a ``case`` (the establishment is then
    the case's employer establishment: it gives the local time and the employer side's rights)."""

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
    - the employer party of a case: the same, on the case's establishment (the users habilitated for
      ``service`` there and a tiers déclarant holding a mandate for it share the draft);
    - the victim party of a case: only the case's victim, signed in with their own account — never
      the employer's users, never an agent, never another victim.
    """
    if not user.is_authenticated or user.is_agent:
        abort(404)
    if subject.kind == SubjectKind.ESTABLISHMENT:
        authorize_employer_side(user, service, subject.establishment)
        return
    case = subject.case
    if case is None or subject.establishment is None or case.establishment_id != subject.establishment.id:
        abort(404)
    if subject.party == Party.VICTIM:
        if not is_victim_of(user, case):
            abort(404)
        return
    if subject.party != Party.EMPLOYER or user.kind not in (UserKind.EMPLOYER, UserKind.FIRM):
        abort(404)
    authorize_employer_side(user, service, case.establishment)


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
