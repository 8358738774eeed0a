"""A Carsat's imports into the Compte AT/MP (issue 15): wages and headcounts (DSN-like), claims for the
history, and the establishments' tarification profiles.

Each import is validated line by line and is all or nothing: one refused line and nothing is written,
the report lists every refused line with its number and a French message. It is idempotent: a line that
says what is already stored changes nothing (``unchanged``), a line that says otherwise replaces it
(``updated``). With ``departements`` (a Carsat agent's screen), a SIRET outside them is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO

from sqlalchemy import select

from app.domain.rates import BTP_GROUPS, ip_category, is_alsace_moselle
from app.extensions import db
from app.models import Claim, Establishment, RateProfile, User, WageYear
from app.services import audit

from . import csvfile
from .csvfile import LineError
from .reference import CTNS

WAGE_COLUMNS = ("siret", "annee", "masse_salariale", "effectif")
WAGE_OPTIONAL = ("heures",)
CLAIM_COLUMNS = ("reference", "siret", "type", "date_reconnaissance", "annee_imputation", "jours_arret")
CLAIM_OPTIONAL = ("taux_ip", "deces", "groupe_btp")
PROFILE_COLUMNS = ("siret", "ctn")
PROFILE_OPTIONAL = ("btp", "date_creation", "taux_unique", "toujours_collectif")
_CENT = Decimal("0.01")
CLAIM_KINDS = {"at": "Accident du travail", "mp": "Maladie professionnelle", "trajet": "Accident de trajet"}


@dataclass
class ImportReport:
    """What an import did, or would have done: counts, and the refused lines (line, message)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def lines(self) -> int:
        return self.created + self.updated + self.unchanged


class _Establishments:
    """SIRET → establishment, read once per import for the SIRETs of the file."""

    def __init__(self, sirets: Iterable[str], departements: Iterable[str] | None):
        wanted = sorted({s for s in sirets if s})
        self.by_siret: dict[str, Establishment] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for est in db.session.scalars(select(Establishment).where(Establishment.siret.in_(chunk))):
                self.by_siret[est.siret] = est
        self.departements = set(departements) if departements is not None else None

    def get(self, siret: str) -> Establishment:
        siret = siret.replace(" ", "")
        if len(siret) != 14 or not siret.isdigit():
            raise LineError(f"SIRET : « {siret} » doit comporter 14 chiffres.")
        est = self.by_siret.get(siret)
        if est is None or (self.departements is not None and est.departement not in self.departements):
            raise LineError(
                f"SIRET {siret} : aucun établissement de votre circonscription ne porte ce SIRET."
            )
        return est


def _run(
    kind: str,
    data: bytes | BinaryIO,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    parse: Callable[[dict[str, str], _Establishments], dict[str, Any]],
    key: Callable[[dict[str, Any]], tuple],
    existing: Callable[[list[dict[str, Any]]], dict[tuple, Any]],
    make: Callable[[dict[str, Any]], Any],
    departements: Iterable[str] | None,
    actor: User | None,
) -> ImportReport:
    parsed = csvfile.read_csv(data, required, optional)
    report = ImportReport(kind, errors=list(parsed.errors))
    establishments = _Establishments(
        (row.get("siret", "").replace(" ", "") for _, row in parsed.rows), departements
    )
    items: list[dict[str, Any]] = []
    seen: dict[tuple, int] = {}
    for line, row in parsed.rows:
        try:
            item = parse(row, establishments)
        except LineError as error:
            report.errors.append((line, str(error)))
            continue
        identity = key(item)
        if identity in seen:
            report.errors.append(
                (line, f"Ligne en double : la ligne {seen[identity]} donne déjà cette donnée.")
            )
            continue
        seen[identity] = line
        items.append(item)
    if not items and not report.errors:
        report.errors.append((1, "Le fichier ne contient aucune ligne de données."))
    if report.errors:
        report.errors.sort()
        return report
    stored = existing(items)
    for item in items:
        row = stored.get(key(item))
        if row is None:
            db.session.add(make(item))
            report.created += 1
            continue
        changes = {name: value for name, value in item.items() if getattr(row, name) != value}
        if changes:
            for name, value in changes.items():
                setattr(row, name, value)
            report.updated += 1
        else:
            report.unchanged += 1
    audit.record(
        f"compte.import_{kind}",
        "compte_import",
        None,
        actor=actor,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
    )
    db.session.commit()
    return report


def _in_chunks(model, column, values: list) -> list:
    rows = []
    for start in range(0, len(values), 500):
        rows.extend(db.session.scalars(select(model).where(column.in_(values[start : start + 500]))))
    return rows


# -- wages ----------------------------------------------------------------------------------------------


def _wage(row: dict[str, str], establishments: _Establishments) -> dict[str, Any]:
    est = establishments.get(row["siret"])
    item = {
        "establishment_id": est.id,
        "year": csvfile.year_cell(row),
        "wages": csvfile.decimal_cell(row, "masse_salariale", "Masse salariale").quantize(_CENT),
        "headcount": csvfile.int_cell(row, "effectif", "Effectif"),
    }
    if "heures" in row:  # a file without the column leaves the hours stored before
        item["hours"] = csvfile.int_cell(row, "heures", "Heures travaillées", required=False)
    return item


def import_wages(
    data: bytes | BinaryIO, *, departements: Iterable[str] | None = None, actor: User | None = None
) -> ImportReport:
    """Import wages and headcounts: columns siret, annee, masse_salariale, effectif, and optionally
    heures (hours worked, for the bilan's rates). One line per establishment and year."""

    def existing(items):
        ids = sorted({item["establishment_id"] for item in items})
        return {(w.establishment_id, w.year): w for w in _in_chunks(WageYear, WageYear.establishment_id, ids)}

    return _run(
        "salaires",
        data,
        WAGE_COLUMNS,
        WAGE_OPTIONAL,
        _wage,
        lambda item: (item["establishment_id"], item["year"]),
        existing,
        lambda item: WageYear(**item),
        departements,
        actor,
    )


# -- claims ---------------------------------------------------------------------------------------------


def _claim(row: dict[str, str], establishments: _Establishments) -> dict[str, Any]:
    reference = row["reference"]
    if not reference or len(reference) > 40:
        raise LineError("Référence : valeur manquante ou trop longue (40 caractères au plus).")
    est = establishments.get(row["siret"])
    kind = row["type"].lower()
    if kind not in CLAIM_KINDS:
        raise LineError(f"Type : « {row['type']} » inconnu (at, mp ou trajet).")
    recognised = csvfile.date_cell(row, "date_reconnaissance", "Date de reconnaissance")
    year = csvfile.year_cell(row, "annee_imputation")
    ip_rate = csvfile.decimal_cell(row, "taux_ip", "Taux d'IP", required=False)
    if ip_rate is not None and ip_rate > 100:
        raise LineError("Taux d'IP : un pourcentage entre 0 et 100 est attendu.")
    death = csvfile.bool_cell(row, "deces", "Décès")
    group = row.get("groupe_btp", "").lower() or None
    if group is not None and group not in BTP_GROUPS:
        raise LineError(f"Groupe BTP : « {row['groupe_btp']} » inconnu ({', '.join(BTP_GROUPS)}).")
    if group is None and (death or (ip_rate is not None and ip_category(ip_rate) not in (None, 1))):
        profile = db.session.scalar(select(RateProfile).where(RateProfile.establishment_id == est.id))
        # CTN B outside Alsace-Moselle prices these per BTP group (the 57/67/68 barème per IP category).
        if profile is not None and profile.ctn == "B" and not is_alsace_moselle(est.departement):
            raise LineError("Groupe BTP : obligatoire pour une IP de 10 % ou plus ou un décès dans le BTP.")
    return {
        "reference": reference,
        "establishment_id": est.id,
        "kind": kind,
        "recognised_on": recognised,
        "imputation_year": year,
        "stoppage_days": csvfile.int_cell(row, "jours_arret", "Jours d'arrêt"),
        "ip_rate": ip_rate.quantize(_CENT) if ip_rate is not None else None,
        "death": death,
        "btp_group": group,
    }


def import_claims(
    data: bytes | BinaryIO, *, departements: Iterable[str] | None = None, actor: User | None = None
) -> ImportReport:
    """Import recognised claims (history): columns reference, siret, type (at, mp, trajet),
    date_reconnaissance, annee_imputation, jours_arret, and optionally taux_ip, deces (oui/non),
    groupe_btp (gros_oeuvre, second_oeuvre, fonctions_support). One line per claim reference."""

    def existing(items):
        refs = sorted(item["reference"] for item in items)
        return {(c.reference,): c for c in _in_chunks(Claim, Claim.reference, refs)}

    return _run(
        "sinistres",
        data,
        CLAIM_COLUMNS,
        CLAIM_OPTIONAL,
        _claim,
        lambda item: (item["reference"],),
        existing,
        lambda item: Claim(source="import", **item),
        departements,
        actor,
    )


# -- profiles -------------------------------------------------------------------------------------------


def _profile(row: dict[str, str], establishments: _Establishments) -> dict[str, Any]:
    est = establishments.get(row["siret"])
    ctn = row["ctn"].upper()
    if ctn not in CTNS:
        raise LineError(f"CTN : « {row['ctn']} » n'est pas un CTN (une lettre de A à I).")
    created = row.get("date_creation")
    return {
        "establishment_id": est.id,
        "ctn": ctn,
        "btp": csvfile.bool_cell(row, "btp", "BTP"),
        "created_on": csvfile.date_cell(row, "date_creation", "Date de création") if created else None,
        "taux_unique": csvfile.bool_cell(row, "taux_unique", "Taux unique"),
        "always_collective": csvfile.bool_cell(row, "toujours_collectif", "Toujours collectif"),
    }


def import_profiles(
    data: bytes | BinaryIO, *, departements: Iterable[str] | None = None, actor: User | None = None
) -> ImportReport:
    """Import the establishments' tarification profiles: columns siret, ctn, and optionally btp,
    date_creation, taux_unique, toujours_collectif (oui/non)."""

    def existing(items):
        ids = sorted(item["establishment_id"] for item in items)
        return {(p.establishment_id,): p for p in _in_chunks(RateProfile, RateProfile.establishment_id, ids)}

    return _run(
        "etablissements",
        data,
        PROFILE_COLUMNS,
        PROFILE_OPTIONAL,
        _profile,
        lambda item: (item["establishment_id"],),
        existing,
        lambda item: RateProfile(**item),
        departements,
        actor,
    )


IMPORTS = {"salaires": import_wages, "sinistres": import_claims, "etablissements": import_profiles}
