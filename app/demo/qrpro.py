"""QR Pro demo data, the caisse's side (issue 13, item 10; called by `flask demo load` after the DAT and the
form models): an AT case with reserves in its questionnaire phase, an MP case in its consultation window (two
employer establishments: the victim was exposed at the Strasbourg agency, then at Metz), and a decided MP
case — every step through the real services (DAT submission, CMI, MP registration, the opening's three
steps, consultation, decision), so their letters are real PDFs deposited in the employers' LUCIE mailboxes.

The steps of the two MP cases are taken at past moments (``now``) so that today falls in the consultation
window of one and after the decision of the other; their LUCIE letters are dated the day of the load.
Idempotent: a case whose victim already has one is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.demo.dat import AGENT_57, EMPLOYER, METZ, STRASBOURG, _answers, _nir, _send, _today
from app.extensions import db
from app.models import Case, Establishment, User
from app.services import dat as dat_service
from app.services import form_models
from app.services.qrpro import cases, instruction, scheduling
from app.services.qrpro import decision as case_decision

AT_VICTIM = ("Girard", "Lucas")
MP_CONSULTATION = "FRANÇOIS Nadia"
MP_DECIDED = "ROUSSEAU Marc"


def _models(kind: str) -> tuple[str, str]:
    """The questionnaire models: the QR Pro ones when published, else the repository's example."""
    published = {workflow.model.code for workflow in form_models.published_workflows() if workflow.model}
    suffix = kind.lower()
    employer = f"qr-{suffix}-employeur" if f"qr-{suffix}-employeur" in published else "exemple-temoins"
    victim = f"qr-{suffix}-victime" if f"qr-{suffix}-victime" in published else "exemple-temoins"
    return employer, victim


def _open_and_send(agent: User, case: Case, kind: str, *, now: datetime | None = None) -> None:
    """The agent's three steps, one after the other: open the instruction, choose the models, send."""
    employer_model, victim_model = _models(kind)
    instruction.open_instruction(agent, case, now=now)
    instruction.choose_models(agent, case, employer_model=employer_model, victim_model=victim_model, now=now)
    instruction.send_questionnaires(agent, case, now=now)


def _case_named(name: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.victim_name == name))


def _at_with_reserves(employer: User, agent: User, metz: Establishment) -> Iterator[str]:
    name = f"{AT_VICTIM[0].upper()} {AT_VICTIM[1]}"
    if _case_named(name) is not None:
        yield f"déjà présent : dossier QR Pro de {name}"
        return
    reference = _send(
        employer,
        metz,
        _answers(
            METZ,
            nom=AT_VICTIM[0],
            prenoms=AT_VICTIM[1],
            sex="M",
            birth=date(1991, 5, 14),
            accident_days_ago=3,
            profession="Carreleur",
            nature="Douleur à l'épaule",
            circonstances=(
                "Il dit s'être fait mal à l'épaule en posant du carrelage mural, seul dans la pièce."
            ),
            siege=["epaule"],
            lesions=["douleur"],
            reserves=(
                "Aucun témoin ; la victime a travaillé normalement les deux jours suivants et a signalé la "
                "douleur au retour d'un week-end."
            ),
        ),
    )
    dat_service.record_cmi(agent, reference, _today() - timedelta(days=2))
    case = cases.case_for_agent(agent, reference, action="demo")
    _open_and_send(agent, case, "AT")
    yield f"ajout : dossier {reference} ({name}), accident avec réserves, questionnaires envoyés"


def _mp(agent: User, metz: Establishment, name: str, d0_days_ago: int, *, other_sirets=(), **details) -> Case:
    today = _today()
    registered = cases.register_mp(
        agent,
        cases.MpRegistration(
            nir=details["nir"],
            victim_name=name,
            address=details["address"],
            postal_code="57000",
            city="Metz",
            siret=metz.siret,
            other_sirets=list(other_sirets),
            table=details.get("table", ""),
            hors_tableau=not details.get("table"),
            disease_label=details["disease"],
            first_finding_on=today - timedelta(days=d0_days_ago + 30),
            declaration_received_on=today - timedelta(days=d0_days_ago + 3),
            cmi_received_on=today - timedelta(days=d0_days_ago),
        ),
        now=_ago(d0_days_ago - 1),  # registered the day after D0
    )
    assert registered.case is not None, registered.errors
    return registered.case


def _ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def _mp_in_consultation(agent: User, metz: Establishment) -> Iterator[str]:
    if _case_named(MP_CONSULTATION) is not None:
        yield f"déjà présent : dossier QR Pro de {MP_CONSULTATION}"
        return
    case = _mp(
        agent,
        metz,
        MP_CONSULTATION,
        60,
        nir=_nir("F", date(1974, 9, 2), "57", "463", "208"),
        address="9 rue Serpenoise",
        table="57 A",
        disease="Tendinopathie chronique de la coiffe des rotateurs de l'épaule droite",
        # Exposed at the Strasbourg agency before Metz: two employer establishments, each a party.
        other_sirets=[STRASBOURG],
    )
    _open_and_send(agent, case, "MP", now=_ago(55))
    opening = _today() - timedelta(days=5)
    scheduling.schedule_consultation(
        agent, case, opening=opening, decision_on=opening + timedelta(days=16), now=_ago(35)
    )
    yield (
        f"ajout : dossier {case.reference} ({MP_CONSULTATION}), maladie professionnelle en consultation, "
        "deux établissements employeurs (Metz et Strasbourg)"
    )


def _mp_decided(agent: User, metz: Establishment) -> Iterator[str]:
    if _case_named(MP_DECIDED) is not None:
        yield f"déjà présent : dossier QR Pro de {MP_DECIDED}"
        return
    case = _mp(
        agent,
        metz,
        MP_DECIDED,
        100,
        nir=_nir("M", date(1968, 1, 20), "57", "463", "311"),
        address="2 place Saint-Louis",
        table="98",
        disease="Sciatique par hernie discale L5-S1",
    )
    _open_and_send(agent, case, "MP", now=_ago(95))
    opening = _today() - timedelta(days=50)
    scheduling.schedule_consultation(
        agent, case, opening=opening, decision_on=opening + timedelta(days=16), now=_ago(80)
    )
    case_decision.record_decision(
        agent,
        case,
        decision="reconnu",
        reasons="Les conditions du tableau n° 98 sont remplies (manutention de charges lourdes).",
        now=_ago(30),
    )
    yield f"ajout : dossier {case.reference} ({MP_DECIDED}), maladie professionnelle reconnue"


def load_qrpro_demo() -> Iterator[str]:
    """Create the QR Pro demo cases that are missing, one progress line each."""
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_([EMPLOYER, AGENT_57])))}
    metz = db.session.scalar(select(Establishment).where(Establishment.siret == METZ))
    if len(users) < 2 or metz is None:
        yield "QR Pro : comptes ou établissement de démonstration absents, rien à faire"
        return
    agent = users[AGENT_57]
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        yield from _at_with_reserves(users[EMPLOYER], agent, metz)
        yield from _mp_in_consultation(agent, metz)
        yield from _mp_decided(agent, metz)
