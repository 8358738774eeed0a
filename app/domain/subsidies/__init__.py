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

from .computation import LineResult, Reduction, SubsidyResult, compute_subsidy
from .dossiers import (
    DECIDABLE,
    DECISION_LABELS,
    DECISION_TARGETS,
    EDITABLE,
    DecisionKind,
    Phase,
    committed_amount,
    next_step,
)
from .eligibility import (
    Attestations,
    attestation_reasons,
    convention_required,
    de_minimis_ok,
    de_minimis_refusal,
)
from .money import CENT, HUNDRED, ZERO, format_euros, round_cent
from .programmes import (
    GENERAL_RULES_FILE,
    PROGRAMMES_DIR,
    CompanyCap,
    DatedRate,
    LineKind,
    Programme,
    ReferenceDataError,
    RuleSet,
    get_programme,
    load_programme_file,
    load_programmes,
    load_rule_sets,
    programme_from_data,
    read_programme_data,
    rules_on,
)
from .states import STATUS_LABELS, TRANSITIONS, Status, TransitionRefused, check_transition

__all__ = [
    "CENT",
    "DECIDABLE",
    "DECISION_LABELS",
    "DECISION_TARGETS",
    "EDITABLE",
    "GENERAL_RULES_FILE",
    "HUNDRED",
    "PROGRAMMES_DIR",
    "STATUS_LABELS",
    "TRANSITIONS",
    "ZERO",
    "Attestations",
    "CompanyCap",
    "DatedRate",
    "DecisionKind",
    "LineKind",
    "LineResult",
    "Phase",
    "Programme",
    "Reduction",
    "ReferenceDataError",
    "RuleSet",
    "Status",
    "SubsidyResult",
    "TransitionRefused",
    "attestation_reasons",
    "check_transition",
    "committed_amount",
    "compute_subsidy",
    "convention_required",
    "de_minimis_ok",
    "de_minimis_refusal",
    "format_euros",
    "get_programme",
    "load_programme_file",
    "load_programmes",
    "load_rule_sets",
    "next_step",
    "programme_from_data",
    "read_programme_data",
    "round_cent",
    "rules_on",
]
