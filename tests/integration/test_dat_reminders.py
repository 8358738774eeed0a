"""The 48-hour reminder (`flask dat remind`): the people working on a DAT draft are e-mailed
``DAT_REMINDER_HOURS`` before its deadline — once, through the outbox and a real SMTP server, without
the victim's name."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Habilitation, OutboxMessage, Service
from app.services import dat as dat_service
from app.services import outbox
from tests.dat_support import DatClient, fresh_draft, valid_answers
from tests.factories import make_user


@pytest.fixture
def draft_id(declarant, world):
    """A draft with its knowledge date and time saved: its 48 hours are running."""
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, valid_answers(nom="Schneider"), until="temoins")
    return draft_id


def due_of(draft_id):
    return dat_service.due_notice_for(fresh_draft(draft_id)).due


def reminders():
    query = select(OutboxMessage).where(OutboxMessage.kind == dat_service.REMINDER_KIND)
    return db.session.scalars(query.order_by(OutboxMessage.id)).all()


def test_a_draft_due_within_the_window_gets_one_reminder_delivered_by_smtp(mail_app, smtp, world, draft_id):
    due = due_of(draft_id)
    assert dat_service.send_deadline_reminders(now=due - timedelta(hours=6)) == 1
    assert dat_service.send_deadline_reminders(now=due - timedelta(hours=3)) == 0  # once only
    (message,) = reminders()
    assert (message.recipient, message.related_type, message.related_id) == (
        world.employer.email,
        "draft",
        draft_id,
    )
    assert outbox.send_due() == (1, 0)
    (mail,) = smtp.to(world.employer.email)
    notice = dat_service.due_notice_for(fresh_draft(draft_id))
    assert mail["Subject"] == f"Déclaration d'accident à transmettre avant le {notice.due_text}"
    body = mail.get_content()
    assert "Agence de Metz" in body and world.metz.siret in body
    assert "il reste 6 heures" in body
    assert f"/demarches/brouillons/{draft_id}" in body
    assert "Schneider" not in body and "SCHNEIDER" not in body and "Lucas" not in body
    assert "Schneider" not in mail["Subject"]


@pytest.mark.parametrize("hours_before_due", [13, -1])
def test_no_reminder_too_early_nor_once_the_deadline_has_passed(world, draft_id, hours_before_due):
    now = due_of(draft_id) - timedelta(hours=hours_before_due)
    assert dat_service.send_deadline_reminders(now=now) == 0
    assert reminders() == []


def test_no_reminder_before_the_knowledge_time_is_saved(declarant, world):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="connaissance")
    assert fresh_draft(draft_id).answers.get("connaissance") is None
    assert dat_service.send_deadline_reminders() == 0


def test_no_reminder_for_a_deleted_or_a_sent_draft(declarant, world, draft_id):
    due = due_of(draft_id)
    version = fresh_draft(draft_id).version
    token = declarant.token
    declarant.client.post(
        f"/demarches/brouillons/{draft_id}/supprimer", data={"csrf_token": token, "version": str(version)}
    )
    sent = declarant.start(world.metz)
    declarant.fill(sent)
    assert declarant.submit(sent).status_code == 303
    assert dat_service.send_deadline_reminders(now=due - timedelta(hours=1)) == 0


def test_the_last_editor_is_reminded_too_but_not_someone_who_lost_the_dat(app, world, draft_id):
    colleague = make_user("paie@batiments-est.fr", company=world.company, grants=[(world.metz, Service.DAT)])
    db.session.commit()
    other = DatClient(app.test_client(), colleague)
    other.post_step(draft_id, "temoins", valid_answers()["temoins"], action="later")
    assert fresh_draft(draft_id).updated_by_id == colleague.id

    db.session.execute(Habilitation.__table__.delete().where(Habilitation.user_id == world.employer.id))
    db.session.commit()
    assert dat_service.send_deadline_reminders(now=due_of(draft_id) - timedelta(hours=2)) == 1
    assert [m.recipient for m in reminders()] == [colleague.email]


def test_the_database_refuses_the_same_reminder_twice(world, draft_id):
    dat_service.send_deadline_reminders(now=due_of(draft_id) - timedelta(hours=1))
    (first,) = reminders()
    outbox.enqueue(
        first.recipient, "doublon", "doublon", kind=dat_service.REMINDER_KIND, related=("draft", draft_id)
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_the_command_reports_what_it_queued(app, draft_id):
    # The window reaches the draft's due time, however far holidays and a Sunday put it.
    hours_left = (due_of(draft_id) - datetime.now(UTC)) / timedelta(hours=1)
    app.config["DAT_REMINDER_HOURS"] = math.ceil(hours_left) + 1
    result = app.test_cli_runner().invoke(args=["dat", "remind"])
    assert result.exit_code == 0, result.output
    assert "1 rappel(s) de délai mis en file d'envoi" in result.output
    result = app.test_cli_runner().invoke(args=["dat", "remind"])
    assert "0 rappel(s)" in result.output
