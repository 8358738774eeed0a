"""QR Pro, the agent's steps one at a time (issue 13, item 4 leftovers): open the instruction, choose the
questionnaire models (pinned to their version), send the questionnaires — each refused out of order; a
notified consultation moved with a reason and a new letter, once; the decision moving the declaration's own
status; the work queue paged by keyset."""

from __future__ import annotations

import html
import io
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from pypdf import PdfReader
from sqlalchemy import func, insert, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from app.domain.cases import Party
from app.domain.dat import Status, TransitionRefused, french_day
from app.domain.lucie import LetterType
from app.domain.qrpro import DateKind, EventKind, Stage
from app.extensions import db
from app.models import (
    Case,
    CaseEvent,
    CaseLetter,
    Declaration,
    Draft,
    Letter,
    UserKind,
    VictimAccessCode,
)
from app.services import dat as dat_service
from app.services import drafts, form_models, lucie
from app.services.qrpro import calendar, cases, instruction, letters, scheduling, timeline
from app.services.qrpro import decision as case_decision
from app.workflows.form_models import MODELS_DIR
from tests.dat_support import local_today, parts
from tests.factories import make_user
from tests.integration.test_qrpro_instruction import MODEL, at_case, lawful_schedule, open_and_send, with_cmi


@pytest.fixture
def world(app, world):
    app.test_cli_runner().invoke(args=["forms", "load"])
    lucie.subscribe(world.metz)
    db.session.commit()
    return world


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def fresh(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def declaration_of(case: Case) -> Declaration:
    db.session.expire_all()
    return db.session.get(Declaration, case.declaration_id)


def ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


# --- the three steps of the opening --------------------------------------------------------------------


def test_the_three_steps_are_taken_at_different_times_and_each_is_refused_out_of_order(world):
    case = with_cmi(world, at_case(world), days_ago=8)
    today = local_today()
    too_early = (
        partial(instruction.choose_models, employer_model=MODEL, victim_model=MODEL),
        instruction.send_questionnaires,
        partial(
            scheduling.schedule_consultation,
            opening=today + timedelta(days=30),
            decision_on=today + timedelta(days=45),
        ),
        partial(case_decision.record_decision, decision="reconnu"),
    )
    for step in too_early:
        with pytest.raises(instruction.StepRefused) as refused:
            step(world.agent, case)
        assert "Ouvrez d'abord l'instruction" in refused.value.errors["etape"]
    assert fresh(case).stage == Stage.A_OUVRIR

    # 1. Opened three days ago: the calendar is there, nothing is sent, the declaration is « en instruction ».
    opened_at = ago(3)
    outcome = instruction.open_instruction(world.agent, case, now=opened_at)
    case = fresh(case)
    assert outcome.done and case.stage == Stage.OUVERTE
    assert abs(case.instruction_opened_at - opened_at) < timedelta(seconds=1)
    assert {DateKind.DECIDE_OR_INVESTIGATE, DateKind.DOSSIER_AVAILABLE, DateKind.DECISION_BY} <= set(
        calendar.dates_of(case)
    )
    assert case.next_due_on == calendar.effective(case, DateKind.DECIDE_OR_INVESTIGATE)
    assert letters.letters_of(case) == [] and case.closes_at is None
    assert declaration_of(case).status == Status.EN_INSTRUCTION
    assert not instruction.open_instruction(world.agent, case).done  # a retry

    # Sending, scheduling or deciding before the models are chosen: refused, nothing stored.
    with pytest.raises(instruction.StepRefused) as refused:
        instruction.send_questionnaires(world.agent, case)
    assert "Choisissez d'abord les modèles" in refused.value.errors["etape"]
    for step in too_early[2:]:
        with pytest.raises(instruction.StepRefused) as refused:
            step(world.agent, case)
        assert "Envoyez d'abord les questionnaires" in refused.value.errors["etape"]
    with pytest.raises(instruction.StepRefused) as refused:
        instruction.choose_models(world.agent, case, employer_model="inconnu", victim_model="")
    assert "n'est pas publié" in refused.value.errors["employer_model"]
    assert refused.value.errors["victim_model"] == "Choisissez le questionnaire de la victime"
    assert fresh(case).employer_model is None

    # 2. The models, two days ago (chosen again the same: nothing new).
    assert instruction.choose_models(
        world.agent, case, employer_model=MODEL, victim_model=MODEL, now=ago(2)
    ).done
    assert not instruction.choose_models(world.agent, case, employer_model=MODEL, victim_model=MODEL).done
    case = fresh(case)
    assert case.questionnaire_model("employeur") == (MODEL, 1) == case.questionnaire_model("victime")
    assert case.stage == Stage.OUVERTE and letters.letters_of(case) == []
    chosen = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.MODEL_CHOSEN)
    ).all()
    assert sorted(event.party for event in chosen) == ["employeur", "victime"]
    assert chosen[0].details["model"] == f"{MODEL} version 1"

    # 3. Sent today: the letters, the victim's code, the due date from the letter's deemed receipt.
    outcome = instruction.send_questionnaires(world.agent, case)
    case = fresh(case)
    assert outcome.done and case.stage == Stage.QUESTIONNAIRES and case.opens_at > ago(1)
    assert [(row.party, row.letter_type) for row in letters.letters_of(case)] == [
        ("employeur", "ouverture_instruction"),
        ("victime", "ouverture_instruction"),
    ]
    assert db.session.scalar(select(func.count(VictimAccessCode.id))) == 1
    assert calendar.dates_of(case)[DateKind.QUESTIONNAIRE_DUE].notified_on is not None
    # A retry sends nothing more; the models can no longer change.
    assert not instruction.send_questionnaires(world.agent, case).done
    assert len(letters.letters_of(case)) == 2
    assert db.session.scalar(select(func.count(VictimAccessCode.id))) == 1
    with pytest.raises(instruction.StepRefused) as refused:
        instruction.choose_models(world.agent, case, employer_model=MODEL, victim_model=MODEL)
    assert "ne peuvent plus changer" in refused.value.errors["etape"]


def test_the_steps_through_the_agents_pages(client, login, world):
    case = with_cmi(world, at_case(world), days_ago=5)
    login(world.agent)
    url = f"/cpam/qrpro/dossiers/{case.reference}"
    token = client.csrf(url)
    # Out of order: the message at the top of the page, in the error summary.
    response = client.post(f"{url}/envoi", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Ouvrez d'abord l'instruction" in text(response) and "Il y a un problème" in text(response)
    assert client.post(f"{url}/ouverture", data={"csrf_token": token}).status_code == 303
    page = text(client.get(url))
    assert "Instruction ouverte, questionnaires en préparation" in page and "Calendrier légal" in page
    assert "Choisissez d'abord les modèles" in page
    response = client.post(f"{url}/modeles", data={"csrf_token": token, "employer_model": MODEL})
    assert response.status_code == 422 and "Choisissez le questionnaire de la victime" in text(response)
    models = {"csrf_token": token, "employer_model": MODEL, "victim_model": MODEL}
    assert client.post(f"{url}/modeles", data=models).status_code == 303
    page = text(client.get(url))
    assert "(version 1)" in page and "Envoyer les questionnaires" in page and "seraient à retourner" in page
    assert letters.letters_of(case) == []
    assert client.post(f"{url}/envoi", data={"csrf_token": token}).status_code == 303
    assert client.post(f"{url}/envoi", data={"csrf_token": token}).status_code == 303  # the retry
    assert db.session.scalar(select(func.count(CaseLetter.id)).where(CaseLetter.case_id == case.id)) == 2
    assert "Questionnaires envoyés" in text(client.get(url))
    response = client.post(f"{url}/modeles", data=models)
    assert response.status_code == 422 and "ne peuvent plus changer" in text(response)


# --- the pinned version --------------------------------------------------------------------------------

NEW_QUESTION = """          - id: question_v2
            type: yes_no
            label: Question ajoutée par la version 2
            required: true
            required_message: Répondez à la question de la version 2
"""


def publish_v2(directory) -> None:
    source = (MODELS_DIR / f"{MODEL}-v1.yaml").read_text(encoding="utf-8")
    text_v2 = source.replace("version: 1", "version: 2", 1)
    text_v2 = text_v2.replace(
        "          - id: recit_faits\n", NEW_QUESTION + "          - id: recit_faits\n", 1
    )
    assert "question_v2" in text_v2
    (directory / f"{MODEL}-v2.yaml").write_text(text_v2, encoding="utf-8")
    assert form_models.load_models(directory).created == [f"{MODEL} version 2"]


def test_the_chosen_version_is_kept_after_a_new_version_is_published(app, client, login, world, tmp_path):
    victim = make_user("victime@exemple.fr", kind=UserKind.VICTIM, full_name="Victime")
    case = with_cmi(world, at_case(world), days_ago=5)
    case.victim_id = victim.id
    db.session.commit()
    instruction.open_instruction(world.agent, case)
    instruction.choose_models(world.agent, case, employer_model=MODEL, victim_model=MODEL)
    publish_v2(tmp_path)  # after the choice, before the sending
    assert form_models.current_workflow(MODEL).model.version == 2
    instruction.send_questionnaires(world.agent, case)
    case = fresh(case)
    assert case.victim_model_version == 1 and case.employer_model_version == 1
    assert instruction.questionnaire_of(case, Party.VICTIM).model.version == 1

    # The victim starts from the case's page on the model's code: the draft is on the pinned version 1.
    login(victim)
    token = client.csrf("/mes-dossiers/")
    response = client.post(
        f"/demarches/{MODEL}/dossiers/{case.id}/victime/commencer", data={"csrf_token": token}
    )
    assert response.status_code == 303
    draft = db.session.scalar(select(Draft).where(Draft.case_id == case.id))
    assert draft.form_version == 1
    page = text(client.get(f"/demarches/brouillons/{draft.id}/etapes/recit"))
    assert "Décrivez ce qui s'est passé" in page and "Question ajoutée par la version 2" not in page

    # Another model than the chosen one: 404.
    with app.test_request_context(), pytest.raises(HTTPException) as refused:
        drafts.start_case_draft(victim, form_models.current_workflow("qr-at-victime"), case, Party.VICTIM)
    assert refused.value.code == 404

    # A case whose models are chosen now gets version 2.
    other = with_cmi(world, at_case(world, nom="Autre"), days_ago=5)
    instruction.open_instruction(world.agent, other)
    instruction.choose_models(world.agent, other, employer_model=MODEL, victim_model=MODEL)
    assert fresh(other).questionnaire_model("victime") == (MODEL, 2)


# --- moving the consultation ---------------------------------------------------------------------------


def reschedule_form(token: str, opening: date, decision_on: date, reason: str, edition: int) -> MultiDict:
    return MultiDict(
        [
            ("csrf_token", token),
            *[("opening", value) for value in parts(opening)],
            *[("decision_on", value) for value in parts(decision_on)],
            ("reason", reason),
            ("edition", str(edition)),
        ]
    )


def test_a_notified_consultation_is_moved_with_a_reason_and_one_new_letter(client, login, world):
    case = with_cmi(world, at_case(world), days_ago=5)
    with pytest.raises(instruction.StepRefused) as refused:
        scheduling.reschedule_consultation(
            world.agent, case, opening=local_today(), decision_on=local_today(), reason="x"
        )
    assert "Programmez d'abord la consultation" in refused.value.errors["etape"]
    open_and_send(world, case)
    lawful_schedule(world, case)
    case = fresh(case)
    before = {kind: calendar.effective(case, kind) for kind in scheduling.CONSULTATION_DATES}
    assert scheduling.schedule_edition(case) == 1
    opening = before[DateKind.CONSULTATION_OPENING] + timedelta(days=7)
    decision_on = opening + timedelta(days=14)

    login(world.agent)
    url = f"/cpam/qrpro/dossiers/{case.reference}"
    token = client.csrf(url)
    assert "Reprogrammer la consultation" in text(client.get(url))
    # The reason is mandatory: refused next to its field, nothing stored.
    response = client.post(
        f"{url}/consultation/nouvelles-dates", data=reschedule_form(token, opening, decision_on, "", 1)
    )
    assert response.status_code == 422 and "Indiquez le motif du changement de dates" in text(response)
    assert scheduling.schedule_edition(fresh(case)) == 1
    form = reschedule_form(token, opening, decision_on, "Dossier complété par une enquête", 1)
    assert client.post(f"{url}/consultation/nouvelles-dates", data=form).status_code == 303
    assert client.post(f"{url}/consultation/nouvelles-dates", data=form).status_code == 303  # the retry

    case = fresh(case)
    assert scheduling.schedule_edition(case) == 2
    assert calendar.dates_of(case)[DateKind.CONSULTATION_OPENING].notified_on == opening
    assert calendar.dates_of(case)[DateKind.DECISION_PLANNED].notified_on == decision_on
    rows = [
        (row.party, row.edition)
        for row in letters.letters_of(case)
        if row.letter_type == LetterType.INFORMATION_CONSULTATION
    ]
    assert sorted(rows) == [("employeur", 1), ("employeur", 2), ("victime", 1), ("victime", 2)]
    assert (
        db.session.scalar(
            select(func.count(Letter.id)).where(
                Letter.case_reference == case.reference, Letter.letter_type == "information_consultation"
            )
        )
        == 2
    )  # the earlier LUCIE letter stays, the new one is deposited once
    new_letter = letters.letter_of(case, LetterType.INFORMATION_CONSULTATION, Party.EMPLOYER)
    assert new_letter.edition == 2 and new_letter.title.startswith("Nouvelles dates de consultation")
    content = pdf_text(letters.content(new_letter))
    assert "Les dates de la consultation changent" in content
    assert french_day(before[DateKind.CONSULTATION_OPENING]) in content and french_day(opening) in content
    assert letters.has_information(case, Party.EMPLOYER) and letters.has_information(case, Party.VICTIM)
    # The timeline shows both schedules, the second with its reason.
    entries = timeline.timeline(case, Party.VICTIM)
    scheduled = [e for e in entries if e.label.startswith("Consultation du dossier")]
    assert [e.label for e in scheduled] == [
        EventKind.CONSULTATION_SCHEDULED.label,
        EventKind.CONSULTATION_RESCHEDULED.label,
    ]
    assert french_day(before[DateKind.CONSULTATION_OPENING], weekday=False) in scheduled[0].detail
    assert french_day(opening, weekday=False) in scheduled[1].detail
    assert "Dossier complété par une enquête" in scheduled[1].detail
    assert "Consultation du dossier reprogrammée" in text(client.get(url))


def test_a_rescheduling_that_breaks_the_law_is_refused_with_the_lawful_dates(world):
    case = with_cmi(world, at_case(world), days_ago=5)
    open_and_send(world, case)
    lawful_schedule(world, case)
    case = fresh(case)
    notified = calendar.effective(case, DateKind.CONSULTATION_OPENING)
    today = local_today()
    move = partial(scheduling.reschedule_consultation, world.agent, case, reason="Agent absent")
    # The new letter is deemed received in 15 days: an opening 20 days from now breaks the 10-day notice.
    with pytest.raises(instruction.StepRefused) as refused:
        move(opening=today + timedelta(days=20), decision_on=today + timedelta(days=40))
    message = refused.value.errors["opening"]
    assert (
        "au moins 10 jours francs" in message and "au plus tôt le" in message and "au plus tard le" in message
    )
    # A decision after D0 + 90 jours francs.
    with pytest.raises(instruction.StepRefused) as refused:
        move(opening=notified + timedelta(days=2), decision_on=case.d0 + timedelta(days=140))
    assert "au plus tard le" in refused.value.errors["decision_on"]
    # The same dates again.
    with pytest.raises(instruction.StepRefused) as refused:
        move(opening=notified, decision_on=calendar.effective(case, DateKind.DECISION_PLANNED))
    assert "déjà notifiées" in refused.value.errors["opening"]
    case = fresh(case)
    assert calendar.effective(case, DateKind.CONSULTATION_OPENING) == notified
    assert scheduling.schedule_edition(case) == 1
    # After the decision: refused.
    case_decision.record_decision(
        world.agent, case, decision="reconnu", now=datetime.now(UTC) + timedelta(days=50)
    )
    with pytest.raises(instruction.StepRefused) as refused:
        move(opening=notified + timedelta(days=2), decision_on=notified + timedelta(days=20))
    assert "La décision est rendue" in refused.value.errors["etape"]


# --- the declaration's status ---------------------------------------------------------------------------


def test_the_decision_sets_the_declarations_status_seen_by_the_employer(client, login, world):
    recognised = with_cmi(world, at_case(world), days_ago=5)
    refused_case = with_cmi(world, at_case(world, nom="Refusé"), days_ago=5)
    later = datetime.now(UTC) + timedelta(days=50)
    for case, decision, reasons in ((recognised, "reconnu", ""), (refused_case, "refuse", "Non établi.")):
        assert declaration_of(case).status == Status.TRANSMISE
        open_and_send(world, case)
        assert declaration_of(case).status == Status.EN_INSTRUCTION
        # While QR Pro instructs, the declaration's screen no longer takes a decision: QR Pro's is it.
        with pytest.raises(TransitionRefused, match="ouverte dans QR Pro"):
            dat_service.change_status(world.agent, case.reference, Status.PRISE_EN_CHARGE)
        if case is recognised:  # the declaration's screen says why, and offers no decision
            login(world.agent)
            page = text(client.get(f"/cpam/declarations/{case.reference}"))
            assert f"ouverte dans QR Pro (dossier {case.reference})" in page
            assert 'value="prise_en_charge"' not in page
            client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
        lawful_schedule(world, case)
        case_decision.record_decision(world.agent, case, decision=decision, reasons=reasons, now=later)
    assert declaration_of(recognised).status == Status.PRISE_EN_CHARGE
    assert declaration_of(refused_case).status == Status.REFUS
    assert [event.to_status for event in declaration_of(recognised).events if event.kind == "statut"] == [
        Status.EN_INSTRUCTION,
        Status.PRISE_EN_CHARGE,
    ]
    # The employer's DAT list and the declaration's page.
    login(world.employer)
    listing = text(client.get("/dat/"))
    assert recognised.reference in listing and refused_case.reference in listing
    assert "Prise en charge" in listing and "Refus de prise en charge" in listing
    assert "Prise en charge" in text(client.get(f"/dat/declarations/{recognised.reference}"))
    assert "Refus de prise en charge" in text(client.get(f"/dat/declarations/{refused_case.reference}"))


def test_an_instruction_cannot_open_on_a_declaration_already_decided(world):
    case = with_cmi(world, at_case(world), days_ago=30)
    dat_service.change_status(world.agent, case.reference, Status.PRISE_EN_CHARGE)
    with pytest.raises(instruction.StepRefused) as refused:
        instruction.open_instruction(world.agent, fresh(case))
    assert "déjà statué" in refused.value.errors["etape"]
    assert fresh(case).stage == Stage.A_OUVRIR


# --- the work queue by keyset ----------------------------------------------------------------------------


def seed_queue(world, count: int) -> list[int]:
    """``count`` open cases in the agent's caisse on four dates (many ties), some without a next date,
    some decided, some in another caisse; returns the ids in queue order."""
    today = local_today()
    rows = []
    for n in range(count + 12):
        rows.append(
            {
                "reference": f"MP-2026-{900000 + n}",
                "kind": "MP",
                "establishment_id": world.metz.id,
                "victim_name": f"VICTIME {n}",
                "caisse_id": world.cpam_75.id if n >= count + 6 else world.cpam_57.id,
                "stage": "decide" if count <= n < count + 6 else "questionnaires",
                "victim_departement": "57",
                "next_due_on": None if count <= n < count + 6 else today + timedelta(days=(n * 7) % 4),
            }
        )
    db.session.execute(insert(Case), rows)
    db.session.commit()
    return list(
        db.session.scalars(
            select(Case.id)
            .where(Case.caisse_id == world.cpam_57.id, Case.next_due_on.is_not(None))
            .order_by(Case.next_due_on, Case.id)
        )
    )


def test_keyset_pages_walk_the_queue_without_duplicate_or_gap_through_ties(world):
    expected = seed_queue(world, 40)
    assert len(expected) == 40
    seen, page = [], cases.queue(world.agent, size=7)
    assert page.first_position == 1 and page.previous is None and page.pages == 6
    while True:
        assert page.first_position == len(seen) + 1 and page.total == 40
        seen += [case.id for case in page.items]
        if page.next is None:
            break
        page = cases.queue(world.agent, after=page.next, size=7)
    assert seen == expected and page.last_position == 40 and page.page == page.pages
    # Backwards from the last page.
    back, page = [], cases.queue(world.agent, last=True, size=7)
    assert [case.id for case in page.items] == expected[-7:] and page.first_position == 34
    while True:
        back = [case.id for case in page.items] + back
        if page.previous is None:
            break
        page = cases.queue(world.agent, before=page.previous, size=7)
    # The first page is shown whole (7 cases), so it may repeat what the page after it showed: never a gap.
    assert list(dict.fromkeys(back)) == expected and page.first_position == 1
    # A malformed cursor gives the first page.
    assert [c.id for c in cases.queue(world.agent, after="2026-13-45.x", size=7).items] == expected[:7]


def test_the_queue_pages_through_links_without_javascript(client, login, world):
    expected = seed_queue(world, 30)
    login(world.agent)
    page = text(client.get("/cpam/qrpro/"))
    assert "30 dossiers à traiter. Dossiers 1 à 25 (page 1 sur 2)." in page
    assert "Dossiers précédents" not in page and "Dossiers suivants" in page
    cursor = cases.encode_cursor(db.session.get(Case, expected[24]))
    assert f"?apres={cursor}" in page
    second = text(client.get(f"/cpam/qrpro/?apres={cursor}"))
    assert "Dossiers 26 à 30 (page 2 sur 2)." in second and "Dossiers suivants" not in second
    assert db.session.get(Case, expected[25]).reference in second
    assert db.session.get(Case, expected[24]).reference not in second
    assert "Dossiers précédents" in second and "Premiers dossiers" in second
    # « Derniers dossiers »: the last 25 of the queue.
    assert "Dossiers 6 à 30 (page 2 sur 2)." in text(client.get("/cpam/qrpro/?fin=1"))


# --- migration 0022 --------------------------------------------------------------------------------------


def test_the_migration_pins_existing_cases_and_keeps_one_letter_per_step_when_downgraded(
    app, world, tmp_path
):
    """Down to 0020 and up again: a case's party with a draft is pinned to the draft's version, one without
    to the highest version published; the later editions of a moved consultation's letter cannot fit the
    old key and go with the downgrade (their LUCIE letter stays in the mailbox)."""
    from flask_migrate import downgrade, upgrade

    victim = make_user("victime@exemple.fr", kind=UserKind.VICTIM, full_name="Victime")
    pinned = with_cmi(world, at_case(world), days_ago=5)
    pinned.victim_id = victim.id
    db.session.commit()
    open_and_send(world, pinned)
    with app.test_request_context():
        drafts.start_case_draft(
            victim, instruction.questionnaire_of(pinned, Party.VICTIM), pinned, Party.VICTIM
        )
    publish_v2(tmp_path)
    moved = with_cmi(world, at_case(world, nom="Deplace"), days_ago=5)
    open_and_send(world, moved)
    lawful_schedule(world, moved)
    moved = fresh(moved)
    opening = calendar.effective(moved, DateKind.CONSULTATION_OPENING) + timedelta(days=3)
    scheduling.reschedule_consultation(
        world.agent, moved, opening=opening, decision_on=opening + timedelta(days=14), reason="Congés"
    )
    ids = (pinned.id, moved.id)
    db.session.remove()
    db.engine.dispose()

    downgrade(revision="0020")
    db.engine.dispose()
    upgrade()
    pinned, moved = (db.session.get(Case, case_id) for case_id in ids)
    assert pinned.questionnaire_model("victime") == (MODEL, 1)  # the version of the victim's draft
    assert pinned.questionnaire_model("employeur") == (MODEL, 2)  # no draft: the highest published
    rows = db.session.scalars(
        select(CaseLetter).where(
            CaseLetter.case_id == moved.id, CaseLetter.letter_type == "information_consultation"
        )
    ).all()
    assert sorted((row.party, row.edition) for row in rows) == [("employeur", 1), ("victime", 1)]
    assert (
        db.session.scalar(
            select(func.count(Letter.id)).where(
                Letter.case_reference == moved.reference, Letter.letter_type == "information_consultation"
            )
        )
        == 2
    )
