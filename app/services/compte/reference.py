"""Reference data of the Compte AT/MP (SPEC, preamble: dated reference data, never constants in code):
the barème des coûts moyens, the majorations M1–M4 and the collective rates, loaded from CSV files as
dated versions (`ReferenceLoad`), and read back for one calculation.

A load is all or nothing: one refused line and nothing is written. It replaces the rows it names (same
year and key: a corrected arrêté replaces those figures) and adds the others; each row names the load that
wrote it last, and the loads before stay as history. Loading a file already loaded changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.domain.rates import (
    COST_COLUMNS,
    CTN_B_ALSACE_MOSELLE_FROM_FRANCE,
    REFERENCE_DATA_DIR,
    Majorations,
    is_alsace_moselle,
)
from app.extensions import db
from app.models import AverageCost, CollectiveRate, Majoration, ReferenceLoad

from . import csvfile
from .csvfile import LineError

COUTS_MOYENS = "couts-moyens"
MAJORATIONS = "majorations"
TAUX_COLLECTIFS = "taux-collectifs"
KINDS = (COUTS_MOYENS, MAJORATIONS, TAUX_COLLECTIFS)
DEFAULT_FILES = {kind: REFERENCE_DATA_DIR / f"{kind}.csv" for kind in KINDS}

REGIONS = {"france": "France", "alsace_moselle": "Alsace-Moselle"}
# Barème scopes: CTN B has two rows (outside and in Alsace-Moselle), every other CTN one national row.
SCOPE_NATIONAL = "national"
SCOPE_BTP_FRANCE = "hors 57/67/68"
SCOPE_BTP_ALSACE_MOSELLE = "57/67/68"
SCOPES = (SCOPE_NATIONAL, SCOPE_BTP_FRANCE, SCOPE_BTP_ALSACE_MOSELLE)
CTNS = tuple("ABCDEFGHI")


class MissingReference(LookupError):
    """A figure the calculation needs is not loaded (French message for the report)."""


@dataclass(frozen=True)
class LoadReport:
    kind: str
    rows: int
    years: tuple[int, ...]
    errors: list[tuple[int, str]]
    load: ReferenceLoad | None

    @property
    def ok(self) -> bool:
        return not self.errors


def _average_cost(row: dict[str, str]) -> dict[str, Any]:
    ctn = row["ctn"].upper()
    if ctn not in CTNS:
        raise LineError(f"CTN : « {row['ctn']} » n'est pas un CTN (une lettre de A à I).")
    scope = row["scope"]
    if scope not in SCOPES:
        raise LineError(f"Périmètre : « {scope} » inconnu ({', '.join(SCOPES)}).")
    values: dict[str, Any] = {"year": csvfile.year_cell(row, "year"), "ctn": ctn, "scope": scope}
    for column in COST_COLUMNS:
        values[column] = csvfile.decimal_cell(row, column, f"Coût moyen {column}", required=False)
    return values


def _majoration(row: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {"year": csvfile.year_cell(row, "year")}
    for column in ("m1_pct", "m2_ratio", "m3_pct", "m4_pct"):
        values[column] = csvfile.decimal_cell(row, column, column.split("_")[0].upper())
    return values


def _collective(row: dict[str, str]) -> dict[str, Any]:
    region = row["region"].lower()
    if region not in REGIONS:
        raise LineError(f"Région : « {row['region']} » inconnue (france ou alsace_moselle).")
    code = row["code_risque"].upper()
    if not code or len(code) > 10:
        raise LineError("Code risque : valeur manquante ou trop longue (10 caractères au plus).")
    return {
        "year": csvfile.year_cell(row, "year"),
        "code_risque": code,
        "region": region,
        "label": row.get("label", "")[:200],
        "rate": csvfile.decimal_cell(row, "rate_pct", "Taux collectif"),
    }


_SPECS = {
    COUTS_MOYENS: (AverageCost, ("year", "ctn", "scope"), (), _average_cost, ("year", "ctn", "scope")),
    MAJORATIONS: (Majoration, ("year", "m1_pct", "m2_ratio", "m3_pct", "m4_pct"), (), _majoration, ("year",)),
    TAUX_COLLECTIFS: (
        CollectiveRate,
        ("year", "code_risque", "region", "rate_pct"),
        ("label",),
        _collective,
        ("year", "code_risque", "region"),
    ),
}


def load_reference(kind: str, data: bytes, *, filename: str, loaded_by: str = "") -> LoadReport:
    """Load one reference file of ``kind`` (KINDS) as a new version; nothing is written on any error."""
    model, required, optional, parse, key = _SPECS[kind]
    required = required + (COST_COLUMNS if kind == COUTS_MOYENS else ())
    parsed = csvfile.read_csv(data, required, optional)
    errors = list(parsed.errors)
    values: list[dict[str, Any]] = []
    seen: dict[tuple, int] = {}
    for line, row in parsed.rows:
        try:
            item = parse(row)
        except LineError as error:
            errors.append((line, str(error)))
            continue
        identity = tuple(item[k] for k in key)
        if identity in seen:
            errors.append((line, f"Ligne en double : déjà donnée ligne {seen[identity]}."))
            continue
        seen[identity] = line
        values.append(item)
    years = tuple(sorted({item["year"] for item in values}))
    if errors or not values:
        if not errors:
            errors.append((1, "Le fichier ne contient aucune ligne de données."))
        return LoadReport(kind, 0, years, sorted(errors), None)
    same = db.session.scalar(
        select(ReferenceLoad).where(ReferenceLoad.kind == kind, ReferenceLoad.sha256 == parsed.sha256)
    )
    if same is not None:  # this very file is loaded already: nothing to do
        return LoadReport(kind, 0, years, [], same)
    load = ReferenceLoad(
        kind=kind,
        filename=filename[-200:],
        sha256=parsed.sha256,
        source="\n".join(parsed.comments),
        rows=len(values),
        years=" ".join(str(y) for y in years),
        loaded_by=loaded_by[:200],
    )
    db.session.add(load)
    db.session.flush()
    stored = {
        tuple(getattr(row, k) for k in key): row
        for row in db.session.scalars(select(model).where(model.year.in_(years)))
    }
    for item in values:
        row = stored.get(tuple(item[k] for k in key))
        if row is None:
            db.session.add(model(load_id=load.id, **item))
        else:
            for name, value in item.items():
                setattr(row, name, value)
            row.load_id = load.id
    db.session.commit()
    return LoadReport(kind, len(values), years, [], load)


def load_reference_file(kind: str, path: str | Path | None = None, *, loaded_by: str = "") -> LoadReport:
    """`load_reference` from a file (the copy in app/domain/reference_data/ by default)."""
    path = Path(path) if path else DEFAULT_FILES[kind]
    return load_reference(kind, path.read_bytes(), filename=path.name, loaded_by=loaded_by)


def reference_loads() -> list[ReferenceLoad]:
    """Every load, newest first (the versions of the reference data)."""
    return list(db.session.scalars(select(ReferenceLoad).order_by(ReferenceLoad.id.desc())))


# ----------------------------------------------------------------------------------------------------
# Reading the figures of one calculation
# ----------------------------------------------------------------------------------------------------


def _row_dict(row: AverageCost) -> dict[str, Any]:
    return {
        "year": row.year,
        "ctn": row.ctn,
        "scope": row.scope,
        **{column: getattr(row, column) for column in COST_COLUMNS},
    }


def costs_for(ctn: str, year: int, departement: str) -> dict[str, Any]:
    """The barème row of ``ctn`` for ``year`` as the calculation reads it (`app.domain.rates.case_cost`).

    CTN B has two rows: outside Alsace-Moselle (IP ≥ 10 % and deaths priced per BTP group) and in
    57/67/68 (priced per IP category). The published 57/67/68 row gives only the IP ≥ 10 % amounts; its
    IT and IP < 10 % cells are read from the row outside Alsace-Moselle of the same year [choice, docs/
    compte.md: the barème names one amount per category for the whole CTN B]. Raises MissingReference."""
    scope = SCOPE_NATIONAL
    if ctn == "B":
        scope = SCOPE_BTP_ALSACE_MOSELLE if is_alsace_moselle(departement) else SCOPE_BTP_FRANCE
    rows = {
        row.scope: row
        for row in db.session.scalars(
            select(AverageCost).where(AverageCost.year == year, AverageCost.ctn == ctn)
        )
    }
    if scope not in rows:
        raise MissingReference(f"Barème des coûts moyens {year} du CTN {ctn} ({scope}) non chargé.")
    costs = _row_dict(rows[scope])
    if scope == SCOPE_BTP_ALSACE_MOSELLE and SCOPE_BTP_FRANCE in rows:
        other = rows[SCOPE_BTP_FRANCE]
        for column in CTN_B_ALSACE_MOSELLE_FROM_FRANCE:  # a reading to confirm (app.domain.rates)
            if costs[column] is None:
                costs[column] = getattr(other, column)
    return costs


def majorations_for(year: int) -> Majorations:
    row = db.session.scalar(select(Majoration).where(Majoration.year == year))
    if row is None:
        raise MissingReference(f"Majorations {year} non chargées.")
    return Majorations(row.m1_pct, row.m2_ratio, row.m3_pct, row.m4_pct)


def region_of(departement: str) -> str:
    return "alsace_moselle" if is_alsace_moselle(departement) else "france"


def collective_rate_for(code_risque: str, year: int, departement: str) -> Decimal:
    region = region_of(departement)
    rate = db.session.scalar(
        select(CollectiveRate.rate).where(
            CollectiveRate.year == year,
            CollectiveRate.code_risque == code_risque.upper(),
            CollectiveRate.region == region,
        )
    )
    if rate is None:
        raise MissingReference(
            f"Taux collectif {year} du code risque {code_risque} ({REGIONS[region]}) non chargé."
        )
    return rate


def baremes(year: int | None = None) -> list[AverageCost]:
    """The barème rows (of ``year``, or all), by year (newest first), CTN and scope."""
    query = select(AverageCost).order_by(AverageCost.year.desc(), AverageCost.ctn, AverageCost.scope)
    if year is not None:
        query = query.where(AverageCost.year == year)
    return list(db.session.scalars(query))


def bareme_years() -> list[int]:
    return list(db.session.scalars(select(AverageCost.year).distinct().order_by(AverageCost.year.desc())))


def latest_bareme_year(ctn: str) -> int | None:
    return db.session.scalar(
        select(AverageCost.year).where(AverageCost.ctn == ctn).order_by(AverageCost.year.desc()).limit(1)
    )
