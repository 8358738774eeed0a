"""`flask subventions load [--dir DIR]`, `flask subventions list`: the Subventions Prévention programmes
(docs/subsidies.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

subventions = AppGroup("subventions", help="Subventions Prévention TPE : programmes.")


@subventions.command("load")
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Dossier des fichiers YAML (par défaut app/domain/subsidy_programmes).",
)
def subventions_load(directory: Path | None):
    """Load every programme file into the database: idempotent; fails, loading nothing, when a file is
    refused or a loaded programme's content changed."""
    from app.services.subsidies import programmes

    try:
        report = programmes.load_programmes(directory, by="flask subventions load")
    except programmes.ProgrammeLoadError as error:
        raise click.ClickException(str(error)) from None
    for code in report.created:
        click.echo(f"chargé : {code}")
    click.echo(report.summary())


@subventions.command("list")
def subventions_list():
    """The programmes in the database, with their budget."""
    from app.services.subsidies import programmes

    for row in programmes.all_programmes():
        budget = "budget ouvert" if row.budget_open else "budget clos"
        click.echo(f"{row.code} : {row.name} ({budget})")
