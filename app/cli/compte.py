"""`flask compte …`: the Compte AT/MP's reference data loads, a Carsat's imports and the yearly rate
notification (docs/compte.md)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

compte = AppGroup("compte", help="Compte AT/MP : référentiels, imports, notification des taux.")


def _report_errors(errors: list[tuple[int, str]]) -> None:
    for line, message in errors:
        click.echo(f"Ligne {line} : {message}", err=True)


@compte.command("load-reference")
@click.argument("kind", type=click.Choice(["couts-moyens", "majorations", "taux-collectifs"]))
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
def load_reference(kind: str, path: str | None):
    """Load a reference file (by default the copy in app/domain/reference_data/) as a new version."""
    from app.services import compte as service

    report = service.load_reference_file(kind, path, loaded_by="flask compte load-reference")
    if not report.ok:
        _report_errors(report.errors)
        click.echo("Rien n'a été chargé : corrigez le fichier et relancez la commande.", err=True)
        sys.exit(1)
    years = ", ".join(str(y) for y in report.years)
    click.echo(f"{kind} : {report.rows} lignes chargées pour {years} (version n° {report.load.id}).")


def _import(kind: str, path: str) -> None:
    from app.services import compte as service

    with open(path, "rb") as stream:
        report = service.IMPORTS[kind](stream.read())
    if not report.ok:
        _report_errors(report.errors)
        click.echo(
            f"Import refusé : {len(report.errors)} ligne(s) en erreur, rien n'a été enregistré.", err=True
        )
        sys.exit(1)
    click.echo(
        f"Import {kind} : {report.created} ajoutée(s), {report.updated} modifiée(s), "
        f"{report.unchanged} inchangée(s)."
    )


@compte.command("import-salaires")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_salaires(path: str):
    """Import wages and headcounts (siret;annee;masse_salariale;effectif[;heures])."""
    _import("salaires", path)


@compte.command("import-sinistres")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_sinistres(path: str):
    """Import recognised claims (reference;siret;type;date_reconnaissance;annee_imputation;jours_arret
    [;taux_ip;deces;groupe_btp])."""
    _import("sinistres", path)


@compte.command("import-etablissements")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_etablissements(path: str):
    """Import tarification profiles (siret;ctn[;btp;date_creation;taux_unique;toujours_collectif])."""
    _import("etablissements", path)


@compte.command("notify")
@click.option("--year", "year", type=int, required=True, help="Année du taux à notifier.")
@click.option("--siret", default=None, help="Un seul établissement.")
def notify(year: int, siret: str | None):
    """Compute, store and notify (LUCIE letter and e-mail alert) each establishment's rate for YEAR.
    Idempotent and resumable: an establishment already notified for YEAR is skipped."""
    from app.services import compte as service

    total = service.pending_count(year, siret)
    counts = {"created": 0, "exists": 0, "error": 0}
    errors: list[str] = []
    with click.progressbar(length=total, label=f"Notification des taux {year}", file=sys.stderr) as bar:
        for outcome in service.notify_year(year, siret=siret):
            counts[outcome.status] += 1
            if outcome.status == "error":
                errors.append(f"{outcome.siret} : {outcome.message}")
            bar.update(1)
    for line in errors:
        click.echo(line, err=True)
    click.echo(
        f"Taux {year} : {counts['created']} notifié(s), {counts['exists']} déjà notifié(s), "
        f"{counts['error']} non calculable(s)."
    )
