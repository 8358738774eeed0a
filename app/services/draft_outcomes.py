"""What the use cases of app/services/drafts.py raise and return: the refusals (a conflict, a sent or
deleted draft, a closed window, a step not reachable yet) and their results (a saved step, a draft's
summary, its window, a submission's outcome). Apart so that drafts.py holds the use cases only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.cases import WindowState, closed_message, not_open_message
from app.domain.dat import french_deadline
from app.forms.workflows import StepForm
from app.models import Draft, Submission
from app.workflows.engine import Step, Workflow


class DraftConflict(Exception):
    """The draft was saved by someone (or another tab) since the version the user started from."""

    def __init__(self, draft: Draft):
        super().__init__(f"draft {draft.id} is at version {draft.version}")
        self.draft = draft


class AlreadySubmitted(Exception):
    """The draft was submitted: it can no longer change."""

    def __init__(self, submission: Submission | None):
        super().__init__("draft already submitted")
        self.submission = submission


class DraftDiscarded(Exception):
    """The draft was deleted ("Supprimer le brouillon"): its answers are gone."""

    def __init__(self, draft: Draft):
        super().__init__(f"draft {draft.id} was discarded")
        self.draft = draft


class OutsideWindow(Exception):
    """The draft's instance is not open (:class:`NotOpenYet`) or no longer open (:class:`DraftClosed`):
    nothing is stored. ``message`` says why in French, with the time in the establishment's local time."""

    def __init__(self, draft: Draft | None, moment: datetime, message: str):
        super().__init__(message)
        self.draft = draft
        self.moment = moment
        self.message = message


class NotOpenYet(OutsideWindow):
    """Before ``opens_at``: the démarche cannot be started, nor a step saved."""


class DraftClosed(OutsideWindow):
    """From ``closes_at`` on: no save, autosave nor submission; the draft shows read-only."""


class StepNotReachable(Exception):
    """The step is not on the path, or an earlier step is not validly answered yet."""

    def __init__(self, target: str):
        super().__init__(target)
        self.target = target  # a step name or CHECK_ANSWERS


@dataclass
class StepSaved:
    form: StepForm
    valid: bool
    version: int
    target: str  # where the user goes next: a step name or CHECK_ANSWERS


@dataclass
class DraftSummary:
    draft: Draft
    workflow: Workflow
    done: int
    total: int
    resume_step: str  # a step name or CHECK_ANSWERS
    resume_title: str
    note: str | None = None  # the workflow's draft_note (e.g. time left)
    label: str | None = None  # the workflow's draft_label (e.g. the victim)
    deleted_on: datetime | None = None  # when it will be deleted without a save (only when soon)
    window: Window | None = None  # its opening and closing times, where the clock stands


@dataclass(frozen=True)
class Window:
    """A draft's opening and closing times (its own, else its case's) and where the server clock
    stands; ``closes_text`` / ``opens_text`` in the establishment's local time."""

    opens_at: datetime | None
    closes_at: datetime | None
    state: WindowState
    departement: str | None

    @property
    def bounded(self) -> bool:
        return self.opens_at is not None or self.closes_at is not None

    @property
    def closed(self) -> bool:
        return self.state == WindowState.CLOSED

    @property
    def not_open(self) -> bool:
        return self.state == WindowState.NOT_OPEN

    @property
    def closes_text(self) -> str:
        return french_deadline(self.closes_at, self.departement) if self.closes_at else ""

    @property
    def message(self) -> str:
        if self.closed:
            return closed_message(self.closes_at, self.departement)
        if self.not_open:
            return not_open_message(self.opens_at, self.departement)
        return ""


@dataclass
class SubmitOutcome:
    submission: Submission | None
    invalid_step: Step | None = None
    # The workflow's declaration form, when what was posted with the send button did not validate.
    declaration_form: StepForm | None = None
