"""Caisse side: its agents' list of deposits, its API."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Caisse, Establishment, Letter, Service, User
from app.services import access

from .deposit import DepositRefused, establishment_by_siret
from .reading import LETTER_PAGE

OUTSIDE_AREA = (
    "Cet établissement ne relève pas de la circonscription de votre caisse ({departements}){employs} : "
    "le courrier ne peut pas y être déposé. Vérifiez le SIRET, ou transmettez le courrier à la caisse "
    "de son département ({departement})."
)
# A CPAM also reaches the employers of its insured, wherever they are (SPEC §1).
EMPLOYS_NO_INSURED = " et n'emploie la victime d'aucune déclaration reçue par votre caisse"


def agent_deposit_target(agent: User, siret: str | None) -> Establishment | None:
    """The establishment an agent may deposit into (its caisse's territory: its départements and,
    for a CPAM, the employers of the victims of its declarations — ``access.caisse_covers``). None
    for a SIRET no establishment has (:func:`deposit_letter` says so); an establishment outside the
    caisse's area is refused here with its own message: the agent, a caisse employee, may know that
    it exists and where, so that the letter goes to the right caisse."""
    establishment = establishment_by_siret(siret)
    if establishment is None:
        return None
    if not access.can(agent, Service.LUCIE, establishment):
        caisse = agent.caisse
        message = OUTSIDE_AREA.format(
            departements="départements " + ", ".join(caisse.departements.split()) if caisse else "aucun",
            departement=establishment.departement,
            employs=EMPLOYS_NO_INSURED if caisse is not None and caisse.kind == "cpam" else "",
        )
        raise DepositRefused("outside_area", message, status=403, errors={"siret": message})
    return establishment


def caisse_deposits(agent: User, limit: int = 50) -> list[Letter]:
    """The latest letters deposited by the agent's caisse."""
    if not agent.is_agent or agent.caisse_id is None:
        abort(404)
    return list(
        db.session.scalars(
            select(Letter)
            .options(joinedload(Letter.establishment))
            .where(Letter.caisse_id == agent.caisse_id)
            .order_by(Letter.deposited_at.desc(), Letter.id.desc())
            .limit(limit)
        )
    )


def letter_for_caisse(caisse: Caisse, letter_id: int) -> Letter | None:
    """A letter the caisse deposited; another caisse's letter is None (the API answers 404)."""
    letter = db.session.get(Letter, letter_id, options=LETTER_PAGE)
    if letter is None or letter.caisse_id != caisse.id:
        return None
    return letter
