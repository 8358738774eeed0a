"""The company administrator's activity journal: the audit trail (SPEC §1) read back, for one company.

It lists what the company's own users did (sign-ins included), and what tiers déclarants did on the
company's establishments, never their other clients. Caisse agents and systems are not listed: their
side of a file is the caisse's business.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import AuditEvent, Establishment, Firm, Mandate, User, UserKind
from app.services import audit

PARIS = ZoneInfo("Europe/Paris")
PAGE_SIZE = 50
EXPORT_LIMIT = 10_000

ACTION_LABELS = {
    "login": "Connexion",
    "login_failed": "Échec de connexion (mot de passe incorrect)",
    "login_refused_locked": "Connexion refusée : compte verrouillé",
    "login_refused_inactive": "Connexion refusée : compte désactivé",
    "account_locked": "Compte verrouillé après plusieurs échecs",
    "logout": "Déconnexion",
    "password_reset_requested": "Demande de nouveau mot de passe",
    "password_reset": "Nouveau mot de passe choisi (lien reçu par e-mail)",
    "password_changed": "Mot de passe modifié",
    "password_change_refused": "Modification du mot de passe refusée (mot de passe actuel incorrect)",
    "invitation_accepted": "Invitation acceptée",
    "user_invited": "Utilisateur invité",
    "invitation_resent": "Invitation renvoyée",
    "user_deactivated": "Utilisateur désactivé",
    "user_reactivated": "Utilisateur réactivé",
    "company_admin_granted": "Droits d'administrateur modifiés",
    "habilitation_granted": "Habilitation accordée",
    "habilitation_revoked": "Habilitation retirée",
    "mandate_granted": "Mandat donné à un tiers déclarant",
    "mandate_revoked": "Mandat retiré à un tiers déclarant",
    "journal.read": "Consultation du journal d'activité",
    "journal.export": "Journal d'activité téléchargé (CSV)",
    "draft.create": "Démarche commencée",
    "draft.read": "Brouillon consulté",
    "draft.save": "Étape enregistrée",
    "draft.autosave": "Brouillon enregistré automatiquement",
    "draft.discard": "Brouillon supprimé",
    "draft.submit_refused": "Envoi refusé (réponses à compléter)",
    "submission.create": "Démarche envoyée",
    "submission.read": "Confirmation d'envoi consultée",
    "dat.read": "Déclaration d'accident consultée",
    "dat.receipt": "Accusé de réception consulté",
    "dat.pdf_accuse-reception": "Accusé de réception téléchargé (PDF)",
    "dat.pdf_declaration": "Déclaration téléchargée (PDF)",
    "dat.pdf_feuille-accident": "Feuille d'accident téléchargée (PDF)",
    "dat.reserves_page": "Page des réserves consultée",
    "dat.reserves": "Réserves motivées envoyées",
    "lucie_subscribed": "Abonnement à LUCIE",
    "lucie_unsubscribed": "Désabonnement de LUCIE",
    "lucie_alert_address_added": "Adresse d'alerte LUCIE ajoutée",
    "lucie_alert_address_removed": "Adresse d'alerte LUCIE retirée",
    "archive": "Courrier archivé",
    "unarchive": "Courrier sorti des archives",
    "deposit": "Courrier déposé",
}

OBJECT_LABELS = {
    "user": "Utilisateur",
    "draft": "Brouillon",
    "submission": "Démarche envoyée",
    "dat_declaration": "Déclaration d'accident",
    "letter": "Courrier LUCIE",
    "upload": "Pièce jointe",
    "mandate": "Mandat",
    "habilitation": "Habilitation",
}


@dataclass(frozen=True)
class JournalFilters:
    person_id: int | None = None
    since: date | None = None  # Paris days, inclusive
    until: date | None = None
    before_id: int | None = None  # keyset: entries older than this one


@dataclass(frozen=True)
class JournalEntry:
    at: datetime
    action: str
    who: str
    who_email: str
    firm: str | None
    what: str
    establishment: str | None
    ip: str | None


@dataclass(frozen=True)
class JournalPage:
    entries: list[JournalEntry]
    older_id: int | None  # ``before_id`` of the next page; None on the last one


# "read" is recorded for letters and for attached files alike.
READ_LABELS = {"letter": "Courrier consulté", "upload": "Pièce jointe consultée"}


def action_label(event: AuditEvent) -> str:
    if event.action == "read":
        return READ_LABELS.get(event.object_type or "", "Consultation")
    return ACTION_LABELS.get(event.action, event.action)


def _object_label(event: AuditEvent, names: dict[str, str]) -> str:
    if event.object_type is None or event.object_type == "establishment":  # shown on its own line
        return ""
    if event.object_type == "user":  # a person of the company, by name; nothing for oneself
        return "" if event.object_id == str(event.user_id) else names.get(event.object_id, "")
    label = OBJECT_LABELS.get(event.object_type, event.object_type)
    reference = (event.details or {}).get("reference")
    if reference:
        return f"{label} {reference}"
    return f"{label} n° {event.object_id}" if event.object_id else label


def _people_query(company_id: int):
    """The people whose actions the journal may list: the company's users, and the users of every
    firm that holds or held a mandate on one of its establishments."""
    firms = (
        select(Mandate.firm_id)
        .join(Establishment, Establishment.id == Mandate.establishment_id)
        .where(Establishment.company_id == company_id)
    )
    return select(User).where(
        or_(
            and_(User.kind == UserKind.EMPLOYER, User.company_id == company_id),
            and_(User.kind == UserKind.FIRM, User.firm_id.in_(firms)),
        )
    )


def people(company_id: int) -> list[User]:
    """The people the journal can be filtered on, by name."""
    return list(db.session.scalars(_people_query(company_id).order_by(User.full_name, User.email)))


def company_journal(company_id: int, filters: JournalFilters, *, size: int = PAGE_SIZE) -> JournalPage:
    """One page of the company's journal, newest first (keyset on the event id)."""
    actor = aliased(User)
    company_establishments = select(Establishment.id).where(Establishment.company_id == company_id)
    query = (
        select(AuditEvent, actor, Firm.name, Establishment.name)
        .join(actor, actor.id == AuditEvent.user_id)
        .outerjoin(Firm, Firm.id == actor.firm_id)
        .outerjoin(Establishment, Establishment.id == AuditEvent.establishment_id)
        .where(
            or_(
                and_(actor.kind == UserKind.EMPLOYER, actor.company_id == company_id),
                and_(actor.kind == UserKind.FIRM, AuditEvent.establishment_id.in_(company_establishments)),
            )
        )
        .order_by(AuditEvent.id.desc())
        .limit(size + 1)
    )
    if filters.person_id is not None:
        query = query.where(AuditEvent.user_id == filters.person_id)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= _paris_midnight(filters.since))
    if filters.until is not None:
        query = query.where(AuditEvent.at < _paris_midnight(filters.until + timedelta(days=1)))
    if filters.before_id is not None:
        query = query.where(AuditEvent.id < filters.before_id)
    rows = db.session.execute(query).all()
    targets = {int(e.object_id) for e, *_ in rows if e.object_type == "user" and str(e.object_id).isdigit()}
    names = {
        str(user.id): user.full_name
        for user in db.session.scalars(_people_query(company_id).where(User.id.in_(targets)))
    }
    entries = [
        JournalEntry(
            at=event.at,
            action=action_label(event),
            who=user.full_name,
            who_email=user.email,
            firm=firm_name,
            what=_object_label(event, names),
            establishment=establishment_name,
            ip=event.ip,
        )
        for event, user, firm_name, establishment_name in rows[:size]
    ]
    older_id = rows[size - 1][0].id if len(rows) > size else None
    return JournalPage(entries, older_id)


def record_read(*, exported: int | None = None) -> None:
    """Reading the journal is itself recorded: who looked at the company's activity, and when."""
    audit.record("journal.read" if exported is None else "journal.export", lines=exported)
    db.session.commit()


CSV_HEADER = (
    "Date",
    "Personne",
    "Adresse e-mail",
    "Tiers déclarant",
    "Action",
    "Sur",
    "Établissement",
    "Adresse IP",
)


def as_csv(page: JournalPage) -> str:
    """The journal as a CSV file for a spreadsheet in French (";" between fields, a BOM so that
    accents open right). A cell that a spreadsheet would run as a formula is quoted with "'"."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in page.entries:
        at = e.at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
        cells = (at, e.who, e.who_email, e.firm, e.action, e.what, e.establishment, e.ip)
        writer.writerow([_inert(cell or "") for cell in cells])
    if page.older_id is not None:
        writer.writerow(
            [f"Plus de {len(page.entries)} lignes : choisissez des dates pour exporter la suite."]
        )
    return out.getvalue()


def _inert(cell: str) -> str:
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)
