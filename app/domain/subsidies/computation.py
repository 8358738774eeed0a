"""The amount (`compute_subsidy`): line by line then the caps, with the reason of every cut, exclusion
and refusal in French.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.dat import french_day

from .money import _EXACT, ZERO, _amount, _date, format_euros, round_cent
from .programmes import LineKind, Programme, RuleSet, get_programme, rules_on


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
