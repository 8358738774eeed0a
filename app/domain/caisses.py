"""Which caisse is competent (SPEC §1): the CPAM of the victim, the Carsat of the establishment.

An AT/MP case belongs to the CPAM the victim is affiliated to — in practice the one of their usual
residence (Cerfa 14463*03 : « CPAM du lieu de résidence habituelle de la victime ») —, wherever they
work; rates and prevention subsidies belong to the Carsat of the establishment's location. So a CPAM's
scope is a set of victims' départements of residence, a Carsat's a set of establishments' départements.

The DAT gives the victim's address (step « La victime »): its postal code decides the département of
the competent CPAM. Pure Python: no Flask, no database.
"""

from __future__ import annotations

from app.domain.calendars import normalize_departement

# Postal codes of Corsica: 200xx–201xx are Corse-du-Sud (2A), 202xx–206xx Haute-Corse (2B) — La Poste
# kept the split of the two départements made in 1976 inside the former 20.
_CORSE_DU_SUD_BELOW = 20200

# Overseas postal codes begin with the département's three digits; Saint-Barthélemy (97133) and
# Saint-Martin (97150) have Guadeloupe's, whose CGSS insures their residents.
_OVERSEAS_POSTAL_PREFIXES = frozenset({"971", "972", "973", "974", "975", "976"})

# 98xxx: Monaco (98000), Wallis-et-Futuna (986xx), French Polynesia (987xx), New Caledonia (988xx). None
# has a CPAM: their residents are insured by their own systems (Caisses sociales de Monaco, CPS, CAFAT).
_NO_CPAM_PREFIX = "98"


def departement_of_postal_code(postal_code: str | None) -> str | None:
    """The département (canonical code: "57", "2A", "971") of a French postal code, or None when the
    code names no département with a CPAM (98xxx, a foreign or unreadable code).

    - metropolitan France: the first two digits (Corsica: 2A below 20200, else 2B);
    - overseas: the first three digits (971 Guadeloupe — also Saint-Barthélemy 97133 and
      Saint-Martin 97150, whose residents the CGSS de la Guadeloupe insures —, 972, 973, 974, 975,
      976).

    A few border communes are served by a post office of the neighbouring département and carry its
    postal code: their residents are ascribed to that neighbour's CPAM (the DAT gives no INSEE commune
    code to do better; documented in docs/dat.md)."""
    code = (postal_code or "").strip()
    if len(code) != 5 or not code.isdigit() or code.startswith(_NO_CPAM_PREFIX):
        return None
    if code.startswith("20"):
        return "2A" if int(code) < _CORSE_DU_SUD_BELOW else "2B"
    if code.startswith("97"):
        return code[:3] if code[:3] in _OVERSEAS_POSTAL_PREFIXES else None
    try:
        return normalize_departement(code[:2])
    except ValueError:
        return None


def competent_cpam_departement(victim_postal_code: str | None, establishment_departement: str) -> str:
    """The département whose CPAM receives the declaration and instructs the case (SPEC §1): the
    victim's département of residence, from the postal code of their address.

    A victim with no residence in a département that has a CPAM (living abroad — a cross-border
    worker —, in Monaco or in an overseas collectivity with its own social security) goes to the CPAM
    of the establishment's département [choice]: a person living abroad and working in France is
    affiliated to the French general scheme through the CPAM of their place of work (the CPAM de
    Moselle for the frontaliers of Luxembourg and Germany working in Moselle, for instance), and the
    establishment's département is the place of work the DAT knows."""
    return departement_of_postal_code(victim_postal_code) or normalize_departement(establishment_departement)
