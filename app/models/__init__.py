"""SQLAlchemy 2 typed models, one module per aggregate. Importing this package registers them all."""

from app.models.accounts import (
    SERVICE_LABELS,
    Caisse,
    Company,
    Establishment,
    Firm,
    Habilitation,
    Mandate,
    Service,
    User,
    UserKind,
)
from app.models.audit import AuditEvent
from app.models.dat import Declaration, DeclarationEvent, ReserveAddendum
from app.models.files import Upload
from app.models.lucie import ApiToken, Letter, LetterSource, LucieAlertAddress, LucieSubscription
from app.models.mail import OutboxMessage, OutboxStatus
from app.models.workflows import Draft, ReferenceCounter, Submission

__all__ = [
    "SERVICE_LABELS",
    "ApiToken",
    "AuditEvent",
    "Caisse",
    "Company",
    "Declaration",
    "DeclarationEvent",
    "Draft",
    "Establishment",
    "Firm",
    "Habilitation",
    "Letter",
    "LetterSource",
    "LucieAlertAddress",
    "LucieSubscription",
    "Mandate",
    "OutboxMessage",
    "OutboxStatus",
    "ReferenceCounter",
    "ReserveAddendum",
    "Service",
    "Submission",
    "Upload",
    "User",
    "UserKind",
]
