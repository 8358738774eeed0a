"""Form models as data (app/workflows/form_models.py, factory.py): the example model in the repository,
the refusals at load (each naming the model and the question), and the step forms the factory builds."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from app.forms.workflow_groups import FileAnswerField
from app.workflows.engine import StepContext, check_answers, validate_path
from app.workflows.factory import (
    FIELD_BUILDERS,
    NumberField,
    build_workflow,
    register_field_builder,
)
from app.workflows.form_models import MODELS_DIR, FormModelError, load_definition, read_directory, read_file

EXAMPLE = MODELS_DIR / "exemple-questionnaire-v1.yaml"


def minimal(**question) -> dict:
    """A one-page model whose second page holds ``question`` (the first asks ``arret``)."""
    return {
        "code": "essai",
        "title": "Essai",
        "version": 1,
        "status": "draft",
        "service": "qrpro",
        "reference_prefix": "ESS",
        "sections": [
            {
                "title": "Section",
                "pages": [
                    {
                        "id": "p1",
                        "title": "Page 1",
                        "questions": [{"id": "arret", "type": "yes_no", "label": "Arrêt ?"}],
                    },
                    {
                        "id": "p2",
                        "title": "Page 2",
                        "questions": [{"id": "q", "type": "short_text", "label": "Q ?", **question}],
                    },
                ],
            }
        ],
    }


def form_of(workflow, page: str, raw: dict, answers: dict | None = None):
    step = workflow.step(page)
    form = step.form_class(MultiDict(raw), context=StepContext(answers=answers or {page: raw}))
    form.validate()
    return form


def test_the_example_model_loads_and_its_path_follows_the_answers():
    (definition,) = [d for d in read_directory() if d.code == "exemple-questionnaire"]
    assert definition.version == 1 and definition.status == "published"
    workflow = build_workflow(definition)
    assert [s.name for s in workflow.path({})] == ["lieu", "consequences", "mesures_prises"]
    answers = {
        "lieu": {"lieu_travail": "non", "lieu_type": "chantier"},
        "consequences": {"arret": "oui"},
        "mesures_prises": {"mesures": ["formation", "amenagement"]},
    }
    assert [s.name for s in workflow.path(answers)] == [
        "lieu",
        "mission",
        "consequences",
        "duree",
        "mesures_prises",
        "precisions",
    ]


def test_the_example_model_validates_and_summarises_a_full_path():
    workflow = build_workflow(read_file(EXAMPLE))
    answers = {
        "lieu": {"lieu_travail": "oui", "lieu_type": "atelier"},
        "consequences": {"arret": "oui"},
        "duree": {"jours_arret": "12"},
        "mesures_prises": {"frais": "1 250,5", "mesures": ["equipement"]},
        "precisions": {"date_mesures": ["2", "3", "2026"]},
    }
    forms, invalid = validate_path(workflow, answers, StepContext(answers=answers))
    assert invalid is None
    assert forms["mesures_prises"].to_data() == {"frais": "1250.50", "mesures": ["equipement"]}
    rows = {
        r["label"]: r["value"]
        for s in check_answers(workflow, answers, StepContext(answers=answers))
        for r in s.rows
    }
    assert rows["Frais engagés"] == "1\u202f250,50\u00a0€"
    assert rows["Jours d'arrêt"] == "12"
    assert rows["Mesures prises"] == "Un nouvel équipement de protection"
    assert rows["Mesures en place depuis"] == "2 mars 2026"
    assert "Mission" not in rows  # not on the path


def test_bounds_and_types_give_french_messages():
    workflow = build_workflow(read_file(EXAMPLE))
    assert form_of(workflow, "duree", {"jours_arret": "0"}).errors == {
        "jours_arret": ["Saisissez une valeur supérieure ou égale à 1"]
    }
    assert form_of(workflow, "duree", {"jours_arret": "douze"}).errors == {
        "jours_arret": ["Saisissez un nombre entier, par exemple 12"]
    }
    assert form_of(workflow, "duree", {}).errors == {"jours_arret": ["Saisissez le nombre de jours d'arrêt"]}
    errors = form_of(workflow, "mesures_prises", {"frais": "12,345"}).errors
    assert errors == {"frais": ["Saisissez un montant avec au plus deux chiffres après la virgule"]}
    errors = form_of(workflow, "precisions", {"date_mesures": ["1", "1", "1999"]}).errors
    assert errors == {"date_mesures": ["La date doit être le 1er janvier 2000 ou après"]}
    errors = form_of(
        workflow, "mission", {"mission_objet": "Livraison", "mission_client": "732 829 320 00075"}
    ).errors
    assert errors == {"mission_client": ["Ce numéro SIRET n'existe pas : vérifiez les 14 chiffres"]}
    assert not form_of(
        workflow, "mission", {"mission_objet": "Livraison", "mission_client": "732 829 320 00074"}
    ).errors


def test_a_question_whose_condition_fails_is_neither_shown_nor_validated():
    data = minimal(condition="arret == true", required=True, required_message="Saisissez Q")
    workflow = build_workflow(load_definition(data))
    answers = {"p1": {"arret": "non"}, "p2": {}}
    form = form_of(workflow, "p2", {}, answers)
    assert "q" not in form._fields and not form.errors
    assert [s.name for s in workflow.path(answers)] == ["p1"]  # a page with no question shown is skipped
    answers = {"p1": {"arret": "oui"}, "p2": {}}
    assert form_of(workflow, "p2", {}, answers).errors == {"q": ["Saisissez Q"]}


def test_pattern_and_lengths_of_a_text():
    data = minimal(
        pattern="[A-Z]{2}\\d{3}", pattern_message="Saisissez deux lettres et trois chiffres", max_length=5
    )
    workflow = build_workflow(load_definition(data))
    assert form_of(workflow, "p2", {"q": "AB123"}).errors == {}
    assert form_of(workflow, "p2", {"q": "AB12"}).errors == {
        "q": ["Saisissez deux lettres et trois chiffres"]
    }
    assert form_of(workflow, "p2", {"q": "AB1234"})._fields["q"].errors[0] == "Saisissez au plus 5 caractères"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"condition": "inconnu == 1"}, "question « q » : condition refusée : nom inconnu « inconnu »"),
        ({"condition": "q == 'x'"}, "question « q » : condition refusée : nom inconnu « q »"),
        (
            {"condition": "arret.__class__"},
            "question « q » : condition refusée : caractère non autorisé « . »",
        ),
        (
            {"condition": "(" * 9 + "arret" + ")" * 9},
            "question « q » : condition refusée : condition trop imbriquée",
        ),
        (
            {"condition": "arret in [" + ",".join(["1"] * 60) + "]"},
            "question « q » : condition refusée : liste trop longue",
        ),
        (
            {"options": [{"value": "a", "label": "A"}]},
            "question « q » : seules les questions à choix ont des options",
        ),
        ({"type": "radios"}, "question « q » : une question de type radios doit avoir des options"),
        ({"pattern": "[a-z"}, "question « q » : pattern n'est pas une expression régulière valide"),
        ({"pattern": "[a-z]+"}, "question « q » : un pattern doit avoir son pattern_message"),
        ({"type": "integer", "min": 10, "max": 1}, "question « q » : min est plus grand que max"),
        ({"min": 1}, "question « q » : min et max ne valent que pour un nombre"),
        ({"id": "arret"}, "question « arret » : cet identifiant est déjà utilisé"),
        ({"type": "exec"}, "sections[0].pages[1].questions[0].type : 'exec' is not one of"),
        ({"label": "x" * 501}, "sections[0].pages[1].questions[0].label"),
        ({"id": "__class__"}, "sections[0].pages[1].questions[0].id"),
    ],
)
def test_a_bad_model_is_refused_naming_the_question(change, message):
    with pytest.raises(
        FormModelError, match="^essai version 1, " if "sections[" not in message else "^modèle : "
    ) as error:
        load_definition(minimal(**change))
    assert message in str(error.value)


def test_a_page_condition_is_checked_too_and_a_page_id_is_unique():
    data = minimal()
    data["sections"][0]["pages"][0]["condition"] = "arret == true"
    with pytest.raises(FormModelError, match="page « p1 » : condition refusée : nom inconnu « arret »"):
        load_definition(data)
    data = minimal()
    data["sections"][0]["pages"][1]["id"] = "p1"
    with pytest.raises(FormModelError, match="la page « p1 » est définie deux fois"):
        load_definition(data)


def test_a_model_file_is_named_after_its_code_and_version(tmp_path: Path):
    wrong = tmp_path / "exemple.yaml"
    wrong.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(FormModelError, match="doit s'appeler exemple-questionnaire-v1"):
        read_file(wrong)
    bad = tmp_path / "x-v1.yaml"
    bad.write_text("code: [unclosed", encoding="utf-8")
    with pytest.raises(FormModelError, match="YAML illisible"):
        read_file(bad)


def test_the_content_hash_ignores_the_status_only():
    data = minimal()
    retired = {**copy.deepcopy(data), "status": "retired", "published_at": "2026-12-06"}
    assert load_definition(data).content_sha256 == load_definition(retired).content_sha256
    changed = copy.deepcopy(data)
    changed["sections"][0]["pages"][1]["questions"][0]["label"] = "Autre ?"
    assert load_definition(changed).content_sha256 != load_definition(data).content_sha256


def test_every_question_type_builds_a_field():
    kinds = [
        "long_text",
        "integer",
        "decimal",
        "money",
        "date",
        "time",
        "datetime",
        "yes_no",
        "email",
        "phone",
        "siret",
    ]
    for kind in kinds:
        workflow = build_workflow(load_definition(minimal(type=kind)))
        assert "q" in workflow.step("p2").form_class()._fields, kind
    for kind in ("select", "checkboxes", "radios"):
        workflow = build_workflow(load_definition(minimal(type=kind, options=[{"value": "a", "label": "A"}])))
        assert "q" in workflow.step("p2").form_class()._fields, kind
    workflow = build_workflow(load_definition(minimal(type="datetime", required=True)))
    assert form_of(workflow, "p2", {"q": "27/03/2026 14 h 30"}).errors == {}
    assert form_of(workflow, "p2", {"q": "31/02/2026 14:30"}).errors == {
        "q": ["Saisissez une date et une heure réelles, par exemple 27/03/2026 14:30"]
    }
    workflow = build_workflow(load_definition(minimal(type="phone")))
    assert form_of(workflow, "p2", {"q": "03 87 00 00 00"}).to_data() == {"q": "0387000000"}
    assert form_of(workflow, "p2", {"q": "12"}).errors


def test_a_file_question_gets_a_field_its_builder_may_replace():
    workflow = build_workflow(load_definition(minimal(type="files", required=True)))
    field = workflow.step("p2").form_class()._fields["q"]
    assert isinstance(field, FileAnswerField) and (field.min_files, field.max_files) == (1, 5)
    assert form_of(workflow, "p2", {}).errors == {"q": ["Joignez au moins un fichier : Q ?"]}
    previous = FIELD_BUILDERS["files"]
    try:
        register_field_builder("files", lambda question: NumberField(question.label, kind="integer"))
        workflow = build_workflow(load_definition(minimal(type="files")))
        assert isinstance(workflow.step("p2").form_class()._fields["q"], NumberField)
    finally:
        register_field_builder("files", previous)


def test_money_is_a_decimal_never_a_float():
    workflow = build_workflow(load_definition(minimal(type="money")))
    data = form_of(workflow, "p2", {"q": "0,10"})._fields["q"].data
    assert data == Decimal("0.10") and isinstance(data, Decimal)
