"""Form models with "add another" groups, file answers and subjects (issue 12: the YAML ``group`` type,
``file``/``files`` built as FileAnswerField, ``subjects`` mapped to Workflow.subject_kinds): the example
model of the repository, the refusals at load (each naming the question), the forms the factory builds."""

from __future__ import annotations

import copy

import pytest
from werkzeug.datastructures import MultiDict

from app.domain.cases import SubjectKind
from app.forms.workflow_groups import FileAnswerField, GroupForm
from app.workflows.engine import StepContext, check_answers, validate_path
from app.workflows.factory import build_workflow
from app.workflows.form_models import MODELS_DIR, FormModelError, load_definition, read_file

EXAMPLE = MODELS_DIR / "exemple-temoins-v1.yaml"
GROUP = {"id": "temoins", "item_label": "témoin", "items_label": "témoins", "item_limit": 3}


def model(*pages: dict, **top) -> dict:
    return {
        "code": "essai",
        "title": "Essai",
        "version": 1,
        "status": "draft",
        "service": "qrpro",
        "reference_prefix": "ESS",
        "sections": [{"title": "Section", "pages": list(pages)}],
        **top,
    }


def page(page_id: str, *questions: dict, **extra) -> dict:
    return {"id": page_id, "title": page_id.title(), "questions": list(questions), **extra}


def q(qid: str, kind: str = "short_text", **extra) -> dict:
    return {"id": qid, "type": kind, "label": f"{qid} ?", **extra}


def with_group(*later: dict, group: dict | None = None, item: list[dict] | None = None) -> dict:
    return model(
        page("p1", q("arret", "yes_no")),
        page("liste", *(item or [q("nom", required=True), q("piece", "file")]), group=group or GROUP),
        *later,
    )


def test_the_example_model_has_a_group_files_and_case_subjects():
    definition = read_file(EXAMPLE)
    workflow = build_workflow(definition)
    assert workflow.subject_kinds == frozenset({SubjectKind.CASE_PARTY})
    step = workflow.step("temoins_liste")
    group = step.group
    assert group is not None and issubclass(group, GroupForm)
    assert (group.group_name, group.min_items, group.max_items) == ("temoins", 0, 5)
    assert group.add_label == "Ajouter un témoin"
    item_fields = group.item_form()._fields
    assert isinstance(item_fields["temoin_attestation"], FileAnswerField)
    assert isinstance(workflow.step("recit").form_class()._fields["rapport"], FileAnswerField)
    # « temoins » in a later condition is the number of items.
    assert [s.name for s in workflow.path({})] == ["recit", "temoins_liste"]
    two = {"temoins_liste": {"temoins-0-temoin_nom": "Léa Martin", "temoins-1-temoin_nom": "Paul Roy"}}
    assert [s.name for s in workflow.path(two)] == ["recit", "temoins_liste", "temoignages"]


def test_a_model_says_establishment_by_default_and_may_name_both_subjects():
    assert build_workflow(load_definition(with_group())).subject_kinds == {SubjectKind.ESTABLISHMENT}
    both = load_definition(with_group() | {"subjects": ["establishment", "case_party"]})
    assert build_workflow(both).subject_kinds == {SubjectKind.ESTABLISHMENT, SubjectKind.CASE_PARTY}
    with pytest.raises(FormModelError, match=r"subjects\[0\] : 'entreprise' is not one of"):
        load_definition(with_group() | {"subjects": ["entreprise"]})


def test_the_group_step_validates_its_items_and_their_count():
    workflow = build_workflow(load_definition(with_group(group=GROUP | {"min_items": 1})))
    step = workflow.step("liste")

    def form(raw):
        f = step.form_class(MultiDict(raw), context=StepContext(answers={"liste": raw}))
        f.validate()
        return f

    assert form({}).form_errors == ["Ajoutez au moins 1 témoin"]
    incomplete = form({"temoins-0-nom": "", "temoins-1-nom": "Léa"})
    assert incomplete.form_errors == ["Complétez ou supprimez « Témoin 1 »"]
    done = form({"temoins-0-nom": "Léa", "temoins-1-nom": "Paul"})
    assert done.form_errors == [] and done.to_data() == {
        "temoins": [{"nom": "Léa", "piece": []}, {"nom": "Paul", "piece": []}]
    }
    answers = {"p1": {"arret": "non"}, "liste": {"temoins-0-nom": "Léa"}}
    assert validate_path(workflow, answers)[1] is None
    assert validate_path(workflow, {**answers, "liste": {}})[1].name == "liste"
    (section,) = check_answers(workflow, answers)
    rows = [(r["label"], r["value"]) for r in section.rows if r["step"] == "liste"]
    assert rows == [("Témoin 1", "nom ? : Léa")]


def test_conditions_read_a_group_as_its_count_never_its_items_answers():
    count = with_group(page("suite", q("precision"), condition="temoins >= 2"))
    workflow = build_workflow(load_definition(count))
    one = {"liste": {"temoins-0-nom": "Léa"}}
    assert "suite" not in [s.name for s in workflow.path(one)]
    assert "suite" in [s.name for s in workflow.path({"liste": {**one["liste"], "temoins-1-nom": "Paul"}})]
    bare = with_group(page("suite", q("precision"), condition="temoins"))
    assert "suite" in [s.name for s in build_workflow(load_definition(bare)).path(one)]

    item_answer = with_group(page("suite", q("precision"), condition='nom == "Léa"'))
    with pytest.raises(FormModelError) as refused:
        load_definition(item_answer)
    assert str(refused.value).startswith(
        "essai version 1, page « suite » : condition refusée : « nom » est une question des éléments du "
        "groupe « temoins »"
    )
    question_level = with_group(page("suite", q("precision", condition="piece")))
    with pytest.raises(FormModelError, match="question « precision » : condition refusée : « piece » est"):
        load_definition(question_level)
    # Inside an item, a question cannot read another of the same item (a page never reads itself)…
    same_item = with_group(item=[q("nom"), q("tel", "phone", condition='nom != ""')])
    with pytest.raises(FormModelError, match="question « tel » : condition refusée : nom inconnu « nom »"):
        load_definition(same_item)
    # …but reads earlier pages, like any question.
    earlier = with_group(item=[q("nom"), q("arret_nom", condition="arret == true")])
    item_form = build_workflow(load_definition(earlier)).step("liste").group.item_form
    off = item_form(MultiDict(), context=StepContext(answers={"p1": {"arret": "non"}}))
    assert "arret_nom" not in off._fields


def test_a_group_is_refused_at_load_when_it_cannot_work():
    cases = [
        (with_group(group=GROUP | {"min_items": 4}), "« liste » : min_items est plus grand que item_limit"),
        (with_group(group=GROUP | {"item_limit": 101}), "101 is greater than the maximum of 100"),
        (with_group(group=GROUP | {"id": "arret"}), "groupe « arret » est déjà pris"),
        (with_group(item=[q("temoins")]), "question « temoins » : cet identifiant est déjà utilisé"),
        (with_group(page("suite", q("nom"))), "question « nom » : cet identifiant est déjà utilisé"),
        (with_group(group={"id": "temoins", "item_label": "témoin"}), "'items_label' is a required property"),
    ]
    for data, message in cases:
        with pytest.raises(FormModelError) as refused:
            load_definition(copy.deepcopy(data))
        assert message in str(refused.value), (message, str(refused.value))


def test_file_questions_are_file_answers_bounded_by_the_model():
    data = model(page("p1", q("un", "file", required=True), q("plusieurs", "files", max_files=3)))
    fields = build_workflow(load_definition(data)).step("p1").form_class()._fields
    assert (fields["un"].min_files, fields["un"].max_files) == (1, 1)
    assert (fields["plusieurs"].min_files, fields["plusieurs"].max_files) == (0, 3)
    form = (
        build_workflow(load_definition(data))
        .step("p1")
        .form_class(MultiDict({"plusieurs": "12"}), context=StepContext(answers={}))
    )
    assert not form.validate()
    assert form.errors == {
        "un": ["Joignez le fichier : un ?"],
        # An id the draft does not hold (here: no draft at all) is never taken.
        "plusieurs": ["Un fichier joint est introuvable : joignez-le de nouveau"],
    }
    with pytest.raises(FormModelError, match=r"question « un » : max_files ne vaut que pour .* type files"):
        load_definition(model(page("p1", q("un", "file", max_files=2))))
