"""`flask forms load [--dir DIR]`, `flask forms list`: the form model versions (docs/workflows.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

forms = AppGroup("forms", help="Modèles de formulaires (questionnaires définis en YAML).")


@forms.command("load")
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Dossier des fichiers YAML (par défaut app/workflows/models).",
)
def forms_load(directory: Path | None):
    """Load every model file into the database: idempotent; fails, loading nothing, when a file is
    refused or a published version's content changed without a new version number."""
    from app.services import form_models

    try:
        report = form_models.load_models(directory) if directory else form_models.load_models()
    except form_models.FormModelError as error:
        raise click.ClickException(str(error)) from None
    for label in report.created:
        click.echo(f"créée : {label}")
    for label in report.updated:
        click.echo(f"mise à jour : {label}")
    click.echo(report.summary())


@forms.command("list")
def forms_list():
    """The versions in the database, with their status."""
    from app.services import form_models

    for row in form_models.all_versions():
        click.echo(f"{row.code} version {row.version} : {row.status} — {row.title}")
