"""LUCIE deposits (SPEC §4): one service function, alerts through the outbox on a real SMTP server,
immutable letters, first consultation recorded once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from app.domain.lucie import LetterType
from app.extensions import db
from app.models import (
    AuditEvent,
    Habilitation,
    Letter,
    LucieAlertAddress,
    Mandate,
    OutboxMessage,
    OutboxStatus,
    Service,
)
from app.models.types import utcnow
from app.services import lucie, outbox
from app.services.lucie import DepositRefused
from tests.factories import make_firm, make_user
from tests.lucie_support import deposit, make_mailbox, pdf


def _alert_addresses(box, *emails):
    for email in emails:
        db.session.add(LucieAlertAddress(establishment_id=box.establishment.id, email=email))
    db.session.commit()


def test_deposit_alerts_each_subscribed_address_once_without_health_data(mail_app, smtp):
    box = make_mailbox()
    head_office_user = make_user(
        "siege@transports.test", company=box.company, grants=[(box.head_office, Service.LUCIE)]
    )
    make_user("dat-seulement@transports.test", company=box.company, grants=[(box.establishment, Service.DAT)])
    make_user(
        "inactif@transports.test",
        company=box.company,
        grants=[(box.establishment, Service.LUCIE)],
        is_active_account=False,
    )
    # The reader's address again, in capitals: still one e-mail.
    _alert_addresses(box, "compta@transports.test", "LECTEUR@transports.test")

    letter = deposit(
        box.establishment,
        box.caisse,
        title="Accident de Jean Dupont — fracture du poignet",
        letter_type=LetterType.NOTIFICATION_DECISION,
        reference="57-2026-000777",
    )
    assert outbox.send_due() == (3, 0)

    recipients = sorted(rcpt for rcpt, _ in smtp.messages)
    assert recipients == sorted(["lecteur@transports.test", head_office_user.email, "compta@transports.test"])
    for _, message in smtp.messages:
        body = message.get_content()
        assert (
            message["Subject"]
            == "Nouveau courrier LUCIE : Notification de décision – Transports Lorrains — Metz"
        )
        assert "Transports Lorrains — Metz" in body and box.establishment.siret in body
        assert f"{mail_app.config['BASE_URL']}/courriers/{letter.id}" in body
        for secret in ("Dupont", "fracture", "poignet", "57-2026-000777"):
            assert secret not in body and secret not in message["Subject"]
    assert lucie.alert_sent_at(letter.id) is not None


def test_tiers_declarant_with_a_live_lucie_mandate_is_alerted_too(mail_app, smtp):
    box = make_mailbox()
    firm = make_firm("Cabinet Rhénan", mandates=[(box.establishment, Service.LUCIE)])
    make_user("comptable@cabinet.test", kind="firm", firm_id=firm.id)
    make_user("parti@cabinet.test", kind="firm", firm_id=firm.id, is_active_account=False)
    dat_only = make_firm("Cabinet DAT", mandates=[(box.establishment, Service.DAT)])
    make_user("dat@cabinet-dat.test", kind="firm", firm_id=dat_only.id)
    revoked = make_firm("Ancien cabinet", mandates=[(box.establishment, Service.LUCIE)])
    make_user("ancien@ancien-cabinet.test", kind="firm", firm_id=revoked.id)
    db.session.execute(update(Mandate).where(Mandate.firm_id == revoked.id).values(revoked_at=utcnow()))
    db.session.commit()

    deposit(box.establishment, box.caisse)
    assert outbox.send_due() == (2, 0)
    assert sorted(rcpt for rcpt, _ in smtp.messages) == ["comptable@cabinet.test", "lecteur@transports.test"]


def test_deposit_is_refused_for_an_establishment_not_subscribed(mail_app, smtp):
    box = make_mailbox(subscribed=False)
    with pytest.raises(DepositRefused) as refusal:
        deposit(box.establishment, box.caisse)
    assert refusal.value.status == 404 and refusal.value.code == "not_subscribed"
    assert db.session.scalar(select(Letter.id)) is None
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_deposit_is_refused_once_the_subscription_is_stopped(app):
    box = make_mailbox()
    lucie.set_subscription(box.admin, box.establishment, False)
    with pytest.raises(DepositRefused):
        deposit(box.establishment, box.caisse)


def test_a_rolled_back_deposit_sends_nothing(mail_app, smtp):
    box = make_mailbox()
    lucie.deposit_letter(
        establishment=box.establishment,
        letter_type=LetterType.AUTRE,
        title="Dans une transaction",
        document=pdf(),
        source="service",
        commit=False,
    )
    assert db.session.scalar(select(Letter.id)) is not None  # flushed in the caller's transaction
    db.session.rollback()
    assert outbox.send_due() == (0, 0)
    assert smtp.messages == []
    assert db.session.scalar(select(Letter.id)) is None


def test_smtp_down_during_deposits_then_back_delivers_every_alert_once(mail_app, smtp):
    box = make_mailbox()
    smtp.stop()
    letters = [deposit(box.establishment, box.caisse, title=f"Courrier {i}") for i in range(5)]
    assert outbox.send_due() == (0, 5)  # deposits succeeded; sending failed and is rescheduled
    assert db.session.scalar(select(db.func.count()).select_from(Letter)) == 5

    smtp.controller = type(smtp.controller)(smtp, hostname="127.0.0.1", port=smtp.port)
    smtp.start()
    db.session.execute(db.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert outbox.send_due() == (5, 0)
    assert outbox.send_due() == (0, 0)
    ids = sorted(int(m["X-Outbox-Id"]) for _, m in smtp.messages)
    assert len(ids) == len(set(ids)) == 5
    assert all(lucie.alert_sent_at(letter.id) for letter in letters)


def test_every_deposit_way_goes_through_the_one_function_and_is_audited(app):
    box = make_mailbox()
    letter = deposit(box.establishment, box.caisse, deposited_by=box.agent)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "deposit")).one()
    assert event.object_id == str(letter.id) and event.user_id == box.agent.id
    assert event.details["alerts"] == 1 and event.details["caisse"] == "CPAM de Moselle"


def test_a_forged_pdf_is_refused_from_its_content(app):
    box = make_mailbox()
    with pytest.raises(DepositRefused) as refusal:
        deposit(box.establishment, box.caisse, document=b"\x89PNG\r\n\x1a\n" + b"0" * 200)
    assert refusal.value.status == 415


def test_missing_fields_are_refused_with_french_messages(app):
    box = make_mailbox()
    with pytest.raises(DepositRefused) as refusal:
        lucie.deposit_letter(
            establishment=box.establishment, letter_type="lettre", title=" ", document=None, source="agent"
        )
    assert refusal.value.status == 422
    assert set(refusal.value.errors) == {"type", "titre", "fichier"}
    assert refusal.value.errors["titre"] == "Indiquez le titre du courrier."


def test_a_letter_is_immutable_in_the_database(app):
    box = make_mailbox()
    letter = deposit(box.establishment, box.caisse)
    for statement in (
        "UPDATE letter SET title = 'autre titre'",
        "UPDATE letter SET sha256 = 'x'",
        "UPDATE letter SET deposited_at = NULL",
        "DELETE FROM letter",
    ):
        with pytest.raises(DatabaseError), db.engine.begin() as conn:
            conn.execute(text(statement))
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).title == "Courrier de test"


def test_first_consultation_is_recorded_once_with_who_and_when(app):
    box = make_mailbox()
    colleague = make_user(
        "collegue@transports.test", company=box.company, grants=[(box.establishment, Service.LUCIE)]
    )
    db.session.commit()
    letter = deposit(box.establishment, box.caisse)
    before = utcnow()
    lucie.open_letter(box.reader, letter.id)
    first = db.session.get(Letter, letter.id)
    assert first.first_consulted_by_id == box.reader.id and first.first_consulted_at >= before
    recorded_at = first.first_consulted_at
    lucie.open_letter(colleague, letter.id)
    db.session.expire_all()
    again = db.session.get(Letter, letter.id)
    assert (again.first_consulted_by_id, again.first_consulted_at) == (box.reader.id, recorded_at)
    # And the database refuses to overwrite it.
    with pytest.raises(DatabaseError), db.engine.begin() as conn:
        conn.execute(text("UPDATE letter SET first_consulted_by_id = :u"), {"u": colleague.id})
    reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).all()
    assert len(reads) == 2 and [e.details.get("first_consultation") for e in reads] == [True, None]


def test_first_consultation_is_recorded_once_under_concurrency(app):
    box = make_mailbox()
    readers = [box.reader] + [
        make_user(
            f"lecteur{i}@transports.test", company=box.company, grants=[(box.establishment, Service.LUCIE)]
        )
        for i in range(5)
    ]
    db.session.commit()
    letter = deposit(box.establishment, box.caisse)
    reader_ids = [u.id for u in readers]
    barrier = threading.Barrier(len(reader_ids))
    errors = []

    def read(user_id):
        with app.app_context():
            try:
                user = db.session.get(type(box.reader), user_id)
                barrier.wait()
                lucie.open_letter(user, letter.id)
            except Exception as error:  # noqa: BLE001 — reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=read, args=(uid,)) for uid in reader_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    firsts = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "read", AuditEvent.object_id == str(letter.id))
    ).all()
    assert len(firsts) == len(reader_ids)
    assert sum(1 for e in firsts if e.details.get("first_consultation")) == 1
    db.session.expire_all()
    winner = next(e.user_id for e in firsts if e.details.get("first_consultation"))
    assert db.session.get(Letter, letter.id).first_consulted_by_id == winner


def test_an_agent_opening_a_letter_is_not_a_consultation(app):
    box = make_mailbox()
    letter = deposit(box.establishment, box.caisse)
    lucie.open_letter(box.agent, letter.id)
    assert db.session.get(Letter, letter.id).first_consulted_at is None


def test_head_office_habilitation_reaches_every_establishment(mail_app, smtp):
    box = make_mailbox()
    db.session.execute(db.delete(Habilitation))
    make_user("siege@transports.test", company=box.company, grants=[(box.head_office, Service.LUCIE)])
    db.session.commit()
    deposit(box.establishment, box.caisse)
    outbox.send_due()
    assert [rcpt for rcpt, _ in smtp.messages] == ["siege@transports.test"]


def test_sent_alerts_are_marked_sent_and_failed_ones_are_parked(mail_app, smtp):
    mail_app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    box = make_mailbox()
    smtp.refuse = True
    letter = deposit(box.establishment, box.caisse)
    outbox.send_due()
    status = lucie.alert_status(letter.id)
    assert (status.queued, status.sent, status.failed) == (1, 0, 1)
    assert db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.FAILED
