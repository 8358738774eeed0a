"""DAT use cases (SPEC §2, issue 3): the declaration made when the engine submits a DAT draft, the
48-hour deadline shown while filling it, the employer's follow-up list, reserves added after the
declaration, the CPAM's inbox, CMI date and status changes — and the three PDFs.

Every function that writes is one transaction and commits; reads of a declaration are audited.
Status changes go through :func:`change_status` only, which applies
``app.domain.dat.check_transition``. Functions that depend on the clock take ``now`` (tests pass it).
"""

from .caisse import CmiRefused, apply_status, change_status, record_cmi
from .common import PAGE_SIZE, STEP_SECTIONS, WORKFLOW, now_utc, search_key
from .duplicates import (
    Duplicate,
    duplicates_for,
    duplicates_of_declaration,
    possible_duplicates,
    refuse_unconfirmed_duplicate,
)
from .filling import (
    AttachmentRefused,
    attach_reserves_file,
    detach_reserves_file,
    draft_note,
    due_notice_for,
    due_preview,
    initial_answers,
)
from .listings import (
    DraftRow,
    ListFilters,
    Listing,
    caisse_inbox,
    caisse_work_queue,
    draft_label,
    employer_establishments,
    follow_up,
    navigation_entry,
    victim_name_of,
)
from .pdfs import PDF_TEMPLATES, pdf
from .reading import (
    Section,
    attachment_of,
    caisse_of,
    d0,
    dat_start_of,
    declarant,
    facts,
    has_any_reserves,
    open_declaration,
    open_for_caisse,
    reserves_deadline,
    reserves_open,
    sections,
    start_of,
)
from .recording import (
    after_submit,
    confirmation_url,
    deposit_pending_receipts,
    deposit_receipt,
    pending_receipts,
    receipt_path,
    record_declaration,
)
from .reminders import REMINDER_KIND, REMINDER_RECENT, DeadlineItem, deadlines_for, send_deadline_reminders
from .reserves import ReservesClosed, add_reserves

# The DAT workflow's hooks (app/workflows/dat.py), registered with it when the application starts.
WORKFLOW_HOOKS = {
    "on_submit": record_declaration,
    "after_submit": after_submit,
    "initial_answers": initial_answers,
    "draft_note": draft_note,
    "draft_label": draft_label,
    "confirmation_url": confirmation_url,
    "lookups": {"duplicates": duplicates_for},
}

__all__ = [
    "PAGE_SIZE",
    "PDF_TEMPLATES",
    "REMINDER_KIND",
    "REMINDER_RECENT",
    "STEP_SECTIONS",
    "WORKFLOW",
    "WORKFLOW_HOOKS",
    "AttachmentRefused",
    "CmiRefused",
    "DeadlineItem",
    "DraftRow",
    "Duplicate",
    "ListFilters",
    "Listing",
    "ReservesClosed",
    "Section",
    "add_reserves",
    "after_submit",
    "apply_status",
    "attach_reserves_file",
    "attachment_of",
    "caisse_inbox",
    "caisse_of",
    "caisse_work_queue",
    "change_status",
    "confirmation_url",
    "d0",
    "dat_start_of",
    "deadlines_for",
    "declarant",
    "deposit_pending_receipts",
    "deposit_receipt",
    "detach_reserves_file",
    "draft_label",
    "draft_note",
    "due_notice_for",
    "due_preview",
    "duplicates_for",
    "duplicates_of_declaration",
    "employer_establishments",
    "facts",
    "follow_up",
    "has_any_reserves",
    "initial_answers",
    "navigation_entry",
    "now_utc",
    "open_declaration",
    "open_for_caisse",
    "pdf",
    "pending_receipts",
    "possible_duplicates",
    "receipt_path",
    "record_cmi",
    "record_declaration",
    "refuse_unconfirmed_duplicate",
    "reserves_deadline",
    "reserves_open",
    "search_key",
    "sections",
    "send_deadline_reminders",
    "start_of",
    "victim_name_of",
]
