"""Abandoned drafts (`flask drafts expire`): a draft without a save for 90 days is deleted, its answers
erased, never without an e-mail to the people working on it 7 days before (through the outbox and a
real SMTP server, without the victim's name); the lists show the date; a save starts again."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.config import ConfigError, load_config
from app.extensions import db
from app.models import AuditEvent, OutboxMessage
from app.services import outbox
from app.services.draft_retention import WARNING_KIND, expire_drafts
from app.web import PARIS
from tests.dat_support import fresh_draft, valid_answers

DAY = timedelta(days=1)


@pytest.fixture
def draft_id(declarant, world):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, valid_answers(nom="Schneider"), until="temoins")
    return draft_id


def last_save(draft_id):
    return fresh_draft(draft_id).updated_at


def warnings():
    query = select(OutboxMessage).where(OutboxMessage.kind == WARNING_KIND).order_by(OutboxMessage.id)
    return db.session.scalars(query).all()


def test_a_draft_left_82_days_is_kept_and_nobody_is_warned(draft_id):
    assert expire_drafts(now=last_save(draft_id) + 82 * DAY) == (0, 0)
    assert warnings() == []


def test_after_83_days_the_people_get_one_warning_by_smtp_without_the_victim(mail_app, smtp, world, draft_id):
    saved = last_save(draft_id)
    warned_at = saved + 83 * DAY + timedelta(hours=1)
    assert expire_drafts(now=warned_at) == (1, 0)
    assert expire_drafts(now=saved + 84 * DAY) == (0, 0)  # once per period without a save
    (message,) = warnings()
    assert (message.recipient, message.related_id) == (world.employer.email, draft_id)
    assert outbox.send_due() == (1, 0)
    (mail,) = smtp.to(world.employer.email)
    deletion = (warned_at + 7 * DAY).astimezone(PARIS).strftime("%d/%m/%Y")  # 7 full days
    assert mail["Subject"] == (
        f"Brouillon supprimé le {deletion} sans nouvel enregistrement : Déclaration d'accident du travail"
    )
    body = mail.get_content()
    assert "Agence de Metz" in body and world.metz.siret in body
    assert "conservés 90 jours après leur dernier enregistrement" in body
    assert f"/demarches/brouillons/{draft_id}" in body
    assert "Schneider" not in body and "SCHNEIDER" not in body


def test_the_draft_is_deleted_after_90_days_with_its_answers_and_a_stale_tab_is_told(declarant, draft_id):
    saved = last_save(draft_id)
    expire_drafts(now=saved + 83 * DAY + timedelta(hours=1))
    assert expire_drafts(now=saved + 89 * DAY) == (0, 0)
    assert expire_drafts(now=saved + 90 * DAY + timedelta(hours=2)) == (0, 1)
    draft = fresh_draft(draft_id)
    assert draft.answers == {} and draft.valid_steps == []
    assert draft.discarded_at is not None and draft.discarded_by_id is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "draft.expired"))
    assert (event.object_id, event.user_id, event.details["steps_answered"]) == (str(draft_id), None, 5)

    page = declarant.client.get(f"/demarches/brouillons/{draft_id}/etapes/temoins")
    assert page.status_code == 410
    assert "a été supprimé automatiquement le" in html.unescape(page.get_data(as_text=True))
    assert "n'avait pas été enregistré depuis 90 jours" in html.unescape(page.get_data(as_text=True))


def test_a_late_warning_still_gives_the_full_7_days(draft_id):
    saved = last_save(draft_id)
    warned_at = saved + 95 * DAY  # the job did not run for a while
    assert expire_drafts(now=warned_at) == (1, 0)
    assert expire_drafts(now=warned_at + 6 * DAY) == (0, 0)
    assert expire_drafts(now=warned_at + 7 * DAY) == (0, 1)


def test_a_save_after_the_warning_starts_the_count_again(declarant, draft_id):
    draft = fresh_draft(draft_id)
    draft.updated_at -= 84 * DAY  # left 84 days ago
    db.session.commit()
    assert expire_drafts() == (1, 0)
    declarant.fill(draft_id, valid_answers(nom="Schneider"), until="temoins")  # saved today
    resaved = last_save(draft_id)
    assert expire_drafts(now=resaved + 7 * DAY) == (0, 0)
    assert fresh_draft(draft_id).discarded_at is None
    assert expire_drafts(now=resaved + 84 * DAY) == (1, 0)  # a new period, a new warning
    assert len(warnings()) == 2


def test_sent_and_deleted_drafts_are_left_alone(declarant, world, draft_id):
    other = declarant.start(world.metz)
    declarant.client.post(
        f"/demarches/brouillons/{other}/supprimer",
        data={"csrf_token": declarant.token, "version": str(fresh_draft(other).version)},
    )
    discarded_at = fresh_draft(other).discarded_at
    assert expire_drafts(now=last_save(draft_id) + 200 * DAY) == (1, 0)  # only the open one
    assert fresh_draft(other).discarded_at == discarded_at


def test_the_lists_show_the_date_once_it_is_near_and_save_for_later_says_how_long(declarant, world, draft_id):
    page = html.unescape(declarant.client.get("/demarches/").get_data(as_text=True))
    assert "Sera supprimé le" not in page
    draft = fresh_draft(draft_id)
    draft.updated_at -= 85 * DAY
    db.session.commit()
    for path in ("/demarches/", "/", f"/demarches/brouillons/{draft_id}/sommaire", "/dat/"):
        page = html.unescape(declarant.client.get(path).get_data(as_text=True))
        assert "Sera supprimé le" in page and "sans nouvel enregistrement" in page, path
    home = html.unescape(declarant.client.get("/").get_data(as_text=True))
    assert "Enregistrer le brouillon « Déclaration d'accident du travail » (Victime : SCHNEIDER" in home

    response = declarant.post_step(draft_id, "temoins", {}, action="later")
    flash = html.unescape(declarant.client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Il est conservé 90 jours après son dernier enregistrement." in flash


def test_the_command_warns_and_deletes(app, draft_id):
    draft = fresh_draft(draft_id)
    draft.updated_at -= 100 * DAY
    draft.expiry_warned_at = draft.updated_at + 90 * DAY
    db.session.commit()
    result = CliRunner().invoke(app.cli, ["drafts", "expire"], obj=None)
    assert result.exit_code == 0, result.output
    assert "0 brouillon(s) signalé(s), 1 brouillon(s) supprimé(s)" in result.output
    assert fresh_draft(draft_id).discarded_at is not None


def test_a_warning_as_long_as_the_retention_is_refused():
    with pytest.raises(ConfigError):
        load_config({"DRAFT_RETENTION_DAYS": 7, "DRAFT_RETENTION_WARNING_DAYS": 7})
