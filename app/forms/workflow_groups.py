""" "Add another" groups of the workflow engine (GOV.UK "Add multiple things" pattern) and the answers
of type file: the form pieces any workflow step uses, whether written in Python or built from a
data-defined model (docs/workflows.md, « Groupes répétés et fichiers »).

A group's items are stored in the step's raw answers, flat, like every other answer:
``{"<group>-<i>-<input name>": value}`` (WTForms' FieldList naming), ``i`` from 0 without gaps.
Each item is validated by its own form (``item_form``) and edited on a page of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Field
from wtforms.validators import StopValidation, ValidationError

from app.forms.workflows import StepForm

# An item's raw answers: ``{input name: str | [str, …]}`` without the group prefix.
ItemRaw = dict[str, str | list[str]]
# Bounds of a forged request: at most this many items are read, whatever the group's limit.
ITEMS_READ_MAX = 100


def _key(group: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(group)}-(\d{{1,3}})-(.+)$")


def unpack_items(group: str, raw: Mapping[str, Any] | MultiDict | None) -> list[ItemRaw]:
    """The items stored in a step's raw answers, in order (an index without any input is no item)."""
    if not raw:
        return []
    pattern = _key(group)
    by_index: dict[int, ItemRaw] = {}
    pairs = raw.lists() if isinstance(raw, MultiDict) else raw.items()
    for key, value in pairs:
        match = pattern.match(key)
        if not match:
            continue
        if isinstance(raw, MultiDict) and len(value) == 1:
            value = value[0]  # one posted value reads as the string, like extract_raw stores it
        by_index.setdefault(int(match[1]), {})[match[2]] = value
    return [by_index[i] for i in sorted(by_index)][:ITEMS_READ_MAX]


def pack_items(group: str, items: list[ItemRaw]) -> dict[str, str | list[str]]:
    """The step's raw answers holding ``items``, numbered again from 0."""
    return {f"{group}-{i}-{name}": value for i, item in enumerate(items) for name, value in item.items()}


def item_formdata(raw: ItemRaw) -> MultiDict:
    pairs = []
    for key, value in raw.items():
        for v in value if isinstance(value, list) else [value]:
            pairs.append((key, v))
    return MultiDict(pairs)


class GroupForm(StepForm):
    """The form of a group step: its items, each an ``item_form``, between ``min_items`` and
    ``max_items``. Built by :func:`group_form`; no WTForms field of its own (an item is edited on
    its own page, so the list page posts nothing but « Continuer »)."""

    group_name: str = "elements"
    item_form: type[StepForm] = StepForm
    item_label: str = "élément"  # "pièce justificative": « Pièce justificative 2 », « Ajouter une … »
    items_label: str = "éléments"  # the plural, in the messages on the bounds
    min_items: int = 0
    max_items: int = 10
    item_title: Callable[[StepForm], str] | None = None
    add_label: str = ""  # « Ajouter une pièce justificative »

    def __init__(self, formdata=None, *, context=None, **kwargs):
        super().__init__(formdata, context=context, **kwargs)
        self.items: list[StepForm] = [
            self.item_form(item_formdata(raw), context=context)
            for raw in unpack_items(self.group_name, formdata)
        ]
        self.item_errors: dict[int, str] = {}

    # -- labels ------------------------------------------------------------------------------------

    def label_of(self, index: int) -> str:
        """« Pièce justificative 2 » (1-based)."""
        return f"{self.item_label[:1].upper()}{self.item_label[1:]} {index + 1}"

    def title_of(self, index: int) -> str:
        """What names the item in the list: ``item_title(form)`` or its first answer."""
        item = self.items[index]
        if self.item_title is not None:
            return self.item_title(item) or ""
        return next((value for _, _, value in item.summary_rows() if value), "")

    @property
    def add_text(self) -> str:
        return self.add_label or f"Ajouter : {self.item_label}"

    def listed(self) -> list[tuple[int, str, str, bool]]:
        """(index, label, title, complete) of each item, for the group's page."""
        rows = []
        for index, item in enumerate(self.items):
            complete = item.validate()
            rows.append((index, self.label_of(index), self.title_of(index), complete))
        return rows

    @property
    def full(self) -> bool:
        return len(self.items) >= self.max_items

    @property
    def limit_message(self) -> str:
        return (
            f"Vous avez atteint le nombre maximal de {self.items_label} ({self.max_items}) : "
            "pour en ajouter, supprimez d'abord un élément de la liste."
        )

    # -- validation --------------------------------------------------------------------------------

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        self.item_errors = {}
        for index, item in enumerate(self.items):
            if not item.validate():
                self.item_errors[index] = f"Complétez ou supprimez « {self.label_of(index)} »"
        messages = list(self.item_errors.values())
        if len(self.items) < self.min_items:
            what = self.item_label if self.min_items == 1 else self.items_label
            messages.insert(0, f"Ajoutez au moins {self.min_items} {what}")
        if len(self.items) > self.max_items:
            messages.insert(0, f"Vous ne pouvez pas ajouter plus de {self.max_items} {self.items_label}")
        self.form_errors = messages
        return not messages

    def error_links(self) -> list[tuple[str, str]]:
        """(message, anchor) for the error summary: an incomplete item links to its row."""
        links = []
        for message in self.form_errors:
            index = next((i for i, m in self.item_errors.items() if m == message), None)
            links.append((message, f"#element-{index}" if index is not None else "#ajouter-element"))
        return links

    # -- what the engine reads ---------------------------------------------------------------------

    def summary_rows(self) -> list[tuple[str, str, str]]:
        """One row per item on « Vérifier vos réponses »: its answers, one per line."""
        if not self.items:
            return [(self.group_name, self.items_label[:1].upper() + self.items_label[1:], "Aucun")]
        rows = []
        for index, item in enumerate(self.items):
            lines = [f"{label} : {value}" for _, label, value in item.summary_rows() if value]
            rows.append((f"{self.group_name}-{index}", self.label_of(index), "\n".join(lines)))
        return rows

    def to_data(self) -> dict[str, Any]:
        return {self.group_name: [item.to_data() for item in self.items]}


@dataclass(frozen=True)
class GroupSpec:
    """An "add another" group, as a workflow (or the form factory of data-defined models) declares
    it: ``name`` prefixes the stored inputs, ``item_form`` holds the questions of one item,
    ``item_label``/``items_label`` name one and several in French messages (« pièce
    justificative », « pièces justificatives »), ``min_items``..``max_items`` bound the count
    (``max_items`` is the GOV.UK *item limit*), ``item_title(item_form) -> str`` names an item in
    the list (default: its first answer). ``form_class()`` is the step's form."""

    name: str
    item_form: type[StepForm]
    item_label: str
    items_label: str
    min_items: int = 0
    max_items: int = 10
    item_title: Callable[[StepForm], str] | None = None
    add_label: str = ""

    def form_class(self) -> type[GroupForm]:
        return group_form(
            self.name,
            self.item_form,
            item_label=self.item_label,
            items_label=self.items_label,
            min_items=self.min_items,
            max_items=self.max_items,
            item_title=self.item_title,
            add_label=self.add_label,
        )


def group_form(
    name: str,
    item_form: type[StepForm],
    *,
    item_label: str,
    items_label: str,
    min_items: int = 0,
    max_items: int = 10,
    item_title: Callable[[StepForm], str] | None = None,
    add_label: str = "",
) -> type[GroupForm]:
    """The :class:`GroupForm` class of one group (the engine's ``group_step`` calls it)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
        raise ValueError(f"group name {name!r}: lowercase letters, digits and _ only")
    if not 0 <= min_items <= max_items <= ITEMS_READ_MAX or max_items < 1:
        raise ValueError(f"group {name}: 0 <= min_items <= max_items <= {ITEMS_READ_MAX}, max_items >= 1")
    return type(
        f"{name.title().replace('_', '')}GroupForm",
        (GroupForm,),
        {
            "group_name": name,
            "item_form": item_form,
            "item_label": item_label,
            "items_label": items_label,
            "min_items": min_items,
            "max_items": max_items,
            "item_title": staticmethod(item_title) if item_title else None,
            "add_label": add_label,
        },
    )


# ---------------------------------------------------------------------------------------------
# Answers of type file


class FileAnswerWidget:
    """The files attached so far (each with « Supprimer »), then a file input and « Joindre le
    fichier »: both buttons post the whole page to the draft's file endpoint (multipart), with or
    without JavaScript. Rendered by workflows/_file_answer.html."""

    def __call__(self, field, **kwargs):
        from flask import current_app

        # Rendered by Jinja with autoescaping: its output is safe markup. Not through
        # render_template, which ran every context processor once per field; the template needs
        # only Flask's globals (request, config, url_for).
        template = current_app.jinja_env.get_template("workflows/_file_answer.html")
        return Markup(template.render(field=field))  # noqa: S704


_UPLOAD_ID = re.compile(r"[0-9]{1,9}")


class FileAnswerField(Field):
    """An answer of type file: the uploads attached to the draft, by id (raw answer: the list of
    ids, kept in hidden inputs). Each must be held by the draft being filled — a forged id of
    another draft's file is refused. ``min_files``/``max_files`` bound their number (``min_files``
    ≥ 1: required, with ``required_message``).

    The files themselves are sent to the draft's file endpoint (app/views/workflow_items.py),
    which stores them (size limits, type sniffed, SHA-256) and saves the page with the new id."""

    widget = FileAnswerWidget()
    multiple_inputs = True  # the raw answer is the list of ids

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        min_files: int = 0,
        max_files: int = 5,
        required_message: str = "Joignez un fichier",
        accept: str = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg",
        **kwargs,
    ):
        form = kwargs.get("_form")
        super().__init__(label, validators, **kwargs)
        # The step form's context (its draft) decides which uploads the answer may name.
        self._form_context = getattr(form, "context", None)
        self.min_files, self.max_files = min_files, max_files
        self.required_message = required_message
        self.accept = accept
        self._uploads = None

    def process_formdata(self, valuelist):
        ids = [int(v) for v in valuelist if isinstance(v, str) and _UPLOAD_ID.fullmatch(v)]
        self.data = list(dict.fromkeys(ids))  # once each, in order

    def _value(self):
        return ""

    @property
    def uploads(self) -> list:
        """The Upload rows the answer names and this draft holds (a DB read, once)."""
        if self._uploads is None:
            draft = getattr(self.form_context, "draft", None)
            self._uploads = _held_uploads(self.data or [], draft)
        return self._uploads

    @property
    def form_context(self):
        return self._form_context

    def pre_validate(self, form):
        ids = self.data or []
        if len(self.uploads) != len(ids):
            raise StopValidation("Un fichier joint est introuvable : joignez-le de nouveau")
        if len(ids) < self.min_files:
            raise StopValidation(self.required_message)
        if len(ids) > self.max_files:
            raise ValidationError(f"Joignez {self.max_files} fichiers au maximum")

    def size_of(self, upload) -> str:
        return format_size(upload.size)

    def display(self) -> str:
        return "\n".join(f"{u.filename} ({format_size(u.size)})" for u in self.uploads) or ""

    def json_data(self) -> list[dict[str, Any]]:
        """What the submission keeps of each file: enough to find and check it for ever."""
        return [
            {
                "id": u.id,
                "filename": u.filename,
                "sha256": u.sha256,
                "size": u.size,
                "media_type": u.media_type,
            }
            for u in self.uploads
        ]


def _held_uploads(ids: list[int], draft) -> list:
    if not ids or draft is None:
        return []
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Upload

    rows = db.session.scalars(select(Upload).where(Upload.id.in_(ids), Upload.draft_id == draft.id)).all()
    by_id = {u.id: u for u in rows}
    return [by_id[i] for i in ids if i in by_id]


def format_size(size: int) -> str:
    """``2_400_000`` → ``"2,3 Mo"``; ``1500`` → ``"2 Ko"`` (French decimal comma)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")
    return f"{max(1, round(size / 1024))} Ko"
