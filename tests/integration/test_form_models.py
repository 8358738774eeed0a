"""Form models as data through the database and the web (issue 12, items 1–3): `flask forms load`,
published versions frozen, drafts pinned to their version, the agents' read-only viewer."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from app.extensions import db
from app.models import Draft, FormModelVersion, PublishedVersionImmutable, Service, Submission, UserKind
from app.services import drafts, form_models
from app.workflows.form_models import MODELS_DIR, load_definition, read_yaml
from tests.factories import PASSWORD, make_caisse, make_company, make_establishment, make_user

EXAMPLE = MODELS_DIR / "exemple-questionnaire-v1.yaml"
CODE = "exemple-questionnaire"
START = f"/demarches/{CODE}/commencer"
NEW_QUESTION = """          - id: temoin
            type: yes_no
            label: Y a-t-il eu un témoin de l'accident ?
            required: true
            required_message: Indiquez s'il y a eu un témoin
"""


def write_v2(directory: Path) -> None:
    """Version 2 of the example: a new required question on the first page."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("version: 1", "version: 2")
    text = text.replace("      - id: mission\n", NEW_QUESTION + "      - id: mission\n", 1)
    (directory / "exemple-questionnaire-v2.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def models_dir(tmp_path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    return tmp_path


@pytest.fixture
def establishment(app):
    company = make_company("Transports Lorrains")
    establishment = make_establishment(company, departement="57", name="Dépôt de Metz", city="Metz")
    db.session.commit()
    return establishment


@pytest.fixture
def employer(establishment):
    user = make_user(
        "camille@exemple.fr", company=establishment.company, grants=[(establishment, Service.QRPRO)]
    )
    db.session.commit()
    return user


def sign_in(client, user) -> str:
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client.csrf("/demarches/")


def version_of(draft_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Draft, draft_id).version


def post_step(client, token, draft_id, step, data):
    form = {"csrf_token": token, "action": "continue", "version": str(version_of(draft_id)), **data}
    return client.post(f"/demarches/brouillons/{draft_id}/etapes/{step}", data=form)


def start(client, token, establishment) -> int:
    response = client.post(START, data={"csrf_token": token, "establishment": str(establishment.id)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))


# -- loading -------------------------------------------------------------------------------------


def test_forms_load_is_idempotent_and_refuses_a_changed_published_version(app, models_dir):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forms", "load", "--dir", str(models_dir)])
    assert result.exit_code == 0, result.output
    assert "créée : exemple-questionnaire version 1" in result.output
    result = runner.invoke(args=["forms", "load", "--dir", str(models_dir)])
    assert result.exit_code == 0 and "0 créée(s), 0 mise(s) à jour, 1 inchangée(s)" in result.output

    write_v2(models_dir)
    changed = EXAMPLE.read_text(encoding="utf-8").replace(
        "Le lieu de l'accident", "Où a eu lieu l'accident ?"
    )
    (models_dir / EXAMPLE.name).write_text(changed, encoding="utf-8")
    result = runner.invoke(args=["forms", "load", "--dir", str(models_dir)])
    assert result.exit_code == 1
    assert "exemple-questionnaire version 1 est publiée et son contenu a changé" in result.output
    assert "exemple-questionnaire-v2.yaml" in result.output  # the number to give it
    # Nothing of that load was kept, not even the valid version 2.
    assert [(r.code, r.version) for r in form_models.all_versions()] == [(CODE, 1)]


def test_a_refused_model_file_loads_nothing_and_names_the_question(app, models_dir):
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "condition: arret == true", "condition: arret.__class__"
    )
    (models_dir / EXAMPLE.name).write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["forms", "load", "--dir", str(models_dir)])
    assert result.exit_code == 1
    assert "page « duree » : condition refusée : caractère non autorisé « . »" in result.output
    assert db.session.scalar(select(func.count(FormModelVersion.id))) == 0


def test_the_repository_models_load(app):
    report = form_models.load_models()
    assert f"{CODE} version 1" in report.created
    assert form_models.current_workflow(CODE).model.version == 1


def test_a_published_version_cannot_be_changed_but_may_be_retired(app, models_dir):
    form_models.load_models(models_dir)
    row = form_models.version_row(CODE, 1)
    data = read_yaml(EXAMPLE.read_text(encoding="utf-8"))
    data["title"] = "Un autre titre"
    with pytest.raises(PublishedVersionImmutable, match="exemple-questionnaire version 1 est publié"):
        form_models.update_version(row, load_definition(data))
    db.session.rollback()
    # Under the service, the model's guard refuses the UPDATE itself.
    row = form_models.version_row(CODE, 1)
    row.definition = data
    row.sha256 = "0" * 64
    with pytest.raises(PublishedVersionImmutable):
        db.session.flush()
    db.session.rollback()
    row = form_models.version_row(CODE, 1)
    row.status = "draft"
    with pytest.raises(PublishedVersionImmutable, match="son statut ne peut plus changer"):
        db.session.flush()
    db.session.rollback()
    assert form_models.version_row(CODE, 1).title == "Questionnaire employeur (exemple)"

    # Under the application, the database refuses it too (a trigger).
    for statement in (
        "UPDATE form_model_version SET title = 'Autre'",
        "UPDATE form_model_version SET definition = '{}'",
        "UPDATE form_model_version SET status = 'draft'",
        "DELETE FROM form_model_version",
    ):
        with pytest.raises(DatabaseError), db.engine.begin() as conn:
            conn.execute(text(statement))
    assert form_models.version_row(CODE, 1).title == "Questionnaire employeur (exemple)"

    form_models.retire(CODE, 1)
    assert form_models.version_row(CODE, 1).status == "retired"
    assert form_models.current_workflow(CODE) is None  # no new draft on a retired version
    assert form_models.workflow_for(CODE, 1) is not None  # its drafts keep it
    assert CODE in {w.name for w in drafts.known_workflows()}  # and are still listed
    assert CODE not in {w.name for w in drafts.known_workflows(startable=True)}


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ("code: exemple-questionnaire", "code: dat", "le code « dat » est celui d'une démarche existante"),
        ("reference_prefix: QEX", "reference_prefix: COORD", "le préfixe de référence « COORD » est celui"),
    ],
)
def test_a_model_cannot_take_the_name_or_prefix_of_a_python_workflow(app, tmp_path, before, after, message):
    text = EXAMPLE.read_text(encoding="utf-8").replace(before, after)
    name = "dat-v1.yaml" if after == "code: dat" else EXAMPLE.name
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(form_models.FormModelError, match=message):
        form_models.load_models(tmp_path)


def test_a_version_in_draft_may_change_and_starts_no_draft(app, tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("status: published", "status: draft")
    (tmp_path / EXAMPLE.name).write_text(text, encoding="utf-8")
    form_models.load_models(tmp_path)
    assert form_models.current_workflow(CODE) is None
    (tmp_path / EXAMPLE.name).write_text(text.replace("Le lieu de l'accident", "Le lieu"), encoding="utf-8")
    assert form_models.load_models(tmp_path).updated == [f"{CODE} version 1"]
    assert form_models.workflow_for(CODE, 1).step("lieu").title == "Le lieu"


# -- drafts pinned to their version ---------------------------------------------------------------


def test_a_draft_keeps_its_version_after_a_new_one_is_published(
    app, client, models_dir, employer, establishment
):
    form_models.load_models(models_dir)
    token = sign_in(client, employer)
    draft_id = start(client, token, establishment)
    assert db.session.get(Draft, draft_id).form_version == 1
    response = post_step(client, token, draft_id, "lieu", {"lieu_travail": "oui", "lieu_type": "atelier"})
    assert response.status_code == 303

    write_v2(models_dir)
    assert form_models.load_models(models_dir).created == [f"{CODE} version 2"]

    # Resumed: still version 1 — the first page has no question about a witness.
    page = client.get(f"/demarches/brouillons/{draft_id}/etapes/lieu").get_data(as_text=True)
    assert "Le lieu de l&#39;accident" in page and "témoin" not in page
    response = post_step(client, token, draft_id, "consequences", {"arret": "non"})
    assert response.status_code == 303
    response = post_step(
        client, token, draft_id, "mesures_prises", {"frais": "120,5", "mesures": "formation"}
    )
    assert response.headers["Location"].endswith("/verifier")
    check = client.get(f"/demarches/brouillons/{draft_id}/verifier").get_data(as_text=True)
    assert "Frais engagés" in check and "120,50" in check and "témoin" not in check

    response = client.post(
        f"/demarches/brouillons/{draft_id}/envoyer",
        data={"csrf_token": token, "version": str(version_of(draft_id))},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    submission = db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))
    assert submission.form_version == 1 and submission.workflow == CODE
    assert submission.data["form_model"] == {"code": CODE, "version": 1}
    assert submission.data["answers"]["mesures_prises"] == {"frais": "120.50", "mesures": ["formation"]}
    assert submission.reference.startswith("QEX-")
    assert "témoin" not in client.get(f"/demarches/brouillons/{draft_id}/confirmation").get_data(as_text=True)

    # A new draft starts on version 2, whose first page asks the new required question.
    new_id = start(client, token, establishment)
    assert db.session.get(Draft, new_id).form_version == 2
    response = post_step(client, token, new_id, "lieu", {"lieu_travail": "oui", "lieu_type": "atelier"})
    assert response.status_code == 422
    assert "Indiquez s&#39;il y a eu un témoin" in response.get_data(as_text=True)

    # Editing version 1 is refused.
    edited = EXAMPLE.read_text(encoding="utf-8").replace("Dans un bureau", "Au bureau")
    (models_dir / EXAMPLE.name).write_text(edited, encoding="utf-8")
    with pytest.raises(form_models.FormModelError, match="version 1 est publiée et son contenu a changé"):
        form_models.load_models(models_dir)


def test_drafts_list_and_autosave_work_for_a_model_workflow(app, client, models_dir, employer, establishment):
    form_models.load_models(models_dir)
    token = sign_in(client, employer)
    assert "Questionnaire employeur (exemple)" in client.get("/demarches/").get_data(as_text=True)
    draft_id = start(client, token, establishment)
    response = client.post(
        f"/demarches/brouillons/{draft_id}/etapes/lieu/enregistrement-automatique",
        data={"csrf_token": token, "version": str(version_of(draft_id)), "lieu_travail": "non"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Draft, draft_id).answers == {"lieu": {"lieu_travail": "non"}}
    listing = client.get("/demarches/").get_data(as_text=True)
    assert f"/demarches/brouillons/{draft_id}" in listing


# -- the agents' viewer -----------------------------------------------------------------------------


def test_an_agent_reads_a_version_with_its_conditions(app, client, models_dir, employer):
    form_models.load_models(models_dir)
    caisse = make_caisse("CPAM de Moselle", departements="57")
    agent = make_user("agent@cpam57.fr", kind=UserKind.CPAM, caisse_id=caisse.id, full_name="Marc Weber")
    carsat = make_caisse("CARSAT Nord-Est", kind="carsat", departements="57")
    other = make_user("agent@carsat.fr", kind=UserKind.CARSAT, caisse_id=carsat.id)
    db.session.commit()
    sign_in(client, agent)
    index = client.get("/modeles-de-formulaires/").get_data(as_text=True)
    assert f'href="/modeles-de-formulaires/{CODE}/version-1">Questionnaire employeur (exemple)</a>' in index
    assert "Publiée" in index
    page = client.get(f"/modeles-de-formulaires/{CODE}/version-1")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Affichée si : <code" in body and "lieu_travail == false" in body
    assert "Posée si : lieu_type != &#34;voie&#34;" in body
    assert "Nombre entier — obligatoire" in body
    assert "Montant en euros — facultative" in body and "Minimum : 1<" in body
    assert "Maximum : 1\u202f000\u202f000,00\u00a0€" in body and "Minimum : 1er janvier 2000" in body
    assert client.get(f"/modeles-de-formulaires/{CODE}/version-9").status_code == 404

    other_client = app.test_client()
    sign_in(other_client, other)  # a CARSAT does not work on QR Pro
    assert other_client.get(f"/modeles-de-formulaires/{CODE}/version-1").status_code == 404
    employer_client = app.test_client()
    sign_in(employer_client, employer)
    assert employer_client.get("/modeles-de-formulaires/").status_code == 404


HOSTILE = [
    "9" * 20_000,
    "<script>alert(1)</script>",
    "1e309",
    "-0,000000000000000000000001",
    "\x00\x1f",
    ["1", "2", "3", "4", "5"],
    ["x"],
    "31/02/2026 25:61",
    "NaN",
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_raw_values_in_every_question_type_render_and_never_crash(app, value):
    from werkzeug.datastructures import MultiDict

    from app.workflows.engine import StepContext, canonical_json
    from app.workflows.factory import build_workflow
    from app.workflows.form_models import TYPE_LABELS

    questions = [
        {"id": f"q_{kind}", "type": kind, "label": f"{kind} ?"}
        | ({"options": [{"value": "a", "label": "A"}]} if kind in ("radios", "checkboxes", "select") else {})
        for kind in TYPE_LABELS
    ]
    definition = load_definition(
        {
            "code": "hostile",
            "title": "Hostile",
            "version": 1,
            "status": "draft",
            "service": "qrpro",
            "reference_prefix": "HOS",
            "sections": [{"title": "S", "pages": [{"id": "p", "title": "P", "questions": questions}]}],
        }
    )
    step = build_workflow(definition).step("p")
    raw = MultiDict(
        [(q["id"], v) for q in questions for v in (value if isinstance(value, list) else [value])]
    )
    # On a step's URL: a file answer renders its buttons to that draft's file endpoints.
    with app.test_request_context("/demarches/brouillons/1/etapes/p"):
        form = step.form_class(raw, context=StepContext(answers={"p": {}}))
        form.validate()
        html = "".join(str(field()) for field in form)
        rows = form.summary_rows()
        canonical_json(form.to_data())  # what a submission stores: JSON, whatever was typed
    assert "<script>alert" not in html
    assert len(rows) == len(questions)
    assert all(isinstance(value, str) for _, _, value in rows)
