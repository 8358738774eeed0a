"""The CPAM's side of the DAT (issue 3, item 6): the inbox scoped to the caisse's départements, a
declaration's full view, recording the CMI's date (D0) and setting the status through the one
transition table — audited, and visible to the employer on the declaration's timeline."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from app.domain import dat as rules
from app.extensions import db
from app.models import AuditEvent, Declaration, DeclarationEvent, UserKind
from app.services import dat as dat_service
from tests.dat_support import DatClient, local_today, make_declaration, parts, valid_answers
from tests.factories import make_caisse, make_user


@pytest.fixture
def refs(world):
    return {
        "metz": make_declaration(world.employer, world.metz),
        "reserves": make_declaration(world.employer, world.metz, valid_answers(nom="Reserve", reserves=True)),
        "paris": make_declaration(
            world.employer, world.paris, valid_answers(nom="Parisien", lives_in=("75011", "Paris"))
        ),
    }


@pytest.fixture
def agent(client, world):
    return DatClient(client, world.agent)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def declaration(reference) -> Declaration:
    db.session.expire_all()
    return db.session.scalar(select(Declaration).where(Declaration.reference == reference))


def close_reserves_window(reference):
    """Move the declaration 20 days back, as if its reserves window had run out."""
    past = datetime.now(UTC) - timedelta(days=20)
    db.session.execute(
        update(Declaration)
        .where(Declaration.reference == reference)
        .values(submitted_at=past, reserves_due_on=rules.reserves_deadline(past, "57").due)
    )
    db.session.commit()


def test_inbox_shows_only_the_caisse_departements(client, world, refs, agent):
    page = text(client.get("/cpam/declarations"))
    assert refs["metz"] in page and refs["reserves"] in page
    assert refs["paris"] not in page
    assert "2 déclarations" in page and "CPAM de Moselle" in page
    assert ">Réserves<" in page and ">En attente<" in page


def test_inbox_filters(client, world, refs, agent):
    page = text(client.get("/cpam/declarations", query_string={"reserves": "y"}))
    assert refs["reserves"] in page and refs["metz"] not in page
    page = text(client.get("/cpam/declarations", query_string={"q": "reserve"}))
    assert refs["reserves"] in page and refs["metz"] not in page
    dat_service.record_cmi(world.agent, refs["metz"], local_today())
    page = text(client.get("/cpam/declarations", query_string={"cmi": "recu"}))
    assert refs["metz"] in page and refs["reserves"] not in page
    page = text(client.get("/cpam/declarations", query_string={"cmi": "attente"}))
    assert refs["reserves"] in page and refs["metz"] not in page
    fragment = client.get(
        "/cpam/declarations",
        query_string={"statut": "refus"},
        headers={"HX-Request": "true", "HX-Target": "cpam-results"},
    )
    assert "Aucune déclaration ne correspond" in text(fragment) and "<h1" not in text(fragment)


def test_an_agent_of_another_caisse_gets_404(client, world, refs):
    other = DatClient(client, world.agent_75)
    assert client.get(f"/cpam/declarations/{refs['metz']}").status_code == 404
    assert client.get(f"/cpam/declarations/{refs['metz']}/declaration.pdf").status_code == 404
    response = client.post(
        f"/cpam/declarations/{refs['metz']}/cmi",
        data={"csrf_token": other.token, "recu_le": parts(local_today())},
    )
    assert response.status_code == 404
    response = client.post(
        f"/cpam/declarations/{refs['metz']}/statut",
        data={"csrf_token": other.token, "statut": "en_instruction"},
    )
    assert response.status_code == 404
    assert declaration(refs["metz"]).cmi_received_on is None
    assert refs["metz"] not in text(client.get("/cpam/declarations"))
    assert client.get(f"/cpam/declarations/{refs['paris']}").status_code == 200


def test_employers_and_carsat_agents_do_not_reach_the_cpam_side(client, world, refs):
    employer = DatClient(client, world.employer)
    assert client.get("/cpam/declarations").status_code == 404
    assert client.get(f"/cpam/declarations/{refs['metz']}").status_code == 404
    assert (
        client.post(
            f"/cpam/declarations/{refs['metz']}/statut",
            data={"csrf_token": employer.token, "statut": "refus"},
        ).status_code
        == 404
    )
    carsat = make_caisse("Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
    carsat_agent = make_user("agent@carsat.fr", kind=UserKind.CARSAT, caisse_id=carsat.id)
    db.session.commit()
    other = DatClient(client.application.test_client(), carsat_agent)
    assert other.client.get("/cpam/declarations").status_code == 403


def test_full_view_shows_everything_and_is_audited(client, world, refs, agent):
    page = text(client.get(f"/cpam/declarations/{refs['reserves']}"))
    assert f"Déclaration {refs['reserves']}" in page
    assert "RESERVE Lucas" in page and "Chute de hauteur" in page
    assert "La victime n'était pas à son poste" in page  # the reserves in the declaration
    assert "Enregistrez d'abord la date de réception du certificat médical initial" in page
    assert "Point de départ D0" in page and "inconnu tant que le certificat médical n'est pas reçu" in page
    read = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dat.caisse_read"))
    assert read.user_id == world.agent.id and read.details["reference"] == refs["reserves"]


def test_recording_the_cmi_sets_d0_and_is_seen_by_the_employer(client, world, refs, agent):
    received = local_today()
    response = client.post(
        f"/cpam/declarations/{refs['metz']}/cmi", data={"csrf_token": agent.token, "recu_le": parts(received)}
    )
    assert response.status_code == 303
    record = declaration(refs["metz"])
    assert record.cmi_received_on == received and record.cmi_recorded_by_id == world.agent.id
    assert dat_service.d0(record) == received
    page = text(client.get(f"/cpam/declarations/{refs['metz']}"))
    assert "La date de réception du certificat médical initial est enregistrée" in page
    assert rules.french_day(received) in page
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dat.cmi")) is not None
    employer = DatClient(client.application.test_client(), world.employer)
    page = text(employer.client.get(f"/dat/declarations/{refs['metz']}"))
    assert "Certificat médical initial reçu par la caisse le" in page and "par la caisse" in page
    assert "Marc Weber" not in page  # the employer reads "la caisse", not the agent's name


def test_cmi_date_is_validated(client, world, refs, agent):
    url = f"/cpam/declarations/{refs['metz']}/cmi"
    response = client.post(url, data={"csrf_token": agent.token, "recu_le": ["", "", ""]})
    assert response.status_code == 422
    assert "Saisissez la date de réception du certificat médical initial" in text(response)
    response = client.post(
        url, data={"csrf_token": agent.token, "recu_le": parts(local_today() + timedelta(days=2))}
    )
    assert response.status_code == 422
    assert "ne peut pas être dans le futur" in text(response)
    response = client.post(
        url, data={"csrf_token": agent.token, "recu_le": parts(local_today() - timedelta(days=30))}
    )
    assert response.status_code == 422
    assert "ne peut pas avoir été reçu avant l'accident" in text(response)
    assert declaration(refs["metz"]).cmi_received_on is None


def test_status_changes_follow_the_transition_rules(client, world, refs, agent):
    url = f"/cpam/declarations/{refs['reserves']}/statut"
    # No CMI yet: refused with the reason.
    response = client.post(url, data={"csrf_token": agent.token, "statut": "en_instruction"})
    assert response.status_code == 422
    assert "Enregistrez d'abord la date de réception du certificat médical initial" in text(response)
    dat_service.record_cmi(world.agent, refs["reserves"], local_today())
    # Reserves: no decision before an instruction.
    response = client.post(url, data={"csrf_token": agent.token, "statut": "prise_en_charge"})
    assert response.status_code == 422
    assert "une instruction doit être ouverte avant toute décision" in text(response)
    response = client.post(
        url,
        data={
            "csrf_token": agent.token,
            "statut": "en_instruction",
            "commentaire": "Questionnaires envoyés.",
        },
    )
    assert response.status_code == 303
    assert declaration(refs["reserves"]).status == "en_instruction"
    # The CMI date is now fixed.
    with pytest.raises(dat_service.CmiRefused):
        dat_service.record_cmi(world.agent, refs["reserves"], local_today())
    response = client.post(url, data={"csrf_token": agent.token, "statut": "refus"})
    assert response.status_code == 303
    assert declaration(refs["reserves"]).status == "refus"
    page = text(client.get(f"/cpam/declarations/{refs['reserves']}"))
    assert "La décision est prise : le statut ne change plus." in page
    response = client.post(url, data={"csrf_token": agent.token, "statut": "prise_en_charge"})
    assert response.status_code == 422
    assert "ne peut pas passer" in text(response)
    events = db.session.scalars(
        select(DeclarationEvent).where(DeclarationEvent.kind == "statut").order_by(DeclarationEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        ("transmise", "en_instruction"),
        ("en_instruction", "refus"),
    ]
    assert events[0].details == {"comment": "Questionnaires envoyés."}
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dat.status")).all()
    assert len(audits) == 2
    employer = DatClient(client.application.test_client(), world.employer)
    page = text(employer.client.get(f"/dat/declarations/{refs['reserves']}"))
    assert "Statut : En instruction" in page and "Questionnaires envoyés." in page
    assert "Refus de prise en charge" in page


def test_a_decision_without_instruction_waits_for_the_reserves_window(client, world, refs, agent):
    dat_service.record_cmi(world.agent, refs["metz"], local_today())
    url = f"/cpam/declarations/{refs['metz']}/statut"
    response = client.post(url, data={"csrf_token": agent.token, "statut": "prise_en_charge"})
    assert response.status_code == 422
    assert "Le délai de réserves de l'employeur n'est pas encore écoulé" in text(response)
    close_reserves_window(refs["metz"])
    response = client.post(url, data={"csrf_token": agent.token, "statut": "prise_en_charge"})
    assert response.status_code == 303
    assert declaration(refs["metz"]).status == "prise_en_charge"
    employer = DatClient(client.application.test_client(), world.employer)
    assert "Prise en charge" in text(employer.client.get("/dat/"))


def test_forged_status_values_are_refused(client, world, refs, agent):
    url = f"/cpam/declarations/{refs['metz']}/statut"
    for value in ("brouillon", "classee", "<script>", ""):
        response = client.post(url, data={"csrf_token": agent.token, "statut": value})
        assert response.status_code == 422, value
    assert declaration(refs["metz"]).status == "transmise"


def test_cpam_pdfs(client, world, refs, agent):
    response = client.get(f"/cpam/declarations/{refs['metz']}/declaration.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"/cpam/declarations/{refs['metz']}/feuille-accident.pdf").status_code == 404


def test_the_inbox_of_a_departement_with_70_000_establishments_answers(client, world, refs, agent):
    """The caisse's scope is its départements, never a list of their establishments: Paris has
    hundreds of thousands, and one statement takes at most 65 535 values on PostgreSQL (250 000 on
    this SQLite)."""
    from app.models import Establishment
    from tests.factories import luhn_complete

    db.session.execute(
        insert(Establishment),
        [
            {
                "company_id": world.metz.company_id,
                "siret": luhn_complete(f"{n:013d}"),
                "name": f"Magasin {n}",
                "address": "1 rue",
                "postal_code": "57000",
                "city": "Metz",
                "departement": "57",
                "code_risque": "45.2BD",
                "headcount": 3,
                "is_head_office": False,
            }
            for n in range(100, 70_100)
        ],
    )
    db.session.commit()
    page = text(client.get("/cpam/declarations"))
    assert refs["metz"] in page and refs["reserves"] in page and refs["paris"] not in page
    covered = db.session.scalar(select(func.count(Establishment.id)).where(Establishment.departement == "57"))
    assert covered > 70_000
    home = client.get("/").get_data(as_text=True)
    assert f'<dd class="govuk-summary-list__value">{covered}<' in home  # the agent's home page


def test_the_home_page_counts_to_decide_what_the_inbox_shows_to_decide(client, world, refs, agent):
    """A declaration « en instruction » with its CMI received is still to decide (issue 10)."""
    dat_service.record_cmi(world.agent, refs["reserves"], local_today())
    dat_service.change_status(world.agent, refs["reserves"], "en_instruction")
    dat_service.record_cmi(world.agent, refs["metz"], local_today())
    home = " ".join(text(client.get("/")).split())
    assert "Déclarations à instruire ou à décider (CMI reçu)</a> : <strong>2</strong>" in home
    link = re.search(r'<a class="govuk-link" href="([^"]+)">Déclarations à instruire', home).group(1)
    inbox = text(client.get(html.unescape(link)))
    assert "2 déclarations" in inbox
    assert refs["reserves"] in inbox and refs["metz"] in inbox
    # Once decided it leaves both.
    close_reserves_window(refs["metz"])
    dat_service.change_status(world.agent, refs["metz"], "prise_en_charge")
    home = " ".join(text(client.get("/")).split())
    assert "Déclarations à instruire ou à décider (CMI reçu)</a> : <strong>1</strong>" in home
    assert "1 déclaration." in text(client.get(html.unescape(link)))
