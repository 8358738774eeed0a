"""Demo data of QR Pro's parties (issue 13, items 5–7 and 10; README), on the caisse's demo cases
(app/demo/qrpro.py, loaded just before): the victim's account victime@demo.test is FRANÇOIS Nadia, the
victim of the MP case in its consultation window — bound through a code the caisse issued, used — with one
observation of hers in the dossier; the employer's questionnaire on the AT case with reserves (GIRARD
Lucas) half-filled by employeur@demo.test; and that AT case's victim code, the fixed demo code below,
unused, printed by `flask demo load` to try the activation page (it replaces — revokes — the code the
opening letter printed).

Everything goes through the real services (access codes, drafts, consultation). Idempotent: the
account is looked up by e-mail, the binding by the case's victim, the observation and the draft by their
case; the code is issued again only when it is not the AT case's live code and nobody used it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.demo.accounts import DEMO_PASSWORD
from app.demo.dat import EMPLOYER, _today
from app.demo.qrpro import AT_VICTIM, MP_CONSULTATION
from app.domain.cases import Party
from app.extensions import db
from app.models import Case, CaseDocument, User, UserKind
from app.services import drafts, form_models
from app.services.passwords import hash_password
from app.services.qrpro import access_codes, consultation, questionnaires

VICTIM_EMAIL = "victime@demo.test"
VICTIM_NAME = "Nadia François"
AT_CASE_VICTIM = f"{AT_VICTIM[0].upper()} {AT_VICTIM[1]}"
# Demo only, documented in the README: a real code is drawn at random and printed once.
DEMO_ACCESS_CODE = "DEMX-QRPR-AT26"
OBSERVATION = (
    "Je conteste la description de mon poste par l'employeur : je portais chaque jour des sacs de 25 kg "
    "au-dessus de l'épaule, pendant toute la période 2019-2025."
)
# The employer's AT questionnaire, its first three pages (of eight): « half-filled ».
EMPLOYER_PAGES = ("connaissance", "lieu_heure", "circonstances")


def _case_named(name: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.victim_name == name))


def _victim_account() -> Iterator[User | str]:
    victim = db.session.scalar(select(User).where(User.email == VICTIM_EMAIL))
    if victim is not None:
        yield f"déjà présent : compte {VICTIM_EMAIL} (victime)"
        yield victim
        return
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
    yield victim


def _bind(case: Case, victim: User) -> str:
    """The victim's account bound to ``case`` as the activation page does: a code the caisse issued
    (a fresh one, replacing the opening letter's), verified and used."""
    if case.victim_id == victim.id:
        return f"déjà présent : dossier {case.reference} dans le compte {VICTIM_EMAIL}"
    code = access_codes.generate_code()
    access_codes.issue_demo_code(case, code)
    db.session.commit()
    checked = access_codes.check_code(case.reference, code)
    access_codes.redeem(checked.code_id, victim)
    db.session.commit()
    return f"ajout : dossier {case.reference} ({MP_CONSULTATION}) dans le compte {VICTIM_EMAIL}"


def _observation(case: Case, victim: User) -> str:
    exists = db.session.scalar(
        select(CaseDocument.id).where(
            CaseDocument.case_id == case.id, CaseDocument.party == str(Party.VICTIM)
        )
    )
    if exists is not None:
        return f"déjà présent : observations de la victime sur le dossier {case.reference}"
    consultation.add_observation(victim, case, Party.VICTIM, text=OBSERVATION)
    return f"ajout : observations de la victime sur le dossier {case.reference}"


def _employer_answers(accident_on) -> dict[str, MultiDict]:
    learnt = accident_on + timedelta(days=1)
    return {
        "connaissance": MultiDict(
            [
                ("connaissance_mode", "victime"),
                *[("connaissance_date", str(v)) for v in (learnt.day, learnt.month, learnt.year)],
            ]
        ),
        "lieu_heure": MultiDict(
            [
                *[("accident_date", str(v)) for v in (accident_on.day, accident_on.month, accident_on.year)],
                ("accident_heure", "10:30"),
                ("lieu", "lieu_habituel"),
                ("lieu_precision", "Chantier de la rue des Clercs, salle de bains du 2e étage"),
            ]
        ),
        "circonstances": MultiDict(
            [
                (
                    "circonstances_recit",
                    "Selon ses dires, il posait seul du carrelage mural ; personne ne l'a vu se blesser.",
                ),
                ("constat_materiel", ""),
            ]
        ),
    }


def _half_filled_questionnaire(case: Case) -> str:
    employer = db.session.scalar(select(User).where(User.email == EMPLOYER))
    code = questionnaires.model_code(case, Party.EMPLOYER)
    workflow = form_models.current_workflow(code)
    if employer is None or workflow is None or code != "qr-at-employeur":
        return f"QR Pro : questionnaire {code} absent, brouillon de l'employeur non créé"
    draft = drafts.start_case_draft(employer, workflow, case, Party.EMPLOYER)
    if draft.answers:
        return f"déjà présent : questionnaire de l'employeur sur le dossier {case.reference} (commencé)"
    for name, formdata in _employer_answers(_today() - timedelta(days=3)).items():
        drafts.save_step(employer, draft, workflow, workflow.step(name), formdata, base_version=draft.version)
    return (
        f"ajout : questionnaire de l'employeur sur le dossier {case.reference}, rempli à moitié "
        f"({len(EMPLOYER_PAGES)} pages)"
    )


def _printed_code(case: Case) -> Iterator[str]:
    if case.victim_id is None and not access_codes.live_code_matches(case, DEMO_ACCESS_CODE):
        access_codes.issue_demo_code(case, DEMO_ACCESS_CODE)
        db.session.commit()
    if case.victim_id is None:
        yield (
            f"Code d'accès victime (démonstration) : dossier {case.reference} ({AT_CASE_VICTIM}), code "
            f"{DEMO_ACCESS_CODE} — à saisir sur /acces-victime"
        )
    else:
        yield f"Le code d'accès du dossier {case.reference} a déjà servi (compte n° {case.victim_id})"


def load_qrpro_parties_demo() -> Iterator[str]:
    at_case, mp_case = _case_named(AT_CASE_VICTIM), _case_named(MP_CONSULTATION)
    if at_case is None or mp_case is None:
        yield "QR Pro : dossiers de démonstration de la caisse absents, rien à faire pour les parties"
        return
    victim = None
    for item in _victim_account():
        if isinstance(item, str):
            yield item
        else:
            victim = item
    db.session.commit()
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        yield _bind(mp_case, victim)
        yield _observation(mp_case, victim)
        yield _half_filled_questionnaire(at_case)
        yield from _printed_code(at_case)
