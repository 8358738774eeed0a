"""Use cases of the "add another" groups and of the answers of type file (issue 12, items 4 and 7):
save (or autosave) one item of a group, delete an item, attach a file to a draft's answer and
remove it. Every write goes through :func:`app.services.drafts.save_step` — the same version check,
audit and single commit as any step — with the step's raw answers rebuilt here.

A file attached to an answer is held by the draft (``Upload.draft_id``): read under the draft's
rules, kept with the submission, erased with the draft (app/services/drafts.py, ``erase``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.forms.workflow_groups import FileAnswerField, GroupForm, ItemRaw, pack_items, unpack_items
from app.forms.workflows import StepForm
from app.models import Draft, Upload, User
from app.services import audit, drafts, uploads
from app.workflows.engine import Step, Workflow, extract_raw


class ItemNotFound(NotFound):
    """No such item in the group, or no such file answer on the page: a 404 page."""


class GroupFull(Exception):
    """The group holds its ``max_items`` already: nothing is added."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FileRefused(Exception):
    """A file not attached, for a reason the user can fix; ``message`` is the French text shown
    next to the file input named ``field``. Nothing is stored."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class ItemSaved:
    form: StepForm  # the item's form, validated
    valid: bool
    version: int
    index: int  # the item's position in the group (0-based)


# -- reading ---------------------------------------------------------------------------------------


def group_of(step: Step) -> type[GroupForm]:
    if step.group is None:
        raise ItemNotFound(step.name)
    return step.group


def items_of(draft: Draft, step: Step) -> list[ItemRaw]:
    return unpack_items(group_of(step).group_name, draft.answers.get(step.name, {}))


def item_form(user: User, draft: Draft, step: Step, index: int | None, formdata=None) -> StepForm:
    """The form of item ``index`` (``None``: a new one) as stored, or as posted in ``formdata``."""
    group = group_of(step)
    context = drafts.context_for(draft, user)
    if formdata is not None:
        return group.item_form(MultiDict(formdata), context=context)
    if index is None:
        return group.item_form(context=context)
    items = items_of(draft, step)
    if not 0 <= index < len(items):
        raise ItemNotFound(step.name)
    from app.forms.workflow_groups import item_formdata

    return group.item_form(item_formdata(items[index]), context=context)


def parse_index(value: str | None) -> int | None:
    """The item a page edits, as posted (``""``: a new item)."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 3 else None


def _item_step(group: type[GroupForm]) -> Step:
    return Step("element", "", group.item_form)


# -- groups ------------------------------------------------------------------------------------------


def save_item(
    user: User,
    draft: Draft,
    workflow: Workflow,
    step: Step,
    index: int | None,
    formdata: MultiDict,
    *,
    base_version: int,
    mode: str = drafts.CONTINUE,
) -> ItemSaved:
    """Store what was typed on an item's page (valid or not, like any step) in the group's step.
    ``index`` ``None`` (or past the end) adds an item, unless the group is full (:class:`GroupFull`).
    The user stays on the group (``mode`` ``"continue"`` and ``"later"`` save alike; ``"autosave"`` is
    recorded as such). Raises what :func:`drafts.save_step` raises."""
    group = group_of(step)
    items = items_of(draft, step)
    if index is None or index >= len(items):
        if len(items) >= group.max_items:
            raise GroupFull(group().limit_message)
        index = len(items)
        items.append({})
    items[index] = extract_raw(_item_step(group), formdata)
    saved = drafts.save_step(
        user,
        draft,
        workflow,
        step,
        MultiDict(),
        base_version=base_version,
        mode=drafts.AUTOSAVE if mode == drafts.AUTOSAVE else drafts.LATER,
        raw=pack_items(group.group_name, items),
    )
    form = item_form(user, draft, step, None, formdata=_formdata(items[index]))
    form.validate()
    return ItemSaved(form=form, valid=not form.errors, version=saved.version, index=index)


def delete_item(user: User, draft: Draft, workflow: Workflow, step: Step, index: int, *, base_version: int):
    """Remove item ``index`` from the group, and the files its answers held."""
    group = group_of(step)
    items = items_of(draft, step)
    if not 0 <= index < len(items):
        raise ItemNotFound(step.name)
    drafts.check_writable(draft, base_version)
    removed = group.item_form(_formdata(items.pop(index)), context=drafts.context_for(draft, user))
    for field in removed:
        if isinstance(field, FileAnswerField):
            for upload in field.uploads:
                _erase(upload, draft, step)
    return drafts.save_step(
        user,
        draft,
        workflow,
        step,
        MultiDict(),
        base_version=base_version,
        mode=drafts.LATER,
        raw=pack_items(group.group_name, items),
    )


def _formdata(raw: ItemRaw) -> MultiDict:
    from app.forms.workflow_groups import item_formdata

    return item_formdata(raw)


# -- files --------------------------------------------------------------------------------------------


def _file_field(step: Step, index_page: bool, field_name: str) -> FileAnswerField:
    form_class = group_of(step).item_form if index_page else step.form_class
    field = next((f for f in form_class() if f.name == field_name), None)
    if not isinstance(field, FileAnswerField):
        raise ItemNotFound(field_name)
    return field


def per_draft_limit() -> int:
    return current_app.config["MAX_UPLOAD_BYTES_PER_DRAFT"]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}" if size % (1024 * 1024) == 0 else f"{size / (1024 * 1024):.1f}"


def attach_file(
    user: User,
    draft: Draft,
    workflow: Workflow,
    step: Step,
    field_name: str,
    stream: BinaryIO | None,
    filename: str,
    formdata: MultiDict,
    *,
    base_version: int,
    item: bool = False,
    index: int | None = None,
):
    """Store the file chosen for the answer ``field_name`` (on the step's page, or on an item's page
    when ``item``: ``index`` ``None`` adds the item) and save the page with it and whatever else was
    typed there, in one transaction. The checks of the upload service (type sniffed, per-file size),
    the per-draft total and the answer's ``max_files``; a refusal raises :class:`FileRefused` and
    stores nothing. Returns the :class:`ItemSaved` or :class:`~app.services.drafts.StepSaved`."""
    field = _file_field(step, item, field_name)
    drafts.check_writable(draft, base_version)
    if not workflow.reachable(step, draft.answers, draft.valid_steps):  # before any byte is stored
        target = workflow.resume_point(draft.answers, draft.valid_steps, draft.current_step)
        raise drafts.StepNotReachable(target)
    ids = [v for v in formdata.getlist(field_name) if v.isdigit()]
    if len(ids) >= field.max_files:
        raise FileRefused(
            field_name,
            f"Vous avez joint le nombre maximal de fichiers ({field.max_files}) : "
            "supprimez-en un pour en joindre un autre",
        )
    if stream is None or not filename:
        raise FileRefused(field_name, "Choisissez le fichier à joindre")
    per_file = uploads.max_bytes()
    remaining = per_draft_limit() - uploads.draft_bytes(draft.id)
    over_draft = (
        f"Les fichiers d'un brouillon ne peuvent dépasser {_mb(per_draft_limit())} Mo au total : "
        "supprimez un fichier ou joignez un fichier plus petit"
    )
    if remaining <= 0:
        raise FileRefused(field_name, over_draft)
    try:
        upload = uploads.save_upload(
            stream,
            filename,
            establishment_id=draft.establishment_id,
            user_id=user.id,
            service=workflow.service,
            draft_id=draft.id,
            limit=min(per_file, remaining),
        )
        db.session.flush()
    except uploads.UploadRejected as error:
        db.session.rollback()
        too_large_for_draft = error.code == "too_large" and remaining < per_file
        raise FileRefused(field_name, over_draft if too_large_for_draft else error.message) from None
    audit.record(
        "upload.attach",
        "upload",
        upload.id,
        establishment_id=draft.establishment_id,
        draft=draft.id,
        step=step.name,
        field=field_name,
    )
    data = MultiDict(formdata)
    data.setlist(field_name, [*ids, str(upload.id)])
    sha = upload.sha256
    try:
        return _save_page(user, draft, workflow, step, data, base_version, item, index)
    except Exception:
        db.session.rollback()
        uploads.drop_blob_if_unheld(sha)  # a file whose row is gone is not kept
        raise


def remove_file(
    user: User,
    draft: Draft,
    workflow: Workflow,
    step: Step,
    field_name: str,
    upload_id: int,
    formdata: MultiDict,
    *,
    base_version: int,
    item: bool = False,
    index: int | None = None,
):
    """« Supprimer » beside an attached file: the answer no longer names it and the file is erased
    (a file of another draft, or already sent, is left alone)."""
    _file_field(step, item, field_name)
    drafts.check_writable(draft, base_version)
    upload = db.session.get(Upload, upload_id)
    if upload is not None and upload.draft_id == draft.id:
        _erase(upload, draft, step)
    data = MultiDict(formdata)
    data.setlist(field_name, [v for v in formdata.getlist(field_name) if v != str(upload_id)])
    try:
        return _save_page(user, draft, workflow, step, data, base_version, item, index)
    except Exception:
        db.session.rollback()
        raise


def _erase(upload: Upload, draft: Draft, step: Step) -> None:
    audit.record(
        "upload.remove",
        "upload",
        upload.id,
        establishment_id=draft.establishment_id,
        draft=draft.id,
        step=step.name,
    )
    uploads.erase_draft_file(upload)


def _save_page(user, draft, workflow, step, data, base_version, item, index):
    if item:
        return save_item(
            user, draft, workflow, step, index, data, base_version=base_version, mode=drafts.LATER
        )
    return drafts.save_step(user, draft, workflow, step, data, base_version=base_version, mode=drafts.LATER)
