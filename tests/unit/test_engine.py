"""The workflow engine without a database: path with conditions, reachability, progress, raw
answers, French date field, check-answers rows, canonical JSON and its hash, references."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice, StringField
from wtforms.validators import DataRequired

from app.forms.workflows import (
    FrenchDateField,
    FrenchRadioField,
    StepForm,
    TextInput,
    first_input_id,
    french_date,
)
from app.models import Service
from app.workflows import get_workflow
from app.workflows.engine import (
    CHECK_ANSWERS,
    RAW_VALUE_MAX_CHARS,
    Step,
    Task,
    TaskStatus,
    Workflow,
    build_form,
    canonical_json,
    check_answers,
    extract_raw,
    format_reference,
    sha256_of,
    to_formdata,
    validate_path,
)


class KindForm(StepForm):
    kind = FrenchRadioField(
        "Quel type ?",
        choices=[SelectChoice("a", "Type A"), SelectChoice("b", "Type B")],
        validators=[DataRequired("Choisissez")],
    )


class TextForm(StepForm):
    text = StringField("Texte", validators=[DataRequired("Saisissez le texte")], widget=TextInput())


class WhenForm(StepForm):
    when = FrenchDateField("Quand ?", what="La date", validators=[DataRequired("Saisissez la date")])


def is_b(answers):
    return answers.get("kind", {}).get("kind") == "b"


FLOW = Workflow(
    name="essai",
    title="Essai",
    reference_prefix="ESS",
    service=Service.DAT,
    steps=[
        Step("kind", "Type", KindForm, section="Début"),
        Step("only_b", "Seulement B", TextForm, condition=is_b, section="Début"),
        Step("when", "Date", WhenForm, section="Fin"),
    ],
)


def names(steps):
    return [s.name for s in steps]


def test_the_overview_lists_the_sections_of_the_path_with_their_status():
    done, in_progress, to_do, cannot = (
        TaskStatus.DONE,
        TaskStatus.IN_PROGRESS,
        TaskStatus.TO_DO,
        TaskStatus.CANNOT_START,
    )
    assert FLOW.task_list({}, []) == [
        Task("Début", to_do, "kind"),
        Task("Fin", cannot, None),
        Task("Vérifier et envoyer", cannot, None),
    ]
    b = {"kind": {"kind": "b"}}
    assert FLOW.task_list(b, ["kind"]) == [
        Task("Début", in_progress, "only_b"),  # its second step, on the path for B, is next
        Task("Fin", cannot, None),
        Task("Vérifier et envoyer", cannot, None),
    ]
    answered = {**b, "only_b": {"text": "x"}, "when": {"when-day": "1"}}
    assert FLOW.task_list(answered, ["kind", "only_b"]) == [
        Task("Début", done, "kind"),
        Task("Fin", in_progress, "when"),
        Task("Vérifier et envoyer", cannot, None),
    ]
    assert FLOW.task_list(answered, ["kind", "only_b", "when"])[-1] == Task(
        "Vérifier et envoyer", to_do, CHECK_ANSWERS
    )
    # An earlier section made incomplete again (a changed answer): what follows cannot be opened.
    assert FLOW.task_list(answered, ["kind", "when"]) == [
        Task("Début", in_progress, "only_b"),
        Task("Fin", cannot, None),
        Task("Vérifier et envoyer", cannot, None),
    ]


def test_the_path_follows_the_conditions():
    assert names(FLOW.path({})) == ["kind", "when"]
    assert names(FLOW.path({"kind": {"kind": "a"}})) == ["kind", "when"]
    assert names(FLOW.path({"kind": {"kind": "b"}})) == ["kind", "only_b", "when"]


def test_position_and_neighbours_are_on_the_current_path():
    b = {"kind": {"kind": "b"}}
    when = FLOW.step("when")
    assert FLOW.position(when, {}) == (2, 2)
    assert FLOW.position(when, b) == (3, 3)
    assert FLOW.step_before(when, b).name == "only_b"
    assert FLOW.step_before(when, {}).name == "kind"
    assert FLOW.step_after(FLOW.step("kind"), b).name == "only_b"
    assert FLOW.step_after(when, b) is None
    assert FLOW.step_before(FLOW.step("kind"), b) is None


def test_a_step_is_reachable_only_up_to_the_first_incomplete_one():
    b = {"kind": {"kind": "b"}, "only_b": {"text": ""}}
    assert FLOW.reachable(FLOW.step("kind"), b, [])
    assert not FLOW.reachable(FLOW.step("only_b"), b, [])
    assert FLOW.reachable(FLOW.step("only_b"), b, ["kind"])
    assert not FLOW.reachable(FLOW.step("when"), b, ["kind"])
    assert FLOW.first_incomplete(b, ["kind"]).name == "only_b"
    # A step off the path is never reachable, whatever its stored validity.
    a = {"kind": {"kind": "a"}}
    assert not FLOW.reachable(FLOW.step("only_b"), a, ["kind", "only_b"])


def test_resume_point_is_the_step_left_if_it_can_be_shown():
    b = {"kind": {"kind": "b"}}
    assert FLOW.resume_point(b, ["kind"], "only_b") == "only_b"
    assert FLOW.resume_point(b, ["kind"], "when") == "only_b"  # beyond the first incomplete step
    assert FLOW.resume_point(b, ["kind", "only_b", "when"], CHECK_ANSWERS) == CHECK_ANSWERS
    assert FLOW.resume_point({"kind": {"kind": "a"}}, ["kind", "when"], "only_b") == CHECK_ANSWERS


def test_progress_counts_valid_steps_on_the_path_only():
    assert FLOW.progress({"kind": {"kind": "a"}}, ["kind", "only_b"]) == (1, 2)
    assert FLOW.progress({"kind": {"kind": "b"}}, ["kind", "only_b"]) == (2, 3)


def test_step_names_must_be_unique_and_not_the_check_answers_marker():
    with pytest.raises(ValueError):
        Workflow("x", "X", "X", Service.DAT, [Step("a", "A", TextForm), Step("a", "A", TextForm)])
    with pytest.raises(ValueError):
        Workflow("x", "X", "X", Service.DAT, [Step(CHECK_ANSWERS, "A", TextForm)])


def test_raw_answers_keep_only_the_forms_inputs_bounded_in_size():
    posted = MultiDict(
        [("when", "1"), ("when", "2"), ("when", "2026"), ("csrf_token", "t"), ("version", "3"), ("evil", "x")]
    )
    assert extract_raw(FLOW.step("when"), posted) == {"when": ["1", "2", "2026"]}
    huge = extract_raw(FLOW.step("only_b"), MultiDict([("text", "x" * 100_000)]))
    assert len(huge["text"]) == RAW_VALUE_MAX_CHARS
    assert extract_raw(FLOW.step("kind"), MultiDict()) == {}


def test_raw_answers_round_trip_through_formdata():
    raw = {"when": ["1", "2", "2026"], "text": "a"}
    assert to_formdata(raw).getlist("when") == ["1", "2", "2026"]
    form = build_form(FLOW.step("when"), {"when": ["01", "02", "2026"]})
    assert form.validate() and form.when.data == date(2026, 2, 1)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (["", "", ""], "Saisissez la date"),
        (["1", "", "2026"], "La date doit comporter un jour, un mois et une année"),
        (["1", "2"], "La date doit comporter un jour, un mois et une année"),
        (["a", "b", "cccc"], "La date doit être une date réelle"),
        (["30", "2", "2026"], "La date doit être une date réelle"),
        (["1", "2", "26"], "La date doit être une date réelle"),
    ],
)
def test_the_french_date_field_explains_what_is_wrong(parts, message):
    form = build_form(FLOW.step("when"), {"when": parts})
    assert not form.validate()
    assert form.when.errors[0].startswith(message)
    assert first_input_id(form.when) == "when-day"  # where the error summary links to


def test_french_dates():
    assert french_date(date(2026, 3, 1)) == "1er mars 2026"
    assert french_date(date(2026, 8, 15)) == "15 août 2026"


def test_validate_path_stops_at_the_first_invalid_step():
    answers = {"kind": {"kind": "b"}, "only_b": {"text": ""}, "when": {"when": ["1", "1", "2026"]}}
    forms, invalid = validate_path(FLOW, answers)
    assert invalid.name == "only_b" and list(forms) == ["kind", "only_b"]
    answers = {"kind": {"kind": "a"}, "only_b": {"text": ""}, "when": {"when": ["1", "1", "2026"]}}
    forms, invalid = validate_path(FLOW, answers)
    assert invalid is None
    assert {name: form.to_data() for name, form in forms.items()} == {
        "kind": {"kind": "a"},
        "when": {"when": "2026-01-01"},
    }


def test_check_answers_rows_show_only_the_path_grouped_by_section():
    answers = {"kind": {"kind": "a"}, "only_b": {"text": "caché"}, "when": {"when": ["1", "3", "2026"]}}
    sections = check_answers(FLOW, answers)
    assert [s.title for s in sections] == ["Début", "Fin"]
    assert [(r["label"], r["value"]) for s in sections for r in s.rows] == [
        ("Quel type ?", "Type A"),
        ("Quand ?", "1er mars 2026"),
    ]


def test_canonical_json_is_stable_and_keeps_unicode():
    one = {"b": [1, {"é": "à"}], "a": "x"}
    two = {"a": "x", "b": [1, {"é": "à"}]}
    assert canonical_json(one) == canonical_json(two) == '{"a":"x","b":[1,{"é":"à"}]}'.encode()
    assert (
        sha256_of(one) == sha256_of(two) == hashlib.sha256('{"a":"x","b":[1,{"é":"à"}]}'.encode()).hexdigest()
    )
    assert sha256_of({"a": "x "}) != sha256_of(one)


def test_references_are_zero_padded():
    assert format_reference("DAT", 2026, 123) == "DAT-2026-000123"


def test_the_demo_workflow_is_registered_with_a_conditional_step(app):
    flow = get_workflow("coordonnees")
    assert flow.service == Service.COMPTE and flow.reference_prefix == "COORD"
    assert names(flow.path({"nature": {"nature": "contact"}})) == ["nature", "contact", "date_effet", "motif"]
    assert names(flow.path({"nature": {"nature": "adresse"}})) == ["nature", "adresse", "date_effet", "motif"]


def test_a_radio_question_without_hint_renders_no_empty_hint(app):
    form = build_form(FLOW.step("kind"), {})
    with app.test_request_context():
        html = str(form.kind())
    assert "govuk-hint" not in html and "aria-describedby" not in html
