"""Demo data of the form models: the models of the repository (app/workflows/models), loaded as
`flask forms load` does, so that the example questionnaire can be started and its version read."""

from __future__ import annotations

from collections.abc import Iterator

from app.services import form_models


def load_form_models_demo() -> Iterator[str]:
    report = form_models.load_models()
    for label in report.created:
        yield f"Modèle de formulaire chargé : {label}"
