"""A data-defined questionnaire of a case with an "add another" group and files (issue 12: the YAML
``group``, ``file`` and ``subjects`` wired to the engine), through the service and the pages without
JavaScript: the repository's example ``exemple-temoins`` v1 (``subjects: [case_party]``) starts only
from its case, within its window; a witness is added with their file; « Vérifier vos réponses » and the
submission show both; after the closing time nothing changes."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from app.domain.cases import Party, SubjectKind
from app.extensions import db
from app.models import Draft, Submission, Upload
from app.models.types import utcnow
from app.services import drafts
from app.services.simple_pdf import make_pdf
from tests.factories import PASSWORD
from tests.subjects_support import World

CODE = "exemple-temoins"


@pytest.fixture
def world(app):
    result = app.test_cli_runner().invoke(args=["forms", "load"])  # the repository's models
    assert result.exit_code == 0 and "exemple-temoins version 1" in result.output, result.output
    return World()


def fresh(draft_id: int) -> Draft:
    db.session.expire_all()
    return db.session.get(Draft, draft_id)


class Browser:
    def __init__(self, app, user):
        self.client = app.test_client()
        token = self.client.csrf("/connexion")
        response = self.client.post(
            "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        self.token = self.client.csrf("/demarches/")

    def post(self, url: str, data: dict, *, files: dict | None = None):
        draft_id = int(re.search(r"/brouillons/(\d+)", url).group(1))
        form = {"csrf_token": self.token, "version": str(fresh(draft_id).version), **data}
        if files:
            form.update(
                {name: (io.BytesIO(content), filename) for name, (content, filename) in files.items()}
            )
            return self.client.post(url, data=form, content_type="multipart/form-data")
        return self.client.post(url, data=form)

    def page(self, url: str) -> str:
        return html.unescape(self.client.get(url).get_data(as_text=True))


def test_a_case_party_model_starts_only_from_its_case_and_within_its_window(world):
    workflow = drafts.workflow_or_404(CODE, SubjectKind.CASE_PARTY)
    assert workflow.model.version == 1 and workflow.subject_kinds == {SubjectKind.CASE_PARTY}
    with pytest.raises(NotFound):
        drafts.workflow_or_404(CODE, SubjectKind.ESTABLISHMENT)
    assert drafts.establishments_to_start(world.employer, workflow) == []
    with pytest.raises(NotFound):
        drafts.start_draft(world.employer, workflow, world.metz)
    later = utcnow() + timedelta(days=1)
    with pytest.raises(drafts.NotOpenYet):
        drafts.start_case_draft(world.employer, workflow, world.case_a, Party.EMPLOYER, opens_at=later)
    with pytest.raises(drafts.DraftClosed, match="Le délai pour répondre a expiré le"):
        drafts.start_case_draft(
            world.employer, workflow, world.case_a, Party.EMPLOYER, closes_at=utcnow() - timedelta(seconds=1)
        )
    assert db.session.scalar(select(func.count(Draft.id))) == 0
    with pytest.raises(NotFound):  # another victim's case
        drafts.start_case_draft(world.other_victim, workflow, world.case_a, Party.VICTIM)

    draft = drafts.start_case_draft(world.employer, workflow, world.case_a, Party.EMPLOYER, closes_at=later)
    db.session.commit()
    assert (draft.workflow, draft.form_version, draft.case_id, draft.party) == (
        CODE,
        1,
        world.case_a.id,
        "employeur",
    )
    again = drafts.start_case_draft(world.colleague, workflow, world.case_a, Party.EMPLOYER)
    assert again.id == draft.id  # the employer side answers once, shared


def test_a_witness_and_their_file_kept_with_the_draft_shown_submitted_and_frozen_after_the_deadline(
    app, world
):
    victim = Browser(app, world.victim)
    response = victim.client.post(
        f"/demarches/{CODE}/dossiers/{world.case_a.id}/victime/commencer", data={"csrf_token": victim.token}
    )
    assert response.status_code == 303
    draft_id = int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))
    steps = f"/demarches/brouillons/{draft_id}/etapes"
    page = victim.page(f"{steps}/recit")
    assert "Rapport interne de l'accident (facultatif)" in page and "Joindre le fichier" in page
    response = victim.post(f"{steps}/recit", {"action": "continue", "recit_faits": "Chute dans l'escalier"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/etapes/temoins_liste")
    page = victim.page(f"{steps}/temoins_liste")
    assert "Les témoins de l'accident" in page and "Ajouter un témoin" in page

    # The file sent with the new item adds it (no JavaScript: a plain multipart POST).
    typed = {"element": "", "temoin_nom": "Léa Martin"}
    response = victim.post(
        f"{steps}/temoins_liste/fichiers?champ=temoin_attestation",
        typed,
        files={"fichier-temoin_attestation": (make_pdf("Attestation", ["Je certifie."]), "attestation.pdf")},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/etapes/temoins_liste/elements/0")
    upload = db.session.scalar(select(Upload).where(Upload.filename == "attestation.pdf"))
    assert upload.draft_id == draft_id
    stored = fresh(draft_id).answers["temoins_liste"]
    assert stored["temoins-0-temoin_nom"] == "Léa Martin"
    ids = stored["temoins-0-temoin_attestation"]
    assert ids in (str(upload.id), [str(upload.id)])
    response = victim.post(
        f"{steps}/temoins_liste/elements",
        {
            "action": "continue",
            "element": "0",
            "temoin_nom": "Léa Martin",
            "temoin_attestation": str(upload.id),
        },
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/etapes/temoins_liste")
    page = victim.page(f"{steps}/temoins_liste")
    assert "Témoin 1" in page and "Léa Martin" in page and "Modifier" in page and "Supprimer" in page

    # One witness: the page on « temoins >= 2 » is not on the path; « Continuer » leads to « Vérifier ».
    response = victim.post(f"{steps}/temoins_liste", {"action": "continue"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/verifier")
    page = victim.page(f"/demarches/brouillons/{draft_id}/verifier")
    assert "Témoin 1" in page and "Nom : Léa Martin" in page and "attestation.pdf" in page
    assert "Témoignages concordants" not in page
    overview = victim.page(f"/demarches/brouillons/{draft_id}/sommaire")
    assert "Les témoins" in overview and "Vérifier et envoyer" in overview
    assert "Témoins et pièces d'un accident (exemple)" in victim.page("/demarches/")

    # A second draft, the employer's, closed: its group is read-only and nothing is stored.
    workflow = drafts.workflow_or_404(CODE, SubjectKind.CASE_PARTY)
    other = drafts.start_case_draft(world.employer, workflow, world.case_a, Party.EMPLOYER)
    other.answers = {"recit": {"recit_faits": "Chute"}, "temoins_liste": {"temoins-0-temoin_nom": "Paul Roy"}}
    other.valid_steps = ["recit"]
    other.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    employer = Browser(app, world.employer)
    other_steps = f"/demarches/brouillons/{other.id}/etapes"
    response = employer.post(
        f"{other_steps}/temoins_liste/elements", {"action": "continue", "element": "", "temoin_nom": "Tard"}
    )
    assert response.status_code == 303
    assert fresh(other.id).answers["temoins_liste"] == {"temoins-0-temoin_nom": "Paul Roy"}
    page = employer.page(f"{other_steps}/temoins_liste")
    assert (
        "Le délai pour répondre a expiré" in page and "Paul Roy" in page and "Ajouter un témoin" not in page
    )

    # The victim's draft, still open, is sent: the witness and their file are in the submission.
    response = victim.post(f"/demarches/brouillons/{draft_id}/envoyer", {})
    assert response.status_code == 303, response.get_data(as_text=True)
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
    assert submission.form_version == 1 and submission.party == "victime"
    (witness,) = submission.data["answers"]["temoins_liste"]["temoins"]
    assert witness["temoin_nom"] == "Léa Martin"
    assert [f["filename"] for f in witness["temoin_attestation"]] == ["attestation.pdf"]
    assert witness["temoin_attestation"][0]["sha256"] == upload.sha256
    confirmation = victim.page(f"/demarches/brouillons/{draft_id}/confirmation")
    assert submission.reference in confirmation and submission.reference.startswith("QEXT-")


def test_the_agents_viewer_shows_the_group_and_the_subjects(app, world):
    agent = Browser(app, world.agent)
    page = agent.page(f"/modeles-de-formulaires/{CODE}/version-1")
    assert "Répondu pour : une partie d'un dossier (l'employeur ou la victime)." in page
    assert "Groupe répété « temoins » : de 0 à 5 témoins" in page and "Ajouter un témoin" in page
    assert 'Affichée si : <code class="app-condition">temoins >= 2</code>' in page
