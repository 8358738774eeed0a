"""Reading the reference data: one YAML file per programme in `subsidy_programmes/`, checked against
`subsidy_programmes/schemas/programme.schema.json` at load (`load_programmes`, `get_programme`), and the
dated general rules of `subsidy_programmes/general_rules.yaml` (`load_rule_sets`, `rules_on`). YAML files
are read without floats (a `0.5` stays the text "0.5").
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import jsonschema
import yaml
from dateutil.relativedelta import relativedelta
from jsonschema.protocols import Validator

from .money import HUNDRED, _date

PROGRAMMES_DIR: Final = Path(__file__).parents[1] / "subsidy_programmes"
GENERAL_RULES_FILE: Final = "general_rules.yaml"


class ReferenceDataError(ValueError):
    """A programme or rules file that does not follow its schema; the message names the file and the field."""


class _NoFloatNoDateLoader(yaml.SafeLoader):
    """YAML without implicit floats or dates: `0.5` and `2026-01-01` stay texts, read exactly afterwards."""


_NoFloatNoDateLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in {"tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@functools.cache
def _validator(schema_name: str) -> Validator:
    schema = json.loads((PROGRAMMES_DIR / "schemas" / schema_name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _where(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(le fichier entier)"


def _read(path: Path, schema_name: str) -> Any:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_NoFloatNoDateLoader)  # noqa: S506 — a SafeLoader
    except yaml.YAMLError as error:
        raise ReferenceDataError(f"{path.name}: YAML illisible : {error}") from None
    errors = sorted(_validator(schema_name).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        details = "; ".join(f"{_where(e.absolute_path)} : {e.message}" for e in errors)
        raise ReferenceDataError(f"{path.name}: {details}")
    return data


def _parse_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _parse_amount(value: int | str) -> Decimal:
    return Decimal(value)  # the schema allowed only an int or a decimal string


def _check_rows_follow(rows: Sequence[tuple[date | None, date | None]], file: str, where: str) -> None:
    """Dated rows follow each other: each starts the day after the previous one ends (no gap, no overlap)."""
    for index, (start, end) in enumerate(rows):
        if start is not None and end is not None and end < start:
            raise ReferenceDataError(f"{file}: {where}[{index}] : la fin ({end}) précède le début ({start})")
        if index:
            previous_end = rows[index - 1][1]
            if previous_end is None or start is None or start != previous_end + relativedelta(days=1):
                raise ReferenceDataError(
                    f"{file}: {where}[{index}] : doit commencer le lendemain de la fin de la ligne "
                    f"précédente ({previous_end})"
                )


def _in_window(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


@dataclass(frozen=True)
class RuleSet:
    """One dated row of the general rules (general_rules.yaml), from and to both included."""

    valid_from: date
    valid_to: date | None
    tpe_cap: Decimal
    minimum_subsidy: Decimal
    de_minimis_ceiling: Decimal
    de_minimis_years: int
    convention_threshold: Decimal
    convention_months: int
    duerp_max_age_months: int
    prevention_contract_gap_months: int

    def de_minimis_window_start(self, on: date) -> date:
        """First day of the rolling period whose public aid counts for de minimis on `on`."""
        return on - relativedelta(years=self.de_minimis_years)

    def convention_window_start(self, on: date) -> date:
        """First day of the period whose Prévention subsidies count towards the convention threshold."""
        return on - relativedelta(months=self.convention_months)


@functools.cache
def _load_rule_sets(directory: Path) -> tuple[RuleSet, ...]:
    path = directory / GENERAL_RULES_FILE
    data = _read(path, "general_rules.schema.json")
    rule_sets = tuple(
        RuleSet(
            valid_from=date.fromisoformat(row["from"]),
            valid_to=_parse_date(row["to"]),
            tpe_cap=_parse_amount(row["tpe_cap"]),
            minimum_subsidy=_parse_amount(row["minimum_subsidy"]),
            de_minimis_ceiling=_parse_amount(row["de_minimis_ceiling"]),
            de_minimis_years=row["de_minimis_years"],
            convention_threshold=_parse_amount(row["convention_threshold"]),
            convention_months=row["convention_months"],
            duerp_max_age_months=row["duerp_max_age_months"],
            prevention_contract_gap_months=row["prevention_contract_gap_months"],
        )
        for row in data["rule_sets"]
    )
    _check_rows_follow([(r.valid_from, r.valid_to) for r in rule_sets], path.name, "rule_sets")
    return rule_sets


def load_rule_sets(directory: Path | None = None) -> tuple[RuleSet, ...]:
    """The dated rows of the general rules, checked (schema, then rows following each other); cached."""
    return _load_rule_sets(Path(directory or PROGRAMMES_DIR))


def rules_on(on: date, directory: Path | None = None) -> RuleSet:
    """The general rules in force on `on` (the date of the file's first request)."""
    _date(on, "on")
    for rule_set in load_rule_sets(directory):
        if _in_window(on, rule_set.valid_from, rule_set.valid_to):
            return rule_set
    raise LookupError(f"no general rules of the Subventions Prévention in force on {on.isoformat()}")


@dataclass(frozen=True)
class DatedRate:
    """A rate (a fraction: 0.5 for 50 %) in force from `valid_from` to `valid_to`, both included."""

    valid_from: date | None
    valid_to: date | None
    rate: Decimal


@dataclass(frozen=True)
class LineKind:
    """A kind of expense a programme pays for (equipment, training…), its dated rates and optional caps."""

    code: str
    label: str
    rates: tuple[DatedRate, ...]
    cap_per_line: Decimal | None = None
    cap_per_kind: Decimal | None = None

    def rate_on(self, on: date) -> Decimal:
        """The rate (a fraction) in force on `on`."""
        for row in self.rates:
            if _in_window(on, row.valid_from, row.valid_to):
                return row.rate
        raise LookupError(f"no rate for « {self.code} » on {on.isoformat()}")


@dataclass(frozen=True)
class CompanyCap:
    """The programme's cap per company for a headcount band (bounds included; no max: and above)."""

    headcount_min: int
    headcount_max: int | None
    amount: Decimal


@dataclass(frozen=True)
class Programme:
    """One programme as its YAML file states it (SPEC §7), with `data` kept for a frozen copy elsewhere."""

    code: str
    name: str
    ctn: frozenset[str]
    codes_risque_included: frozenset[str]
    codes_risque_excluded: frozenset[str]
    headcount_min: int
    headcount_max: int | None
    valid_from: date
    valid_to: date | None
    under_tpe_cap: bool
    line_kinds: Mapping[str, LineKind]
    company_caps: tuple[CompanyCap, ...] = ()
    file: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def open_on(self, on: date) -> bool:
        """Whether `on` falls in the programme's validity window."""
        return _in_window(on, self.valid_from, self.valid_to)

    def targets(self, ctn: str | None, code_risque: str | None) -> bool:
        """Whether an establishment of this CTN and code risque may apply.

        Not if its code risque is excluded; otherwise yes if the CTN is listed or the code risque included;
        a programme listing neither is open to every activity.
        """
        code = (code_risque or "").strip().upper()
        if code in self.codes_risque_excluded:
            return False
        if not self.ctn and not self.codes_risque_included:
            return True
        return (ctn or "").strip().upper() in self.ctn or code in self.codes_risque_included

    def headcount_ok(self, headcount: int) -> bool:
        """Whether the company's national headcount is in the programme's range (bounds included)."""
        return headcount >= self.headcount_min and (
            self.headcount_max is None or headcount <= self.headcount_max
        )

    def company_cap_for(self, headcount: int) -> Decimal | None:
        """The programme's cap for a company of this headcount, or None when it sets none."""
        for band in self.company_caps:
            if headcount >= band.headcount_min and (
                band.headcount_max is None or headcount <= band.headcount_max
            ):
                return band.amount
        return None


def _programme_from(path: Path, data: Mapping[str, Any]) -> Programme:
    file = path.name
    if data["code"] != path.stem:
        raise ReferenceDataError(f"{file}: code : « {data['code']} » alors que le fichier s'appelle {file}")
    headcount = data["headcount"]
    if headcount.get("max") is not None and headcount["max"] < headcount["min"]:
        raise ReferenceDataError(f"{file}: headcount.max : inférieur à headcount.min")
    valid_from = date.fromisoformat(data["validity"]["from"])
    valid_to = _parse_date(data["validity"].get("to"))
    _check_rows_follow([(valid_from, valid_to)], file, "validity")
    kinds = {}
    for code, kind in data["line_kinds"].items():
        where = f"line_kinds.{code}.rates"
        rates = tuple(
            DatedRate(
                _parse_date(row.get("from")), _parse_date(row.get("to")), _parse_amount(row["rate"]) / HUNDRED
            )
            for row in kind["rates"]
        )
        _check_rows_follow([(r.valid_from, r.valid_to) for r in rates], file, where)
        if not (
            _in_window(valid_from, rates[0].valid_from, rates[-1].valid_to)
            and (rates[-1].valid_to is None or (valid_to is not None and valid_to <= rates[-1].valid_to))
        ):
            raise ReferenceDataError(
                f"{file}: {where} : les taux ne couvrent pas toute la période de validité"
            )
        kinds[code] = LineKind(
            code=code,
            label=kind["label"],
            rates=rates,
            cap_per_line=_parse_amount(kind["cap_per_line"]) if "cap_per_line" in kind else None,
            cap_per_kind=_parse_amount(kind["cap_per_kind"]) if "cap_per_kind" in kind else None,
        )
    caps = tuple(
        CompanyCap(band["headcount_min"], band.get("headcount_max"), _parse_amount(band["amount"]))
        for band in data.get("company_cap", ())
    )
    for index, band in enumerate(caps):
        later = caps[index + 1 :]
        if (band.headcount_max is not None and band.headcount_max < band.headcount_min) or any(
            band.headcount_max is None or other.headcount_min <= band.headcount_max for other in later
        ):
            raise ReferenceDataError(f"{file}: company_cap[{index}] : tranches d'effectif mal ordonnées")
    target = data["target"]
    return Programme(
        code=data["code"],
        name=data["name"],
        ctn=frozenset(target.get("ctn", ())),
        codes_risque_included=frozenset(target.get("codes_risque_included", ())),
        codes_risque_excluded=frozenset(target.get("codes_risque_excluded", ())),
        headcount_min=headcount["min"],
        headcount_max=headcount.get("max"),
        valid_from=valid_from,
        valid_to=valid_to,
        under_tpe_cap=data["under_tpe_cap"],
        line_kinds=MappingProxyType(kinds),
        company_caps=caps,
        file=file,
        data=data,
    )


def load_programme_file(path: Path) -> Programme:
    """One programme file, checked against the JSON Schema, then for what a schema cannot say (dated rows)."""
    return _programme_from(path, _read(path, "programme.schema.json"))


def programme_from_data(data: Mapping[str, Any], filename: str) -> Programme:
    """A programme from a frozen copy of its file's content (the database's, loaded by `flask subventions
    load`), checked again against the schema and the dated rows."""
    errors = sorted(
        _validator("programme.schema.json").iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
    )
    if errors:
        details = "; ".join(f"{_where(e.absolute_path)} : {e.message}" for e in errors)
        raise ReferenceDataError(f"{filename}: {details}")
    return _programme_from(Path(filename), data)


def read_programme_data(path: Path) -> Any:
    """The content of one programme file, checked against the schema (YAML read without floats or dates)."""
    data = _read(path, "programme.schema.json")
    _programme_from(path, data)
    return data


@functools.cache
def _load_programmes(directory: Path) -> Mapping[str, Programme]:
    paths = sorted(p for p in directory.glob("*.yaml") if p.name != GENERAL_RULES_FILE)
    return {programme.code: programme for programme in map(load_programme_file, paths)}


def load_programmes(directory: Path | None = None) -> Mapping[str, Programme]:
    """Every programme file of the directory (default: the application's), by code; cached."""
    return _load_programmes(Path(directory or PROGRAMMES_DIR))


def get_programme(code: str) -> Programme:
    """The application's programme of this code (LookupError when there is none)."""
    try:
        return load_programmes()[code]
    except KeyError:
        raise LookupError(f"no subsidy programme {code!r}") from None
