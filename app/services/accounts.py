"""Accounts (SPEC §1): sign-in with lock-out, password reset and invitation links, and the company
administrator's user management (invite, habilitations, admin rights, deactivation).

Every function here that changes something commits it together with its audit events and e-mails.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update

from app.domain.calendars import PARIS
from app.extensions import db
from app.models import AuditEvent, Company, Establishment, Habilitation, Service, User, UserKind
from app.models.types import utcnow
from app.services import access, audit, outbox, user_sessions
from app.services.paging import Page, paginate
from app.services.passwords import hash_password, needs_rehash, strength_problem, verify_password

RESET_SALT = "password-reset"
INVITATION_SALT = "invitation"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


# --- Sign-in ---------------------------------------------------------------------------------


class SignInError(enum.StrEnum):
    INVALID = "invalid"  # unknown e-mail or wrong password: the same answer for both
    LOCKED = "locked"
    INACTIVE = "inactive"


@dataclass
class SignInResult:
    user: User | None = None
    error: SignInError | None = None
    locked_until: datetime | None = None
    #: On success: the attempts that failed on this account since its previous sign-in.
    failed_before: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def sign_in(email: str, password: str) -> SignInResult:
    """Check an e-mail and password, counting failures: after ``LOCKOUT_THRESHOLD`` consecutive
    failures the account is locked for ``LOCKOUT_MINUTES``. Audits success, failure (with the
    e-mail tried) and lock-out. An unknown e-mail gets the same answer as a wrong password."""
    email = normalize_email(email)[:254]
    user = find_user_by_email(email)
    now = utcnow()
    if user is None:
        verify_password(None, password)  # same work as for a real account
        audit.record("login_failed", email=email)
        db.session.commit()
        return SignInResult(error=SignInError.INVALID)

    if user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)  # the same work as any other refusal: timing tells nothing
        _count_since_login(user)
        audit.record("login_refused_locked", "user", user.id, email=email)
        db.session.commit()
        return SignInResult(error=SignInError.LOCKED, locked_until=user.locked_until)

    if not verify_password(user.password_hash, password):
        return _count_failure(user, email, now)

    if not user.is_active_account:
        audit.record("login_refused_inactive", "user", user.id, email=email)
        db.session.commit()
        return SignInResult(error=SignInError.INACTIVE)

    failed_before = user.failed_since_login
    user.failed_logins = 0
    user.failed_since_login = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record("login", "user", user.id, actor=user)
    db.session.commit()
    return SignInResult(user=user, failed_before=failed_before)


def _count_since_login(user: User) -> None:
    # In SQL, like failed_logins: concurrent attempts each count.
    db.session.execute(
        update(User).where(User.id == user.id).values(failed_since_login=User.failed_since_login + 1)
    )


def _count_failure(user: User, email: str, now: datetime) -> SignInResult:
    config = current_app.config
    if user.locked_until is not None:  # an expired lock starts a fresh count
        user.locked_until = None
        user.failed_logins = 0
        db.session.flush()
    # Incremented in SQL so that concurrent attempts cannot each read the same count.
    db.session.execute(update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1))
    _count_since_login(user)
    db.session.refresh(user, ["failed_logins", "failed_since_login"])
    audit.record("login_failed", "user", user.id, email=email, failures=user.failed_logins)
    if user.failed_logins >= config["LOCKOUT_THRESHOLD"]:
        user.locked_until = now + timedelta(minutes=config["LOCKOUT_MINUTES"])
        user.failed_logins = 0
        audit.record("account_locked", "user", user.id, minutes=config["LOCKOUT_MINUTES"], email=email)
        # Someone is trying the password: the holder's open sessions end too (they get the e-mail).
        user_sessions.revoke_all(user)
        _tell_account_locked(user)
        db.session.commit()
        return SignInResult(error=SignInError.LOCKED, locked_until=user.locked_until)
    db.session.commit()
    return SignInResult(error=SignInError.INVALID)


def _tell_account_locked(user: User) -> None:
    """The holder hears of a lock-out at once: if it was not them, someone is trying their password."""
    until = user.locked_until.astimezone(PARIS)
    outbox.enqueue(
        user.email,
        "Votre compte est verrouillé pour quelques minutes",
        f"Bonjour {user.full_name},\n\n"
        f"Après {current_app.config['LOCKOUT_THRESHOLD']} tentatives de connexion avec un mot de passe "
        "incorrect, votre compte des services AT/MP est verrouillé jusqu'à "
        f"{until:%H h %M} (heure de Paris) le {until:%d/%m/%Y}.\n\n"
        "Si c'était vous, vous pourrez vous connecter à cette heure-là, ou tout de suite en choisissant "
        f"un nouveau mot de passe : {_link('auth.forgot_password')}\n\n"
        "Si ce n'était pas vous, quelqu'un essaie peut-être d'accéder à votre compte : choisissez un "
        "nouveau mot de passe avec ce même lien, et prévenez l'administrateur des comptes de votre "
        "organisation.\n",
        kind="account_locked",
        user_id=user.id,
    )


def recent_sign_ins(user: User, limit: int = 5) -> list[AuditEvent]:
    """The account's latest sign-ins, newest first (time and IP address), from the audit trail:
    what « Mon compte » shows, so that a user notices a sign-in that was not theirs."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.user_id == user.id, AuditEvent.action == "login")
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def record_sign_out(user: User, session_token: str | None) -> None:
    """Sign-out: the session is revoked on the server, so a copy of its cookie opens nothing."""
    user_sessions.revoke(session_token)
    audit.record("logout", "user", user.id, actor=user)
    db.session.commit()


def sign_out_everywhere(user: User) -> int:
    """« Se déconnecter de tous les appareils »: every session of the account ends, this one
    included. Returns how many were open."""
    count = user_sessions.revoke_all(user)
    audit.record("sessions_revoked", "user", user.id, actor=user, sessions=count)
    db.session.commit()
    return count


# --- Signed links (password reset, invitation) -----------------------------------------------


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _token(user: User, salt: str) -> str:
    # The credentials version is inside: once the password changes, the link is dead.
    return _serializer(salt).dumps({"u": user.id, "v": user.credentials_version})


def _user_for_token(token: str, salt: str, max_age: int) -> User | None:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active_account or data.get("v") != user.credentials_version:
        return None
    return user


def password_reset_token(user: User) -> str:
    return _token(user, RESET_SALT)


def user_for_reset_token(token: str) -> User | None:
    """The user a valid, unexpired, unused reset link belongs to; None otherwise."""
    return _user_for_token(token, RESET_SALT, current_app.config["PASSWORD_TOKEN_MAX_AGE"])


def invitation_token(user: User) -> str:
    return _token(user, INVITATION_SALT)


def user_for_invitation_token(token: str) -> User | None:
    """The invited user of a valid link who has not chosen a password yet; None otherwise."""
    user = _user_for_token(token, INVITATION_SALT, current_app.config["INVITATION_TOKEN_MAX_AGE"])
    if user is None or user.password_hash is not None:
        return None
    return user


def _link(endpoint: str, **values) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def request_password_reset(email: str) -> None:
    """Send a reset link if an active account has this e-mail. The caller answers the same either
    way, so the form does not tell which addresses have an account."""
    user = find_user_by_email(email)
    if user is None or not user.is_active_account:
        return
    minutes = current_app.config["PASSWORD_TOKEN_MAX_AGE"] // 60
    link = _link("auth.reset_password", token=password_reset_token(user))
    outbox.enqueue(
        user.email,
        "Réinitialisation de votre mot de passe",
        f"Bonjour {user.full_name},\n\n"
        "Une demande de nouveau mot de passe a été faite pour votre compte des services AT/MP.\n"
        f"Pour choisir un nouveau mot de passe, ouvrez ce lien (valable {minutes} minutes, "
        f"une seule fois) :\n\n{link}\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : "
        "votre mot de passe actuel reste valable.\n",
        kind="password_reset",
        user_id=user.id,
    )
    audit.record("password_reset_requested", "user", user.id)
    db.session.commit()


def check_new_password(user: User, password: str) -> None:
    """Refuse a password that is easy to guess (zxcvbn, with the person's e-mail and name as words an
    attacker knows): raises :class:`AccountError` on the ``password`` field, in French."""
    if problem := strength_problem(password, (user.email, user.full_name)):
        raise AccountError(problem, field="password")


def _set_password(user: User, password: str) -> None:
    check_new_password(user, password)
    user.password_hash = hash_password(password)
    # Ends every open session of this account and kills the link that was used.
    user.credentials_version += 1
    user_sessions.revoke_all(user)
    user.failed_logins = 0
    user.locked_until = None


def _tell_password_changed(user: User) -> None:
    outbox.enqueue(
        user.email,
        "Votre mot de passe a été modifié",
        f"Bonjour {user.full_name},\n\n"
        "Le mot de passe de votre compte des services AT/MP vient d'être modifié.\n"
        "Si vous n'êtes pas à l'origine de ce changement, demandez un nouveau mot de passe "
        f"tout de suite : {_link('auth.forgot_password')}\n",
        kind="password_changed",
        user_id=user.id,
    )


def reset_password(user: User, password: str) -> None:
    """Set a new password from a reset link; old sessions and the link stop working. Raises
    :class:`AccountError` for a password easy to guess; nothing changes then."""
    _set_password(user, password)
    _tell_password_changed(user)
    audit.record("password_reset", "user", user.id, actor=user)
    db.session.commit()


def change_password(user: User, current: str, password: str) -> None:
    """A signed-in user's new password, given the current one (a session left open on a shared
    computer is not enough). Every other session of the account ends; the user is told by e-mail.
    Raises :class:`AccountError` (``field`` ``current`` or ``password``); nothing changes then."""
    if not verify_password(user.password_hash, current):
        audit.record("password_change_refused", "user", user.id, actor=user)
        db.session.commit()
        raise AccountError("Le mot de passe actuel n'est pas le bon", field="current")
    if verify_password(user.password_hash, password):
        raise AccountError("Choisissez un mot de passe différent de l'actuel", field="password")
    _set_password(user, password)
    _tell_password_changed(user)
    audit.record("password_changed", "user", user.id, actor=user)
    db.session.commit()


def accept_invitation(user: User, password: str) -> None:
    """The invited user chooses a password; the invitation link stops working. Raises
    :class:`AccountError` for a password easy to guess; nothing changes then."""
    _set_password(user, password)
    audit.record("invitation_accepted", "user", user.id, actor=user)
    db.session.commit()


# --- Company administration ------------------------------------------------------------------


class AccountError(Exception):
    """A request the rules refuse; ``field`` names the form field the French message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class UserRow:
    user: User
    # (establishment, services granted directly on it), in SIRET order
    grants: list[tuple[Establishment, list[Service]]] = field(default_factory=list)

    @property
    def is_pending(self) -> bool:
        return self.user.password_hash is None


def company_establishments(company_id: int) -> list[Establishment]:
    """The company's establishments, head office first, then by SIRET."""
    return list(
        db.session.scalars(
            select(Establishment)
            .where(Establishment.company_id == company_id)
            .order_by(Establishment.is_head_office.desc(), Establishment.siret)
        )
    )


ESTABLISHMENTS_PAGE = 50  # on a habilitations screen; a company with more gets a search and pages


def establishment_matches(search: str):
    """The condition of an establishment search: ``search`` in the name, the city, the postal code or
    the SIRET (spaces ignored, so that « 812 345 676 00025 » finds its SIRET)."""
    search = search.strip()[:100]
    digits = "".join(search.split())
    return (
        Establishment.name.icontains(search, autoescape=True)
        | Establishment.city.icontains(search, autoescape=True)
        | Establishment.postal_code.startswith(digits, autoescape=True)
        | Establishment.siret.contains(digits, autoescape=True)
    )


def find_establishments(company_id: int, search: str = "", page: int = 1) -> Page:
    """The company's establishments matching ``search`` (:func:`establishment_matches`), head office
    first, then by SIRET, :data:`ESTABLISHMENTS_PAGE` a page."""
    query = select(Establishment).where(Establishment.company_id == company_id)
    if search.strip():
        query = query.where(establishment_matches(search))
    query = query.order_by(Establishment.is_head_office.desc(), Establishment.siret)
    return paginate(query, page, ESTABLISHMENTS_PAGE)


def shown_establishments(company_id: int, ids: Iterable[str]) -> list[Establishment]:
    """The establishments a habilitations form showed (its hidden ``etablissement`` values), in the
    order of :func:`find_establishments`; an id that is not the company's is ignored."""
    wanted = {int(i) for i in ids if i.isdigit() and len(i) < 12}
    return [e for e in company_establishments(company_id) if e.id in wanted]


@dataclass(frozen=True)
class InviteEstablishments:
    shown: list[Establishment]  # one checkbox group each on the invitation form
    total: int  # in the company


def invite_establishments(company_id: int) -> InviteEstablishments:
    """What the invitation form offers: every establishment, or only the head office when the company
    has more than a habilitations page holds (the rest is chosen on the person's page, with a search)."""
    establishments = company_establishments(company_id)
    shown = establishments
    if len(establishments) > ESTABLISHMENTS_PAGE:
        shown = [e for e in establishments if e.is_head_office]
    return InviteEstablishments(shown, len(establishments))


def get_establishment(establishment_id: int) -> Establishment | None:
    return db.session.get(Establishment, establishment_id)


def get_company(company_id: int) -> Company | None:
    return db.session.get(Company, company_id)


def direct_grants(user: User) -> dict[int, set[str]]:
    """Establishment id → services granted on it directly (not counting the head office's reach)."""
    grants: dict[int, set[str]] = {}
    for est_id, service in db.session.execute(
        select(Habilitation.establishment_id, Habilitation.service).where(Habilitation.user_id == user.id)
    ):
        grants.setdefault(est_id, set()).add(service)
    return grants


def head_office_services(user: User) -> list[Service]:
    """The services ``user`` holds on the company's head office, hence on every establishment."""
    services = set(
        db.session.scalars(
            select(Habilitation.service)
            .join(Establishment, Establishment.id == Habilitation.establishment_id)
            .where(Habilitation.user_id == user.id, Establishment.is_head_office.is_(True))
        )
    )
    return [s for s in Service if s in services]


def company_users(company_id: int) -> list[UserRow]:
    """The company's users with their habilitations, for the administrator's list."""
    establishments = {e.id: e for e in company_establishments(company_id)}
    users = list(
        db.session.scalars(
            select(User)
            .where(User.company_id == company_id, User.kind == UserKind.EMPLOYER)
            .order_by(func.lower(User.full_name), User.email)
        )
    )
    habilitations = db.session.execute(
        select(Habilitation.user_id, Habilitation.establishment_id, Habilitation.service).where(
            Habilitation.user_id.in_([u.id for u in users])
        )
    )
    by_user: dict[int, dict[int, set[str]]] = {}
    for user_id, est_id, service in habilitations:
        by_user.setdefault(user_id, {}).setdefault(est_id, set()).add(service)
    rows = []
    for user in users:
        granted = by_user.get(user.id, {})
        rows.append(
            UserRow(
                user,
                [
                    (est, [s for s in Service if s in granted[est_id]])
                    for est_id, est in establishments.items()
                    if est_id in granted
                ],
            )
        )
    return rows


def _active_admins(company_id: int) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.company_id == company_id,
            User.kind == UserKind.EMPLOYER,
            User.is_company_admin.is_(True),
            User.is_active_account.is_(True),
        )
    )


def _apply_grants(
    admin: User, user: User, wanted: dict[int, set[str]], establishments: Iterable[Establishment]
) -> tuple[int, int]:
    """Make ``user``'s habilitations on ``establishments`` exactly ``wanted``; audit each change."""
    current = direct_grants(user)
    granted = revoked = 0
    for est in establishments:
        have = current.get(est.id, set())
        want = {str(Service(s)) for s in wanted.get(est.id, set())}
        for service in sorted(want - have):
            db.session.add(
                Habilitation(
                    user_id=user.id,
                    establishment_id=est.id,
                    service=service,
                    granted_by_id=admin.id,
                )
            )
            audit.record(
                "habilitation_granted",
                "user",
                user.id,
                establishment_id=est.id,
                service=service,
                head_office=est.is_head_office or None,
            )
            granted += 1
        for service in sorted(have - want):
            db.session.execute(
                delete(Habilitation).where(
                    Habilitation.user_id == user.id,
                    Habilitation.establishment_id == est.id,
                    Habilitation.service == service,
                )
            )
            audit.record("habilitation_revoked", "user", user.id, establishment_id=est.id, service=service)
            revoked += 1
    access.reset_cache()
    return granted, revoked


def set_habilitations(admin: User, user: User, wanted: dict[int, set[str]]) -> tuple[int, int]:
    """Grant and revoke ``user``'s habilitations so that they match ``wanted`` (establishment id →
    services) on those establishments of the administrator's company; the others are left as they
    are (a screen shows a page of them). Returns (granted, revoked) counts."""
    establishments = {e.id: e for e in company_establishments(admin.company_id)}
    if any(est_id not in establishments for est_id in wanted):
        raise AccountError("Cet établissement n'appartient pas à votre entreprise.")
    counts = _apply_grants(admin, user, wanted, [establishments[est_id] for est_id in wanted])
    db.session.commit()
    return counts


def invite_user(admin: User, full_name: str, email: str, is_admin: bool, wanted: dict[int, set[str]]) -> User:
    """Create an employer account in the administrator's company without a password, grant the
    chosen habilitations and e-mail an invitation link where the person chooses a password."""
    email = normalize_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError("Un compte existe déjà avec cette adresse e-mail.", "email")
    establishments = company_establishments(admin.company_id)
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=None,
        kind=UserKind.EMPLOYER,
        company_id=admin.company_id,
        is_company_admin=is_admin,
        is_active_account=True,
        failed_logins=0,
        credentials_version=1,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_invited", "user", user.id, email=email, company_admin=is_admin or None)
    _apply_grants(admin, user, wanted, establishments)
    _send_invitation(admin, user)
    db.session.commit()
    return user


def _send_invitation(admin: User, user: User) -> None:
    days = current_app.config["INVITATION_TOKEN_MAX_AGE"] // 86400
    company = get_company(admin.company_id)
    link = _link("auth.accept_invitation", token=invitation_token(user))
    outbox.enqueue(
        user.email,
        "Invitation aux services AT/MP de votre entreprise",
        f"Bonjour {user.full_name},\n\n"
        f"{admin.full_name} vous a créé un compte pour les services AT/MP de "
        f"l'entreprise {company.name}.\n"
        f"Pour l'activer, choisissez votre mot de passe en ouvrant ce lien "
        f"(valable {days} jours) :\n\n{link}\n",
        kind="invitation",
        user_id=user.id,
    )


def resend_invitation(admin: User, user: User) -> None:
    """Send a fresh invitation link to a user who has not chosen a password yet."""
    if user.password_hash is not None:
        raise AccountError("Cette personne a déjà activé son compte.")
    _send_invitation(admin, user)
    audit.record("invitation_resent", "user", user.id)
    db.session.commit()


def set_company_admin(admin: User, user: User, is_admin: bool) -> None:
    """Give or remove company-administrator rights. The last active administrator keeps them."""
    if user.is_company_admin == is_admin:
        return
    if not is_admin and user.is_active_account and _active_admins(user.company_id) <= 1:
        raise AccountError(
            "Vous ne pouvez pas retirer ce droit : l'entreprise doit garder au moins un administrateur actif."
        )
    user.is_company_admin = is_admin
    audit.record("company_admin_granted" if is_admin else "company_admin_revoked", "user", user.id)
    access.reset_cache()
    db.session.commit()


def revoke_sessions(admin: User, user: User) -> int:
    """An administrator signs a person of the company out of every browser (a lost laptop, a shared
    computer); the account stays active. Returns how many sessions were open."""
    count = user_sessions.revoke_all(user)
    audit.record("sessions_revoked", "user", user.id, sessions=count)
    db.session.commit()
    return count


def set_active(admin: User, user: User, active: bool) -> None:
    """Deactivate (sessions end at once) or reactivate a user of the company."""
    if user.is_active_account == active:
        return
    if not active:
        if user.id == admin.id:
            raise AccountError("Vous ne pouvez pas désactiver votre propre compte.")
        if user.is_company_admin and _active_admins(user.company_id) <= 1:
            raise AccountError("L'entreprise doit garder au moins un administrateur actif.")
        user.credentials_version += 1  # ends the person's open sessions
        user_sessions.revoke_all(user)
    user.is_active_account = active
    audit.record("user_reactivated" if active else "user_deactivated", "user", user.id)
    db.session.commit()
