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


def _shard(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    index, _, count = value.partition("/")
    if not (index.isdigit() and count.isdigit() and 0 <= int(index) < int(count)):
        raise click.BadParameter("attendu : K/N, par exemple 0/2")
    return int(index), int(count)


@compte.command("notify")
@click.option("--year", "year", type=int, required=True, help="Année du taux à notifier.")
@click.option("--siret", default=None, help="Un seul établissement.")
@click.option("--workers", type=click.IntRange(1, 32), default=1, help="Processus en parallèle.")
@click.option("--shard", default=None, help="K/N : la part K d'une exécution à N processus (interne).")
def notify(year: int, siret: str | None, workers: int, shard: str | None):
    """Compute, store and notify (LUCIE letter and e-mail alert) each establishment's rate for YEAR.
    Idempotent and resumable: an establishment already notified for YEAR is skipped. With --workers N,
    N processes share the establishments (the PDF rendering is the long part) and this one shows the
    progress."""
    from app.services import compte as service

    total = service.pending_count(year, siret)
    if workers > 1:
        _notify_in_processes(service, year, siret, workers, total)
        return
    counts = {"created": 0, "exists": 0, "error": 0}
    errors: list[str] = []
    with click.progressbar(
        length=total, label=f"Notification des taux {year}", file=sys.stderr, hidden=shard is not None
    ) as bar:
        for outcome in service.notify_year(year, siret=siret, shard=_shard(shard)):
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


def _notify_in_processes(service, year: int, siret: str | None, workers: int, total: int) -> None:
    """Run `notify --shard k/N` in N child processes; the progress is read from the database."""
    import os
    import subprocess
    import time

    command = [sys.executable, "-m", "flask", "compte", "notify", "--year", str(year)]
    if siret:
        command += ["--siret", siret]
    children = [
        subprocess.Popen(
            [*command, "--shard", f"{k}/{workers}"], env=os.environ.copy(), stdout=subprocess.PIPE
        )
        for k in range(workers)
    ]
    with click.progressbar(length=total, label=f"Notification des taux {year}", file=sys.stderr) as bar:
        done = 0
        while any(child.poll() is None for child in children):
            time.sleep(1)
            now = total - service.pending_count(year, siret)
            bar.update(max(0, now - done))
            done = max(done, now)
    for child in children:
        output = child.stdout.read().decode().strip()
        if output:
            click.echo(output)
    if any(child.returncode for child in children):
        sys.exit(1)
