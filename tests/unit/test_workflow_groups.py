"""The pure parts of the "add another" groups (issue 12, item 4): how items are stored in a step's raw
answers, the bounds on their number, what « Vérifier vos réponses » and the submission get."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import DataRequired

from app.forms.workflow_groups import (
    FileAnswerField,
    GroupSpec,
    format_size,
    group_form,
    pack_items,
    unpack_items,
)
from app.forms.workflows import StepForm
from app.models import Service
from app.workflows.engine import Step, Workflow, check_answers, extract_raw, group_step


class Witness(StepForm):
    nom = StringField("Nom", validators=[DataRequired("Saisissez le nom du témoin")])
    adresse = StringField("Adresse")


WITNESSES = GroupSpec(
    name="temoins", item_form=Witness, item_label="témoin", items_label="témoins", min_items=1, max_items=3
)


def test_items_are_stored_flat_and_read_back_in_order_without_gaps():
    items = [{"nom": "Martin", "adresse": "1 rue"}, {"nom": "Durand"}]
    raw = pack_items("temoins", items)
    assert raw == {"temoins-0-nom": "Martin", "temoins-0-adresse": "1 rue", "temoins-1-nom": "Durand"}
    assert unpack_items("temoins", raw) == items
    # Posted with a gap (index 0 deleted in another tab): read in order, numbered again when packed.
    posted = MultiDict([("temoins-2-nom", "B"), ("temoins-1-nom", "A"), ("autre", "x")])
    assert pack_items("temoins", unpack_items("temoins", posted)) == {
        "temoins-0-nom": "A",
        "temoins-1-nom": "B",
    }


def test_a_forged_request_cannot_make_a_group_read_more_than_a_hundred_items():
    posted = MultiDict([(f"temoins-{i}-nom", "x") for i in range(500)])
    assert len(unpack_items("temoins", posted)) == 100
    # An index of four digits or more is not an item at all.
    assert unpack_items("temoins", {"temoins-1000-nom": "x"}) == []


def test_the_bounds_and_the_incomplete_items_are_said_in_french():
    form_class = WITNESSES.form_class()
    empty = form_class(MultiDict())
    assert not empty.validate()
    assert empty.form_errors == ["Ajoutez au moins 1 témoin"]
    too_many = form_class(MultiDict([(f"temoins-{i}-nom", f"T{i}") for i in range(4)]))
    assert not too_many.validate()
    assert too_many.form_errors[0] == "Vous ne pouvez pas ajouter plus de 3 témoins"
    assert too_many.full
    incomplete = form_class(MultiDict([("temoins-0-nom", "Martin"), ("temoins-1-adresse", "2 rue")]))
    assert not incomplete.validate()
    assert incomplete.form_errors == ["Complétez ou supprimez « Témoin 2 »"]
    assert incomplete.error_links() == [("Complétez ou supprimez « Témoin 2 »", "#element-1")]
    assert form_class(MultiDict([("temoins-0-nom", "Martin")])).validate()


def test_check_answers_shows_one_row_per_item_and_the_submission_a_list():
    form = WITNESSES.form_class()(MultiDict([("temoins-0-nom", "Martin"), ("temoins-0-adresse", "1 rue")]))
    assert form.summary_rows() == [("temoins-0", "Témoin 1", "Nom : Martin\nAdresse : 1 rue")]
    assert form.to_data() == {"temoins": [{"nom": "Martin", "adresse": "1 rue"}]}
    assert WITNESSES.form_class()(MultiDict()).summary_rows() == [("temoins", "Témoins", "Aucun")]


def test_a_group_step_is_known_to_the_engine_and_links_each_item_on_check_answers():
    step = group_step("temoins", "Les témoins", WITNESSES)
    assert step.group is not None and step.group.max_items == 3
    assert Step("autre", "Autre", Witness).group is None
    workflow = Workflow("essai_groupes", "Essai", "ESSAI", Service.COMPTE, (step,))
    (section,) = check_answers(workflow, {"temoins": {"temoins-0-nom": "Martin"}})
    assert section.rows[0]["item"] == "0"
    # The group's page posts no item: what the engine reads from it is nothing.
    assert extract_raw(step, MultiDict([("temoins-0-nom", "forgé")])) == {}


def test_a_group_spec_is_checked_when_the_workflow_is_declared():
    with pytest.raises(ValueError, match="lowercase"):
        group_form("Témoins", Witness, item_label="t", items_label="ts")
    with pytest.raises(ValueError, match="min_items"):
        group_form("temoins", Witness, item_label="t", items_label="ts", min_items=4, max_items=3)


def test_a_file_answer_keeps_only_upload_ids_once_each():
    class WithFile(StepForm):
        pieces = FileAnswerField("Pièces", max_files=2)

    form = WithFile(
        MultiDict([("pieces", "12"), ("pieces", "12"), ("pieces", "../etc"), ("pieces", "9" * 12)])
    )
    assert form.pieces.data == [12]
    assert form.pieces.uploads == []  # no draft: nothing may be named
    assert not form.validate()
    assert form.pieces.errors == ["Un fichier joint est introuvable : joignez-le de nouveau"]


def test_sizes_read_in_french():
    assert format_size(1500) == "1 Ko"
    assert format_size(2_400_000) == "2,3 Mo"
