"""The « récapitulatif » PDF of a démarche sent through the generic engine (issue 12, item 2): read back
with pypdf from what the user downloads — its reference, its answers rendered from the form model version
the draft was answered on (even after a newer one is published), the items of a group with their files,
tagged; another company's user gets a 404, and the DAT keeps its own PDFs."""

from __future__ import annotations

import io
import re
import shutil

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.domain.cases import Party, SubjectKind
from app.extensions import db
from app.models import AuditEvent, Service, Submission
from app.services import draft_submission, drafts, form_models, submission_pdf
from app.workflows import get_workflow
from tests.factories import make_company, make_establishment, make_user
from tests.integration.test_form_models import CODE, EXAMPLE, post_step, sign_in, start, version_of
from tests.integration.test_pdf_accessibility import assert_tagged
from tests.integration.test_workflow_groups import Employer
from tests.subjects_support import World


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    # Line breaks fall where the layout wraps: compare words, not lines.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def reads_of(submission) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.action == "submission.read", AuditEvent.object_id == str(submission.id)
    )
    return list(db.session.scalars(query))


def url(draft_id: int) -> str:
    return f"/demarches/brouillons/{draft_id}/recapitulatif.pdf"


@pytest.fixture
def establishment(app):
    company = make_company("Transports Lorrains")
    establishment = make_establishment(company, departement="57", name="Dépôt de Metz", city="Metz")
    db.session.commit()
    return establishment


@pytest.fixture
def qrpro_employer(establishment):
    user = make_user(
        "camille@exemple.fr",
        company=establishment.company,
        grants=[(establishment, Service.QRPRO)],
        full_name="Camille Martin",
    )
    db.session.commit()
    return user


def write_v2(models_dir) -> None:
    """Version 2 of the example: a label of version 1 reworded and a new required question."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("version: 1", "version: 2")
    text = text.replace("summary_label: Frais engagés", "summary_label: Dépenses de l'entreprise")
    text = text.replace(
        "      - id: mission\n",
        "          - id: temoin\n            type: yes_no\n            label: Un témoin ?\n"
        "            summary_label: Témoin présent\n            required: true\n"
        "      - id: mission\n",
        1,
    )
    (models_dir / "exemple-questionnaire-v2.yaml").write_text(text, encoding="utf-8")


def test_a_v1_submission_reads_v1_in_its_pdf_after_v2_is_published(
    app, client, tmp_path, qrpro_employer, establishment
):
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    form_models.load_models(tmp_path)
    token = sign_in(client, qrpro_employer)
    draft_id = start(client, token, establishment)
    for step, data in [
        ("lieu", {"lieu_travail": "oui", "lieu_type": "atelier"}),
        ("consequences", {"arret": "oui"}),
        ("duree", {"jours_arret": "12"}),
        ("mesures_prises", {"frais": "120,5", "mesures": "formation"}),
    ]:
        assert post_step(client, token, draft_id, step, data).status_code == 303
    assert client.get(url(draft_id)).status_code == 404  # not sent yet: nothing to summarize
    response = client.post(
        f"/demarches/brouillons/{draft_id}/envoyer",
        data={"csrf_token": token, "version": str(version_of(draft_id))},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
    confirmation = client.get(f"/demarches/brouillons/{draft_id}/confirmation").get_data(as_text=True)
    assert f'href="{url(draft_id)}">Télécharger le récapitulatif (PDF)</a>' in confirmation
    assert f'href="{url(draft_id)}">PDF' in client.get("/demarches/").get_data(as_text=True)

    write_v2(tmp_path)
    assert form_models.load_models(tmp_path).created == [f"{CODE} version 2"]

    reads_before = len(reads_of(submission))
    response = client.get(url(draft_id))
    text = pdf_text(response)
    assert len(reads_of(submission)) == reads_before + 1  # authorized and audited (drafts.open_submission)
    assert response.headers["Content-Disposition"] == (
        f"inline; filename*=UTF-8''recapitulatif-{submission.reference}.pdf"
    )
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert f"référencée {submission.reference} a été reçue le" in text
    assert "(heure légale du département 57)" in text
    assert "Dépôt de Metz SIRET" in text and "Camille Martin" in text
    assert f"Questionnaire employeur (exemple) : modèle {CODE}, version 1 publiée le 6 décembre 2026" in text
    # Every section and row of version 1, as « Vérifier vos réponses » showed them.
    for expected in (
        "Les circonstances",
        "Sur le lieu de travail habituel Oui",
        "Lieu Dans un atelier ou un entrepôt",
        "Les conséquences",
        "Arrêt de travail Oui",
        "Jours d'arrêt 12",
        "Frais engagés 120,50",
        "Mesures prises Une formation",
        submission.sha256,
    ):
        assert expected in text, expected
    assert "Dépenses de l'entreprise" not in text and "Témoin" not in text  # version 2's wording
    assert "Mission" not in text  # a page off the answered path
    assert_tagged(
        response.data, f"Récapitulatif {submission.reference}", expected=("/H1", "/P", "/Table", "/TH", "/TD")
    )

    # Another company's user, even holding QR Pro on its own establishment: 404.
    other = make_establishment(make_company("Autre SA"), departement="75", name="Siège")
    stranger = make_user("autre@exemple.fr", company=other.company, grants=[(other, Service.QRPRO)])
    db.session.commit()
    other_client = app.test_client()
    sign_in(other_client, stranger)
    assert other_client.get(url(draft_id)).status_code == 404


def test_the_pdf_lists_each_item_of_a_group_with_its_file(client, app):
    company = make_company("Transports Lorrains")
    establishment = make_establishment(company, departement="57", name="Dépôt de Metz", city="Metz")
    user = make_user("claude@exemple.fr", company=company, grants=[(establishment, Service.COMPTE)])
    db.session.commit()
    employer = Employer(client, user)
    draft_id = employer.start(establishment)
    employer.answer_dossier(draft_id)
    employer.add_piece(draft_id, "Certificat initial", name="initial.pdf")
    assert employer.post(f"/demarches/brouillons/{draft_id}/envoyer", {}).status_code == 303
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
    size = submission.data["answers"]["pieces"]["pieces"][0]["fichier"][0]["size"]

    text = pdf_text(client.get(url(draft_id)))
    assert submission.reference in text and "Questionnaire" not in text  # a workflow written in Python
    assert "Pièce 1" in text and "Certificat initial" in text
    assert re.search(r"initial\.pdf \(\d", text), text
    assert size > 0


def test_the_dat_keeps_its_own_pdfs(app):
    assert not submission_pdf.has_summary_pdf(get_workflow("dat"))
    assert submission_pdf.has_summary_pdf(get_workflow("pieces"))
    assert submission_pdf.has_summary_pdf(get_workflow("coordonnees"))


def test_a_case_partys_pdf_names_the_case_and_the_party_and_is_theirs_only(app):
    form_models.load_models()  # the repository's models: exemple-temoins answers for a party of a case
    world = World()
    workflow = drafts.workflow_or_404("exemple-temoins", SubjectKind.CASE_PARTY)
    draft = drafts.start_case_draft(world.victim, workflow, world.case_a, Party.VICTIM)
    draft.answers = {
        "recit": {"recit_faits": "Chute dans l'escalier"},
        "temoins_liste": {"temoins-0-temoin_nom": "Léa Martin"},
    }
    draft.valid_steps = ["recit", "temoins_liste"]
    db.session.commit()
    outcome = draft_submission.submit_draft(world.victim, draft, workflow, base_version=draft.version)
    assert outcome.submission is not None, outcome

    victim = app.test_client()
    sign_in(victim, world.victim)
    text = pdf_text(victim.get(url(draft.id)))
    assert outcome.submission.reference in text
    assert "Dossier AT-2026-000001 (accident du travail)" in text and "Réponse de la partie Victime" in text
    assert "Récit Chute dans l'escalier" in text and "Témoin 1" in text and "Léa Martin" in text
    assert "modèle exemple-temoins, version 1" in text
    for user in (world.employer, world.other_employer, world.other_victim):  # a victim's answer is hers
        other = app.test_client()
        sign_in(other, user)
        assert other.get(url(draft.id)).status_code == 404, user.email
