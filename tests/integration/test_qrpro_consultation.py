"""The consultation of the dossier (issue 13, item 7): the caisse's pieces — a secret médical one never
listed to the employer and 404 on its URL —, the employer's observations during the 10 days, shown on the
dossier and e-mailed to the victim (without their content), refused after the window and after the
decision."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.cases import Party
from app.domain.qrpro import DateKind, EventKind
from app.extensions import db
from app.models import CaseDocument, CaseEvent, OutboxMessage, Service, UserKind
from app.services import lucie
from app.services.qrpro import calendar, cases, consultation, scheduling
from app.services.qrpro import decision as case_decision
from app.services.simple_pdf import make_pdf
from tests.dat_support import local_today
from tests.factories import make_user
from tests.integration.test_qrpro_instruction import open_and_send, registration


def ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def world(app, world):
    app.test_cli_runner().invoke(args=["forms", "load"])
    lucie.subscribe(world.metz)
    world.qrpro_user = make_user(
        "qrpro@batiments-est.fr", company=world.company, grants=[(world.metz, Service.QRPRO)]
    )
    world.victim = make_user("nadia@exemple.fr", kind=UserKind.VICTIM, full_name="Nadia François")
    db.session.commit()
    return world


@pytest.fixture
def case(world):
    """An MP case whose consultation with observations runs today (its steps taken in the past)."""
    record = cases.register_mp(
        world.agent,
        registration(
            world,
            first_finding_on=local_today() - timedelta(days=90),
            declaration_received_on=local_today() - timedelta(days=62),
            cmi_received_on=local_today() - timedelta(days=60),
        ),
        now=ago(59),
    ).case
    record.victim_id = world.victim.id
    db.session.commit()
    open_and_send(world, record, now=ago(55))
    opening = local_today() - timedelta(days=2)
    scheduling.schedule_consultation(
        world.agent, record, opening=opening, decision_on=opening + timedelta(days=16), now=ago(35)
    )
    return record


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def upload(client, url, **fields):
    token = client.csrf(url.rsplit("/", 1)[0])
    return client.post(url, data={**fields, "csrf_token": token}, content_type="multipart/form-data")


def test_a_secret_medical_piece_is_never_shown_to_the_employer(client, login, world, case):
    login(world.agent)
    base = f"/cpam/qrpro/dossiers/{case.reference}"
    for title, secret in (("Rapport d'enquête", ""), ("Avis du médecin-conseil", "oui")):
        response = upload(
            client,
            f"{base}/pieces",
            titre=title,
            secret_medical=secret,
            fichier=(io.BytesIO(make_pdf(title, ["Pièce"])), f"{title}.pdf"),
        )
        assert response.status_code == 303
    page = text(client.get(base))
    assert "Avis du médecin-conseil" in page and "Secret médical" in page
    secret = db.session.scalar(select(CaseDocument).where(CaseDocument.secret_medical.is_(True)))
    public = db.session.scalar(select(CaseDocument).where(CaseDocument.secret_medical.is_(False)))
    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    login(world.qrpro_user)
    page = text(client.get(f"/qrpro/dossiers/dossier/{case.reference}"))
    assert "Rapport d'enquête" in page and "médecin-conseil" not in page
    documents = f"/qrpro/dossiers/dossier/{case.reference}/documents"
    assert client.get(f"{documents}/{public.id}").status_code == 200
    assert client.get(f"{documents}/{secret.id}").status_code == 404


def test_the_employers_observations_are_annexed_and_the_victim_is_told_without_the_content(
    client, login, world, case
):
    login(world.qrpro_user)
    url = f"/qrpro/dossiers/dossier/{case.reference}/observations"
    response = upload(client, url, observations="Le salarié n'a jamais porté de charges lourdes.")
    assert response.status_code == 303
    document = db.session.scalar(select(CaseDocument).where(CaseDocument.kind == "observation"))
    assert document.party == "employeur" and document.text.startswith("Le salarié")
    mail = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.recipient == world.victim.email, OutboxMessage.kind == consultation.MAIL_KIND
        )
    )
    assert case.reference in mail.subject and "charges lourdes" not in mail.body_text
    assert (
        db.session.scalar(
            select(func.count(CaseEvent.id)).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.OBSERVATION
            )
        )
        == 1
    )
    assert "n'a jamais porté" in text(client.get(f"/qrpro/dossiers/dossier/{case.reference}"))
    empty = upload(client, url, observations="")
    assert empty.status_code == 422 and "Saisissez vos observations" in text(empty)


def test_observations_are_refused_after_the_window_and_after_the_decision(world, case):
    last = calendar.dates_of(case)[DateKind.OBSERVATIONS_END].effective_on
    after = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    with pytest.raises(consultation.DocumentRefused) as refused:
        consultation.add_observation(world.qrpro_user, case, Party.EMPLOYER, text="Trop tard", now=after)
    assert "a expiré" in refused.value.errors["observations"]
    case_decision.record_decision(world.agent, case, decision="reconnu", now=after + timedelta(days=10))
    with pytest.raises(consultation.DocumentRefused) as refused:
        consultation.add_observation(world.qrpro_user, case, Party.EMPLOYER, text="Encore")
    assert "clos" in refused.value.errors["observations"]
    assert db.session.scalar(select(func.count(CaseDocument.id))) == 0
