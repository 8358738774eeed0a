"""The workflow engine through the web (issue 2, item 5), driven with the "Signalement d'un
changement de coordonnées" workflow: start, steps and conditional path, save for later, autosave,
resume, check answers, submit once, conflicts, authorization and hostile input."""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AuditEvent, Draft, Service, Submission, UserKind
from tests.factories import PASSWORD, make_caisse, make_company, make_establishment, make_user

VERSION_RE = re.compile(r'name="version" value="(\d+)"')
START = "/demarches/coordonnees/commencer"
TODAY = date.today()


def draft_url(draft_id: int, tail: str = "") -> str:
    return f"/demarches/brouillons/{draft_id}{tail}"


def step_url(draft_id: int, step: str) -> str:
    return draft_url(draft_id, f"/etapes/{step}")


def fresh(draft_id: int) -> Draft:
    db.session.expire_all()
    return db.session.get(Draft, draft_id)


def date_parts(value: date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


class Browser:
    """A signed-in test client that fills the workflow like a person would (no JavaScript)."""

    def __init__(self, client, user):
        self.client = client
        token = client.csrf("/connexion")
        response = client.post(
            "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, response.status_code
        self.token = client.csrf("/demarches/")

    def start(self, establishment) -> int:
        response = self.client.post(
            START, data={"csrf_token": self.token, "establishment": str(establishment.id)}
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        return int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))

    def version(self, draft_id: int, step: str) -> int:
        body = self.client.get(step_url(draft_id, step)).get_data(as_text=True)
        return int(VERSION_RE.search(body).group(1))

    def post_step(self, draft_id, step, data, *, action="continue", version=None, headers=None, token=True):
        if version is None:
            version = fresh(draft_id).version
        form = {"action": action, "version": str(version), **data}
        if token:
            form["csrf_token"] = self.token
        return self.client.post(step_url(draft_id, step), data=form, headers=headers or {})

    def autosave(self, draft_id, step, data, *, version=None):
        if version is None:
            version = fresh(draft_id).version
        return self.client.post(
            step_url(draft_id, step) + "/enregistrement-automatique",
            data={"csrf_token": self.token, "version": str(version), **data},
            headers={"HX-Request": "true"},
        )

    def fill_address_path(self, draft_id):
        for step, data in [
            ("nature", {"nature": "adresse"}),
            ("adresse", {"voie": "12 rue des Clercs", "code_postal": "57000", "commune": "Metz"}),
            ("date_effet", {"date_effet": date_parts(TODAY)}),
            ("motif", {"motif": "Déménagement des bureaux\nau 1er étage."}),
        ]:
            response = self.post_step(draft_id, step, data)
            assert response.status_code == 303, response.get_data(as_text=True)

    def submit(self, draft_id, version=None):
        if version is None:
            version = fresh(draft_id).version
        return self.client.post(
            draft_url(draft_id, "/envoyer"), data={"csrf_token": self.token, "version": str(version)}
        )


@pytest.fixture
def company(app):
    return make_company("Transports Lorrains")


@pytest.fixture
def establishment(company):
    return make_establishment(company, departement="57", name="Dépôt de Metz", city="Metz")


@pytest.fixture
def employer(company, establishment):
    user = make_user("camille@exemple.fr", company=company, grants=[(establishment, Service.COMPTE)])
    db.session.commit()
    return user


@pytest.fixture
def colleague(company, establishment):
    user = make_user(
        "dominique@exemple.fr",
        company=company,
        full_name="Dominique Petit",
        grants=[(establishment, Service.COMPTE)],
    )
    db.session.commit()
    return user


@pytest.fixture
def signed_in(client, employer):
    return Browser(client, employer)


@pytest.fixture
def other_signed_in(app, colleague):
    """A second person (or a second tab) on the same establishment."""
    return Browser(app.test_client(), colleague)


# -- starting -------------------------------------------------------------------------------------


def test_start_offers_the_establishments_where_the_user_holds_the_service(signed_in, company, employer):
    other = make_establishment(company, departement="67", name="Agence de Strasbourg")
    db.session.commit()
    body = signed_in.client.get(START).get_data(as_text=True)
    assert "Dépôt de Metz" in body
    assert "Agence de Strasbourg" not in body  # no Compte AT/MP habilitation there
    response = signed_in.client.post(
        START, data={"csrf_token": signed_in.token, "establishment": str(other.id)}
    )
    assert response.status_code == 422
    assert "Sélectionnez une des réponses proposées" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Draft.id))) == 0


def test_a_new_draft_opens_on_step_1_of_the_path(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    body = signed_in.client.get(step_url(draft_id, "nature")).get_data(as_text=True)
    assert "Étape 1 sur 3" in body  # the address or contact step joins the path once chosen
    assert "Quelles coordonnées de l&#39;établissement changent ?" in body
    assert "Enregistrer et reprendre plus tard" in body
    draft = fresh(draft_id)
    assert draft.establishment_id == establishment.id and draft.current_step == "nature"


# -- steps, path, back --------------------------------------------------------------------------


def test_a_valid_step_leads_to_the_next_step_of_the_path(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    response = signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    assert response.status_code == 303
    assert response.headers["Location"] == step_url(draft_id, "adresse")
    body = signed_in.client.get(step_url(draft_id, "adresse")).get_data(as_text=True)
    assert "Étape 2 sur 4" in body and "Nouvelle adresse" in body
    assert f'href="{step_url(draft_id, "nature")}"' in body  # back link to the previous step
    assert fresh(draft_id).valid_steps == ["nature"]


def test_a_conditional_step_appears_and_disappears_with_the_answers(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    assert signed_in.client.get(step_url(draft_id, "contact")).status_code == 302  # not on the path

    response = signed_in.post_step(draft_id, "nature", {"nature": "contact"})
    assert response.headers["Location"] == step_url(draft_id, "contact")
    assert signed_in.client.get(step_url(draft_id, "contact")).status_code == 200
    response = signed_in.client.get(step_url(draft_id, "adresse"))
    assert response.status_code == 302
    assert response.headers["Location"] == step_url(draft_id, "contact")


def test_a_step_beyond_the_first_unanswered_one_redirects_back_to_it(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    for later in ("date_effet", "motif"):
        response = signed_in.client.get(step_url(draft_id, later))
        assert response.status_code == 302
        assert response.headers["Location"] == step_url(draft_id, "adresse")
    response = signed_in.client.get(draft_url(draft_id, "/verifier"))
    assert response.headers["Location"] == step_url(draft_id, "adresse")


def test_posting_a_step_beyond_the_first_unanswered_one_saves_nothing(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    response = signed_in.post_step(draft_id, "motif", {"motif": "Sauté"})
    assert response.status_code == 303
    assert response.headers["Location"] == step_url(draft_id, "nature")
    assert "motif" not in fresh(draft_id).answers


def test_an_invalid_step_answers_422_with_the_error_summary_and_french_messages(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    response = signed_in.post_step(
        draft_id, "adresse", {"voie": "", "code_postal": "5700", "commune": "Metz"}
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<title>Erreur : Nouvelle adresse" in body
    assert "Il y a un problème" in body
    assert '<a href="#voie">Saisissez le numéro et la voie</a>' in body
    assert '<a href="#code_postal">Saisissez un code postal à 5 chiffres, par exemple 57000</a>' in body
    assert '<span class="govuk-visually-hidden">Erreur\u00a0:</span> Saisissez le numéro et la voie' in body
    assert 'value="Metz"' in body  # what was typed is shown again
    assert "This field is required" not in body and "Not a valid" not in body
    draft = fresh(draft_id)
    assert draft.answers["adresse"]["code_postal"] == "5700"  # kept, but not valid
    assert "adresse" not in draft.valid_steps


def test_an_unanswered_radio_and_a_forged_choice_get_french_messages(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    body = signed_in.post_step(draft_id, "nature", {}).get_data(as_text=True)
    assert '<a href="#nature">Sélectionnez les coordonnées qui changent</a>' in body
    response = signed_in.post_step(draft_id, "nature", {"nature": "tout"})
    assert response.status_code == 422
    assert "Sélectionnez une des réponses proposées" in response.get_data(as_text=True)


# -- save for later, autosave, resume ----------------------------------------------------------------


def test_save_for_later_keeps_invalid_answers_and_lists_the_draft(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    response = signed_in.post_step(
        draft_id, "adresse", {"voie": "3 place d'Armes", "code_postal": "abc", "commune": ""}, action="later"
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/demarches/"
    body = signed_in.client.get("/demarches/").get_data(as_text=True)
    assert "Votre brouillon est enregistré" in body and "seront à corriger" in body
    assert "Signalement d&#39;un changement de coordonnées" in body
    assert "1 étape terminée sur 4" in body
    assert "par Camille Martin" in body
    assert "à « Nouvelle adresse »" in body
    draft = fresh(draft_id)
    assert draft.answers["adresse"] == {"voie": "3 place d'Armes", "code_postal": "abc", "commune": ""}
    assert draft.current_step == "adresse"
    body = signed_in.client.get(step_url(draft_id, "adresse")).get_data(as_text=True)
    assert 'value="abc"' in body


def test_resume_goes_back_to_the_step_left(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    signed_in.post_step(
        draft_id, "adresse", {"voie": "1 rue Serpenoise", "code_postal": "57000", "commune": "Metz"}
    )
    signed_in.post_step(draft_id, "date_effet", {"date_effet": date_parts(TODAY)}, action="later")
    response = signed_in.client.get(draft_url(draft_id))
    assert response.status_code == 302
    assert response.headers["Location"] == step_url(draft_id, "date_effet")


def test_a_colleague_habilitated_on_the_establishment_resumes_the_draft(
    signed_in, other_signed_in, establishment
):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "contact"}, action="later")
    response = other_signed_in.client.get(draft_url(draft_id))
    assert response.headers["Location"] == step_url(draft_id, "nature")
    body = other_signed_in.client.get("/demarches/").get_data(as_text=True)
    assert "par Camille Martin" in body
    response = other_signed_in.post_step(draft_id, "nature", {"nature": "contact"})
    assert response.headers["Location"] == step_url(draft_id, "contact")
    assert fresh(draft_id).updated_by.email == "dominique@exemple.fr"


def test_autosave_stores_invalid_raw_answers_and_bumps_the_version(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    before = fresh(draft_id).version
    response = signed_in.autosave(draft_id, "adresse", {"voie": "4 rue", "code_postal": "57"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert re.search(r"Brouillon enregistré à \d\d\sh\s\d\d", body)
    assert f'name="version" value="{before + 1}" id="draft-version" hx-swap-oob="true"' in body
    draft = fresh(draft_id)
    assert draft.version == before + 1
    assert draft.answers["adresse"] == {"voie": "4 rue", "code_postal": "57"}
    assert draft.current_step == "adresse"
    assert "adresse" not in draft.valid_steps


def test_autosave_making_a_valid_step_invalid_marks_it_incomplete(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    signed_in.autosave(draft_id, "nature", {})
    assert fresh(draft_id).valid_steps == []
    assert signed_in.client.get(step_url(draft_id, "adresse")).headers["Location"] == step_url(
        draft_id, "nature"
    )


# -- no lost update -----------------------------------------------------------------------------------


def test_a_stale_save_gets_a_conflict_page_with_both_versions_and_overwrites_nothing(
    signed_in, other_signed_in, establishment
):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    stale = signed_in.version(draft_id, "adresse")  # tab 1 opens the address step
    other_signed_in.post_step(
        draft_id,
        "adresse",
        {"voie": "8 avenue Foch", "code_postal": "57000", "commune": "Metz"},
        action="later",
    )
    stored = fresh(draft_id)
    response = signed_in.post_step(
        draft_id,
        "adresse",
        {"voie": "1 rue du Pont", "code_postal": "57050", "commune": "Le Ban-Saint-Martin"},
        version=stale,
    )
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Ces réponses ont été modifiées entre-temps" in body
    assert "Dominique Petit" in body
    assert "8 avenue Foch" in body  # what is stored now
    assert "1 rue du Pont" in body and "Le Ban-Saint-Martin" in body  # what the user typed
    assert "Remplacer par ma saisie" in body and "Garder la version enregistrée" in body
    assert f'name="version" value="{stored.version}"' in body
    assert 'name="voie" value="1 rue du Pont"' in body  # kept for the re-post
    after = fresh(draft_id)
    assert after.version == stored.version
    assert after.answers["adresse"]["voie"] == "8 avenue Foch"


def test_replacing_with_my_input_after_a_conflict_saves_it(signed_in, other_signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    stale = signed_in.version(draft_id, "adresse")
    other_signed_in.autosave(draft_id, "adresse", {"voie": "8 avenue Foch"})
    mine = {"voie": "1 rue du Pont", "code_postal": "57050", "commune": "Longeville"}
    body = signed_in.post_step(draft_id, "adresse", mine, version=stale).get_data(as_text=True)
    current = int(re.search(r'name="version" value="(\d+)"', body).group(1))
    response = signed_in.post_step(draft_id, "adresse", mine, version=current)  # "Remplacer par ma saisie"
    assert response.status_code == 303
    assert response.headers["Location"] == step_url(draft_id, "date_effet")
    assert fresh(draft_id).answers["adresse"] == mine


def test_a_stale_autosave_warns_and_does_not_overwrite(signed_in, other_signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    stale = fresh(draft_id).version
    other_signed_in.autosave(draft_id, "adresse", {"voie": "8 avenue Foch"})
    response = signed_in.autosave(draft_id, "adresse", {"voie": "1 rue du Pont"}, version=stale)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Attention : Dominique Petit a enregistré cette démarche" in body
    assert "hx-swap-oob" not in body  # the page keeps its stale version: the next save shows the conflict
    assert fresh(draft_id).answers["adresse"] == {"voie": "8 avenue Foch"}


def test_a_save_without_a_version_is_refused(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    response = signed_in.client.post(
        step_url(draft_id, "nature"),
        data={"csrf_token": signed_in.token, "nature": "adresse", "version": "x"},
    )
    assert response.status_code == 400
    assert fresh(draft_id).answers == {}


# -- deleting a draft ------------------------------------------------------------------------------------


def discard(browser, draft_id, version=None, token=True):
    if version is None:
        version = fresh(draft_id).version
    data = {"version": str(version)}
    if token:
        data["csrf_token"] = browser.token
    return browser.client.post(draft_url(draft_id, "/supprimer"), data=data)


def test_the_delete_page_names_the_draft_and_asks_for_confirmation(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    assert f'href="{draft_url(draft_id, "/supprimer")}"' in signed_in.client.get("/demarches/").get_data(
        as_text=True
    )
    assert "Supprimer ce brouillon" in signed_in.client.get(step_url(draft_id, "adresse")).get_data(
        as_text=True
    )
    body = signed_in.client.get(draft_url(draft_id, "/supprimer")).get_data(as_text=True)
    assert "Supprimer ce brouillon ?" in body
    assert "Dépôt de Metz" in body and establishment.siret in body
    assert "1 étape terminée sur 4" in body
    assert "Les réponses de ce brouillon seront effacées" in body
    assert f'name="version" value="{fresh(draft_id).version}"' in body
    assert fresh(draft_id).discarded_at is None  # the page itself deletes nothing


def test_deleting_erases_the_answers_keeps_who_and_when_and_lists_it_no_more(
    signed_in, establishment, employer
):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    signed_in.post_step(draft_id, "adresse", {"voie": "12 rue des Clercs"}, action="later")
    response = discard(signed_in, draft_id)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demarches/"
    listing = signed_in.client.get("/demarches/").get_data(as_text=True)
    assert "a été supprimé" in listing
    assert "Aucun brouillon en cours" in listing
    draft = fresh(draft_id)
    assert draft.answers == {} and draft.valid_steps == []
    assert draft.discarded_by_id == employer.id and draft.discarded_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "draft.discard")).one()
    assert (event.object_id, event.user_id) == (str(draft_id), employer.id)
    assert event.details["steps_answered"] == 2


def test_a_deleted_draft_tells_a_stale_tab_who_deleted_it(signed_in, other_signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    stale = fresh(draft_id).version
    assert discard(other_signed_in, draft_id).status_code == 303

    page = signed_in.client.get(step_url(draft_id, "adresse"))
    assert page.status_code == 410
    assert "Dominique Petit a supprimé ce brouillon (Dépôt de Metz) le" in page.get_data(as_text=True)

    saved = signed_in.post_step(draft_id, "adresse", {"voie": "1 rue du Pont"}, version=stale)
    assert saved.status_code == 410
    assert "Ce que vous venez de saisir n'a pas été enregistré." in saved.get_data(as_text=True)

    htmx = signed_in.post_step(
        draft_id,
        "adresse",
        {"voie": "1 rue du Pont"},
        version=stale,
        headers={"HX-Request": "true", "HX-Target": "workflow-step"},
    )
    assert htmx.status_code == 409  # swapped in place of the step
    assert 'id="workflow-step"' in htmx.get_data(as_text=True)

    autosave = signed_in.autosave(draft_id, "adresse", {"voie": "1 rue du Pont"}, version=stale)
    assert autosave.status_code == 409
    assert "Attention : Dominique Petit a supprimé ce brouillon le" in autosave.get_data(as_text=True)

    for url in (draft_url(draft_id), draft_url(draft_id, "/verifier")):
        assert signed_in.client.get(url).status_code == 410
    assert signed_in.submit(draft_id, version=stale).status_code == 410
    assert fresh(draft_id).answers == {}
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0

    again = discard(signed_in, draft_id, version=stale)  # a second click
    assert again.status_code == 303 and again.headers["Location"] == "/demarches/"
    assert "Ce brouillon a déjà été supprimé." in signed_in.client.get("/demarches/").get_data(as_text=True)


def test_a_draft_saved_since_the_delete_page_opened_is_not_deleted(signed_in, other_signed_in, establishment):
    draft_id = signed_in.start(establishment)
    stale = fresh(draft_id).version
    other_signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    response = discard(signed_in, draft_id, version=stale)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Dominique Petit a enregistré ce brouillon le" in body and "Il n'a pas été supprimé" in body
    assert f'name="version" value="{fresh(draft_id).version}"' in body
    assert fresh(draft_id).discarded_at is None
    assert fresh(draft_id).answers["nature"] == {"nature": "adresse"}


def test_a_submitted_demarche_cannot_be_deleted(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    signed_in.submit(draft_id)
    response = discard(signed_in, draft_id)
    assert response.status_code == 303
    assert response.headers["Location"] == draft_url(draft_id, "/confirmation")
    page = signed_in.client.get(draft_url(draft_id, "/supprimer"))
    assert page.status_code == 303
    assert fresh(draft_id).discarded_at is None and fresh(draft_id).answers


def test_deleting_needs_the_csrf_token_and_a_version(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    assert discard(signed_in, draft_id, token=False).status_code == 400
    assert discard(signed_in, draft_id, version="x").status_code == 400
    assert fresh(draft_id).discarded_at is None


# -- check answers, submit ------------------------------------------------------------------------------


def test_check_answers_lists_only_the_answers_on_the_current_path(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    # Switch to a contact change: the address answers stay in the draft but leave the path.
    signed_in.post_step(draft_id, "nature", {"nature": "contact"})
    signed_in.post_step(
        draft_id,
        "contact",
        {"nom": "Alex Durand", "courriel": "alex.durand@exemple.fr"},
    )
    response = signed_in.client.get(draft_url(draft_id, "/verifier"))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Vérifier vos réponses" in body
    assert "Alex Durand" in body and "Le contact pour les questions AT/MP" in body
    assert "12 rue des Clercs" not in body
    assert "Le changement" in body and "Précisions" in body  # sections
    assert f"{step_url(draft_id, 'contact')}?retour=verifier" in body  # Modifier
    assert "Non renseigné" in body  # the optional phone number
    assert fresh(draft_id).answers["adresse"]["voie"] == "12 rue des Clercs"


def test_modifier_from_check_answers_comes_back_to_it(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    body = signed_in.client.get(step_url(draft_id, "motif") + "?retour=verifier").get_data(as_text=True)
    assert 'name="retour" value="verifier"' in body
    response = signed_in.post_step(draft_id, "motif", {"motif": "Nouveaux locaux", "retour": "verifier"})
    assert response.headers["Location"] == draft_url(draft_id, "/verifier")


def test_submit_stores_an_immutable_submission_with_reference_timestamp_and_hash(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    response = signed_in.submit(draft_id)
    assert response.status_code == 303
    assert response.headers["Location"] == draft_url(draft_id, "/confirmation")
    submission = db.session.scalar(select(Submission))
    assert submission.reference == f"COORD-{TODAY.year}-000001"
    assert submission.data["answers"] == {
        "nature": {"nature": "adresse"},
        "adresse": {"voie": "12 rue des Clercs", "code_postal": "57000", "commune": "Metz"},
        "date_effet": {"date_effet": TODAY.isoformat()},
        "motif": {"motif": "Déménagement des bureaux\nau 1er étage."},
    }
    assert submission.data["establishment"]["siret"] == establishment.siret
    canonical = json.dumps(
        submission.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert submission.sha256 == hashlib.sha256(canonical).hexdigest()
    body = signed_in.client.get(draft_url(draft_id, "/confirmation")).get_data(as_text=True)
    assert "Demande envoyée" in body and f"<strong>{submission.reference}</strong>" in body
    assert f"<code>{submission.sha256}</code>" in body
    assert "govuk-panel" in body


def test_a_submitted_draft_can_no_longer_be_edited(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    signed_in.submit(draft_id)
    confirmation = draft_url(draft_id, "/confirmation")
    assert signed_in.client.get(step_url(draft_id, "motif")).headers["Location"] == confirmation
    assert signed_in.client.get(draft_url(draft_id)).headers["Location"] == confirmation
    response = signed_in.post_step(draft_id, "motif", {"motif": "Changé après envoi"})
    assert response.headers["Location"] == confirmation
    response = signed_in.autosave(draft_id, "motif", {"motif": "Changé après envoi"})
    assert response.status_code == 409
    assert fresh(draft_id).answers["motif"]["motif"].startswith("Déménagement")
    assert "Aucun brouillon en cours" in signed_in.client.get("/demarches/").get_data(as_text=True)


def test_submitting_twice_creates_one_submission(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    version = fresh(draft_id).version
    first = signed_in.submit(draft_id, version)
    replay = signed_in.submit(draft_id, version)
    assert first.status_code == replay.status_code == 303
    assert replay.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count(Submission.id))) == 1


def test_references_are_numbered_per_prefix_and_year(signed_in, establishment):
    references = []
    for _ in range(2):
        draft_id = signed_in.start(establishment)
        signed_in.fill_address_path(draft_id)
        signed_in.submit(draft_id)
        references.append(
            db.session.scalar(select(Submission.reference).where(Submission.draft_id == draft_id))
        )
    assert references == [f"COORD-{TODAY.year}-000001", f"COORD-{TODAY.year}-000002"]


def test_submit_validates_every_step_again(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    # The stored answer is made invalid behind the engine's back (a rule changed, a tampered row).
    draft = fresh(draft_id)
    answers = {**draft.answers, "adresse": {**draft.answers["adresse"], "code_postal": "ABCDE"}}
    db.session.execute(update(Draft).where(Draft.id == draft_id).values(answers=answers))
    db.session.commit()
    response = signed_in.submit(draft_id)
    assert response.status_code == 303
    assert response.headers["Location"] == step_url(draft_id, "adresse") + "?erreurs=1"
    assert db.session.scalar(select(func.count(Submission.id))) == 0
    body = signed_in.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Une réponse n&#39;est plus valide" in body
    assert "Saisissez un code postal à 5 chiffres" in body
    assert "adresse" not in fresh(draft_id).valid_steps


def test_submit_from_a_stale_check_answers_page_asks_to_check_again(
    signed_in, other_signed_in, establishment
):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    stale = fresh(draft_id).version
    other_signed_in.post_step(draft_id, "motif", {"motif": "Autre motif", "retour": "verifier"})
    response = signed_in.submit(draft_id, stale)
    assert response.headers["Location"] == draft_url(draft_id, "/verifier")
    assert db.session.scalar(select(func.count(Submission.id))) == 0
    body = signed_in.client.get(draft_url(draft_id, "/verifier")).get_data(as_text=True)
    assert "modifiées par Dominique Petit" in body and "Autre motif" in body


# -- authorization ---------------------------------------------------------------------------------------


def draft_routes(draft_id):
    return [
        ("get", draft_url(draft_id)),
        ("get", step_url(draft_id, "nature")),
        ("post", step_url(draft_id, "nature")),
        ("post", step_url(draft_id, "nature") + "/enregistrement-automatique"),
        ("get", draft_url(draft_id, "/verifier")),
        ("post", draft_url(draft_id, "/envoyer")),
        ("get", draft_url(draft_id, "/confirmation")),
        ("get", draft_url(draft_id, "/supprimer")),
        ("post", draft_url(draft_id, "/supprimer")),
    ]


def test_a_user_of_another_company_gets_404_everywhere(signed_in, establishment, app):
    draft_id = signed_in.start(establishment)
    stranger_company = make_company("Autre Société")
    stranger_est = make_establishment(stranger_company)
    stranger = make_user(company=stranger_company, grants=[(stranger_est, "*")])
    db.session.commit()
    outsider = Browser(app.test_client(), stranger)
    for method, url in draft_routes(draft_id):
        data = {"csrf_token": outsider.token, "version": "1", "nature": "contact"}
        response = outsider.client.get(url) if method == "get" else outsider.client.post(url, data=data)
        assert response.status_code == 404, (method, url)
    assert "Aucun brouillon en cours" in outsider.client.get("/demarches/").get_data(as_text=True)
    assert fresh(draft_id).answers == {}


def test_a_colleague_without_the_service_gets_403(signed_in, establishment, company, app):
    draft_id = signed_in.start(establishment)
    user = make_user(company=company, grants=[(establishment, Service.DAT)])
    db.session.commit()
    visitor = Browser(app.test_client(), user)
    for method, url in draft_routes(draft_id):
        data = {"csrf_token": visitor.token, "version": "1", "nature": "contact"}
        response = visitor.client.get(url) if method == "get" else visitor.client.post(url, data=data)
        assert response.status_code == 403, (method, url)
    assert visitor.client.get(START).status_code == 403


def test_an_agent_never_sees_an_employers_draft(signed_in, establishment, app):
    draft_id = signed_in.start(establishment)
    caisse = make_caisse("Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
    agent = make_user(kind=UserKind.CARSAT, caisse_id=caisse.id)
    db.session.commit()
    visitor = Browser(app.test_client(), agent)
    assert visitor.client.get(step_url(draft_id, "nature")).status_code == 404
    assert visitor.client.get(START).status_code == 403
    assert "Dépôt de Metz" not in visitor.client.get("/demarches/").get_data(as_text=True)


def test_forged_draft_ids_and_step_names_answer_404(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    assert signed_in.client.get(step_url(draft_id + 1000, "nature")).status_code == 404
    assert signed_in.client.get("/demarches/brouillons/abc/etapes/nature").status_code == 404
    assert signed_in.client.get(step_url(draft_id, "etape-inventee")).status_code == 404
    assert signed_in.post_step(draft_id, "../nature", {"nature": "adresse"}).status_code == 404
    assert signed_in.post_step(draft_id, "etape-inventee", {"nature": "adresse"}).status_code == 404
    assert signed_in.client.get("/demarches/inexistante/commencer").status_code == 404


def test_anonymous_visitors_are_sent_to_login_and_htmx_gets_401(client, signed_in, establishment):
    draft_id = signed_in.start(establishment)
    anonymous = client.application.test_client()
    response = anonymous.get(step_url(draft_id, "nature"))
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")
    response = anonymous.post(
        step_url(draft_id, "nature") + "/enregistrement-automatique", headers={"HX-Request": "true"}
    )
    assert response.status_code in (400, 401)  # no signed_in: CSRF or sign-in, never a login page to swap


def test_a_save_without_csrf_token_is_refused_with_400(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    response = signed_in.post_step(draft_id, "nature", {"nature": "adresse"}, token=False)
    assert response.status_code == 400
    assert fresh(draft_id).answers == {}


def test_reads_of_drafts_and_submissions_are_audited(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.client.get(step_url(draft_id, "nature"))
    signed_in.fill_address_path(draft_id)
    signed_in.client.get(draft_url(draft_id, "/verifier"))
    signed_in.submit(draft_id)
    signed_in.client.get(draft_url(draft_id, "/confirmation"))
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.establishment_id == establishment.id)
    )
    actions = list(actions)
    for expected in ("draft.create", "draft.read", "draft.save", "submission.create", "submission.read"):
        assert expected in actions


# -- hostile input --------------------------------------------------------------------------------------


def test_html_in_a_text_area_is_stored_as_text_and_escaped_on_output(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    hostile = '<script>alert("x")</script><b>gras</b>'
    signed_in.post_step(draft_id, "motif", {"motif": hostile, "retour": "verifier"})
    assert fresh(draft_id).answers["motif"]["motif"] == hostile
    for url in (step_url(draft_id, "motif"), draft_url(draft_id, "/verifier")):
        body = signed_in.client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<b>gras</b>" not in body
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body or "&lt;script&gt;alert(" in body


def test_a_100000_character_answer_gets_a_french_length_error(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "contact"})
    response = signed_in.post_step(draft_id, "contact", {"nom": "x" * 100_000, "courriel": "a@exemple.fr"})
    assert response.status_code == 422
    assert "Le nom du contact doit faire 120 caractères au maximum" in response.get_data(as_text=True)
    assert len(fresh(draft_id).answers["contact"]["nom"]) <= 20_000  # stored, but bounded


def test_letters_in_a_date_get_a_french_error(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse"})
    signed_in.post_step(draft_id, "adresse", {"voie": "1 rue", "code_postal": "57000", "commune": "Metz"})
    cases = {
        ("aa", "bb", "cccc"): "La date du changement doit être une date réelle",
        ("31", "2", str(TODAY.year)): "La date du changement doit être une date réelle",
        ("12", "", str(TODAY.year)): "La date du changement doit comporter un jour, un mois et une année",
        ("", "", ""): "Saisissez la date du changement",
        ("1", "1", "1990"): "La date du changement doit être le",
    }
    for parts, message in cases.items():
        response = signed_in.post_step(draft_id, "date_effet", {"date_effet": list(parts)})
        assert response.status_code == 422, parts
        body = response.get_data(as_text=True)
        assert message in body, parts
        assert 'href="#date_effet-day"' in body
    # A forged request with a single value still renders the page with a French message.
    response = signed_in.post_step(draft_id, "date_effet", {"date_effet": "2026-03-01"})
    assert response.status_code == 422
    assert "doit comporter un jour, un mois et une année" in response.get_data(as_text=True)
    future = TODAY + timedelta(days=400)
    response = signed_in.post_step(draft_id, "date_effet", {"date_effet": date_parts(future)})
    assert "ou avant" in response.get_data(as_text=True)


def test_unknown_inputs_are_not_stored(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    signed_in.post_step(draft_id, "nature", {"nature": "adresse", "is_admin": "1", "valid_steps": "motif"})
    draft = fresh(draft_id)
    assert draft.answers == {"nature": {"nature": "adresse"}}
    assert draft.valid_steps == ["nature"]


# -- htmx --------------------------------------------------------------------------------------------------


HTMX = {"HX-Request": "true"}


def test_htmx_gets_fragments_and_a_normal_request_the_full_page(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    full = signed_in.client.get(step_url(draft_id, "nature")).get_data(as_text=True)
    assert full.lstrip().lower().startswith("<!doctype html>")
    fragment = signed_in.client.get(step_url(draft_id, "nature"), headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and "<body" not in fragment
    assert '<div id="workflow-step"' in fragment and "<title>" in fragment
    assert len(fragment) < len(full) / 2


def test_htmx_invalid_step_answers_422_with_the_form_fragment(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    response = signed_in.post_step(draft_id, "nature", {}, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "<title>Erreur : Nature du changement" in body
    assert "Il y a un problème" in body
    assert response.headers["HX-Push-Url"] == "false"


def test_htmx_valid_step_redirects_to_the_next_fragment(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    response = signed_in.post_step(draft_id, "nature", {"nature": "adresse"}, headers=HTMX)
    assert response.status_code == 303  # XMLHttpRequest follows it, keeping HX-Request
    assert response.headers["Location"] == step_url(draft_id, "adresse")


def test_htmx_save_for_later_leaves_the_page(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    response = signed_in.post_step(draft_id, "nature", {"nature": "adresse"}, action="later", headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/demarches/"


def test_htmx_conflict_answers_a_409_fragment(signed_in, other_signed_in, establishment):
    draft_id = signed_in.start(establishment)
    stale = fresh(draft_id).version
    other_signed_in.autosave(draft_id, "nature", {"nature": "contact"})
    response = signed_in.post_step(draft_id, "nature", {"nature": "adresse"}, version=stale, headers=HTMX)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "<html" not in body and '<div id="workflow-step"' in body
    assert "Ces réponses ont été modifiées entre-temps" in body


def test_the_step_form_is_wired_for_htmx_and_autosave(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    body = signed_in.client.get(step_url(draft_id, "nature")).get_data(as_text=True)
    assert f'hx-post="{step_url(draft_id, "nature")}"' in body
    assert 'hx-target="#workflow-step"' in body and 'hx-select="#workflow-step"' in body
    assert 'hx-push-url="true"' in body
    assert f'hx-post="{step_url(draft_id, "nature")}/enregistrement-automatique"' in body
    assert "input changed delay:1s from:closest form" in body
    assert 'id="autosave-status"' in body and 'aria-live="polite"' in body
    assert "<script>" not in body.split("<body", 1)[1]  # no inline script (CSP)


def test_two_simultaneous_submits_create_one_submission(app, signed_in, establishment, employer, monkeypatch):
    """The race a double click makes on a real server: both requests pass the "already submitted?"
    check before either commits. The loser must roll back and answer with the winner's submission."""
    from app.models import User
    from app.services import draft_submission, drafts

    draft_id = signed_in.start(establishment)
    signed_in.fill_address_path(draft_id)
    version = fresh(draft_id).version
    barrier = threading.Barrier(2, timeout=10)
    original = draft_submission.next_reference_number

    def in_step(prefix, year):
        barrier.wait()  # both transactions are past every check now
        return original(prefix, year)

    monkeypatch.setattr(draft_submission, "next_reference_number", in_step)
    references, errors = [], []

    def submit_once():
        with app.test_request_context():
            try:
                user = db.session.get(User, employer.id)
                draft, workflow = drafts.load_draft(user, draft_id)
                outcome = draft_submission.submit_draft(user, draft, workflow, base_version=version)
                references.append(outcome.submission.reference)
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert references == [f"COORD-{TODAY.year}-000001"] * 2
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Submission.id))) == 1


def test_two_simultaneous_saves_of_the_same_version_never_both_win(
    app, signed_in, establishment, employer, monkeypatch
):
    """Two tabs saving at the same instant from the same version: one is stored, the other gets
    the conflict (the version guard in the UPDATE), never a silent overwrite."""
    from werkzeug.datastructures import MultiDict

    from app.models import User
    from app.services import drafts

    draft_id = signed_in.start(establishment)
    version = fresh(draft_id).version
    barrier = threading.Barrier(2, timeout=10)
    original = drafts.validate_step

    def in_step(*args, **kwargs):
        barrier.wait()  # both requests passed the version check
        return original(*args, **kwargs)

    monkeypatch.setattr(drafts, "validate_step", in_step)
    outcomes = []

    def save(choice):
        with app.test_request_context():
            try:
                user = db.session.get(User, employer.id)
                draft, workflow = drafts.load_draft(user, draft_id)
                step = workflow.step("nature")
                drafts.save_step(
                    user, draft, workflow, step, MultiDict({"nature": choice}), base_version=version
                )
                outcomes.append(("saved", choice))
            except drafts.DraftConflict:
                outcomes.append(("conflict", choice))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(choice,)) for choice in ("adresse", "contact")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(kind for kind, _ in outcomes) == ["conflict", "saved"]
    winner = next(choice for kind, choice in outcomes if kind == "saved")
    draft = fresh(draft_id)
    assert draft.answers["nature"]["nature"] == winner and draft.version == version + 1
    # The loser's audit row went with its update: one save recorded, the winner's.
    saves = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "draft.save", AuditEvent.object_id == str(draft_id))
    ).all()
    assert [event.details["step"] for event in saves] == ["nature"]


# -- the overview (task list) -----------------------------------------------------------------------


def overview_items(browser, draft_id) -> list[tuple[str, str | None, str]]:
    """(section, link, status) of each line of the draft's overview."""
    response = browser.client.get(draft_url(draft_id, "/sommaire"))
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    items = re.findall(r'<li class="govuk-task-list__item[^"]*">(.*?)</li>', page, re.S)

    def words(fragment: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()

    rows = []
    for item in items:
        name, status = item.split('<div class="govuk-task-list__status', 1)
        link = re.search(r'href="([^"]+)"', name)
        rows.append((words(name), link.group(1) if link else None, words(status.split(">", 1)[1])))
    return rows


def test_the_overview_shows_each_section_with_its_status_and_where_its_link_goes(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    assert overview_items(signed_in, draft_id) == [
        ("Le changement", step_url(draft_id, "nature"), "À faire"),
        ("Précisions", None, "Impossible de commencer pour l'instant"),
        ("Vérifier et envoyer", None, "Impossible de commencer pour l'instant"),
    ]
    signed_in.post_step(draft_id, "nature", {"nature": "contact"})
    assert overview_items(signed_in, draft_id)[0] == (
        "Le changement",
        step_url(draft_id, "contact"),
        "En cours",
    )

    signed_in.fill_address_path(draft_id)
    assert overview_items(signed_in, draft_id) == [
        ("Le changement", step_url(draft_id, "nature"), "Terminé"),
        ("Précisions", step_url(draft_id, "motif"), "Terminé"),
        ("Vérifier et envoyer", draft_url(draft_id, "/verifier"), "À faire"),
    ]

    def reads():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "draft.read")
        )

    before = reads()
    page = signed_in.client.get(draft_url(draft_id, "/sommaire")).get_data(as_text=True)
    assert "Vous avez terminé 2 sections sur 2." in page
    assert reads() == before + 1  # the overview names the draft: a read of it


def test_every_step_links_to_the_overview_and_a_sent_demarche_has_none(signed_in, establishment):
    draft_id = signed_in.start(establishment)
    step_page = signed_in.client.get(step_url(draft_id, "nature")).get_data(as_text=True)
    assert f'href="{draft_url(draft_id, "/sommaire")}">Voir le sommaire de la démarche' in step_page
    signed_in.fill_address_path(draft_id)
    signed_in.submit(draft_id)
    response = signed_in.client.get(draft_url(draft_id, "/sommaire"))
    assert response.status_code == 302
    assert response.headers["Location"] == draft_url(draft_id, "/confirmation")


def test_the_overview_of_another_company_s_draft_is_not_found(signed_in, establishment, client, app):
    draft_id = signed_in.start(establishment)
    client.post("/deconnexion", data={"csrf_token": signed_in.token})
    stranger_company = make_company("Ailleurs")
    stranger_site = make_establishment(stranger_company)
    stranger = make_user(
        "x@ailleurs.test", company=stranger_company, grants=[(stranger_site, Service.COMPTE)]
    )
    db.session.commit()
    Browser(client, stranger)
    assert client.get(draft_url(draft_id, "/sommaire")).status_code == 404
