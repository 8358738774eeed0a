"""The victim's account (issue 13, item 6; SPEC §1): opened with a verified access code — an e-mail and
a password under the platform's strength rules —, or given one more case by a new code while signed in.
A victim's account has no company: it sees only its own cases (app/services/access.py)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Case, User, UserKind
from app.services import audit
from app.services.accounts import AccountError, check_new_password, find_user_by_email, normalize_email
from app.services.passwords import hash_password
from app.services.qrpro.access_codes import CodeNoLongerValid, redeem, verified_case

ACCOUNT_EXISTS = (
    "Un compte existe déjà avec cette adresse e-mail. Connectez-vous avec ce compte, puis saisissez à "
    "nouveau votre code d'accès pour y ajouter ce dossier."
)


def open_victim_account(code_id: int, email: str, password: str) -> tuple[User, Case]:
    """Create the victim's account and bind the verified code's case to it, in one transaction.
    Raises :class:`AccountError` (``email`` or ``password``) or :class:`CodeNoLongerValid`; nothing is
    stored then."""
    case = verified_case(code_id)
    if case is None:
        raise CodeNoLongerValid
    email = normalize_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError(ACCOUNT_EXISTS, field="email")
    user = User(
        email=email,
        full_name=case.victim_name or email,
        kind=UserKind.VICTIM,
        is_active_account=True,
        failed_logins=0,
        failed_since_login=0,
        credentials_version=1,
    )
    check_new_password(user, password)
    user.password_hash = hash_password(password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same e-mail registered a moment ago
        db.session.rollback()
        raise AccountError(ACCOUNT_EXISTS, field="email") from None
    audit.record("qrpro.victim_account.created", "user", user.id, actor=user, case_id=case.id)
    try:
        case = redeem(code_id, user)
    except CodeNoLongerValid:
        db.session.rollback()
        raise
    db.session.commit()
    return user, case


def add_case(code_id: int, user: User) -> Case:
    """A signed-in victim adds the verified code's case to their account. Raises
    :class:`CodeNoLongerValid`; :class:`AccountError` for an account that is not a victim's."""
    if user.kind != UserKind.VICTIM:
        raise AccountError(
            "Ce code d'accès est destiné à la victime : déconnectez-vous pour créer son compte.", field="code"
        )
    try:
        case = redeem(code_id, user)
    except CodeNoLongerValid:
        db.session.rollback()
        raise
    db.session.commit()
    return case
