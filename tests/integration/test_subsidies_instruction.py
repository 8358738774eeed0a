"""The Carsat's instruction (issue 14 item 3) and the payment request (item 2): the queue by programme and
status, accept / ask for completion / refuse / validate the payment, each decision a PDF letter deposited
once in the establishment's LUCIE mailbox with its e-mail alert (real SMTP); the employer completes the same
dossier (every version kept) and asks for the payment with invoices, never above the reserved amount;
another region's Carsat and another company's employer get 404."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Letter, SubsidyDecision, SubsidyDossier, SubsidyVersion
from app.services import outbox
from app.services.uploads import read_blob
from tests.subsidies_support import SubsidyClient, make_world, pdf_text, programme_id, signed_in


@pytest.fixture
def world(app):
    return make_world()


def _reservation(app, world, *amounts) -> tuple[int, object]:
    client = signed_in(app, world.employer)
    employer = SubsidyClient(client)
    dossier_id = employer.start("TOPBTP", world.metz)
    employer.attest(dossier_id)
    for index, amount in enumerate(amounts):
        response = employer.add_line(dossier_id, kind="equipement", amount=amount, number=f"D-{index + 1}")
        assert response.status_code == 303
    assert employer.submit(dossier_id).status_code == 303
    return dossier_id, client


def _dossier(dossier_id: int) -> SubsidyDossier:
    db.session.expire_all()
    return db.session.get(SubsidyDossier, dossier_id)


def _decide(agent, dossier_id: int, action: str, **data):
    token = agent.csrf(f"/subventions/instruction/{dossier_id}")
    return agent.post(f"/subventions/instruction/{dossier_id}/{action}", data={"csrf_token": token, **data})


def _letters(reference: str) -> list[Letter]:
    return list(
        db.session.scalars(select(Letter).where(Letter.case_reference == reference).order_by(Letter.id))
    )


def test_accept_then_pay_with_letters_and_emails(mail_app, smtp, world):
    app = mail_app
    dossier_id, employer_client = _reservation(app, world, "6000", "4000")  # 3 000 + 2 000
    reference = _dossier(dossier_id).reference
    agent = signed_in(app, world.agent)

    page = agent.get(f"/subventions/instruction/?programme={programme_id('TOPBTP')}&statut=deposee")
    assert page.status_code == 200 and reference in page.get_data(as_text=True)
    assert reference not in agent.get("/subventions/instruction/?statut=payee").get_data(as_text=True)

    response = _decide(agent, dossier_id, "accepter", amount="5 000,00")
    assert response.status_code == 303
    dossier = _dossier(dossier_id)
    assert dossier.status == "acceptee" and dossier.reserved_amount == Decimal("5000.00")
    # A second click: the dossier is no longer waiting for a decision; still one letter.
    assert _decide(agent, dossier_id, "accepter", amount="5 000,00").status_code == 409
    letters = _letters(reference)
    assert len(letters) == 1
    text = pdf_text(read_blob(letters[0].sha256)).replace("\u00a0", " ")
    assert "Réservation acceptée" in text and "5 000,00 €" in text and reference in text
    assert outbox.send_due() == (1, 0)
    assert smtp.to(world.employer.email)

    # The payment request: invoices above the reservation, paid at most the reserved amount.
    employer = SubsidyClient(employer_client)
    token = employer_client.csrf(f"/subventions/{dossier_id}")
    assert (
        employer_client.post(f"/subventions/{dossier_id}/versement", data={"csrf_token": token}).status_code
        == 303
    )
    paid_on = date.today().replace(day=1)
    response = employer.add_line(
        dossier_id, kind="equipement", amount="12 000", number="F-1", issued_on=paid_on, paid_on=paid_on
    )
    assert response.status_code == 303
    assert employer.submit(dossier_id).status_code == 303
    dossier = _dossier(dossier_id)
    assert dossier.status == "versement_demande"
    assert dossier.payment_requested_amount == Decimal("5000.00")  # 6 000 computed, never above 5 000
    assert (
        db.session.scalar(
            select(func.count(SubsidyVersion.id)).where(SubsidyVersion.dossier_id == dossier_id)
        )
        == 2
    )

    assert _decide(agent, dossier_id, "verser").status_code == 303
    dossier = _dossier(dossier_id)
    assert dossier.status == "payee" and dossier.paid_amount == Decimal("5000.00")
    assert len(_letters(reference)) == 2
    assert outbox.send_due() == (1, 0)
    index = employer_client.get("/subventions/").get_data(as_text=True)
    assert "Payée" in index and "20\u00a0000,00\u00a0€" in index  # what remains under the cap


def test_completion_keeps_every_version_and_shows_on_the_home_page(app, world):
    dossier_id, employer_client = _reservation(app, world, "6000")
    agent = signed_in(app, world.agent)
    due = date.today() + timedelta(days=30)
    response = _decide(
        agent,
        dossier_id,
        "complement",
        missing="Le devis détaillé du fournisseur",
        due_on=[str(due.day), str(due.month), str(due.year)],
    )
    assert response.status_code == 303
    assert _dossier(dossier_id).status == "complement_demande"
    home = employer_client.get("/").get_data(as_text=True)
    assert _dossier(dossier_id).reference in home and due.strftime("%d/%m/%Y") in home
    employer = SubsidyClient(employer_client)
    assert employer.add_line(dossier_id, kind="equipement", amount="2000", number="D-2").status_code == 303
    assert employer.submit(dossier_id).status_code == 303
    dossier = _dossier(dossier_id)
    assert dossier.status == "en_instruction" and dossier.versions == 2
    assert dossier.requested_amount == Decimal("4000.00")
    versions = db.session.scalars(select(SubsidyVersion).where(SubsidyVersion.dossier_id == dossier_id)).all()
    assert [v.number for v in versions] == [1, 2]
    assert '"total": "3000.00"' in versions[0].snapshot  # the first version as it was sent

    assert _decide(agent, dossier_id, "refuser", reasons="Matériel hors du programme").status_code == 303
    assert _dossier(dossier_id).status == "refusee"
    assert db.session.scalar(select(func.count(SubsidyDecision.id))) == 2
    assert len(_letters(dossier.reference)) == 2


def test_a_decision_needs_its_fields(app, world):
    dossier_id, _client = _reservation(app, world, "6000")
    agent = signed_in(app, world.agent)
    response = _decide(agent, dossier_id, "refuser", reasons="")
    assert response.status_code == 422
    assert "Indiquez les motifs du refus" in response.get_data(as_text=True)
    assert _decide(agent, dossier_id, "accepter", amount="9 000").status_code == 409  # above the request
    assert _dossier(dossier_id).status == "deposee"
    assert _letters(_dossier(dossier_id).reference) == []


def test_another_region_or_another_company_gets_404(app, world):
    dossier_id, _client = _reservation(app, world, "6000")
    other = signed_in(app, world.other_agent)
    assert other.get(f"/subventions/instruction/{dossier_id}").status_code == 404
    assert _dossier(dossier_id).reference not in other.get("/subventions/instruction/").get_data(as_text=True)
    stranger = signed_in(app, world.stranger)
    assert stranger.get(f"/subventions/instruction/{dossier_id}").status_code == 404
    assert stranger.get(f"/subventions/{dossier_id}").status_code == 404
    assert stranger.get("/subventions/instruction/").status_code == 404


def test_a_closed_budget_takes_no_new_request(app, world):
    agent = signed_in(app, world.agent)
    token = agent.csrf("/subventions/instruction/")
    pid = programme_id("RPS")
    assert (
        agent.post(f"/subventions/instruction/programmes/{pid}/clore", data={"csrf_token": token}).status_code
        == 303
    )
    employer = signed_in(app, world.employer)
    page = employer.get("/subventions/nouvelle?type=reservation").get_data(as_text=True)
    assert "Risques psychosociaux" not in page and "TOP BTP" in page


def test_a_closed_budget_is_reopened_from_the_same_screen_and_audited(app, world):
    agent = signed_in(app, world.agent)
    pid = programme_id("RPS")
    close, reopen = (f"/subventions/instruction/programmes/{pid}/{verb}" for verb in ("clore", "rouvrir"))
    assert agent.post(close, data={"csrf_token": agent.csrf("/subventions/instruction/")}).status_code == 303
    queue = agent.get("/subventions/instruction/").get_data(as_text=True)
    assert f'action="{reopen}"' in queue
    assert agent.post(reopen, data={"csrf_token": agent.csrf("/subventions/instruction/")}).status_code == 303
    queue = agent.get("/subventions/instruction/").get_data(as_text=True)
    assert f'action="{close}"' in queue and f'action="{reopen}"' not in queue
    employer = signed_in(app, world.employer)
    assert "Risques psychosociaux" in employer.get("/subventions/nouvelle?type=reservation").get_data(
        as_text=True
    )
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(
            AuditEvent.object_id == str(pid),
            AuditEvent.action.in_(("subventions.budget_close", "subventions.budget_reopen")),
        )
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["subventions.budget_close", "subventions.budget_reopen"]
    assert employer.post(reopen, data={"csrf_token": employer.csrf("/subventions/")}).status_code == 404


def test_a_payment_request_without_reservation(app, world):
    client = signed_in(app, world.employer)
    employer = SubsidyClient(client)
    dossier_id = employer.start("RPS", world.strasbourg, kind="versement")
    employer.attest(dossier_id)
    day = date.today().replace(day=1)
    response = employer.add_line(dossier_id, kind="prestation", amount="2000", number="F-9", issued_on=day)
    assert response.status_code == 422  # an invoice needs its payment date
    assert "Saisissez la date du paiement" in response.get_data(as_text=True)
    response = employer.add_line(
        dossier_id, kind="prestation", amount="2000", number="F-9", issued_on=day, paid_on=day
    )
    assert response.status_code == 303
    assert employer.submit(dossier_id).status_code == 303
    dossier = _dossier(dossier_id)
    assert dossier.status == "versement_demande" and dossier.reserved_amount is None
    assert dossier.payment_requested_amount == Decimal("1400.00")  # 70 %
    agent = signed_in(app, world.agent)
    assert _decide(agent, dossier_id, "verser").status_code == 303
    dossier = _dossier(dossier_id)
    assert dossier.status == "payee" and dossier.paid_amount == Decimal("1400.00")


def test_a_dossier_asked_for_completion_may_be_refused_but_not_accepted(app, world):
    dossier_id, _client = _reservation(app, world, "6000")
    agent = signed_in(app, world.agent)
    due = date.today() + timedelta(days=15)
    _decide(
        agent,
        dossier_id,
        "complement",
        missing="Le devis signé",
        due_on=[str(due.day), str(due.month), str(due.year)],
    )
    assert _decide(agent, dossier_id, "accepter", amount="3 000").status_code == 409
    assert _decide(agent, dossier_id, "refuser", reasons="Pas de réponse à la date donnée").status_code == 303
    assert _dossier(dossier_id).status == "refusee"


def test_above_23000_in_12_months_the_payment_waits_for_the_convention(app, world):
    client = signed_in(app, world.employer)
    employer = SubsidyClient(client)
    ids = []
    for establishment, amount in ((world.metz, "25000"), (world.strasbourg, "10000")):  # 17 500 + 7 000 €
        dossier_id = employer.start("ERGO", establishment)
        employer.attest(dossier_id)
        assert employer.add_line(dossier_id, kind="prevention", amount=amount).status_code == 303
        assert employer.submit(dossier_id).status_code == 303
        ids.append(dossier_id)
    first, second = (_dossier(i) for i in ids)
    assert not first.convention_required and second.convention_required
    agent = signed_in(app, world.agent)
    assert _decide(agent, second.id, "accepter", amount="7 000,00").status_code == 303
    token = client.csrf(f"/subventions/{second.id}")
    client.post(f"/subventions/{second.id}/versement", data={"csrf_token": token})
    day = date.today().replace(day=1)
    employer.add_line(second.id, kind="prevention", amount="10000", number="F-1", issued_on=day, paid_on=day)
    assert employer.submit(second.id).status_code == 303
    response = _decide(agent, second.id, "verser")
    assert response.status_code == 409 and "signature de la convention" in response.get_data(as_text=True)
    token = agent.csrf(f"/subventions/instruction/{second.id}")
    agent.post(f"/subventions/instruction/{second.id}/convention", data={"csrf_token": token})
    assert _decide(agent, second.id, "verser").status_code == 303
    assert _dossier(second.id).status == "payee"


def test_the_convention_counts_only_the_last_12_months_and_the_headcount_is_checked_at_payment(app, world):
    client = signed_in(app, world.employer)
    employer = SubsidyClient(client)
    old = employer.start("ERGO", world.metz)
    employer.attest(old)
    employer.add_line(old, kind="prevention", amount="25000")  # 17 500 €
    assert employer.submit(old).status_code == 303
    dossier = _dossier(old)
    dossier.requested_on = date.today() - timedelta(days=400)  # filed more than 12 months ago
    db.session.commit()
    new = employer.start("TOPBTP", world.strasbourg)
    employer.attest(new)
    employer.add_line(
        new, kind="equipement", amount="20000"
    )  # 10 000 €: 27 500 € in all, 10 000 € in 12 months
    assert employer.submit(new).status_code == 303
    assert not _dossier(new).convention_required
    agent = signed_in(app, world.agent)
    assert _decide(agent, new, "accepter", amount="10 000,00").status_code == 303
    world.metz.headcount = 60  # the company now has 65 employees: no TPE payment
    db.session.commit()
    client.post(f"/subventions/{new}/versement", data={"csrf_token": client.csrf(f"/subventions/{new}")})
    day = date.today().replace(day=1)
    employer.add_line(new, kind="equipement", amount="20000", number="F-1", issued_on=day, paid_on=day)
    response = employer.submit(new)
    assert response.status_code == 422
    assert "effectif national déclaré : 65" in response.get_data(as_text=True)
    assert _dossier(new).status == "acceptee"
