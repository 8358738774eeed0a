"""An MP case with several employer establishments (issue 13, item 2): the victim was exposed at several
employers, each a party « employeur ». Registration with several SIRETs (and their French messages, without
JavaScript), each employer's letters in its own LUCIE mailbox once, its own questionnaire (another
employer's draft answers 404), the CPAM's scope over every employer, the consultation where each
observation names its establishment, and the timelines per employer."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app.domain.cases import Party, SubjectKind
from app.domain.lucie import LetterType
from app.extensions import db
from app.models import (
    Case,
    CaseDocument,
    CaseEmployer,
    CaseLetter,
    Draft,
    Letter,
    OutboxMessage,
    Service,
    Submission,
    UserKind,
)
from app.services import access, drafts, lucie
from app.services.qrpro import cases, consultation, instruction, letters, questionnaires, scheduling, timeline
from app.services.qrpro import decision as case_decision
from tests.dat_support import local_today
from tests.factories import make_company, make_establishment, make_firm, make_user
from tests.integration.test_qrpro_agent_screens import mp_form
from tests.integration.test_qrpro_instruction import registration
from tests.qrpro_parties_support import Party as Browser
from tests.qrpro_parties_support import fresh

MODEL = "qr-mp-employeur"


def ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def world(app, world):
    """The DAT's world (Metz, CPAM de Moselle) and a second employer: another company's Strasbourg site,
    where the victim worked before; each with a user holding QR Pro and LUCIE, both subscribed."""
    result = app.test_cli_runner().invoke(args=["forms", "load"])
    assert result.exit_code == 0, result.output
    world.alsace = make_company("Transports Alsaciens")
    world.strasbourg = make_establishment(
        world.alsace, departement="67", name="Dépôt de Strasbourg", city="Strasbourg", postal_code="67000"
    )
    world.user_a = make_user(
        "qrpro@batiments-est.fr",
        company=world.company,
        grants=[(world.metz, Service.QRPRO), (world.metz, Service.LUCIE)],
    )
    world.user_b = make_user(
        "qrpro@transports-alsaciens.fr",
        company=world.alsace,
        grants=[(world.strasbourg, Service.QRPRO), (world.strasbourg, Service.LUCIE)],
    )
    world.victim = make_user("nadia@exemple.fr", kind=UserKind.VICTIM, full_name="Nadia François")
    lucie.subscribe(world.metz)
    lucie.subscribe(world.strasbourg)
    db.session.commit()
    return world


def two_employer_case(world, *, now=None, **dates) -> Case:
    registered = cases.register_mp(
        world.agent, registration(world, other_sirets=[world.strasbourg.siret], **dates), now=now
    )
    assert not registered.errors, registered.errors
    case = registered.case
    case.victim_id = world.victim.id
    db.session.commit()
    return case


def open_and_send(world, case: Case, *, now: datetime | None = None) -> instruction.StepOutcome:
    """The agent's three steps: open the instruction, choose the models, send the questionnaires."""
    instruction.open_instruction(world.agent, case, now=now)
    instruction.choose_models(world.agent, case, employer_model=MODEL, victim_model="qr-mp-victime", now=now)
    return instruction.send_questionnaires(world.agent, case, now=now)


@pytest.fixture
def open_case(world):
    """Registered and opened today: the questionnaires can be answered."""
    case = two_employer_case(world)
    open_and_send(world, case)
    return case


@pytest.fixture
def consulting_case(world):
    """An MP with two employers whose consultation with observations runs today (steps in the past)."""
    case = two_employer_case(
        world,
        now=ago(59),
        first_finding_on=local_today() - timedelta(days=90),
        declaration_received_on=local_today() - timedelta(days=62),
        cmi_received_on=local_today() - timedelta(days=60),
    )
    open_and_send(world, case, now=ago(55))
    opening = local_today() - timedelta(days=2)
    scheduling.schedule_consultation(
        world.agent, case, opening=opening, decision_on=opening + timedelta(days=16), now=ago(35)
    )
    return case


# --- registration -----------------------------------------------------------------------------------------


def test_an_mp_is_registered_with_two_employer_establishments_the_first_principal(client, login, world):
    login(world.agent)
    url = "/cpam/qrpro/maladies/nouvelle"
    token = client.csrf(url)
    form = [*mp_form(world), ("other_sirets-0", world.strasbourg.siret), ("csrf_token", token)]
    response = client.post(url, data=MultiDict(form))
    assert response.status_code == 303, page_text(response)[:2000]
    case = db.session.scalar(select(Case).where(Case.kind == "MP"))
    assert case.establishment_id == world.metz.id
    assert case.employer_ids == [world.metz.id, world.strasbourg.id]
    (row,) = db.session.scalars(select(CaseEmployer).where(CaseEmployer.case_id == case.id))
    assert (row.establishment_id, row.position) == (world.strasbourg.id, 1)
    page = page_text(client.get(response.headers["Location"]))
    assert "Agence de Metz" in page and "Dépôt de Strasbourg" in page and world.strasbourg.siret in page


def test_add_another_establishment_works_without_javascript_and_stores_nothing(client, login, world):
    login(world.agent)
    url = "/cpam/qrpro/maladies/nouvelle"
    token = client.csrf(url)
    page = page_text(client.get(url))
    assert "Ajouter un autre établissement employeur" in page and 'name="other_sirets-0"' not in page
    # « Ajouter un autre établissement employeur » is a submit button: the page comes back with one
    # more field, what was typed kept, no error shown, nothing stored.
    form = [*mp_form(world), ("action", "ajouter-etablissement"), ("csrf_token", token)]
    response = client.post(url, data=MultiDict(form))
    assert response.status_code == 200
    page = page_text(response)
    assert 'name="other_sirets-0"' in page and "SIRET de l'établissement employeur n° 2" in page
    assert world.metz.siret in page and "Il y a un problème" not in page
    form = [
        *mp_form(world),
        ("other_sirets-0", world.strasbourg.siret),
        ("action", "ajouter-etablissement"),
        ("csrf_token", token),
    ]
    page = page_text(client.post(url, data=MultiDict(form)))
    assert 'name="other_sirets-1"' in page and world.strasbourg.siret in page
    # « Retirer » the first of the two other fields: the second takes its place.
    form = [
        *mp_form(world),
        ("other_sirets-0", world.stranger_site.siret),
        ("other_sirets-1", world.strasbourg.siret),
        ("retirer", "0"),
        ("csrf_token", token),
    ]
    response = client.post(url, data=MultiDict(form))
    page = page_text(response)
    assert response.status_code == 200
    assert 'name="other_sirets-1"' not in page and world.stranger_site.siret not in page
    assert f'name="other_sirets-0" type="text" value="{world.strasbourg.siret}"' in page
    assert db.session.scalar(select(func.count(Case.id))) == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("metz", "Cet établissement est déjà un employeur du dossier : ne le saisissez qu'une fois"),
        ("unknown", "Aucun établissement inscrit ne porte ce SIRET : vérifiez-le"),
        ("malformed", "Ce SIRET n'est pas valide (14 chiffres avec leur clé de contrôle) : vérifiez-le"),
    ],
)
def test_a_wrong_other_siret_gets_its_french_message_next_to_its_field(client, login, world, value, message):
    login(world.agent)
    url = "/cpam/qrpro/maladies/nouvelle"
    token = client.csrf(url)
    siret = world.metz.siret
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"  # as typed, the same SIRET
    typed = {"metz": spaced, "unknown": "55210055400013", "malformed": "1234"}[value]
    form = [
        *mp_form(world),
        ("other_sirets-0", world.strasbourg.siret),
        ("other_sirets-1", typed),
        ("csrf_token", token),
    ]
    response = client.post(url, data=MultiDict(form))
    assert response.status_code == 422
    page = page_text(response)
    assert page.count(message) == 2  # in the error summary and next to the field
    assert 'id="other_sirets-1-error"' in page and 'href="#other_sirets-1"' in page
    assert "other_sirets-0-error" not in page  # the right one is not flagged
    assert db.session.scalar(select(func.count(Case.id))) == 0
    assert db.session.scalar(select(func.count(CaseEmployer.id))) == 0


def test_a_blank_other_siret_is_ignored_and_the_principal_stays_required(world):
    registered = cases.register_mp(world.agent, registration(world, siret="", other_sirets=["", ""]))
    assert registered.errors["siret"] == "Saisissez le SIRET de l'établissement employeur"
    assert not any(name.startswith("other_sirets") for name in registered.errors)
    registered = cases.register_mp(world.agent, registration(world, other_sirets=["  "]))
    assert not registered.errors and registered.case.employer_ids == [world.metz.id]


# --- the CPAM's scope -------------------------------------------------------------------------------------


def test_the_cpam_scope_covers_every_employer_of_its_insured(world):
    assert not access.caisse_covers(world.cpam_57, world.strasbourg)  # in the Bas-Rhin, no case yet
    case = two_employer_case(world)
    assert access.caisse_covers(world.cpam_57, world.strasbourg)
    assert access.caisse_covers(world.cpam_57, world.metz)
    assert not access.caisse_covers(world.cpam_75, world.strasbourg)  # not the victim's CPAM
    access.reset_cache()
    assert world.strasbourg in access.establishments_for(world.agent, Service.LUCIE)
    assert world.strasbourg not in access.establishments_for(world.agent_75, Service.LUCIE)
    assert case.caisse_id == world.cpam_57.id


# --- letters ----------------------------------------------------------------------------------------------


def test_each_employer_gets_each_letter_once_in_its_own_mailbox(world):
    case = two_employer_case(
        world,
        now=ago(100),
        first_finding_on=local_today() - timedelta(days=130),
        declaration_received_on=local_today() - timedelta(days=103),
        cmi_received_on=local_today() - timedelta(days=100),
    )
    open_and_send(world, case, now=ago(95))
    assert not instruction.send_questionnaires(world.agent, case, now=ago(95)).done  # a retried request
    steps = [
        lambda: scheduling.schedule_consultation(
            world.agent,
            case,
            opening=local_today() - timedelta(days=50),
            decision_on=local_today() - timedelta(days=34),
            now=ago(80),
        ),
        lambda: case_decision.record_decision(
            world.agent, case, decision="reconnu", reasons="Tableau n° 57 A", now=ago(30)
        ),
    ]
    for step in steps:
        assert step().done
        assert not step().done  # a retried request: nothing new
    assert not case_decision.missing_information(case)
    for place in (world.metz, world.strasbourg):
        deposited = list(
            db.session.scalars(select(Letter).where(Letter.establishment_id == place.id).order_by(Letter.id))
        )
        assert [letter.letter_type for letter in deposited] == [
            LetterType.OUVERTURE_INSTRUCTION,
            LetterType.INFORMATION_CONSULTATION,
            LetterType.NOTIFICATION_DECISION,
        ]
        assert {letter.case_reference for letter in deposited} == {case.reference}
        rows = letters.letters_of(case, Party.EMPLOYER, place)
        assert [row.letter_id for row in rows] == [letter.id for letter in deposited]
        # Each letter is addressed to its establishment and names both employers.
        content = " ".join(PdfReader(io.BytesIO(letters.content(rows[0]))).pages[0].extract_text().split())
        assert f"SIRET {place.siret}" in content and "Employeurs" in content
        # The LUCIE alert goes to the establishment's own LUCIE users, one per letter.
        user = world.user_a if place == world.metz else world.user_b
        alerts = db.session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.recipient == user.email)
        ).all()
        assert len(alerts) == 3 and all(place.name in subject for subject in alerts)
    victim_rows = letters.letters_of(case, Party.VICTIM)
    assert len(victim_rows) == 3 and all(row.establishment_id is None for row in victim_rows)
    assert db.session.scalar(select(func.count(CaseLetter.id)).where(CaseLetter.case_id == case.id)) == 9


def test_a_second_employer_without_lucie_is_named_as_not_informed(client, login, world):
    colmar = make_establishment(world.alsace, departement="68", name="Atelier de Colmar", city="Colmar")
    registered = cases.register_mp(
        world.agent, registration(world, other_sirets=[world.strasbourg.siret, colmar.siret])
    )
    case = registered.case
    assert case.employer_ids == [world.metz.id, world.strasbourg.id, colmar.id]
    open_and_send(world, case)
    row = letters.letter_of(case, LetterType.OUVERTURE_INSTRUCTION, Party.EMPLOYER, colmar)
    assert row.letter_id is None and row.not_deposited  # no LUCIE subscription: kept, with the reason
    for place in (world.metz, world.strasbourg):
        deposited = letters.letter_of(case, LetterType.OUVERTURE_INSTRUCTION, Party.EMPLOYER, place)
        assert deposited.letter_id is not None
    scheduling.schedule_consultation(
        world.agent,
        case,
        opening=local_today() + timedelta(days=40),
        decision_on=local_today() + timedelta(days=60),
    )
    assert case_decision.missing_information(case) == [Party.EMPLOYER]
    assert letters.uninformed_employers(case) == [colmar]
    login(world.agent)
    page = page_text(client.get(f"/cpam/qrpro/dossiers/{case.reference}"))
    assert f"employeur (Atelier de Colmar, SIRET {colmar.siret})" in page


# --- questionnaires ---------------------------------------------------------------------------------------


def test_each_employer_answers_its_own_questionnaire_and_never_sees_the_other(app, world, open_case):
    case = open_case
    start = f"/demarches/{MODEL}/dossiers/{case.id}/employeur/commencer"
    browser_a, browser_b = Browser(app, world.user_a), Browser(app, world.user_b)
    # Each employer's list shows the case, for its own establishment.
    assert "Dépôt de Strasbourg" in browser_b.page("/qrpro/questionnaires")
    assert case.reference in browser_b.page("/qrpro/questionnaires")
    response = browser_a.client.post(
        start, data={"csrf_token": browser_a.token, "etablissement": str(world.metz.id)}
    )
    assert response.status_code == 303
    draft_a = db.session.scalar(select(Draft).where(Draft.establishment_id == world.metz.id))
    response = browser_b.client.post(
        start, data={"csrf_token": browser_b.token, "etablissement": str(world.strasbourg.id)}
    )
    assert response.status_code == 303
    draft_b = db.session.scalar(select(Draft).where(Draft.establishment_id == world.strasbourg.id))
    assert draft_a.id != draft_b.id and draft_b.case_id == draft_a.case_id == case.id
    assert f"/brouillons/{draft_b.id}/" in response.headers["Location"]
    # B never sees A's draft, nor starts one in A's name (and the reverse).
    for url in (
        f"/demarches/brouillons/{draft_a.id}",
        f"/demarches/brouillons/{draft_a.id}/etapes/emploi",
        f"/demarches/brouillons/{draft_a.id}/verifier",
    ):
        assert browser_b.client.get(url).status_code == 404
    assert browser_a.client.get(f"/demarches/brouillons/{draft_b.id}/etapes/emploi").status_code == 404
    refused = browser_b.client.post(
        start, data={"csrf_token": browser_b.token, "etablissement": str(world.metz.id)}
    )
    assert refused.status_code == 404
    stranger = browser_b.client.post(
        start, data={"csrf_token": browser_b.token, "etablissement": str(world.stranger_site.id)}
    )
    assert stranger.status_code == 404  # not an employer of the case
    # B answers and sends its own; A's stays untouched.
    location = browser_b.fill(draft_b.id, MODEL)
    assert location.endswith(f"/brouillons/{draft_b.id}/verifier"), location
    assert browser_b.post(f"/demarches/brouillons/{draft_b.id}/envoyer", {}).status_code == 303
    assert fresh(draft_a.id).answers == {} and fresh(draft_a.id).submitted_at is None
    (submission,) = db.session.scalars(select(Submission).where(Submission.case_id == case.id))
    assert submission.establishment_id == world.strasbourg.id
    listing = questionnaires.employer_questionnaires(world.user_b)
    assert [(q.establishment.id, q.status) for q in listing] == [(world.strasbourg.id, "Envoyé")]
    assert questionnaires.employer_questionnaires(world.user_a)[0].status == "Commencé"
    # The answer is on B's timeline, not on A's.
    answered = "Questionnaire retourné"
    on_b = [e for e in timeline.timeline(case, Party.EMPLOYER, establishment=world.strasbourg)]
    on_a = [e for e in timeline.timeline(case, Party.EMPLOYER, establishment=world.metz)]
    assert [e.detail for e in on_b if e.label == answered] == [f"référence {submission.reference}"]
    assert not [e for e in on_a if e.label == answered]


def test_a_user_of_both_establishments_has_one_questionnaire_for_each(app, world, open_case):
    firm = make_firm(
        "Cabinet des Deux", mandates=[(world.metz, Service.QRPRO), (world.strasbourg, Service.QRPRO)]
    )
    both = make_user("groupe@exemple.fr", kind=UserKind.FIRM, firm_id=firm.id)
    db.session.commit()
    listed = questionnaires.employer_questionnaires(both)
    assert sorted(q.establishment.id for q in listed) == sorted([world.metz.id, world.strasbourg.id])
    workflow = drafts.workflow_or_404(MODEL, SubjectKind.CASE_PARTY)
    first = drafts.start_case_draft(both, workflow, open_case, Party.EMPLOYER, establishment=world.strasbourg)
    again = drafts.start_case_draft(both, workflow, open_case, Party.EMPLOYER, establishment=world.strasbourg)
    other = drafts.start_case_draft(both, workflow, open_case, Party.EMPLOYER)
    assert first.id == again.id != other.id and other.establishment_id == world.metz.id


# --- the employers' side and the consultation ------------------------------------------------------------


def test_each_employer_sees_the_case_and_the_victim_sees_both_observations(app, world, consulting_case):
    case = consulting_case
    browser_a, browser_b = Browser(app, world.user_a), Browser(app, world.user_b)
    assert case.reference in browser_b.page("/qrpro/dossiers/")
    page_b = browser_b.page(f"/qrpro/dossiers/dossier/{case.reference}")
    assert "Dépôt de Strasbourg" in page_b and "Autres employeurs : Agence de Metz" in page_b
    # Its home page's dates and its establishment's calendar include the case, for its own establishment.
    own_page = f"/qrpro/dossiers/dossier/{case.reference}?siret={world.strasbourg.siret}"
    assert own_page in browser_b.page("/")
    ics = browser_b.client.get(f"/qrpro/dossiers/{world.strasbourg.siret}/calendrier.ics")
    unfolded = ics.get_data(as_text=True).replace("\r\n ", "")  # RFC 5545 folded lines
    assert ics.status_code == 200 and f"dossier {case.reference}" in unfolded
    # B's user asking for A's page of the case: 404 (not B's establishment to see).
    metz_page = f"/qrpro/dossiers/dossier/{case.reference}?siret={world.metz.siret}"
    assert browser_b.client.get(metz_page).status_code == 404
    for browser, words in (
        (browser_a, "Exposition limitée à 2019."),
        (browser_b, "Jamais de port de charges."),
    ):
        response = browser.client.post(
            f"/qrpro/dossiers/dossier/{case.reference}/observations",
            data={"csrf_token": browser.token, "observations": words},
        )
        assert response.status_code == 303, page_text(response)[:2000]
    authors = dict(
        db.session.execute(
            select(CaseDocument.text, CaseDocument.establishment_id).where(CaseDocument.case_id == case.id)
        ).all()
    )
    assert authors == {
        "Exposition limitée à 2019.": world.metz.id,
        "Jamais de port de charges.": world.strasbourg.id,
    }
    # The victim sees both, each named by its establishment.
    victim = Browser(app, world.victim)
    page = victim.page(f"/mes-dossiers/{case.id}")
    assert "Exposition limitée à 2019." in page and "Jamais de port de charges." in page
    assert f"Employeur – Agence de Metz (SIRET {world.metz.siret})" in page
    assert f"Employeur – Dépôt de Strasbourg (SIRET {world.strasbourg.siret})" in page
    # And each employer sees the other's.
    assert "Exposition limitée à 2019." in browser_b.page(f"/qrpro/dossiers/dossier/{case.reference}")
    # The victim's observation reaches every employer's QR Pro users; each employer's, the victim and
    # the other employer — never its author.
    consultation.add_observation(world.victim, case, Party.VICTIM, text="J'ai porté des charges partout.")
    subjects = {
        user.email: db.session.scalars(
            select(OutboxMessage.body_text).where(
                OutboxMessage.recipient == user.email, OutboxMessage.kind == consultation.MAIL_KIND
            )
        ).all()
        for user in (world.victim, world.user_a, world.user_b)
    }
    assert [len(subjects[u.email]) for u in (world.victim, world.user_a, world.user_b)] == [2, 2, 2]
    assert all(f"siret={world.strasbourg.siret}" in body for body in subjects[world.user_b.email])


def test_the_chronology_shows_each_employer_under_its_name(client, login, world, consulting_case):
    case = consulting_case
    login(world.agent)
    page = page_text(client.get(f"/cpam/qrpro/dossiers/{case.reference}"))
    assert f"Employeur – Dépôt de Strasbourg (SIRET {world.strasbourg.siret})" in page
    response = client.get(f"/cpam/qrpro/dossiers/{case.reference}/chronologie.pdf")
    assert response.status_code == 200
    content = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())
    metz_at = content.index(f"Employeur – Agence de Metz (SIRET {world.metz.siret})")
    strasbourg_at = content.index(f"Employeur – Dépôt de Strasbourg (SIRET {world.strasbourg.siret})")
    victim_at = content.index("Victime", strasbourg_at)
    assert metz_at < strasbourg_at < victim_at
    # Each employer's part dates its own letters (deposit, deemed notification).
    for start, end in ((metz_at, strasbourg_at), (strasbourg_at, victim_at)):
        part = content[start:end]
        assert part.count("Courrier déposé dans LUCIE") == 2  # opening and consultation
        assert "Courrier réputé notifié" in part


def test_each_employer_s_case_page_shows_its_own_timeline(client, login, world, consulting_case):
    case = consulting_case
    for user, place, query in ((world.user_a, world.metz, ""), (world.user_b, world.strasbourg, "?siret=")):
        login(user)
        response = client.get(f"/qrpro/dossiers/dossier/{case.reference}{query and query + place.siret}")
        assert response.status_code == 200
        page = page_text(response)
        timeline_part = page[page.index("Chronologie du dossier pour votre établissement") :]
        # Its own two letters (opening, consultation), their deemed notification, the case's steps.
        assert timeline_part.count("Courrier déposé dans LUCIE") == 2
        assert "Courrier réputé notifié" in timeline_part
        assert f"Les courriers de la caisse déposés dans la boîte LUCIE de {place.name}" in page
        client.post("/deconnexion", data={"csrf_token": client.csrf("/")})


# --- the migration ----------------------------------------------------------------------------------------


def test_the_migration_gives_existing_letters_their_employer_and_keeps_several_employers(world):
    """0021 on rows written before it: the employer's letters get their case's establishment, the victim's
    none, an employer's observation its case's establishment. Downgrading is refused once a case has
    another employer (its letters cannot be folded into one employer's)."""
    from flask_migrate import downgrade, upgrade

    case = cases.register_mp(world.agent, registration(world)).case
    open_and_send(world, case)
    db.session.add(CaseDocument(case_id=case.id, kind="observation", party="employeur", text="Avant 0021"))
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    downgrade(revision="0020")
    with db.engine.connect() as conn:
        assert "establishment_id" not in {c["name"] for c in inspect(conn).get_columns("case_letter")}
        assert conn.execute(text("SELECT count(*) FROM case_letter")).scalar() == 2
    db.engine.dispose()
    upgrade()
    rows = db.session.execute(select(CaseLetter.party, CaseLetter.establishment_id)).all()
    assert sorted(rows, key=str) == sorted([("employeur", world.metz.id), ("victime", None)], key=str)
    assert db.session.scalar(select(CaseDocument.establishment_id)) == world.metz.id
    # The letters stay once per (case, type, employer): a second opening letter for Metz is refused.
    with pytest.raises(IntegrityError):
        db.session.add(
            CaseLetter(
                case_id=case.id,
                party="employeur",
                establishment_id=world.metz.id,
                letter_type="ouverture_instruction",
                title="Double",
                sha256="0" * 64,
                size=1,
            )
        )
        db.session.flush()
    db.session.rollback()
    two_employer_case(world)
    db.session.remove()
    db.engine.dispose()
    with pytest.raises(SystemExit):  # flask-migrate reports the refusal and exits
        downgrade(revision="0020")
    db.engine.dispose()
    assert db.session.scalar(select(func.count(CaseEmployer.id))) == 1
    with db.engine.connect() as conn:
        assert "establishment_id" in {c["name"] for c in inspect(conn).get_columns("case_letter")}
