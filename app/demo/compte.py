"""Compte AT/MP demo data (`flask demo load`, issue 15 §5): the reference files, then for the demo company
(E = 200 employees, all three establishments in the BTP, code risque 45.2B*): tarification profiles, five
years of wages, claims, and the rates 2025, 2026 and 2027 notified through LUCIE — the 2025 and 2026
letters opened by the employer, the 2027 one not yet read.

With E = 200 the Paris head office is individual (France: E ≥ 150) and the Metz and Strasbourg agencies
mixed (Alsace-Moselle BTP: 50 ≤ E < 300, D242-37). The mode follows the company's headcount, so one company
cannot have Metz mixed under the non-BTP thresholds and Paris individual at once (docs/compte.md).

Reference figures the shared data do not give (barème 2026–2027, majorations 2027, collective rates of
45.2BD and 45.2BE) are loaded as versions named « démonstration », only for the years without figures:
they are not published figures. Everything goes through the services; a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from app.extensions import db
from app.models import AverageCost, CollectiveRate, Establishment, Majoration, NotifiedRate, User
from app.services import compte, lucie

READER = "employeur@demo.test"
HEAD, METZ, STRASBOURG = "81234567600017", "81234567600025", "81234567600033"
# [reading to confirm] The name of the demo's reference versions (their file name in the loads' history,
# shown beside the figures): not published figures. docs/compte.md, « Lectures retenues ».
DEMO_REFERENCE_NAME = "démonstration"
DEMO_SOURCE = "# Données de démonstration : pas des chiffres publiés (app/demo/compte.py)."

PROFILES = f"""siret;ctn;btp
{HEAD};B;oui
{METZ};B;oui
{STRASBOURG};B;oui
"""
# siret → (wages in 2021, yearly growth in €, headcount, hours per employee)
WAGES = {
    HEAD: (5_400_000, 150_000, 120, 1_600),
    METZ: (1_900_000, 60_000, 50, 1_600),
    STRASBOURG: (1_100_000, 30_000, 30, 1_600),
}
# reference, siret, type, recognised on, imputation year, stoppage days, IP %, death, BTP group
CLAIMS = [
    ("DEMO-P-2021-1", HEAD, "at", "2021-04-12", 2021, 8, "", "non", "gros_oeuvre"),
    ("DEMO-P-2021-2", HEAD, "at", "2021-09-03", 2021, 2, "", "non", "second_oeuvre"),
    ("DEMO-P-2022-1", HEAD, "at", "2022-02-21", 2022, 120, "12", "non", "gros_oeuvre"),
    ("DEMO-P-2022-2", HEAD, "trajet", "2022-06-30", 2022, 60, "", "non", ""),
    ("DEMO-P-2023-1", HEAD, "at", "2023-03-14", 2023, 10, "", "non", "fonctions_support"),
    ("DEMO-P-2024-1", HEAD, "mp", "2024-05-02", 2024, 200, "15", "non", "second_oeuvre"),
    ("DEMO-P-2025-1", HEAD, "at", "2025-10-07", 2025, 70, "", "non", "gros_oeuvre"),
    ("DEMO-M-2021-1", METZ, "at", "2021-11-08", 2021, 3, "", "non", ""),
    ("DEMO-M-2022-1", METZ, "at", "2022-07-19", 2022, 95, "25", "non", ""),
    ("DEMO-M-2023-1", METZ, "at", "2023-01-23", 2023, 12, "", "non", ""),
    ("DEMO-M-2024-1", METZ, "at", "2024-09-30", 2024, 180, "", "non", ""),
    ("DEMO-M-2026-1", METZ, "at", "2026-03-16", 2026, 50, "", "non", ""),
    ("DEMO-S-2022-1", STRASBOURG, "at", "2022-03-01", 2022, 6, "", "non", ""),
    ("DEMO-S-2023-1", STRASBOURG, "at", "2023-12-04", 2023, 0, "", "non", ""),
    ("DEMO-S-2025-1", STRASBOURG, "at", "2025-04-15", 2025, 9, "", "non", ""),
]
# Demonstration collective rates (%): code risque → France, Alsace-Moselle.
COLLECTIVE = {"45.2BD": ("4.90", "4.60"), "45.2BE": ("4.40", "4.10")}
RATE_YEARS = (2025, 2026, 2027)
OPENED_YEARS = (2025, 2026)


def _missing(model, years) -> list[int]:
    present = set(db.session.scalars(select(model.year).where(model.year.in_(years))))
    return [y for y in years if y not in present]


def _reference() -> Iterator[str]:
    for kind in compte.KINDS:
        report = compte.load_reference_file(kind, loaded_by="flask demo load")
        state = "chargé" if report.rows else "déjà chargé"
        yield f"Référentiel {kind} {state} ({', '.join(map(str, report.years))})"
    by_scope = {row.scope: row for row in compte.baremes(2025) if row.ctn == "B"}
    if years := _missing(AverageCost, (2026, 2027)):
        from app.domain.rates import COST_COLUMNS

        lines = [DEMO_SOURCE, "year,ctn,scope," + ",".join(COST_COLUMNS)]
        for year in years:
            for scope, row in by_scope.items():
                cells = ["" if getattr(row, c) is None else str(getattr(row, c)) for c in COST_COLUMNS]
                lines.append(f"{year},B,{scope}," + ",".join(cells))
        compte.load_reference("couts-moyens", "\n".join(lines).encode(), filename=DEMO_REFERENCE_NAME)
        yield f"Barème B de démonstration (montants 2025 recopiés) pour {', '.join(map(str, years))}"
    if years := _missing(Majoration, (2027,)):
        row = db.session.scalar(select(Majoration).where(Majoration.year == 2026))
        values = ",".join(str(v) for v in (row.m1_pct, row.m2_ratio, row.m3_pct, row.m4_pct))
        data = f"{DEMO_SOURCE}\nyear,m1_pct,m2_ratio,m3_pct,m4_pct\n2027,{values}\n"
        compte.load_reference("majorations", data.encode(), filename=DEMO_REFERENCE_NAME)
        yield "Majorations 2027 de démonstration (celles de 2026 recopiées)"
    present = set(
        db.session.execute(
            select(CollectiveRate.year, CollectiveRate.code_risque, CollectiveRate.region)
        ).all()
    )
    lines = [DEMO_SOURCE, "year,code_risque,region,label,rate_pct"]
    for year in RATE_YEARS:
        for code, (france, alsace_moselle) in COLLECTIVE.items():
            for region, rate in (("france", france), ("alsace_moselle", alsace_moselle)):
                if (year, code, region) not in present:
                    lines.append(f"{year},{code},{region},Démonstration,{rate}")
    if len(lines) > 2:
        compte.load_reference("taux-collectifs", "\n".join(lines).encode(), filename=DEMO_REFERENCE_NAME)
        yield f"Taux collectifs de démonstration : {len(lines) - 2} taux"


def _checked(report):
    if not report.ok:  # the demo's own files: a refused line is a bug here
        raise RuntimeError(f"données de démonstration refusées : {report.errors}")
    return report


def _accounts() -> Iterator[str]:
    for kind, data in (("etablissements", PROFILES),):
        report = _checked(compte.IMPORTS[kind](data.encode()))
        yield f"Profils de tarification : {report.created} ajouté(s)"
    lines = ["siret;annee;masse_salariale;effectif;heures"]
    for siret, (base, growth, headcount, hours) in WAGES.items():
        for offset, year in enumerate(range(2021, 2026)):
            lines.append(f"{siret};{year};{base + growth * offset};{headcount};{headcount * hours}")
    report = _checked(compte.import_wages("\n".join(lines).encode()))
    yield f"Masses salariales 2021–2025 : {report.created} ajoutée(s)"
    lines = ["reference;siret;type;date_reconnaissance;annee_imputation;jours_arret;taux_ip;deces;groupe_btp"]
    lines += [";".join(str(cell) for cell in claim) for claim in CLAIMS]
    report = _checked(compte.import_claims("\n".join(lines).encode()))
    yield f"Sinistres : {report.created} ajouté(s)"


def load_compte_demo() -> Iterator[str]:
    """Create what is missing of the Compte AT/MP demo data, one progress line per step."""
    yield from _reference()
    yield from _accounts()
    reader = db.session.scalar(select(User).where(User.email == READER))
    for siret in (HEAD, METZ, STRASBOURG):
        establishment = db.session.scalar(select(Establishment).where(Establishment.siret == siret))
        lucie.subscribe(establishment)
        db.session.commit()
        for year in RATE_YEARS:
            outcome = compte.notify_establishment(establishment, year)
            rate = outcome.rate or db.session.scalar(
                select(NotifiedRate).where(
                    NotifiedRate.establishment_id == establishment.id, NotifiedRate.year == year
                )
            )
            if outcome.status == "error":
                yield f"Taux {year} de {establishment.name} : {outcome.message}"
                continue
            if outcome.status == "created" and year in OPENED_YEARS and rate.letter_id and reader is not None:
                lucie.open_letter(reader, rate.letter_id, explicit=True)
                db.session.commit()
            yield f"Taux {year} de {establishment.name} : {rate.rate} % ({rate.mode})"
