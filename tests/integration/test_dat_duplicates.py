"""Two declarations of the same accident (issue 10): same victim NIR, establishment, accident date and time.
« Vérifier vos réponses » warns, naming the declaration already sent or a colleague's draft (whose, last saved
when), and sending needs an explicit confirmation — checked again by the submit service, so a declaration sent
meanwhile cannot slip through. The CPAM's inbox and the declaration pages flag « doublon possible »
with a link to the other one."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Declaration, Draft, Service, Submission
from app.services import dat as dat_service
from app.workflows.engine import SubmitRefused
from tests.dat_support import DatClient, fresh_draft, make_declaration, valid_answers
from tests.factories import make_user

CONFIRM = "Je confirme qu'il s'agit d'un autre accident"


def text(response) -> str:
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


@pytest.fixture
def first(world):
    """The accident of valid_answers() already declared by the employer."""
    return make_declaration(world.employer, world.metz)


def test_check_answers_warns_and_names_the_declaration_already_sent(client, world, declarant, first):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)
    page = text(client.get(f"/demarches/brouillons/{draft_id}/verifier"))
    assert "Cet accident semble déjà déclaré" in page
    assert f'href="/dat/declarations/{first}"' in page and f">{first}</a>" in page
    assert CONFIRM in page


def test_sending_a_duplicate_needs_the_confirmation(client, world, declarant, first):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)
    refused = declarant.submit(draft_id)
    assert refused.status_code == 422
    page = text(refused)
    assert "Erreur :" in page and "Il y a un problème" in page
    assert "cochez la case pour confirmer qu'il s'agit d'un autre accident" in page
    assert db.session.scalar(select(func.count(Declaration.id))) == 1
    sent = declarant.submit(draft_id, confirme_doublon="y")
    assert sent.status_code == 303
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
    assert submission.data["declaration"]["confirme_doublon"] is True
    assert submission.data["declaration"]["doublons"] == [first]


def test_a_different_accident_needs_no_confirmation(client, world, declarant, first):
    other_time = valid_answers()
    other_time["accident"]["heure_accident"] = "9:20"
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, other_time)
    assert CONFIRM not in text(client.get(f"/demarches/brouillons/{draft_id}/verifier"))
    assert declarant.submit(draft_id).status_code == 303
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
    assert "confirme_doublon" not in submission.data["declaration"]


def test_a_declaration_sent_after_the_page_was_shown_is_caught_on_submit(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)
    assert "Cet accident semble déjà déclaré" not in text(
        client.get(f"/demarches/brouillons/{draft_id}/verifier")
    )
    # A colleague was quicker (and confirmed, as this draft was a duplicate for them).
    reference = make_declaration(world.employer, world.metz, declaration={"confirme_doublon": "y"})
    refused = declarant.submit(draft_id)
    assert refused.status_code == 422 and reference in text(refused)
    assert fresh_draft(draft_id).submitted_at is None


def test_the_submission_transaction_checks_again_after_taking_its_number(app, world, first):
    """The last check runs in the submission's transaction, after the reference counter (which makes
    concurrent submissions wait for each other): a duplicate committed meanwhile refuses it."""
    declarant_draft = Draft(
        workflow="dat",
        establishment_id=world.metz.id,
        created_by_id=world.employer.id,
        updated_by_id=world.employer.id,
        answers=valid_answers(),
        valid_steps=[],
        current_step="employeur",
    )
    db.session.add(declarant_draft)
    db.session.flush()
    unconfirmed = Submission(data={"declaration": {}})
    with pytest.raises(SubmitRefused):
        dat_service.refuse_unconfirmed_duplicate(unconfirmed, declarant_draft)
    confirmed = Submission(data={"declaration": {"confirme_doublon": True}})
    dat_service.refuse_unconfirmed_duplicate(confirmed, declarant_draft)
    db.session.rollback()


def test_a_colleague_s_draft_is_named_with_its_author_and_last_save(client, world, declarant):
    colleague = make_user(
        "paie@batiments-est.fr",
        company=world.company,
        grants=[(world.metz, Service.DAT)],
        full_name="Léa Roth",
    )
    db.session.commit()
    other = DatClient(client.application.test_client(), colleague)
    theirs = other.start(world.metz)
    other.fill(theirs, until="lesions")
    mine = declarant.start(world.metz)
    declarant.fill(mine)
    page = text(client.get(f"/demarches/brouillons/{mine}/verifier"))
    assert "Un brouillon de déclaration de cet accident, commencé par Léa Roth" in page
    assert "enregistré pour la dernière fois par Léa Roth le" in page
    assert f'href="/demarches/brouillons/{theirs}"' in page
    assert declarant.submit(mine).status_code == 422
    assert declarant.submit(mine, confirme_doublon="y").status_code == 303


def test_a_draft_the_user_may_not_see_is_only_said_to_exist(app, world):
    from app.workflows.engine import StepContext

    hidden = Draft(
        workflow="dat",
        establishment_id=world.metz.id,
        created_by_id=world.employer.id,
        updated_by_id=world.employer.id,
        answers=valid_answers(),
        valid_steps=[],
        current_step="employeur",
    )
    db.session.add(hidden)
    db.session.commit()
    # world.no_dat holds no DAT on Metz: the draft is counted, never named.
    context = StepContext(answers=valid_answers(), establishment=world.metz, user=world.no_dat)
    [duplicate] = dat_service.duplicates_for(context)
    assert duplicate.kind == "draft" and duplicate.draft is None
    context = StepContext(answers=valid_answers(), establishment=world.metz, user=world.employer)
    assert dat_service.duplicates_for(context)[0].draft.id == hidden.id


def test_the_cpam_inbox_and_the_declaration_pages_flag_a_possible_duplicate(client, world, first):
    second = make_declaration(world.employer, world.metz, declaration={"confirme_doublon": "y"})
    other_victim = make_declaration(world.employer, world.metz, valid_answers(nom="Autre"))
    agent = DatClient(client, world.agent)
    inbox = text(agent.client.get("/cpam/declarations"))
    assert inbox.count("Doublon possible") == 2
    assert f'href="/cpam/declarations/{second}"><span class="govuk-visually-hidden">{first}' in inbox
    page = text(agent.client.get(f"/cpam/declarations/{first}"))
    assert "Doublon possible" in page and f'href="/cpam/declarations/{second}"' in page
    assert "Doublon possible" not in text(agent.client.get(f"/cpam/declarations/{other_victim}"))
    employer = DatClient(client.application.test_client(), world.employer)
    page = text(employer.client.get(f"/dat/declarations/{second}"))
    assert "Doublon possible" in page and f'href="/dat/declarations/{first}"' in page
