"""The DAT declaration through the web (issue 3, items 1–4): the employer block prefilled, every
step's validation with its French message next to the field, the cross-field rules of SPEC §2.2,
conditional questions, hostile input, the 48-hour deadline while filling, the send page with the
declarant and the certification, and what a submission produces."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, time, timedelta

import time_machine
from dateutil.easter import easter
from sqlalchemy import select

from app.domain import dat as rules
from app.domain.calendars import is_public_holiday
from app.extensions import db
from app.models import AuditEvent, Declaration, DeclarationEvent, OutboxMessage, Service, Submission, Upload
from app.services.simple_pdf import make_pdf
from app.services.uploads import save_upload
from app.workflows.engine import sha256_of
from tests.dat_support import (
    PARIS,
    STEPS,
    DatClient,
    accident_day,
    fresh_draft,
    local_today,
    make_declaration,
    parts,
    valid_answers,
)
from tests.factories import make_firm, make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_invalid(declarant, draft_id, step, changes, *, drop=()):
    """Post ``step`` with valid answers changed by ``changes``; expect 422 and return the page text."""
    data = {**valid_answers()[step], **changes}
    for name in drop:
        data.pop(name, None)
    response = declarant.post_step(draft_id, step, data)
    assert response.status_code == 422, (response.status_code, text(response)[:3000])
    assert "Il y a un problème" in text(response)
    return text(response)


def draft_at(declarant, world, step) -> int:
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until=step)
    return draft_id


# --- start and the employer block -------------------------------------------------------------------


def test_the_employer_block_is_prefilled_from_the_chosen_establishment(client, world, declarant):
    draft_id = declarant.start(world.metz)
    answers = fresh_draft(draft_id).answers["employeur"]
    assert answers == {
        "siret": world.metz.siret,
        "raison_sociale": "Bâtiments de l'Est",
        "adresse": world.metz.address,
        "code_postal": "57000",
        "commune": "Metz",
        "code_risque": world.metz.code_risque,
    }
    page = text(client.get(f"/demarches/brouillons/{draft_id}/etapes/employeur"))
    assert f'value="{world.metz.siret}"' in page
    assert "Étape 1 sur 7" in page


def test_a_second_declaration_takes_the_contact_and_health_service_of_the_last_one(world, declarant):
    make_declaration(world.employer, world.metz)
    answers = fresh_draft(declarant.start(world.metz)).answers["employeur"]
    assert answers["sst_nom"] == "Santé au travail de Moselle"
    assert answers["telephone"] == "0387000000"
    # Another establishment has its own: nothing to reuse.
    assert "sst_nom" not in fresh_draft(declarant.start(world.paris)).answers["employeur"]


def test_only_establishments_with_the_dat_can_be_chosen(client, world):
    declarant = DatClient(client, world.no_dat)
    response = client.get("/demarches/dat/commencer")
    assert response.status_code == 403
    response = client.post(
        "/demarches/dat/commencer", data={"csrf_token": declarant.token, "establishment": str(world.metz.id)}
    )
    assert response.status_code == 403


def test_a_forged_establishment_of_another_company_is_refused_at_start(client, world, declarant):
    response = client.post(
        "/demarches/dat/commencer",
        data={"csrf_token": declarant.token, "establishment": str(world.stranger_site.id)},
    )
    assert response.status_code == 422
    assert "Sélectionnez une des réponses proposées" in text(response)


def test_siret_must_be_valid_and_one_the_user_may_declare_for(world, declarant):
    draft_id = declarant.start(world.metz)
    page = post_invalid(declarant, draft_id, "employeur", {"siret": "123"})
    assert "Le numéro SIRET doit comporter 14 chiffres" in page
    siret = world.metz.siret
    wrong_key = siret[:-1] + str((int(siret[-1]) + 1) % 10)  # one digit off: the Luhn key fails
    page = post_invalid(declarant, draft_id, "employeur", {"siret": wrong_key})
    assert "Ce numéro SIRET n'existe pas" in page
    page = post_invalid(declarant, draft_id, "employeur", {"siret": world.stranger_site.siret})
    assert "Vous n'êtes pas habilité à déclarer un accident pour ce SIRET" in page
    page = post_invalid(declarant, draft_id, "employeur", {"siret": world.paris.siret})
    assert f"commencée pour l'établissement {world.metz.siret}" in page


def test_a_tiers_declarant_declares_for_mandated_establishments_only(client, world):
    firm = make_firm("Cabinet Rhénan", mandates=[(world.metz, Service.DAT)])
    accountant = make_user("comptable@cabinet.fr", kind="firm", firm_id=firm.id)
    db.session.commit()
    declarant = DatClient(client, accountant)
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)
    assert declarant.submit(draft_id).status_code == 303
    declaration = db.session.scalar(select(Declaration))
    assert declaration.establishment_id == world.metz.id
    draft_id = declarant.start(world.metz)
    page = post_invalid(declarant, draft_id, "employeur", {"siret": world.paris.siret})
    assert "Vous n'êtes pas habilité" in page


def test_employer_step_requires_each_field_with_its_own_message(world, declarant):
    draft_id = declarant.start(world.metz)
    empty = dict.fromkeys(
        [
            "siret",
            "raison_sociale",
            "adresse",
            "code_postal",
            "commune",
            "telephone",
            "code_risque",
            "sst_nom",
            "sst_adresse",
        ],
        "",
    )
    page = post_invalid(declarant, draft_id, "employeur", empty)
    for message in (
        "Saisissez le numéro SIRET de l'établissement",
        "Saisissez la raison sociale",
        "Saisissez l'adresse de l'établissement",
        "Saisissez le code postal de l'établissement",
        "Saisissez la commune de l'établissement",
        "Saisissez le numéro de téléphone de l'établissement",
        "Saisissez le code risque de l'établissement",
        "Saisissez le nom du service de santé au travail",
        "Saisissez l'adresse du service de santé au travail",
    ):
        assert message in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Erreur : " in page


def test_postal_codes_phone_email_and_code_risque_are_checked(world, declarant):
    draft_id = declarant.start(world.metz)
    page = post_invalid(
        declarant,
        draft_id,
        "employeur",
        {"code_postal": "00100", "telephone": "12", "courriel": "pas-une-adresse", "code_risque": "ABC"},
    )
    assert "Saisissez un code postal français à 5 chiffres" in page
    assert "Saisissez un numéro de téléphone valide" in page
    assert "Saisissez une adresse e-mail valide" in page
    assert "Saisissez le code risque tel qu'il figure" in page


# --- victim ------------------------------------------------------------------------------------------


def test_nir_key_and_consistency_with_sex_and_birth_date(world, declarant):
    draft_id = draft_at(declarant, world, "victime")
    good = valid_answers()["victime"]["nir"]
    wrong_key = good[:-2] + f"{(int(good[-2:]) % 96) + 1:02d}"
    assert "La clé du numéro de sécurité sociale ne correspond pas" in post_invalid(
        declarant, draft_id, "victime", {"nir": wrong_key}
    )
    assert "mais le sexe indiqué est « femme »" in post_invalid(declarant, draft_id, "victime", {"sexe": "F"})
    assert "ne correspond pas à la date de naissance (1986)" in post_invalid(
        declarant, draft_id, "victime", {"date_naissance": ["15", "5", "1986"]}
    )
    assert "13 chiffres suivis d'une clé" in post_invalid(declarant, draft_id, "victime", {"nir": "1234"})
    # Spaces as people type them are accepted.
    spaced = " ".join(re.findall(r".{1,3}", good))
    response = declarant.post_step(draft_id, "victime", {**valid_answers()["victime"], "nir": spaced})
    assert response.status_code == 303
    assert fresh_draft(draft_id).answers["victime"]["nir"] == spaced


def test_corsican_nir_is_accepted(world, declarant):
    from stdnum.fr import nir as stdnum_nir

    draft_id = draft_at(declarant, world, "victime")
    body = "290022A051123"  # a woman born in February 1990 in Corse-du-Sud
    corsican = body + stdnum_nir.calc_check_digits(body)
    answers = {
        **valid_answers()["victime"],
        "nir": corsican,
        "sexe": "F",
        "date_naissance": parts(date(1990, 2, 3)),
    }
    response = declarant.post_step(draft_id, "victime", answers)
    assert response.status_code == 303, text(response)[:2000]


def test_victim_dates_are_checked_against_each_other_and_the_accident(world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="lesions")  # the accident's date is saved
    accident = accident_day()
    page = post_invalid(
        declarant, draft_id, "victime", {"date_embauche": parts(accident + timedelta(days=1))}
    )
    assert "La date d'embauche doit être le jour de l'accident" in page
    page = post_invalid(
        declarant, draft_id, "victime", {"date_naissance": ["15", "5", str(accident.year - 10)]}
    )
    assert "La victime doit avoir au moins 14 ans le jour de l'accident" in page
    page = post_invalid(declarant, draft_id, "victime", {"date_naissance": ["31", "2", "1985"]})
    assert "La date de naissance doit être une date réelle" in page
    page = post_invalid(declarant, draft_id, "victime", {"date_embauche": ["1", "9", "1990"]})
    assert "au moins 14 ans après la date de naissance" in page


def test_victim_required_fields_and_choices(world, declarant):
    draft_id = draft_at(declarant, world, "victime")
    page = post_invalid(
        declarant, draft_id, "victime", {}, drop=("sexe", "nationalite", "qualification", "contrat")
    )
    for message in (
        "Sélectionnez le sexe de la victime",
        "Sélectionnez la nationalité de la victime",
        "Sélectionnez la qualification professionnelle",
        "Sélectionnez le type de contrat de la victime",
    ):
        assert message in page
    page = post_invalid(declarant, draft_id, "victime", {"qualification": "pdg", "anciennete_mois": "14"})
    assert "Sélectionnez une des réponses proposées" in page
    assert "Le nombre de mois doit être un nombre entier entre 0 et 11" in page


def test_interim_asks_for_the_user_company_and_other_contract_for_its_kind(world, declarant):
    draft_id = draft_at(declarant, world, "victime")
    page = post_invalid(declarant, draft_id, "victime", {"contrat": "interim"})
    assert "Saisissez la raison sociale de l'entreprise utilisatrice" in page
    assert "Saisissez le SIRET de l'entreprise utilisatrice" in page
    page = post_invalid(declarant, draft_id, "victime", {"contrat": "autre"})
    assert "Précisez le type de contrat" in page
    # A hidden answer left from another choice is neither checked nor kept.
    response = declarant.post_step(
        draft_id, "victime", {**valid_answers()["victime"], "contrat": "cdi", "eu_siret": "n'importe quoi"}
    )
    assert response.status_code == 303


# --- accident ------------------------------------------------------------------------------------------


def test_accident_cannot_be_in_the_future_nor_before_hiring(world, declarant):
    draft_id = draft_at(declarant, world, "accident")
    tomorrow = local_today() + timedelta(days=1)
    assert "La date de l'accident ne peut pas être dans le futur" in post_invalid(
        declarant, draft_id, "accident", {"date_accident": parts(tomorrow)}
    )
    assert (
        "La date de l'accident doit être le jour de l'embauche (1er septembre 2015) ou après"
        in post_invalid(declarant, draft_id, "accident", {"date_accident": parts(date(2014, 3, 2))})
    )


def test_accident_time_formats_and_schedule(world, declarant):
    draft_id = draft_at(declarant, world, "accident")
    page = post_invalid(
        declarant,
        draft_id,
        "accident",
        {"heure_accident": "25:00", "horaire2_debut": "14:00", "horaire2_fin": "", "horaire1_fin": "8:00"},
    )
    assert "L'heure de l'accident doit être une heure réelle, par exemple 14:30" in page
    assert "Saisissez l'heure de début et l'heure de fin de cette plage" in page
    assert "L'heure de fin doit être différente de l'heure de début" in page
    response = declarant.post_step(
        draft_id,
        "accident",
        {**valid_answers()["accident"], "heure_accident": "9 h 15", "horaire2_debut": ""},
    )
    # "9 h 15" reads as a time; a lone end time of the second range is refused.
    assert response.status_code == 422
    assert "Saisissez l'heure de début et l'heure de fin" in text(response)


def test_accident_before_knowledge_is_checked_from_either_side(world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="temoins")
    # Moving the accident after the knowledge time (10:00) is refused on the accident step…
    page = post_invalid(declarant, draft_id, "accident", {"heure_accident": "11:00"})
    assert "L'accident doit avoir eu lieu avant que l'employeur en ait connaissance" in page
    assert declarant.post_step(draft_id, "accident", valid_answers()["accident"]).status_code == 303
    # …and knowledge before the accident is refused on the knowledge step.
    page = post_invalid(declarant, draft_id, "connaissance", {"heure_connaissance": "9:00"})
    assert "L'employeur ne peut pas avoir eu connaissance de l'accident avant qu'il se produise" in page


def test_trajet_places_make_an_accident_de_trajet(client, world, declarant):
    answers = valid_answers()
    answers["accident"]["lieu"] = "trajet_domicile"
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, answers)
    page = text(client.get(f"/demarches/brouillons/{draft_id}/verifier"))
    assert "Trajet entre le domicile et le lieu de travail (accident de trajet)" in page
    declarant.submit(draft_id)
    assert db.session.scalar(select(Declaration.is_trajet)) is True


def test_circumstances_need_a_real_description(world, declarant):
    draft_id = draft_at(declarant, world, "accident")
    assert "Décrivez les circonstances en quelques phrases (20 caractères au minimum)" in post_invalid(
        declarant, draft_id, "accident", {"circonstances": "chute"}
    )


# --- lesions -------------------------------------------------------------------------------------------


def test_death_shows_the_labour_inspectorate_notice_and_needs_its_date(client, world, declarant):
    draft_id = draft_at(declarant, world, "lesions")
    page = post_invalid(declarant, draft_id, "lesions", {"consequences": "deces"})
    assert "Saisissez la date du décès" in page
    assert "informez aussi l'inspection du travail dans les 12 heures" in page
    accident = accident_day()
    assert "La date du décès doit être le jour de l'accident" in post_invalid(
        declarant,
        draft_id,
        "lesions",
        {"consequences": "deces", "date_deces": parts(accident - timedelta(days=1))},
    )
    response = declarant.post_step(
        draft_id,
        "lesions",
        {**valid_answers()["lesions"], "consequences": "deces", "date_deces": parts(accident)},
    )
    assert response.status_code == 303
    for step in ("connaissance", "temoins", "reserves"):
        assert declarant.post_step(draft_id, step, valid_answers()[step]).status_code == 303
    page = text(client.get(f"/demarches/brouillons/{draft_id}/verifier"))
    assert "Accident mortel : informez aussi l'inspection du travail dans les 12 heures" in page
    assert "Décès le" in page


def test_lesion_choices_and_other_nature(world, declarant):
    draft_id = draft_at(declarant, world, "lesions")
    page = post_invalid(declarant, draft_id, "lesions", {"siege": [], "nature_lesions": ["autre"]})
    assert "Sélectionnez au moins une partie du corps atteinte" in page
    assert "Précisez la nature des lésions" in page
    page = post_invalid(declarant, draft_id, "lesions", {"siege": ["main", "aile"]})
    assert "Sélectionnez uniquement des réponses proposées" in page


# --- knowledge and the 48 hours ---------------------------------------------------------------------


def test_knowledge_step_shows_the_due_time_once_saved(client, world, declarant):
    draft_id = draft_at(declarant, world, "connaissance")
    declarant.post_step(draft_id, "connaissance", valid_answers()["connaissance"], action="later")
    known = datetime.combine(accident_day(), time(10, 0))  # valid_answers()'s knowledge time
    expected = rules.due_notice(known, "57", datetime.now(UTC))
    page = text(client.get(f"/demarches/brouillons/{draft_id}/etapes/connaissance"))
    assert expected.due_text in page
    assert ("À transmettre avant le" in page) is not expected.late
    # Without JavaScript the next steps remind it once saved.
    declarant.post_step(draft_id, "connaissance", valid_answers()["connaissance"])
    assert expected.due_text in text(client.get(f"/demarches/brouillons/{draft_id}/etapes/temoins"))


def test_the_due_time_endpoint_answers_as_soon_as_date_and_time_are_typed(client, world, declarant):
    draft_id = draft_at(declarant, world, "connaissance")
    # The latest day that counts towards the 48 hours (on a Sunday or a holiday, the count would start
    # at the next midnight and hide whether the typed time was used); its 48 hours still run.
    known_on = local_today()
    while known_on.weekday() == 6 or is_public_holiday(known_on, "57"):
        known_on -= timedelta(days=1)
    response = client.get(
        f"/dat/brouillons/{draft_id}/echeance",
        query_string=[
            ("date_connaissance", str(known_on.day)),
            ("date_connaissance", str(known_on.month)),
            ("date_connaissance", str(known_on.year)),
            ("heure_connaissance", "0:05"),
        ],
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = text(response)
    expected = rules.due_notice(datetime.combine(known_on, time(0, 5)), "57", datetime.now(UTC))
    assert expected.due_text in body and "à 0\u00a0h\u00a005" in body
    assert "À transmettre avant le" in body and "il reste" in body
    incomplete = client.get(
        f"/dat/brouillons/{draft_id}/echeance",
        query_string=[("date_connaissance", "3"), ("heure_connaissance", "")],
        headers={"HX-Request": "true"},
    )
    assert "s'affichera dès que la date et l'heure seront complètes" in text(incomplete)
    # Nothing was saved by asking.
    assert fresh_draft(draft_id).answers.get("connaissance") is None


def test_due_time_endpoint_of_another_company_draft_is_404(client, world):
    stranger = DatClient(client.application.test_client(), world.stranger)
    foreign = stranger.start(world.stranger_site)
    declarant = DatClient(client, world.employer)
    assert declarant.client.get(f"/dat/brouillons/{foreign}/echeance").status_code == 404
    assert declarant.client.get("/dat/brouillons/999999/echeance").status_code == 404


def test_drafts_list_shows_the_time_left(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="temoins")
    page = text(client.get("/demarches/"))
    assert "À transmettre avant le" in page or "Délai de 48 heures dépassé depuis le" in page
    late = declarant.start(world.metz)
    answers = valid_answers(accident_on=local_today() - timedelta(days=9))
    declarant.fill(late, answers, until="temoins")
    assert "Délai de 48 heures dépassé depuis le" in text(client.get("/demarches/"))


def test_48_hours_ending_at_midnight_read_as_the_last_day_they_cover(client, world):
    """Learnt of on Sunday 6 December 2026: the 48 hours run from Monday 0 h and end on Wednesday 0 h,
    worded « mardi 8 décembre 2026 à 24 h 00 » on the step, « Mes démarches », the DAT list and the home
    page — never « mercredi 9 décembre … à 0 h 00 »."""
    sunday = date(2026, 12, 6)
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=UTC), tick=False):
        declarant = DatClient(client, world.employer)  # signed in that Monday morning
        draft_id = declarant.start(world.metz)
        declarant.fill(draft_id, valid_answers(accident_on=sunday), until="temoins")
        pages = {
            "step": text(client.get(f"/demarches/brouillons/{draft_id}/etapes/connaissance")),
            "démarches": text(client.get("/demarches/")),
            "DAT": text(client.get("/dat/")),
            "home": text(client.get("/")),
        }
    for name, page in pages.items():
        assert "8 décembre 2026 à 24\u00a0h\u00a000" in page, name
        assert "9 décembre 2026 à 0\u00a0h\u00a000" not in page and "09/12/2026" not in page, name
    assert "avant le mardi 8 décembre 2026 à 24\u00a0h\u00a000" in pages["step"]


def test_registre_des_accidents_benins_needs_date_and_number(world, declarant):
    draft_id = draft_at(declarant, world, "connaissance")
    page = post_invalid(declarant, draft_id, "connaissance", {"registre": "oui"})
    assert "Saisissez la date d'inscription au registre" in page
    assert "Saisissez le numéro d'inscription au registre" in page


# --- witnesses, third party, police --------------------------------------------------------------------


def test_witnesses_third_party_and_police_are_asked_when_answered_yes(world, declarant):
    draft_id = draft_at(declarant, world, "temoins")
    page = post_invalid(
        declarant,
        draft_id,
        "temoins",
        {"temoin1_nom": "", "tiers": "oui", "police": "oui", "temoin2_prenom": "Anne"},
    )
    for message in (
        "Saisissez le nom du témoin",
        "Saisissez le nom du tiers responsable",
        "Saisissez l'adresse du tiers responsable",
        "Saisissez l'autorité qui a établi le rapport",
        "Saisissez le nom de la personne n° 2, ou effacez ses autres informations",
    ):
        assert message in page
    page = post_invalid(declarant, draft_id, "temoins", {"temoins": "premiere_personne"})
    assert "Saisissez le nom de la première personne avisée" in page


def test_answers_hidden_by_a_no_are_not_submitted(world, declarant):
    answers = valid_answers()
    answers["temoins"] |= {
        "tiers": "non",
        "tiers_nom": "Ancien tiers",
        "police": "non",
        "police_autorite": "X",
    }
    reference = make_declaration(world.employer, world.metz, answers)
    declared = db.session.scalar(select(Submission).where(Submission.reference == reference)).data
    assert declared["answers"]["temoins"]["tiers_nom"] is None
    assert declared["answers"]["temoins"]["police_autorite"] is None
    assert declared["answers"]["temoins"]["temoin1_nom"] == "Weber"


# --- reserves in the declaration ------------------------------------------------------------------------


def test_reserves_need_a_category_and_a_real_motivation(client, world, declarant):
    draft_id = draft_at(declarant, world, "reserves")
    page = post_invalid(declarant, draft_id, "reserves", {"reserves": "oui"})
    assert "Sélectionnez sur quoi portent vos réserves" in page
    assert "Motivez vos réserves : un simple « réserves » n'est pas recevable" in page
    page = post_invalid(
        declarant,
        draft_id,
        "reserves",
        {"reserves": "oui", "categorie": "lieu_temps", "motivation": "réserves"},
    )
    assert "Motivez vos réserves en 50 caractères au moins" in page
    # The page explains what receivable reserves are.
    assert "circonstances de temps et de lieu" in page and "cause totalement étrangère au travail" in page


def test_reserves_attachment_is_stored_and_shown(client, world, declarant):
    draft_id = draft_at(declarant, world, "reserves")
    reserves = valid_answers(reserves=True)["reserves"]
    version = fresh_draft(draft_id).version
    response = client.post(
        f"/dat/brouillons/{draft_id}/reserves/piece-jointe",
        data={
            **reserves,
            "csrf_token": declarant.token,
            "version": str(version),
            "fichier": (io.BytesIO(make_pdf("Planning du 2 mars")), "planning.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    answers = fresh_draft(draft_id).answers["reserves"]
    upload = db.session.get(Upload, int(answers["piece_jointe"]))
    assert upload.filename == "planning.pdf" and upload.service == "dat"
    assert answers["motivation"] == reserves["motivation"]  # what was typed was saved with it
    response = client.get(f"/demarches/brouillons/{draft_id}/etapes/reserves")
    page, html = text(response), response.get_data(as_text=True)
    assert "Fichier joint :" in page and "planning.pdf" in page
    # Enter on a radio submits with the form's first button: « Continuer », never « Retirer la pièce jointe ».
    form = html[html.index("data-workflow-form") :]
    first_button = form[form.index("<button") : form.index("</button>")]
    assert 'value="continue"' in first_button and "formaction" not in first_button
    assert declarant.post_step(draft_id, "reserves", answers).status_code == 303
    assert declarant.submit(draft_id).status_code == 303
    declaration = db.session.scalar(select(Declaration))
    assert declaration.has_reserves
    assert "planning.pdf" in text(client.get(f"/dat/declarations/{declaration.reference}"))


def test_reserves_attachment_of_the_wrong_type_is_refused_next_to_the_field(client, world, declarant):
    draft_id = draft_at(declarant, world, "reserves")
    response = client.post(
        f"/dat/brouillons/{draft_id}/reserves/piece-jointe",
        data={
            **valid_answers(reserves=True)["reserves"],
            "csrf_token": declarant.token,
            "version": str(fresh_draft(draft_id).version),
            "fichier": (io.BytesIO(b"MZ\x90\x00 not a document"), "virus.exe"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = text(response)
    assert "Le fichier doit être au format" in page and 'href="#piece_jointe"' in page
    assert db.session.scalar(select(Upload)) is None


def test_a_forged_attachment_id_of_another_company_is_refused(world, declarant):
    foreign = save_upload(
        io.BytesIO(make_pdf("secret")),
        "secret.pdf",
        establishment_id=world.stranger_site.id,
        user_id=world.stranger.id,
        service=Service.DAT,
    )
    db.session.commit()
    draft_id = draft_at(declarant, world, "reserves")
    page = post_invalid(
        declarant,
        draft_id,
        "reserves",
        {
            **valid_answers(reserves=True)["reserves"],
            "piece_jointe": str(foreign.id),
            "piece_jointe_nom": "secret.pdf",
        },
    )
    assert "La pièce jointe est introuvable" in page
    assert "secret.pdf" not in page.split("Il y a un problème")[1].split("</form>")[0].replace(
        'value="secret.pdf"', ""
    )


# --- hostile input ------------------------------------------------------------------------------------


def test_html_is_escaped_everywhere(client, world, declarant):
    # Names refuse markup (see test_person_names_refuse_markup_and_control_characters); free texts keep it,
    # escaped wherever they are shown.
    answers = valid_answers()
    answers["accident"]["lieu_precis"] = "<script>alert(1)</script> quai n° 3"
    answers["accident"]["circonstances"] = '<img src=x onerror="alert(1)"> il est tombé de l\'échelle.'
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, answers)
    raw = client.get(f"/demarches/brouillons/{draft_id}/verifier").get_data(as_text=True)
    assert "<script>alert(1)" not in raw and "&lt;script&gt;" in raw
    assert "<img src=x" not in raw
    declarant.submit(draft_id)
    reference = db.session.scalar(select(Declaration.reference))
    raw = client.get(f"/dat/declarations/{reference}").get_data(as_text=True)
    assert "<script>alert(1)" not in raw and "&lt;script&gt;" in raw


def test_huge_values_are_cut_and_refused_with_a_length_message(world, declarant):
    draft_id = draft_at(declarant, world, "accident")
    page = post_invalid(
        declarant, draft_id, "accident", {"circonstances": "a" * 100_000, "nature": "b" * 100_000}
    )
    assert "La description des circonstances doit faire 5 000 caractères au maximum" in page
    assert "La nature de l'accident doit faire 300 caractères au maximum" in page
    stored = fresh_draft(draft_id).answers["accident"]["circonstances"]
    assert len(stored) == 20_000  # the engine's bound on a raw value


def test_wrong_types_are_refused_without_error_pages(world, declarant):
    draft_id = draft_at(declarant, world, "accident")
    page = post_invalid(
        declarant,
        draft_id,
        "accident",
        {
            "date_accident": ["x", "y", "z", "w"],
            "heure_accident": ["9:00", "10:00"],
            "lieu": ["habituel", "domicile"],
        },
    )
    assert (
        "La date de l'accident doit comporter un jour, un mois et une année" in page or "date réelle" in page
    )


def test_forged_draft_ids_and_other_users_get_404(client, world, declarant):
    foreign_client = client.application.test_client()
    stranger = DatClient(foreign_client, world.stranger)
    foreign = stranger.start(world.stranger_site)
    assert client.get(f"/demarches/brouillons/{foreign}/etapes/employeur").status_code == 404
    response = declarant.post_step(foreign, "employeur", {"siret": world.metz.siret})
    assert response.status_code == 404
    assert (
        client.post(
            f"/dat/brouillons/{foreign}/reserves/piece-jointe",
            data={"csrf_token": declarant.token, "version": "1"},
        ).status_code
        == 404
    )


def test_agents_never_see_an_employer_draft(client, world, declarant):
    draft_id = declarant.start(world.metz)
    agent_client = DatClient(client.application.test_client(), world.agent).client
    assert agent_client.get(f"/demarches/brouillons/{draft_id}/etapes/employeur").status_code == 404
    assert agent_client.get(f"/dat/brouillons/{draft_id}/echeance").status_code == 404


# --- send page, submission ---------------------------------------------------------------------------


def test_send_page_has_declarant_certification_and_the_deadline(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)
    page = text(client.get(f"/demarches/brouillons/{draft_id}/verifier"))
    assert "Vérifier vos réponses avant d'envoyer" in page
    assert "Déclarant et envoi" in page
    assert 'value="Camille Martin"' in page  # prefilled with the user's name
    assert "Je certifie exactes les informations de cette déclaration" in page
    assert "À transmettre avant le" in page
    for section in ("L'employeur", "La victime", "L'accident", "Lésions et conséquences", "Témoins et tiers"):
        assert section in page
    assert page.count(">Modifier<") >= 30 or page.count("Modifier") >= 30


def test_sending_without_certification_is_refused_and_nothing_is_sent(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)
    response = declarant.submit(draft_id, certification="", declarant_qualite="")
    assert response.status_code == 422
    page = text(response)
    assert "Cochez la case pour certifier l'exactitude de la déclaration" in page
    assert "Saisissez la qualité (fonction) de la personne qui déclare" in page
    assert "<title>Erreur : " in page
    assert db.session.scalar(select(Submission)) is None


def test_a_declaration_is_immutable_numbered_dated_and_hashed(client, world, declarant, mail_app):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)
    before = datetime.now(UTC)
    response = declarant.submit(draft_id)
    assert response.status_code == 303
    confirmation = client.get(response.headers["Location"])
    submission = db.session.scalar(select(Submission))
    assert submission.reference == f"DAT-{datetime.now(PARIS).year}-000001"
    assert confirmation.headers["Location"].endswith(
        f"/dat/declarations/{submission.reference}/accuse-reception"
    )
    assert before - timedelta(seconds=1) <= submission.submitted_at <= datetime.now(UTC)
    assert submission.sha256 == sha256_of(submission.data)
    assert submission.data["declaration"] == {
        "declarant_nom": "Camille Martin",
        "declarant_qualite": "Responsable des ressources humaines",
        "certification": True,
    }
    declaration = db.session.scalar(select(Declaration))
    assert declaration.reference == submission.reference
    assert declaration.status == "transmise" and not declaration.late
    assert declaration.victim_name == "SCHNEIDER Lucas"
    assert declaration.search_text.startswith("schneider")
    events = db.session.scalars(select(DeclarationEvent)).all()
    assert [(e.kind, e.to_status) for e in events] == [("transmise", "transmise")]
    # The sender is notified with a link, never with health details.
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "dat_transmise"))
    assert submission.reference in message.body_text and "/accuse-reception" in message.body_text
    assert "Plaie" not in message.body_text and "main" not in message.body_text.lower().split("accusé")[0]
    # After sending, the steps are closed.
    response = declarant.post_step(draft_id, "victime", valid_answers()["victime"])
    assert response.status_code == 303 and "/confirmation" in response.headers["Location"]
    # A replayed send returns the same declaration.
    assert declarant.submit(draft_id).status_code == 303
    assert len(db.session.scalars(select(Declaration)).all()) == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.create")) is not None


def test_a_late_declaration_is_accepted_and_marked_hors_delai(client, world, declarant):
    answers = valid_answers(accident_on=local_today() - timedelta(days=6))
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, answers)
    page = text(client.get(f"/demarches/brouillons/{draft_id}/verifier"))
    assert "Vous pouvez quand même déclarer l'accident : la déclaration sera marquée hors délai" in page
    assert declarant.submit(draft_id).status_code == 303
    declaration = db.session.scalar(select(Declaration))
    assert declaration.late
    receipt = text(client.get(f"/dat/declarations/{declaration.reference}/accuse-reception"))
    assert "Déclaration transmise hors délai" in receipt
    assert "Hors délai" in text(client.get("/dat/"))


def test_deadline_is_computed_with_the_establishment_calendar(world):
    # Known on the Thursday before Good Friday, 10:00: Good Friday is a holiday in Moselle, not in Paris.
    thursday = easter(local_today().year - 1) - timedelta(days=3)
    metz = make_declaration(world.employer, world.metz, valid_answers(accident_on=thursday))
    paris = make_declaration(world.employer, world.paris, valid_answers(accident_on=thursday))
    by_ref = {d.reference: d for d in db.session.scalars(select(Declaration))}
    tuesday, saturday = thursday + timedelta(days=5), thursday + timedelta(days=2)
    assert by_ref[metz].due_at.astimezone(PARIS) == datetime.combine(tuesday, time(10), PARIS)
    assert by_ref[paris].due_at.astimezone(PARIS) == datetime.combine(saturday, time(10), PARIS)
    assert by_ref[metz].late and by_ref[paris].late
    assert all(step in by_ref[metz].answers for step in STEPS)


# --- issue 10: names and the NIR as people read them ------------------------------------------------------


def test_person_names_refuse_markup_and_control_characters(world, declarant):
    draft_id = draft_at(declarant, world, "victime")
    page = post_invalid(declarant, draft_id, "victime", {"nom": "Lefèvre<b>bold</b>"})
    assert "Le nom de famille ne peut pas contenir de balise ni les signes < et >" in page
    page = post_invalid(declarant, draft_id, "victime", {"prenoms": "Lu\tcas", "nom_usage": "Mar\u202etin"})
    assert "Les prénoms contient un caractère invisible ou de contrôle" in page
    assert "Le nom d'usage contient un caractère invisible ou de contrôle" in page
    accepted = {**valid_answers()["victime"], "nom": "O'Neill-Lefèvre", "prenoms": "Jean-Éric St. John"}
    assert declarant.post_step(draft_id, "victime", accepted).status_code == 303
    declarant.fill(draft_id, until="temoins")
    page = post_invalid(
        declarant, draft_id, "temoins", {"temoin1_nom": "<i>Weber</i>", "temoin1_prenom": "P4ul"}
    )
    assert "Le nom ne peut pas contenir de balise" in page
    assert (
        "Le prénom ne peut contenir que des lettres, des espaces, des apostrophes, des tirets et des points"
        in page
    )
    declarant.fill(draft_id)
    page = text(declarant.submit(draft_id, declarant_nom="Camille <script>Martin"))
    assert "Le nom du déclarant ne peut pas contenir de balise" in page


def test_the_nir_is_shown_grouped_as_on_the_carte_vitale_and_stored_unchanged(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)
    nir = valid_answers()["victime"]["nir"]
    grouped = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    assert grouped in text(client.get(f"/demarches/brouillons/{draft_id}/verifier"))
    declarant.submit(draft_id)
    submission = db.session.scalar(select(Submission))
    assert submission.data["answers"]["victime"]["nir"] == nir
    assert grouped in text(client.get(f"/dat/declarations/{submission.reference}"))
    agent = DatClient(client.application.test_client(), world.agent)
    assert grouped in text(agent.client.get(f"/cpam/declarations/{submission.reference}"))
