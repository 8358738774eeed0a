"""The victim's e-mail when the caisse puts a letter in her space (issue 13, items 4 and 6; SPEC §1, §4):
the opening, the information on the consultation and the decision each reach her account through the
outbox — once per letter (a retried step sends none), retried when the SMTP server refuses, over real SMTP
(aiosmtpd) —, as a notice with a link to the letter and never its content; nothing while the case has no
victim account (her access code is in the paper letter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.domain.qrpro import DateKind
from app.extensions import db
from app.models import CaseLetter, OutboxMessage, OutboxStatus
from app.services import outbox
from app.services.qrpro import calendar, cases, notices, scheduling
from app.services.qrpro import decision as case_decision
from tests.dat_support import local_today
from tests.integration import test_qrpro_consultation as consultation_tests
from tests.integration.test_qrpro_instruction import open_and_send, registration

world = consultation_tests.world
case = consultation_tests.case
ago = consultation_tests.ago
DISEASE = "Tendinopathie de la coiffe des rotateurs"


def victim_mails() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == notices.MAIL_KIND).order_by(OutboxMessage.id)
        )
    )


def victim_letter(case, letter_type: str) -> CaseLetter:
    return db.session.scalar(
        select(CaseLetter).where(
            CaseLetter.case_id == case.id,
            CaseLetter.party == "victime",
            CaseLetter.letter_type == letter_type,
        )
    )


def after_the_window(case) -> datetime:
    last = calendar.dates_of(case)[DateKind.OBSERVATIONS_END].effective_on
    return datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def drain() -> None:
    """Send every message now (the retries' delay skipped)."""
    db.session.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    outbox.send_due()


def new_mp_case(world):
    return cases.register_mp(
        world.agent,
        registration(
            world,
            first_finding_on=local_today() - timedelta(days=90),
            declaration_received_on=local_today() - timedelta(days=62),
            cmi_received_on=local_today() - timedelta(days=60),
        ),
        now=ago(59),
    ).case


def open_it(world, record) -> None:
    """The agent's three steps (open, choose the models, send the questionnaires), 55 days ago."""
    open_and_send(world, record, now=ago(55))


def test_each_letter_in_her_space_is_e_mailed_to_the_victim_once_with_a_link_and_no_content(
    app, mail_app, smtp, client, login, world, case
):
    # The case's victim had her account before the opening (the fixture): the opening and the information
    # on the consultation were each e-mailed to her in their step's transaction.
    opening = victim_letter(case, "ouverture_instruction")
    information = victim_letter(case, "information_consultation")
    assert [(m.recipient, m.related_type, m.related_id) for m in victim_mails()] == [
        (world.victim.email, "case_letter", opening.id),
        (world.victim.email, "case_letter", information.id),
    ]
    # The decision, the SMTP server refusing at first: retried, then delivered — once. A retried step
    # adds no e-mail.
    case_decision.record_decision(
        world.agent, case, decision="refuse", reasons="Exposition non établie.", now=after_the_window(case)
    )
    assert case_decision.record_decision(world.agent, case, decision="refuse", reasons="Encore").done is False
    decision = victim_letter(case, "notification_decision")
    assert [m.related_id for m in victim_mails()] == [opening.id, information.id, decision.id]
    smtp.refuse = True
    drain()
    assert {(m.status, m.attempts) for m in victim_mails()} == {(OutboxStatus.PENDING, 1)}
    assert smtp.to(world.victim.email) == []
    smtp.refuse = False
    drain()
    drain()
    assert {(m.status, m.attempts) for m in victim_mails()} == {(OutboxStatus.SENT, 2)}
    received = smtp.to(world.victim.email)
    assert len(received) == 3
    assert sorted(int(m["X-Outbox-Id"]) for m in received) == [m.id for m in victim_mails()]
    base = app.config["BASE_URL"]
    # Each message with its letter (the outbox sends them in no promised order).
    letter_of_mail = {m.id: m.related_id for m in victim_mails()}
    rows = {row.id: row for row in (opening, information, decision)}
    received.sort(key=lambda m: list(rows).index(letter_of_mail[int(m["X-Outbox-Id"])]))
    for message, row in zip(received, rows.values(), strict=True):
        body = message.get_content()
        assert message["Subject"] == f"Nouveau courrier de votre caisse – dossier {case.reference}"
        assert f"{base}/mes-dossiers/{case.id}/courriers/{row.id}" in body
        # A notice, never the letter: no decision, no reasons, no disease, no name; no attachment.
        for secret in ("efus", "Exposition non établie", DISEASE, "Tendinopathie", case.victim_name):
            assert secret not in body and secret not in message["Subject"], secret
        assert message.get_content_type() == "text/plain" and not message.is_multipart()
    assert "« Notification de décision »" in received[2].get_content()
    # The link leads to the letter behind her sign-in.
    path = f"/mes-dossiers/{case.id}/courriers/{decision.id}"
    signed_out = client.get(path)
    assert signed_out.status_code == 302 and "/connexion" in signed_out.headers["Location"]
    login(world.victim)
    response = client.get(path)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_no_e_mail_while_the_case_has_no_victim_account_then_the_next_letter_is_e_mailed(world):
    record = new_mp_case(world)
    open_it(world, record)
    assert victim_letter(record, "ouverture_instruction") is not None  # her paper letter carries the code
    assert victim_mails() == []
    # She activates the code (the binding, app/services/qrpro/access_codes.py): the next letter reaches her.
    record.victim_id = world.victim.id
    db.session.commit()
    opening = local_today() - timedelta(days=2)
    scheduling.schedule_consultation(
        world.agent, record, opening=opening, decision_on=opening + timedelta(days=16), now=ago(35)
    )
    (mail,) = victim_mails()
    assert mail.recipient == world.victim.email
    assert mail.related_id == victim_letter(record, "information_consultation").id


def test_a_closed_victim_account_gets_no_e_mail(world):
    world.victim.is_active_account = False
    record = new_mp_case(world)
    record.victim_id = world.victim.id
    db.session.commit()
    open_it(world, record)
    assert victim_letter(record, "ouverture_instruction") is not None
    assert victim_mails() == []
