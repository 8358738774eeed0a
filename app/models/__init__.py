"""SQLAlchemy 2 typed models, one module per aggregate. Importing this package registers them all.
It also names the domain's vocabulary stored in their columns (services, kinds of users, letter
sources), defined in app/domain."""

from app.domain.accounts import SERVICE_LABELS, Service, UserKind
from app.domain.cases import CaseKind, Party
from app.domain.lucie import LetterSource
from app.models.accounts import Caisse, Company, Establishment, Firm, Habilitation, Mandate, User, UserSession
from app.models.audit import AuditEvent
from app.models.cases import Case, CaseDate, CaseDocument, CaseEmployer, CaseEvent, CaseLetter
from app.models.compte import (
    Attestation,
    AverageCost,
    Claim,
    CollectiveRate,
    Majoration,
    NotifiedRate,
    RateProfile,
    ReferenceLoad,
    WageYear,
)
from app.models.dat import Declaration, DeclarationEvent, ReserveAddendum
from app.models.files import Upload
from app.models.form_models import FormModelVersion, PublishedVersionImmutable
from app.models.lucie import ApiToken, Letter, LucieAlertAddress, LucieSubscription
from app.models.mail import OutboxMessage, OutboxStatus
from app.models.qrpro_access import VictimAccessCode
from app.models.subsidies import (
    SubsidyCompany,
    SubsidyDecision,
    SubsidyDossier,
    SubsidyLine,
    SubsidyProgramme,
    SubsidyVersion,
)
from app.models.workflows import Draft, ReferenceCounter, Submission

# Indexes that only the PostgreSQL migrations create (LUCIE's trigram search, migration 0004): not in
# the metadata, so the comparison of the migrated schema with the models (autogenerate, the schema
# test) leaves them out.
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_letter_title_trgm", "ix_letter_case_reference_trgm"})


def include_in_schema_comparison(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object``: everything but :data:`POSTGRESQL_ONLY_INDEXES`."""
    return not (type_ == "index" and reflected and name in POSTGRESQL_ONLY_INDEXES)


__all__ = [
    "POSTGRESQL_ONLY_INDEXES",
    "SERVICE_LABELS",
    "ApiToken",
    "Attestation",
    "AuditEvent",
    "AverageCost",
    "Caisse",
    "Case",
    "CaseDate",
    "CaseDocument",
    "CaseEmployer",
    "CaseEvent",
    "CaseKind",
    "CaseLetter",
    "Claim",
    "CollectiveRate",
    "Company",
    "Declaration",
    "DeclarationEvent",
    "Draft",
    "Establishment",
    "Firm",
    "FormModelVersion",
    "Habilitation",
    "Letter",
    "LetterSource",
    "LucieAlertAddress",
    "LucieSubscription",
    "Majoration",
    "Mandate",
    "NotifiedRate",
    "OutboxMessage",
    "OutboxStatus",
    "Party",
    "PublishedVersionImmutable",
    "RateProfile",
    "ReferenceCounter",
    "ReferenceLoad",
    "ReserveAddendum",
    "Service",
    "Submission",
    "SubsidyCompany",
    "SubsidyDecision",
    "SubsidyDossier",
    "SubsidyLine",
    "SubsidyProgramme",
    "SubsidyVersion",
    "Upload",
    "User",
    "UserKind",
    "UserSession",
    "VictimAccessCode",
    "WageYear",
    "include_in_schema_comparison",
]
