"""Subventions Prévention TPE: the money rules (SPEC §7; issue 14, « The rules »).

- Programmes are dated reference data: one YAML file per programme in `subsidy_programmes/`, checked against
  `subsidy_programmes/schemas/programme.schema.json` at load (`load_programmes`, `get_programme`). The general
  rules (TPE cap, minimum subsidy, de minimis, convention, the attested conditions' durations) are dated rows
  of `subsidy_programmes/general_rules.yaml` (`load_rule_sets`, `rules_on`). No figure of these rules is a
  constant of this module.
- `compute_subsidy`: the amount of one request, line by line then the caps, with the reason of every cut,
  exclusion and refusal in French.
- `attestation_reasons`, `de_minimis_ok` / `de_minimis_refusal`, `convention_required`: the other checks of a
  request.
- `Status`, `TRANSITIONS`, `check_transition`: the dossier's states and THE table of their transitions.

Money is `Decimal` from end to end: a float (or a bool, or a string) where an amount is expected raises
TypeError, and YAML files are read without floats (a `0.5` stays the text "0.5"). The one rounding is
`round_cent`: half-up to the cent, per line, before any cap; caps only subtract, so nothing is rounded twice.
Pure Python: no Flask, no database.
"""

from __future__ import annotations

import decimal
import enum
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import jsonschema
import yaml
from dateutil.relativedelta import relativedelta
from jsonschema.protocols import Validator

from app.domain.calendars import PARIS
from app.domain.dat import french_day

__all__ = [
    "PROGRAMMES_DIR",
    "TRANSITIONS",
    "Attestations",
    "LineKind",
    "LineResult",
    "Programme",
    "Reduction",
    "ReferenceDataError",
    "RuleSet",
    "Status",
    "SubsidyResult",
    "TransitionRefused",
    "attestation_reasons",
    "check_transition",
    "compute_subsidy",
    "convention_required",
    "de_minimis_ok",
    "de_minimis_refusal",
    "format_euros",
    "get_programme",
    "load_programmes",
    "load_rule_sets",
    "round_cent",
    "rules_on",
]

PROGRAMMES_DIR: Final = Path(__file__).parents[1] / "subsidy_programmes"
GENERAL_RULES_FILE: Final = "general_rules.yaml"
CENT: Final = Decimal("0.01")
HUNDRED: Final = Decimal(100)
ZERO: Final = Decimal(0)

# Products and sums are exact (an amount HT has a handful of digits); a result that would need rounding
# raises decimal.Inexact — a bug, never a silent rounding. The caller's decimal context changes nothing.
_EXACT: Final = decimal.Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.Inexact],
)
# The one rounding (`round_cent`): the same, without the Inexact trap.
_ROUNDING: Final = decimal.Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def round_cent(amount: Decimal) -> Decimal:
    """THE rounding of the subsidies: half-up to the cent (5,005 € → 5,01 €), applied once per line."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP, context=_ROUNDING)


def format_euros(amount: Decimal) -> str:
    """``Decimal("25000")`` → ``"25 000,00 €"`` (no-break spaces, so an amount is never cut at a line end)."""
    text = f"{round_cent(amount):,.2f}"
    return text.replace(",", "\u00a0").replace(".", ",") + "\u00a0€"


def _amount(value: Any, name: str) -> Decimal:
    """An amount or count given by code: a Decimal or an int, never a float, a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name}: a Decimal (or an int) is expected, not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name}: not a finite number: {value!r}")
    if result < 0:
        raise ValueError(f"{name}: negative: {value!r}")
    return result


def _date(value: Any, name: str) -> date:
    if not isinstance(value, date):
        raise TypeError(f"{name}: a date is expected, not {type(value).__name__}")
    return value


def _today() -> date:
    return datetime.now(PARIS).date()


# ==== Reading the reference data =========================================================================


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


# ==== The amount ==========================================================================================


@dataclass(frozen=True)
class LineResult:
    """One line of the request: its rate, the subsidy it gives (`amount`), or why it gives nothing."""

    kind: str
    amount_ht: Decimal
    rate: Decimal | None
    computed: Decimal  # rate × amount HT, rounded half-up to the cent, before the line's cap
    amount: Decimal  # after the cap per line; 0 when excluded
    excluded_reason: str | None = None
    capped_reason: str | None = None


@dataclass(frozen=True)
class Reduction:
    """A cut above the lines: a cap per kind, the programme's cap per company or the TPE cap."""

    rule: str  # "kind_cap", "company_cap" or "tpe_cap"
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class SubsidyResult:
    """The subsidy of one request; `total` is 0 when `refusal` (a French message) says why."""

    programme: str
    requested_on: date
    rules: RuleSet
    lines: tuple[LineResult, ...]
    reductions: tuple[Reduction, ...]
    lines_total: Decimal  # the lines' amounts added
    computed_total: Decimal  # after every cap, before the minimum
    total: Decimal
    refusal: str | None = None

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every exclusion, cap and refusal, in French, in the order they were applied."""
        texts = [r for line in self.lines for r in (line.excluded_reason, line.capped_reason) if r]
        texts += [reduction.reason for reduction in self.reductions]
        return (*texts, self.refusal) if self.refusal else tuple(texts)


def _line_exclusion(line: Mapping[str, Any], kind: LineKind | None, programme: Programme) -> str | None:
    if kind is None:
        return f"« {line['kind']} » n'est pas une dépense prévue par le programme {programme.name}."
    if line.get("leased"):
        return "Matériel loué ou en crédit-bail : seul le matériel neuf acheté est subventionné."
    if line.get("second_hand"):
        return "Matériel d'occasion : seul le matériel neuf acheté est subventionné."
    dated = line.get("dated")
    if dated is not None and not programme.open_on(_date(dated, "dated")):
        day = french_day(dated, weekday=False)
        return f"Dépense du {day}, hors de la période du programme {_period(programme)}."
    return None


def _period(programme: Programme) -> str:
    start = french_day(programme.valid_from, weekday=False)
    if programme.valid_to is None:
        return f"(ouvert depuis le {start})"
    return f"(du {start} au {french_day(programme.valid_to, weekday=False)})"


def _headcount_range(programme: Programme) -> str:
    if programme.headcount_max is None:
        return f"d'au moins {programme.headcount_min} salarié{'s' if programme.headcount_min > 1 else ''}"
    return f"de {programme.headcount_min} à {programme.headcount_max} salariés"


def compute_subsidy(
    programme: str | Programme,
    lines: Sequence[Mapping[str, Any]],
    requested_on: date,
    *,
    headcount: int,
    tpe_granted_before: Decimal = ZERO,
    programme_granted_before: Decimal = ZERO,
    kind_granted_before: Mapping[str, Decimal] | None = None,
    ctn: str | None = None,
    code_risque: str | None = None,
) -> SubsidyResult:
    """The subsidy of one request (SPEC §7), every cut and refusal with its French reason.

    `requested_on` is the date of the file's FIRST request (the reservation, or the payment request when there
    was none): the programme's rates and the general rules in force that day apply to the whole file.
    `lines` are dicts ``{"kind": str, "amount_ht": Decimal}`` with the optional flags ``leased``,
    ``second_hand`` (the line is excluded) and ``dated`` (the line's date: excluded outside the programme's
    window); other keys are ignored. `headcount` is the company's national headcount.

    Order: per line, rate × amount HT rounded half-up to the cent (`round_cent`); the cap per line; the cap
    per kind (less `kind_granted_before` for that kind); the programme's cap per company (less
    `programme_granted_before`); for a programme under the TPE cap, the TPE cap less `tpe_granted_before`
    (the company's other TPE subsidies; a company at the cap is refused); then the minimum subsidy (under
    it: refused).
    A request outside the programme's window, from a company outside its headcount range or activities, or
    with no eligible line is refused. When `ctn` and `code_risque` are both None the activity is not checked.
    """
    if isinstance(programme, str):
        programme = get_programme(programme)
    _date(requested_on, "requested_on")
    if isinstance(headcount, bool) or not isinstance(headcount, int):
        raise TypeError(f"headcount: an int is expected, not {type(headcount).__name__}")
    if headcount < 0:
        raise ValueError(f"headcount: negative: {headcount}")
    tpe_before = _amount(tpe_granted_before, "tpe_granted_before")
    programme_before = _amount(programme_granted_before, "programme_granted_before")
    kind_before = {k: _amount(v, f"kind_granted_before[{k}]") for k, v in (kind_granted_before or {}).items()}
    rules = rules_on(requested_on)

    with decimal.localcontext(_EXACT):
        results = []
        for index, line in enumerate(lines):
            amount_ht = _amount(line["amount_ht"], f"lines[{index}].amount_ht")
            kind = programme.line_kinds.get(line["kind"])
            excluded = _line_exclusion(line, kind, programme)
            if excluded or kind is None or not programme.open_on(requested_on):
                results.append(
                    LineResult(line["kind"], amount_ht, None, ZERO, ZERO, excluded_reason=excluded)
                )
                continue
            rate = kind.rate_on(requested_on)
            computed = round_cent(rate * amount_ht)
            amount, capped = computed, None
            if kind.cap_per_line is not None and computed > kind.cap_per_line:
                amount = kind.cap_per_line
                capped = f"{kind.label} : subvention plafonnée à {format_euros(kind.cap_per_line)} par ligne."
            results.append(LineResult(kind.code, amount_ht, rate, computed, amount, capped_reason=capped))

        reductions = []
        for code, kind in programme.line_kinds.items():
            if kind.cap_per_kind is None:
                continue
            subtotal = sum((r.amount for r in results if r.kind == code and r.excluded_reason is None), ZERO)
            room = max(kind.cap_per_kind - kind_before.get(code, ZERO), ZERO)
            if subtotal > room:
                reductions.append(
                    Reduction(
                        "kind_cap",
                        subtotal - room,
                        f"{kind.label} : plafond de {format_euros(kind.cap_per_kind)} pour ce type de dépense"
                        + (
                            f", dont {format_euros(kind_before[code])} déjà accordés"
                            if kind_before.get(code)
                            else ""
                        )
                        + f" ; {format_euros(subtotal - room)} au-delà ne sont pas subventionnés.",
                    )
                )
        lines_total = sum((r.amount for r in results), ZERO)
        running = lines_total - sum((r.amount for r in reductions), ZERO)

        company_cap = programme.company_cap_for(headcount)
        refusal = _refusal(programme, requested_on, headcount, ctn, code_risque, results)
        if refusal is None and company_cap is not None and programme_before >= company_cap:
            refusal = (
                f"L'entreprise a atteint le plafond du programme {programme.name} "
                f"({format_euros(company_cap)} ; {format_euros(programme_before)} déjà accordés)."
            )
        if refusal is None and programme.under_tpe_cap and tpe_before >= rules.tpe_cap:
            refusal = (
                "L'entreprise a atteint le plafond des subventions Prévention TPE "
                f"({format_euros(rules.tpe_cap)} ; {format_euros(tpe_before)} déjà accordés)."
            )
        if company_cap is not None and running > company_cap - programme_before:
            room = max(company_cap - programme_before, ZERO)
            reductions.append(
                Reduction(
                    "company_cap",
                    running - room,
                    f"Plafond du programme pour une entreprise {_company_band(programme, headcount)} : "
                    f"{format_euros(company_cap)}"
                    + (f", dont {format_euros(programme_before)} déjà accordés" if programme_before else "")
                    + f" ; {format_euros(running - room)} au-delà ne sont pas subventionnés.",
                )
            )
            running = room
        if programme.under_tpe_cap and running > rules.tpe_cap - tpe_before:
            room = max(rules.tpe_cap - tpe_before, ZERO)
            reductions.append(
                Reduction(
                    "tpe_cap",
                    running - room,
                    f"Plafond des subventions Prévention TPE : {format_euros(rules.tpe_cap)} par entreprise, "
                    f"dont {format_euros(tpe_before)} déjà accordés ; {format_euros(running - room)} au-delà "
                    "ne sont pas subventionnés.",
                )
            )
            running = room
        if refusal is None and running < rules.minimum_subsidy:
            refusal = (
                f"La subvention calculée ({format_euros(running)}) est inférieure au minimum de "
                f"{format_euros(rules.minimum_subsidy)} (règles en vigueur à la date de la première demande, "
                f"le {french_day(requested_on, weekday=False)})."
            )
    return SubsidyResult(
        programme=programme.code,
        requested_on=requested_on,
        rules=rules,
        lines=tuple(results),
        reductions=tuple(reductions),
        lines_total=lines_total,
        computed_total=running,
        total=ZERO if refusal else running,
        refusal=refusal,
    )


def _company_band(programme: Programme, headcount: int) -> str:
    for band in programme.company_caps:
        if band.headcount_min <= headcount and (
            band.headcount_max is None or headcount <= band.headcount_max
        ):
            if band.headcount_max is None:
                return f"d'au moins {band.headcount_min} salariés"
            return f"de {band.headcount_min} à {band.headcount_max} salariés"
    return ""  # pragma: no cover — only called with a band found


def _refusal(
    programme: Programme,
    requested_on: date,
    headcount: int,
    ctn: str | None,
    code_risque: str | None,
    results: Sequence[LineResult],
) -> str | None:
    """Why the whole request is refused before its amount is looked at, or None."""
    if not programme.open_on(requested_on):
        return (
            f"Le programme {programme.name} n'est pas ouvert le {french_day(requested_on, weekday=False)} "
            f"{_period(programme)}."
        )
    if not programme.headcount_ok(headcount):
        return (
            f"Le programme {programme.name} est réservé aux entreprises {_headcount_range(programme)} "
            f"(effectif national déclaré : {headcount})."
        )
    if (ctn is not None or code_risque is not None) and not programme.targets(ctn, code_risque):
        activity = ", ".join(
            part for part in (ctn and f"CTN {ctn}", code_risque and f"code risque {code_risque}") if part
        )
        return f"Le programme {programme.name} ne concerne pas l'activité de l'établissement ({activity})."
    if not any(r.excluded_reason is None for r in results):
        return "Aucune dépense de la demande n'est éligible."
    return None


# ==== The other checks of a request =======================================================================


@dataclass(frozen=True)
class Attestations:
    """What the employer attests on a request (SPEC §7), as the form records it.

    `staff_representatives_informed` is also true for a company that has no staff representatives.
    """

    contributions_up_to_date: bool  # URSSAF
    duerp_updated_on: date | None  # the DUERP's last update
    prevention_contract_in_progress: bool
    prevention_contract_ended_on: date | None  # the last prevention contract's end, None if never any
    injunction_or_surcharge: bool  # an injunction or a cotisation supplémentaire in force
    occupational_health_member: bool  # member of a service de prévention et de santé au travail
    staff_representatives_informed: bool
    regime_general: bool = True


def attestation_reasons(attestations: Attestations, requested_on: date) -> tuple[str, ...]:
    """Why the attested conditions of SPEC §7 make the company ineligible (French; empty: eligible).

    The DUERP must have been updated within the rules' months before `requested_on` (that day included); a
    prevention contract must be neither in progress nor ended within the rules' gap before it.
    """
    _date(requested_on, "requested_on")
    rules = rules_on(requested_on)
    reasons = []
    if not attestations.regime_general:
        reasons.append(
            "Les subventions Prévention sont réservées aux entreprises relevant du régime général."
        )
    if not attestations.contributions_up_to_date:
        reasons.append("L'entreprise doit être à jour de ses cotisations URSSAF.")
    duerp_since = requested_on - relativedelta(months=rules.duerp_max_age_months)
    updated = attestations.duerp_updated_on
    months = rules.duerp_max_age_months
    if updated is None:
        reasons.append(
            f"Le document unique d'évaluation des risques (DUERP) doit avoir été mis à jour dans les "
            f"{months} derniers mois : indiquez la date de sa dernière mise à jour."
        )
    elif updated > requested_on:
        reasons.append(
            f"La date de mise à jour du DUERP ({french_day(updated, weekday=False)}) est postérieure "
            "à la demande."
        )
    elif updated < duerp_since:
        reasons.append(
            f"Le DUERP doit avoir été mis à jour dans les {months} derniers mois (depuis le "
            f"{french_day(duerp_since, weekday=False)}) : sa dernière mise à jour date du "
            f"{french_day(updated, weekday=False)}."
        )
    if attestations.prevention_contract_in_progress:
        reasons.append("Un contrat de prévention est en cours : une subvention ne peut pas s'y ajouter.")
    ended = attestations.prevention_contract_ended_on
    gap = rules.prevention_contract_gap_months
    gap_since = requested_on - relativedelta(months=rules.prevention_contract_gap_months)
    if ended is not None and ended >= gap_since and not attestations.prevention_contract_in_progress:
        reasons.append(
            f"Un contrat de prévention a pris fin le {french_day(ended, weekday=False)} : aucune subvention "
            f"dans les {rules.prevention_contract_gap_months} mois qui suivent (demande possible à partir du "
            f"{french_day(ended + relativedelta(months=gap, days=1), weekday=False)})."
        )
    if attestations.injunction_or_surcharge:
        reasons.append("Une injonction ou une cotisation supplémentaire est en cours pour l'entreprise.")
    if not attestations.occupational_health_member:
        reasons.append("L'entreprise doit adhérer à un service de prévention et de santé au travail.")
    if not attestations.staff_representatives_informed:
        reasons.append("Les représentants du personnel doivent avoir été informés de la demande.")
    return tuple(reasons)


def de_minimis_refusal(aid_3y: Decimal, amount: Decimal, *, on: date | None = None) -> str | None:
    """Why the subsidy would break the EU de minimis ceiling, or None (French).

    `aid_3y` is all public aid the company declared (sworn statement) over the rules' rolling years before
    `on` (default: today in Paris). No partial grant: above the ceiling, the whole subsidy is refused.
    """
    aid, subsidy = _amount(aid_3y, "aid_3y"), _amount(amount, "amount")
    rules = rules_on(on or _today())
    with decimal.localcontext(_EXACT):
        if aid + subsidy <= rules.de_minimis_ceiling:
            return None
        return (
            f"Aides publiques déclarées sur {rules.de_minimis_years} ans glissants : {format_euros(aid)} ; "
            f"avec cette subvention ({format_euros(subsidy)}) elles dépasseraient le plafond de minimis de "
            f"{format_euros(rules.de_minimis_ceiling)}. La subvention ne peut pas être accordée, même en "
            "partie."
        )


def de_minimis_ok(aid_3y: Decimal, amount: Decimal, *, on: date | None = None) -> bool:
    """Whether the aid over the rolling years plus this subsidy stays within the de minimis ceiling."""
    return de_minimis_refusal(aid_3y, amount, on=on) is None


def convention_required(
    prevention_last_12_months: Decimal, amount: Decimal, *, on: date | None = None
) -> bool:
    """Whether a convention must be signed before any payment: the company's Prévention subsidies over the
    rules' months before `on` (default: today in Paris), this one included, go above the threshold."""
    before = _amount(prevention_last_12_months, "prevention_last_12_months")
    subsidy = _amount(amount, "amount")
    with decimal.localcontext(_EXACT):
        return before + subsidy > rules_on(on or _today()).convention_threshold


# ==== The dossier's states ================================================================================


class Status(enum.StrEnum):
    """Where a subsidy dossier stands (SPEC §7; démarches-simplifiées' states)."""

    BROUILLON = "brouillon"
    DEPOSEE = "deposee"
    EN_INSTRUCTION = "en_instruction"
    COMPLEMENT_DEMANDE = "complement_demande"
    ACCEPTEE = "acceptee"
    REFUSEE = "refusee"
    VERSEMENT_DEMANDE = "versement_demande"
    PAYEE = "payee"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: Final = {
    Status.BROUILLON: "Brouillon",
    Status.DEPOSEE: "Déposée",
    Status.EN_INSTRUCTION: "En instruction",
    Status.COMPLEMENT_DEMANDE: "Complément demandé",
    Status.ACCEPTEE: "Acceptée",
    Status.REFUSEE: "Refusée",
    Status.VERSEMENT_DEMANDE: "Versement demandé",
    Status.PAYEE: "Payée",
}

# THE transitions. A reservation is filed, instructed (the Carsat may ask for completion, and the employer's
# completion sends it back to instruction), then accepted or refused; an accepted reservation gets its payment
# request, which the Carsat pays, refuses, or asks to complete (the completion then returns to the payment
# request: the service knows which from the dossier's history). A payment request without reservation is
# allowed: the draft goes straight to « versement demandé ». Refused and paid are final.
TRANSITIONS: Final[Mapping[Status, frozenset[Status]]] = {
    Status.BROUILLON: frozenset({Status.DEPOSEE, Status.VERSEMENT_DEMANDE}),
    Status.DEPOSEE: frozenset({Status.EN_INSTRUCTION}),
    Status.EN_INSTRUCTION: frozenset({Status.COMPLEMENT_DEMANDE, Status.ACCEPTEE, Status.REFUSEE}),
    Status.COMPLEMENT_DEMANDE: frozenset({Status.EN_INSTRUCTION, Status.VERSEMENT_DEMANDE, Status.REFUSEE}),
    Status.ACCEPTEE: frozenset({Status.VERSEMENT_DEMANDE}),
    Status.VERSEMENT_DEMANDE: frozenset({Status.COMPLEMENT_DEMANDE, Status.PAYEE, Status.REFUSEE}),
    Status.REFUSEE: frozenset(),
    Status.PAYEE: frozenset(),
}


class TransitionRefused(ValueError):
    """A status change the rules forbid; the message is the French text shown to the person who tried it."""


def check_transition(current: Status | str, target: Status | str) -> Status:
    """`target` as a Status if a dossier may go there from `current`; TransitionRefused (French) if not."""
    current, target = Status(current), Status(target)
    if target not in TRANSITIONS[current]:
        if not TRANSITIONS[current]:
            raise TransitionRefused(
                f"Un dossier « {current.label} » est clos : il ne peut plus changer d'état."
            )
        raise TransitionRefused(
            f"Un dossier « {current.label} » ne peut pas passer à l'état « {target.label} »."
        )
    return target
