"""QR Pro, the CPAM agent's screens (issue 13, items 2–4 and 8) through HTTP: the queue, the MP registration
with its French messages, a case's page and its steps, letters exactly once on a retried POST, the
timeline PDF, and 404 for another caisse's agent or an employer."""

from __future__ import annotations

import html
import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import AuditEvent, Case, CaseLetter, Letter
from app.services import lucie
from tests.dat_support import local_today, make_nir, parts
from tests.integration.test_qrpro_instruction import at_case, with_cmi


@pytest.fixture
def world(app, world):
    app.test_cli_runner().invoke(args=["forms", "load"])
    lucie.subscribe(world.metz)
    db.session.commit()
    return world


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def mp_form(world, **changes) -> list[tuple[str, str]]:
    today = local_today()
    values = {
        "nir": make_nir("F", date(1980, 3, 1)),
        "victim_name": "DURAND Lucie",
        "address": "3 rue des Jardins",
        "postal_code": "57050",
        "city": "Metz",
        "siret": world.metz.siret,
        "table": "57 A",
        "disease_label": "Tendinopathie",
    }
    values.update(changes)
    items = list(values.items())
    for name, value in (
        ("first_finding_on", today - timedelta(days=40)),
        ("declaration_received_on", today - timedelta(days=20)),
        ("cmi_received_on", today - timedelta(days=15)),
    ):
        items += [(name, v) for v in parts(value)]
    return items


def test_the_mp_registration_shows_french_messages_next_to_the_fields_and_saves_nothing(client, login, world):
    login(world.agent)
    url = "/cpam/qrpro/maladies/nouvelle"
    token = client.csrf(url)
    response = client.post(url, data=MultiDict([*mp_form(world, nir="123", siret=""), ("csrf_token", token)]))
    assert response.status_code == 422
    page = text(response)
    assert "Erreur" in page and "Saisissez le SIRET de l'établissement employeur" in page
    assert "numéro de sécurité sociale" in page.lower()
    assert db.session.scalar(select(func.count(Case.id))) == 0
    response = client.post(url, data=MultiDict([*mp_form(world), ("csrf_token", token)]))
    assert response.status_code == 303
    case = db.session.scalar(select(Case).where(Case.kind == "MP"))
    page = text(client.get(response.headers["Location"]))
    assert case.reference in page and "Calendrier légal" in page and "CSS R461-9 I" in page
    assert case.reference in text(client.get("/cpam/qrpro/"))


def test_another_caisse_and_an_employer_get_404(client, login, world):
    case = at_case(world)
    login(world.agent_75)
    assert client.get(f"/cpam/qrpro/dossiers/{case.reference}").status_code == 404
    assert client.get(f"/cpam/qrpro/dossiers/{case.reference}/chronologie.pdf").status_code == 404
    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    login(world.employer)
    assert client.get("/cpam/qrpro/").status_code == 404


def test_the_agent_opens_chooses_sends_and_a_retried_post_makes_no_second_letter(client, login, world):
    case = with_cmi(world, at_case(world), days_ago=5)
    login(world.agent)
    url = f"/cpam/qrpro/dossiers/{case.reference}"
    token = client.csrf(url)
    data = {"csrf_token": token}
    models = {"employer_model": "exemple-temoins", "victim_model": "exemple-temoins", "csrf_token": token}
    assert client.post(f"{url}/ouverture", data=data).status_code == 303
    assert client.post(f"{url}/modeles", data=models).status_code == 303
    assert client.post(f"{url}/envoi", data=data).status_code == 303
    assert client.post(f"{url}/envoi", data=data).status_code == 303  # the retry
    assert db.session.scalar(select(func.count(CaseLetter.id)).where(CaseLetter.case_id == case.id)) == 2
    assert (
        db.session.scalar(select(func.count(Letter.id)).where(Letter.letter_type == "ouverture_instruction"))
        == 1
    )
    page = text(client.get(url))
    assert "Questionnaires envoyés" in page and "notifiée dans un courrier" in page
    # An unlawful schedule: the refusal with the lawful dates, next to the field, nothing stored.
    soon = local_today() + timedelta(days=2)
    response = client.post(
        f"{url}/consultation",
        data=MultiDict(
            [
                ("csrf_token", token),
                *[("opening", v) for v in parts(soon)],
                *[("decision_on", v) for v in parts(soon)],
            ]
        ),
    )
    assert response.status_code == 422
    assert "au plus tôt le" in text(response) and "Erreur" in text(response)
    # The trail: each step once, as done; each access with what it was for — the refused schedule
    # is an access « consultation », never a « qrpro.consultation » (a schedule the caisse made).
    trail = db.session.execute(
        select(AuditEvent.action, AuditEvent.details)
        .where(AuditEvent.object_type == "case_file", AuditEvent.object_id == str(case.id))
        .order_by(AuditEvent.id)
    ).all()
    assert [a for a, _ in trail if a != "qrpro.agent_access"] == ["qrpro.open", "qrpro.models", "qrpro.send"]
    purposes = [d["purpose"] for a, d in trail if a == "qrpro.agent_access"]
    assert purposes == ["read", "open", "models", "send", "send", "read", "consultation"]
    pdf = client.get(f"{url}/chronologie.pdf")
    assert pdf.status_code == 200
    content = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Questionnaire envoyé" in content and "Courrier déposé dans LUCIE" in content
    letter = db.session.scalar(
        select(CaseLetter).where(CaseLetter.case_id == case.id, CaseLetter.party == "victime")
    )
    assert client.get(f"{url}/courriers/{letter.id}.pdf").status_code == 200
    assert client.get(f"{url}/courriers/999999.pdf").status_code == 404
