"""SIRET/SIREN, NIR and postal-code rules of the DAT (SPEC §0, §2.2)."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.identifiers import (
    NIR_FIRST_DIGIT,
    NIR_FORMAT,
    NIR_KEY,
    NIR_MONTH_FORMAT,
    NIR_REQUIRED,
    is_valid_nir,
    is_valid_postal_code,
    is_valid_siren,
    is_valid_siret,
    nir_errors,
    normalize_nir,
    normalize_siret,
)


def with_key(thirteen: str) -> str:
    """Append the NIR key by the SPEC's formula, 97 − (n mod 97), for an all-digit NIR."""
    return thirteen + f"{97 - int(thirteen) % 97:02d}"


# A woman born in October 1995 abroad (département 99), and the same person as a man.
WOMAN_1995_10 = "295109912611193"
MAN_1985_05 = with_key("1850575123456")


# --- SIRET / SIREN ---------------------------------------------------------------------------------------


def test_siret_with_valid_luhn_is_accepted():
    assert is_valid_siret("73282932000074")


def test_siret_typed_with_spaces_dots_and_dashes_is_normalised():
    assert normalize_siret(" 732 829 320.00074 ") == "73282932000074"
    assert normalize_siret("732-829-320-00074") == "73282932000074"
    assert normalize_siret("732\u00a0829\u202f320 00074") == "73282932000074"
    assert is_valid_siret("732 829 320 00074")


@pytest.mark.parametrize(
    "value",
    ["73282932000079", "7328293200007", "732829320000744", "7328293200007A", "", None, "abcdefghijklmn"],
)
def test_bad_siret_is_refused(value):
    assert not is_valid_siret(value)


def test_la_poste_establishment_siret_uses_the_digit_sum_rule():
    # La Poste's establishments fail Luhn but their digits sum to a multiple of 5.
    assert is_valid_siret("35600000049837")
    assert not is_valid_siret("35600000049838")
    assert is_valid_siret("35600000000048")  # its head office follows Luhn


def test_siren():
    assert is_valid_siren("732829320")
    assert is_valid_siren("732 829 320")
    assert not is_valid_siren("732829321")
    assert not is_valid_siren("73282932")


# --- NIR -------------------------------------------------------------------------------------------------


def test_nir_consistent_with_sex_and_birth_date_has_no_error():
    assert nir_errors(WOMAN_1995_10, "F", date(1995, 10, 3)) == []
    assert nir_errors(MAN_1985_05, "M", date(1985, 5, 17)) == []
    assert is_valid_nir("2 95 10 99 126 111 93", "F", date(1995, 10, 3))


def test_nir_typed_with_separators_is_normalised():
    assert normalize_nir("2 95 10 99 126 111 93") == WOMAN_1995_10
    assert normalize_nir("2.53.07.2b.073.004.70") == "253072B07300470"


@pytest.mark.parametrize("value", ["253072B07300470", "253072A07300443", "2 53 07 2b 073 004 70"])
def test_nir_of_someone_born_in_corsica_is_accepted(value):
    assert nir_errors(value, "F", date(1953, 7, 1)) == []


def test_nir_missing():
    assert nir_errors("", "F", None) == [NIR_REQUIRED]
    assert nir_errors(None) == [NIR_REQUIRED]


@pytest.mark.parametrize(
    "value",
    [
        "29510991261119",  # 14 characters
        "2951099126111933",  # 16 characters
        "295109912611",  # no key
        "2951099126A1193",  # a letter outside the département position
        "253072C07300443",  # 2C is no département
        "2530720A7300443",  # 0A neither
        "<script>1</script>",
    ],
)
def test_nir_of_the_wrong_shape_is_a_format_error(value):
    assert nir_errors(value, "F", date(1995, 10, 3)) == [NIR_FORMAT]


def test_nir_with_a_wrong_key():
    assert nir_errors("295109912611199", "F", date(1995, 10, 3)) == [NIR_KEY]
    assert nir_errors("253072B07300443") == [NIR_KEY]  # the 2A key on a 2B number


def test_nir_first_digit_must_be_a_sex():
    assert nir_errors(with_key("3951099126111"), "F", date(1995, 10, 3)) == [NIR_FIRST_DIGIT]
    assert nir_errors(with_key("5951099126111")) == [NIR_FIRST_DIGIT]


def test_nir_of_a_woman_declared_as_a_man():
    assert nir_errors(WOMAN_1995_10, "M", date(1995, 10, 3)) == [
        "Le numéro de sécurité sociale commence par 2 (femme), mais le sexe indiqué est « homme »"
    ]


def test_nir_of_a_man_declared_as_a_woman():
    errors = nir_errors(MAN_1985_05, "F", date(1985, 5, 17))
    assert errors == [
        "Le numéro de sécurité sociale commence par 1 (homme), mais le sexe indiqué est « femme »"
    ]


def test_provisional_nir_7_and_8_follow_the_same_sex_rule():
    assert nir_errors(with_key("7951099126111"), "M", date(1995, 10, 3)) == []
    assert nir_errors(with_key("8951099126111"), "F", date(1995, 10, 3)) == []
    assert len(nir_errors(with_key("8951099126111"), "M", date(1995, 10, 3))) == 1


def test_nir_year_must_match_the_birth_date():
    assert nir_errors(WOMAN_1995_10, "F", date(1996, 10, 3)) == [
        "L'année de naissance contenue dans le numéro de sécurité sociale (95) ne correspond pas à la date "
        "de naissance (1996)"
    ]
    # Only the last two digits count: born in 1895 or 1995 is the same NIR year.
    assert nir_errors(WOMAN_1995_10, "F", date(1895, 10, 3)) == []


def test_nir_year_of_someone_born_in_2000s():
    assert nir_errors(with_key("1050375123456"), "M", date(2005, 3, 1)) == []


def test_nir_month_must_match_the_birth_date():
    assert nir_errors(WOMAN_1995_10, "F", date(1995, 11, 3)) == [
        "Le mois de naissance contenu dans le numéro de sécurité sociale (10, octobre) ne correspond pas "
        "à la date de naissance (novembre)"
    ]


@pytest.mark.parametrize("month", ["20", "30", "35", "42", "50", "63", "99"])
def test_nir_pseudo_month_is_accepted_without_a_month_check(month):
    assert nir_errors(with_key(f"195{month}99126111"), "M", date(1995, 6, 15)) == []


@pytest.mark.parametrize("month", ["00", "13", "19", "43", "49"])
def test_nir_month_that_exists_nowhere_is_an_error(month):
    assert nir_errors(with_key(f"195{month}99126111"), "M", date(1995, 6, 15)) == [NIR_MONTH_FORMAT]


def test_nir_reports_every_problem_at_once():
    errors = nir_errors("295109912611199", "M", date(1996, 11, 3))
    assert errors[0] == NIR_KEY
    assert len(errors) == 4


def test_nir_checks_skip_what_is_not_known_yet():
    assert nir_errors(WOMAN_1995_10) == []
    assert nir_errors(WOMAN_1995_10, None, date(1995, 10, 3)) == []
    assert nir_errors(WOMAN_1995_10, "F", None) == []


# --- postal codes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["75001", "01000", "13008", "20000", "20200", "57000", "95880", "97100", "97200", "97400", "97600",
     "97133", "98000", "98800"],
)  # fmt: skip
def test_french_postal_codes_are_accepted(code):
    assert is_valid_postal_code(code)


@pytest.mark.parametrize(
    "code",
    ["", None, "7500", "750011", "00100", "00000", "96000", "99000", "2A000", "75 001", "7500A", "٧٥٠٠١"],
)
def test_bad_postal_codes_are_refused(code):
    assert not is_valid_postal_code(code)


def test_a_nir_is_shown_grouped_as_on_the_carte_vitale():
    from app.domain.identifiers import format_nir

    assert format_nir("185057800604822") == "1 85 05 78 006 048 22"
    assert format_nir("1 85 05 78 006 048 22") == "1 85 05 78 006 048 22"
    assert format_nir("185052A00604822") == "1 85 05 2A 006 048 22"
    assert format_nir("12345") == "12345" and format_nir(None) == ""
