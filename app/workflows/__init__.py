"""Multi-step workflows: the engine and one module per workflow. Importing this package registers
every workflow (add yours to the import list below)."""

from app.workflows import (
    dat,  # noqa: F401  (registers "dat")
    demo_form,  # noqa: F401  (registers "coordonnees")
    pieces,  # noqa: F401  (registers "pieces")
)
from app.workflows.engine import (
    CHECK_ANSWERS,
    Step,
    Workflow,
    all_workflows,
    get_workflow,
    register,
)

__all__ = ["CHECK_ANSWERS", "Step", "Workflow", "all_workflows", "get_workflow", "register"]
