"""The competent caisse (SPEC §1, issue 13 item 1): a declaration belongs to the CPAM of the victim's
residence, not to the CPAM of the establishment's département. That CPAM sees it, and deposits its
letters into the mailbox of the establishment employing the victim wherever it is; the Carsat stays
with the establishments of its départements; existing declarations are migrated."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import inspect, select
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import Declaration, Letter, Service, UserKind
from app.services import access, lucie
from app.services import dat as dat_service
from app.services.api_tokens import create_token
from tests.dat_support import DatClient, local_today, make_declaration, parts, valid_answers
from tests.factories import make_caisse, make_establishment, make_user
from tests.lucie_support import pdf

KEY_RE = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')
MOSELLE = ("57000", "Metz")


@pytest.fixture
def commuter(world):
    """A victim living in Metz, employed by the Paris establishment."""
    lucie.subscribe(world.paris)
    db.session.commit()
    return make_declaration(world.employer, world.paris, valid_answers(nom="Navetteur", lives_in=MOSELLE))


def declaration(reference) -> Declaration:
    db.session.expire_all()
    return db.session.scalar(select(Declaration).where(Declaration.reference == reference))


def test_the_declaration_goes_to_the_victim_s_cpam_and_keeps_the_establishment_s_calendar(world, commuter):
    record = declaration(commuter)
    assert (record.departement, record.cpam_departement) == ("75", "57")
    assert dat_service.caisse_of(record).name == "CPAM de Moselle"
    # The accusé de réception in the Paris mailbox is sent in the name of the competent caisse.
    receipt = db.session.scalar(select(Letter).where(Letter.case_reference == commuter))
    assert receipt.establishment_id == world.paris.id and receipt.caisse_id == world.cpam_57.id


def test_the_cpam_of_the_residence_sees_it_the_cpam_of_the_workplace_does_not(client, world, commuter):
    moselle = DatClient(client, world.agent)
    assert commuter in client.get("/cpam/declarations").get_data(as_text=True)
    assert client.get(f"/cpam/declarations/{commuter}").status_code == 200
    response = client.post(
        f"/cpam/declarations/{commuter}/cmi",
        data={"csrf_token": moselle.token, "recu_le": parts(local_today())},
    )
    assert response.status_code == 303

    paris_client = client.application.test_client()
    paris = DatClient(paris_client, world.agent_75)
    assert commuter not in paris_client.get("/cpam/declarations").get_data(as_text=True)
    assert paris_client.get(f"/cpam/declarations/{commuter}").status_code == 404
    assert paris_client.get(f"/cpam/declarations/{commuter}/declaration.pdf").status_code == 404
    response = paris_client.post(
        f"/cpam/declarations/{commuter}/statut", data={"csrf_token": paris.token, "statut": "en_instruction"}
    )
    assert response.status_code == 404
    assert declaration(commuter).status == "transmise"
    home = " ".join(paris_client.get("/").get_data(as_text=True).split())
    assert "Départements de résidence de vos assurés</dt>" in home


def test_the_cpam_deposits_into_the_employer_of_its_insured_and_nowhere_else(client, login, world, commuter):
    unrelated = make_establishment(world.stranger_company, departement="75", name="Bureau parisien")
    lucie.subscribe(unrelated)
    db.session.commit()
    login(world.agent)
    body = client.get("/agent/courriers/deposer").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)

    def deposit(siret):
        return client.post(
            "/agent/courriers/deposer",
            data={
                "csrf_token": token,
                "idempotency_key": KEY_RE.search(body).group(1) + siret,
                "siret": siret,
                "type": "ouverture_instruction",
                "reference_dossier": commuter,
                "titre": "Ouverture d'instruction",
                "fichier": (io.BytesIO(pdf()), "instruction.pdf"),
            },
            content_type="multipart/form-data",
        )

    assert deposit(world.paris.siret).status_code == 303
    refused = deposit(unrelated.siret)
    assert refused.status_code == 422
    assert "n&#39;emploie la victime d&#39;aucune déclaration reçue par votre caisse" in refused.get_data(
        as_text=True
    )
    letters = db.session.scalars(select(Letter).where(Letter.caisse_id == world.cpam_57.id)).all()
    assert sorted(letter.establishment_id for letter in letters) == [world.paris.id, world.paris.id]

    # The caisse's API: the same territory.
    api_token = create_token(world.cpam_57.name, "tests")[1]
    answers = {}
    for establishment in (world.paris, unrelated):
        response = client.post(
            "/api/v1/courriers",
            data={
                "siret": establishment.siret,
                "type": "notification_decision",
                "titre": "Décision",
                "reference_dossier": commuter,
                "fichier": (io.BytesIO(pdf()), "decision.pdf"),
            },
            headers={"Authorization": f"Bearer {api_token}"},
            content_type="multipart/form-data",
        )
        answers[establishment.name] = response.status_code
    assert answers == {world.paris.name: 201, unrelated.name: 404}


def test_the_right_to_deposit_comes_from_a_declaration_and_the_home_page_counts_it(world):
    before = access.caisse_covers(world.cpam_57, world.paris)
    in_scope_before = access.establishments_in_scope(world.agent)
    make_declaration(world.employer, world.paris, valid_answers(nom="Navetteur", lives_in=MOSELLE))
    assert (before, access.caisse_covers(world.cpam_57, world.paris)) == (False, True)
    assert access.establishments_in_scope(world.agent) == in_scope_before + 1
    # The CPAM of Paris keeps its territory; the Carsat stays with the establishments of its départements.
    assert access.caisse_covers(world.cpam_75, world.paris)
    carsat = make_caisse("Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
    assert not access.caisse_covers(carsat, world.paris) and access.caisse_covers(carsat, world.metz)


def test_a_carsat_agent_stays_out_of_the_declarations(client, world, commuter):
    carsat = make_caisse("Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
    agent = make_user("agent@carsat.test", kind=UserKind.CARSAT, caisse_id=carsat.id)
    db.session.commit()
    with pytest.raises(NotFound):  # its establishments only: the Paris one is not
        access.authorize_caisse_declaration(agent, Service.DAT, declaration(commuter))


def test_the_migration_gives_existing_declarations_their_victim_s_cpam(app, world):
    """Down to 0014 (no column) and up again: the département comes from the answers as sent; a
    victim with no French CPAM of residence (Monaco) keeps the establishment's."""
    from flask_migrate import downgrade, upgrade

    commuter = make_declaration(world.employer, world.paris, valid_answers(nom="Navetteur", lives_in=MOSELLE))
    monaco = make_declaration(
        world.employer, world.paris, valid_answers(nom="Monegasque", lives_in=("98000", "Monaco"))
    )
    parisian = make_declaration(
        world.employer, world.metz, valid_answers(nom="Parisien", lives_in=("75011", "Paris"))
    )
    db.session.remove()
    db.engine.dispose()
    downgrade(revision="0014")
    with db.engine.connect() as conn:
        assert "cpam_departement" not in {c["name"] for c in inspect(conn).get_columns("dat_declaration")}
    db.engine.dispose()
    upgrade()
    rows = db.session.execute(
        select(Declaration.reference, Declaration.departement, Declaration.cpam_departement)
    ).all()
    assert {reference: (calendar, cpam) for reference, calendar, cpam in rows} == {
        commuter: ("75", "57"),
        monaco: ("75", "75"),
        parisian: ("57", "75"),
    }


def test_a_duplicate_sent_to_another_cpam_is_not_shown_to_this_one(client, world):
    """The same accident declared twice, the second time with the victim's Paris address: each CPAM
    sees its own declaration, without a « doublon possible » pointing at the other's."""
    first = make_declaration(world.employer, world.metz)
    second = make_declaration(
        world.employer,
        world.metz,
        valid_answers(lives_in=("75011", "Paris")),
        declaration={"confirme_doublon": "y"},
    )
    assert [d.reference for d in dat_service.duplicates_of_declaration(declaration(first))] == [second]
    DatClient(client, world.agent)
    page = client.get(f"/cpam/declarations/{first}").get_data(as_text=True)
    assert "Doublon possible" not in page and second not in page
    inbox = client.get("/cpam/declarations").get_data(as_text=True)
    assert first in inbox and second not in inbox and "Doublon possible" not in inbox
