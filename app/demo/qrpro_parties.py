"""Demo data of QR Pro's parties (issue 13, items 5-6; README): a victim's account, « Lucas Meyer »,
bound to an accident du travail at the Metz establishment whose questionnaire is open, and a maladie
professionnelle case of the same victim not yet in their account, with an unused access code printed
here (and in the README) to try the activation page.

The lead wires these to the instruction's demo cases at merge; until then the two cases are created
here with the existing Case model when missing. Idempotent: looked up by e-mail and case reference; the
access code is the fixed demo code below, issued again only when the case has no live code equal to it
and nobody has used it (a second run changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from app.demo.accounts import DEMO_PASSWORD
from app.domain.calendars import local_date, timezone_for
from app.domain.instruction import questionnaire_due
from app.extensions import db
from app.models import Caisse, Case, Establishment, User, UserKind
from app.models.types import utcnow
from app.services.passwords import hash_password
from app.services.qrpro import access_codes

VICTIM_EMAIL = "victime@demo.test"
VICTIM_NAME = "Lucas Meyer"
METZ_SIRET = "81234567600025"
CPAM = "CPAM de Moselle"
BOUND_CASE = "AT-2026-900001"  # in the victim's account, questionnaire open
CODE_CASE = "MP-2026-900002"  # to add with the code below
# Demo only, documented in the README: a real code is drawn at random and printed once.
DEMO_ACCESS_CODE = "DEMX-QRPR-MP26"


def _questionnaire_closes_at(kind: str, departement: str) -> datetime:
    """The end of the last day to answer a questionnaire received today (20 or 30 jours francs)."""
    today = local_date(utcnow(), departement)
    due = questionnaire_due(kind, today, departement).due
    end = datetime.combine(due + timedelta(days=1), time(0), tzinfo=timezone_for(departement))
    return end.astimezone(UTC)


def _case(reference: str, kind: str, metz: Establishment, caisse: Caisse | None) -> tuple[Case, bool]:
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is not None:
        return case, False
    case = Case(
        reference=reference,
        kind=kind,
        establishment_id=metz.id,
        victim_name=VICTIM_NAME,
        caisse_id=caisse.id if caisse is not None else None,
        closes_at=_questionnaire_closes_at(kind, metz.departement),
    )
    db.session.add(case)
    db.session.flush()
    return case, True


def load_qrpro_parties_demo() -> Iterator[str]:
    metz = db.session.scalar(select(Establishment).where(Establishment.siret == METZ_SIRET))
    if metz is None:
        return
    caisse = db.session.scalar(select(Caisse).where(Caisse.name == CPAM))
    victim = db.session.scalar(select(User).where(User.email == VICTIM_EMAIL))
    if victim is None:
        victim = User(
            email=VICTIM_EMAIL,
            full_name=VICTIM_NAME,
            password_hash=hash_password(DEMO_PASSWORD),
            kind=UserKind.VICTIM,
            is_active_account=True,
            failed_logins=0,
            credentials_version=1,
        )
        db.session.add(victim)
        db.session.flush()
        yield f"ajout : compte {VICTIM_EMAIL} (victime)"
    else:
        yield f"déjà présent : compte {VICTIM_EMAIL} (victime)"

    bound, created = _case(BOUND_CASE, "AT", metz, caisse)
    if bound.victim_id is None:
        access_codes.bind_victim(bound, victim)
    said = "ajout" if created else "déjà présent"
    yield f"{said} : dossier {BOUND_CASE} (accident du travail), dans le compte de la victime"

    coded, created = _case(CODE_CASE, "MP", metz, caisse)
    yield f"{'ajout' if created else 'déjà présent'} : dossier {CODE_CASE} (maladie professionnelle)"
    if coded.victim_id is None and not access_codes.live_code_matches(coded, DEMO_ACCESS_CODE):
        access_codes.issue_demo_code(coded, DEMO_ACCESS_CODE)
    if coded.victim_id is None:
        yield (
            f"Code d'accès victime (démonstration) : dossier {CODE_CASE}, code {DEMO_ACCESS_CODE} — à saisir "
            "sur /acces-victime"
        )
    else:
        yield f"Le code d'accès du dossier {CODE_CASE} a déjà servi (compte n° {coded.victim_id})"
    db.session.commit()
