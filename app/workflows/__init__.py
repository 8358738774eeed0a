"""Multi-step workflows: the engine and one module per workflow.

Importing this package registers nothing: :func:`register_workflows` (called once by ``create_app``)
fills the registry with the workflows defined here, each with the hooks its service gives
(``on_submit``, ``initial_answers``…). A workflow module names only its steps and forms: it never
imports a service back (``services/drafts → workflows → services/dat → services/drafts`` was a loop;
an import-linter contract in pyproject.toml keeps it out). Add a new workflow to :func:`definitions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from app.workflows.engine import (
    CHECK_ANSWERS,
    Step,
    Workflow,
    all_workflows,
    get_workflow,
    register,
)


def definitions() -> list[Workflow]:
    """Every workflow of the application, without its services' hooks."""
    from app.workflows import dat, demo_form, pieces

    return [dat.declaration, demo_form.coordonnees, pieces.pieces]


def register_workflows(hooks: Mapping[str, Mapping[str, Callable[..., Any]]] | None = None) -> None:
    """Fill the registry: each workflow of :func:`definitions` with ``hooks[name]`` (``Workflow``
    fields: ``on_submit``, ``initial_answers``, ``draft_note``…). Idempotent: an application created
    again (tests, workers) registers the same workflows again."""
    for workflow in definitions():
        register(dataclasses.replace(workflow, **(hooks or {}).get(workflow.name, {})), replace=True)


__all__ = [
    "CHECK_ANSWERS",
    "Step",
    "Workflow",
    "all_workflows",
    "definitions",
    "get_workflow",
    "register",
    "register_workflows",
]
