"""The company administrator's activity journal: the audit trail (SPEC §1) read back, for one company.

It lists what the company's own users did (sign-ins included), what happened to their accounts with
nobody signed in (failed sign-ins, lock-outs), what tiers déclarants did on the company's
establishments (never for their other clients), and what the platform did on its own (an abandoned
draft deleted). Caisse agents are not listed: their side of a file is the caisse's business. Which
company's journal lists an event is decided when it is written (app.services.audit.journal_company).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, literal, or_, select, tuple_
from sqlalchemy.orm import aliased

from app.domain.calendars import PARIS
from app.extensions import db
from app.models import AuditEvent, Establishment, Firm, Mandate, User, UserKind
from app.services import audit

PAGE_SIZE = 50
PLATFORM = "La plateforme"  # who, for what the platform did on its own
EXPORT_LIMIT = 10_000

ACTION_LABELS = {
    "login": "Connexion",
    "login_failed": "Échec de connexion (mot de passe incorrect)",
    "login_refused_locked": "Connexion refusée : compte verrouillé",
    "login_refused_inactive": "Connexion refusée : compte désactivé",
    "account_locked": "Compte verrouillé après plusieurs échecs",
    "logout": "Déconnexion",
    "sessions_revoked": "Déconnexion de tous les appareils",
    "password_reset_requested": "Demande de nouveau mot de passe",
    "password_reset": "Nouveau mot de passe choisi (lien reçu par e-mail)",
    "password_changed": "Mot de passe modifié",
    "password_change_refused": "Modification du mot de passe refusée (mot de passe actuel incorrect)",
    "invitation_accepted": "Invitation acceptée",
    "user_invited": "Utilisateur invité",
    "invitation_resent": "Invitation renvoyée",
    "user_deactivated": "Utilisateur désactivé",
    "user_reactivated": "Utilisateur réactivé",
    "company_admin_granted": "Droits d'administrateur donnés",
    "company_admin_revoked": "Droits d'administrateur retirés",
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
    "draft.expired": "Brouillon supprimé automatiquement (durée de conservation dépassée)",
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
    "dat.cmi": "Certificat médical initial reçu par la caisse",
    "dat.status": "Statut de la déclaration changé par la caisse",
    "upload.active_content": "Pièce jointe PDF avec contenu actif (proposée en téléchargement)",
    "lucie_subscribed": "Abonnement à LUCIE",
    "lucie_unsubscribed": "Désabonnement de LUCIE",
    "lucie_alert_address_added": "Adresse d'alerte LUCIE ajoutée",
    "lucie_alert_address_removed": "Adresse d'alerte LUCIE retirée",
    "archive": "Courrier archivé",
    "unarchive": "Courrier sorti des archives",
    "integrity_error": "Courrier impossible à ouvrir : fichier altéré ou manquant",
    "deposit": "Courrier déposé",
    "lucie.letter_page": "Page d'un courrier affichée",
    "upload.attach": "Pièce jointe ajoutée",
    "upload.remove": "Pièce jointe retirée",
    "api_token_created": "Jeton d'API créé",
    "api_token_revoked": "Jeton d'API révoqué",
    "operator_granted": "Droits d'exploitant donnés",
    "operator_revoked": "Droits d'exploitant retirés",
    "outbox_requeue": "Alerte e-mail remise en envoi",
    "form_models.load": "Modèles de formulaire chargés",
    "compte.read_rate": "Taux de cotisation consulté",
    "compte.attestation": "Attestation des indicateurs délivrée",
    "compte.notify": "Taux notifié par la caisse",
    "case.read": "Dossier AT/MP consulté par la victime",
    "qrpro.employer_read": "Dossier AT/MP consulté",
    "qrpro.agent_access": "Dossier AT/MP ouvert par un agent de la caisse",
    "qrpro.register_mp": "Maladie professionnelle enregistrée par la caisse",
    "qrpro.open": "Instruction ouverte par la caisse",
    "qrpro.models": "Questionnaires choisis par la caisse",
    "qrpro.send": "Questionnaires envoyés par la caisse",
    "qrpro.consultation": "Consultation du dossier programmée par la caisse",
    "qrpro.reschedule": "Consultation du dossier déplacée par la caisse",
    "qrpro.date_override": "Date du calendrier légal modifiée par la caisse",
    "qrpro.piece": "Pièce ajoutée au dossier par la caisse",
    "qrpro.observation": "Observations déposées",
    "qrpro.decision": "Décision de la caisse",
    "qrpro.decision_without_information": "Décision de la caisse sans consultation préalable",
    "qrpro.claim_not_imputed": "Sinistre non imputé au compte AT/MP",
    "qrpro.access_code.issued": "Code d'accès de la victime émis",
    "qrpro.access_code.verified": "Code d'accès de la victime vérifié",
    "qrpro.access_code.used": "Code d'accès de la victime utilisé",
    "qrpro.access_code.failed": "Code d'accès de la victime incorrect",
    "qrpro.access_code.locked": "Code d'accès de la victime bloqué après plusieurs échecs",
    "qrpro.access_code.refused_locked": "Code d'accès de la victime refusé : bloqué",
    "qrpro.victim_account.created": "Compte de la victime créé",
    "qrpro.victim_bound": "Dossier rattaché au compte de la victime",
    "qrpro.victim_letter": "Courrier consulté par la victime",
    "qrpro.victim_timeline": "Chronologie téléchargée par la victime (PDF)",
    "subventions.programme_load": "Programmes de subvention chargés",
    "subventions.budget_close": "Budget d'un programme de subvention clos",
    "subventions.budget_reopen": "Budget d'un programme de subvention rouvert",
    "subventions.start": "Demande de subvention commencée",
    "subventions.line_save": "Ligne de demande de subvention enregistrée",
    "subventions.line_remove": "Ligne de demande de subvention supprimée",
    "subventions.submit": "Demande de subvention envoyée",
    "subventions.payment_start": "Demande de versement commencée",
    "subventions.convention": "Convention de subvention signée (enregistrée par la Carsat)",
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
    "api_token": "Jeton d'API",
    "outbox_message": "Alerte e-mail",
    "form_model_version": "Modèle de formulaire",
    "case": "Dossier AT/MP",
    "case_file": "Dossier AT/MP",
    "case_document": "Pièce du dossier AT/MP",
    "case_letter": "Courrier du dossier AT/MP",
    "compte_notified_rate": "Taux notifié",
    "compte_attestation": "Attestation des indicateurs",
    "subsidy_programme": "Programme de subvention",
    "subsidy_dossier": "Demande de subvention",
    "subsidy_line": "Ligne de demande de subvention",
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


def _object_label(event: AuditEvent, users: dict[str, User]) -> str:
    if event.object_type is None or event.object_type == "establishment":  # shown on its own line
        return ""
    if event.object_type == "user":  # a person of the company, by name; nothing for oneself
        person = users.get(event.object_id)
        return "" if event.object_id == str(event.user_id) or person is None else person.full_name
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
    """One page of the company's journal, newest first: a walk of the index (company_id, at, id), whose
    cost follows the company's own activity, not the whole trail's (audit.journal_company). The next
    page starts after the last line's (at, id)."""
    actor = aliased(User)
    query = (
        select(AuditEvent, actor, Firm.name, Establishment.name)
        .outerjoin(actor, actor.id == AuditEvent.user_id)
        .outerjoin(Firm, Firm.id == actor.firm_id)
        .outerjoin(Establishment, Establishment.id == AuditEvent.establishment_id)
        .where(AuditEvent.company_id == company_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(size + 1)
    )
    if filters.person_id is not None:
        person = filters.person_id
        # What they did, and what happened to their account with nobody signed in (failed sign-ins).
        query = query.where(
            or_(
                AuditEvent.user_id == person,
                and_(
                    AuditEvent.user_id.is_(None),
                    AuditEvent.object_type == "user",
                    AuditEvent.object_id == str(person),
                ),
            )
        )
    if filters.since is not None:
        query = query.where(AuditEvent.at >= _paris_midnight(filters.since))
    if filters.until is not None:
        query = query.where(AuditEvent.at < _paris_midnight(filters.until + timedelta(days=1)))
    if filters.before_id is not None:
        cursor = db.session.scalar(select(AuditEvent.at).where(AuditEvent.id == filters.before_id))
        if cursor is not None:  # an unknown id (a forged URL) starts from the newest
            query = query.where(
                tuple_(AuditEvent.at, AuditEvent.id)
                < tuple_(literal(cursor, AuditEvent.at.type), filters.before_id)
            )
    rows = db.session.execute(query).all()
    named = {int(e.object_id) for e, *_ in rows if e.object_type == "user" and str(e.object_id).isdigit()}
    users = {
        str(user.id): user for user in db.session.scalars(_people_query(company_id).where(User.id.in_(named)))
    }
    entries = [
        _entry(event, user, firm_name, establishment_name, users)
        for event, user, firm_name, establishment_name in rows[:size]
    ]
    older_id = rows[size - 1][0].id if len(rows) > size else None
    return JournalPage(entries, older_id)


def _entry(
    event: AuditEvent, actor: User | None, firm: str | None, establishment: str | None, users
) -> JournalEntry:
    """One line. With nobody signed in, the line is about the account concerned (a failed sign-in),
    or it is the platform's own doing (an abandoned draft deleted)."""
    person, what = actor, _object_label(event, users)
    if actor is None and event.object_type == "user":
        person, what = users.get(event.object_id), ""
    return JournalEntry(
        at=event.at,
        action=action_label(event),
        who=person.full_name if person else PLATFORM,
        who_email=person.email if person else "",
        firm=firm,
        what=what,
        establishment=establishment,
        ip=event.ip,
    )


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
