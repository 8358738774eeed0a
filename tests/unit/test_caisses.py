"""Which CPAM is competent (SPEC §1): the one of the victim's residence, read from the postal code of
their address; a victim with no French CPAM of residence goes to the establishment's."""

from __future__ import annotations

import pytest

from app.domain.caisses import competent_cpam_departement, departement_of_postal_code


@pytest.mark.parametrize(
    ("postal_code", "departement"),
    [
        ("57000", "57"),  # Metz
        ("75011", "75"),
        ("01000", "01"),  # Bourg-en-Bresse: the leading zero is kept
        ("95000", "95"),
        ("20000", "2A"),  # Ajaccio
        ("20169", "2A"),  # Bonifacio
        ("20200", "2B"),  # Bastia
        ("20600", "2B"),  # Bastia, Furiani
        ("97110", "971"),  # Pointe-à-Pitre
        ("97133", "971"),  # Saint-Barthélemy: insured by the CGSS de la Guadeloupe
        ("97150", "971"),  # Saint-Martin: likewise
        ("97200", "972"),
        ("97300", "973"),
        ("97400", "974"),
        ("97500", "975"),  # Saint-Pierre-et-Miquelon
        ("97600", "976"),  # Mayotte
        (" 57000 ", "57"),
    ],
)
def test_the_postal_code_gives_the_departement_of_residence(postal_code, departement):
    assert departement_of_postal_code(postal_code) == departement


@pytest.mark.parametrize(
    "postal_code",
    ["98000", "98800", "98714", "97900", "96000", "00100", "5700", "570000", "L-1234", "", None],
)
def test_no_departement_with_a_cpam_for_monaco_the_pacific_or_a_foreign_code(postal_code):
    assert departement_of_postal_code(postal_code) is None


def test_a_victim_living_in_moselle_working_in_paris_belongs_to_the_cpam_de_moselle():
    assert competent_cpam_departement("57000", "75") == "57"


def test_a_victim_in_corsica_or_overseas_belongs_to_that_caisse_not_the_establishment_s():
    assert competent_cpam_departement("20200", "13") == "2B"
    assert competent_cpam_departement("97400", "75") == "974"


def test_a_victim_without_a_french_cpam_of_residence_goes_to_the_establishment_s():
    """Living abroad, in Monaco or the Pacific: the CPAM of the place of work (the establishment)."""
    assert competent_cpam_departement("98000", "06") == "06"
    assert competent_cpam_departement(None, "57") == "57"
    assert competent_cpam_departement("", "2a") == "2A"
