"""French identifiers of the DAT: SIRET/SIREN, NIR, postal codes (SPEC §0, §2.2).

Check digits come from python-stdnum (Luhn with La Poste's exception for SIRET, 97 − n mod 97 with Corsica's
2A/2B for the NIR); this module adds normalisation of what people type and the DAT's consistency rules, with
French messages for the form. Pure Python: no Flask, no database.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

# What people paste between groups of digits: spaces (also non-breaking), dots, dashes.
_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]+")

_NIR_SHAPE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")
_POSTAL_CODE = re.compile(r"(0[1-9]|[1-8][0-9]|9[0-5]|97|98)[0-9]{3}")

# First digit of the NIR → sex: 1/2 for a definitive NIR, 7/8 for a provisional one (NIA) given to people
# waiting for registration, with the same meaning.
_NIR_SEX = {"1": "M", "2": "F", "7": "M", "8": "F"}
_SEX_LABEL = {"M": "homme", "F": "femme"}
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

NIR_REQUIRED = "Saisissez le numéro de sécurité sociale"
NIR_FORMAT = (
    "Le numéro de sécurité sociale doit comporter 13 chiffres suivis d'une clé de 2 chiffres "
    "(2A ou 2B pour une naissance en Corse)"
)
NIR_KEY = "La clé du numéro de sécurité sociale ne correspond pas"
NIR_FIRST_DIGIT = "Le numéro de sécurité sociale doit commencer par 1 (homme) ou 2 (femme)"
NIR_MONTH_FORMAT = (
    "Le mois de naissance contenu dans le numéro de sécurité sociale (chiffres 4 et 5) n'existe pas"
)


def _strip(value: str | None) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def normalize_siret(value: str | None) -> str:
    """The SIRET without the spaces, dots and dashes people type ("552 100 554 00013" → "55210055400013")."""
    return _strip(value)


def is_valid_siret(value: str | None) -> bool:
    """14 digits with a valid check (Luhn, or La Poste's digit-sum rule for its establishments; SPEC §0)."""
    return stdnum_siret.is_valid(normalize_siret(value))


def is_valid_siren(value: str | None) -> bool:
    """9 digits with a valid Luhn check (SPEC §0)."""
    return stdnum_siren.is_valid(_strip(value))


def normalize_nir(value: str | None) -> str:
    """The NIR, upper case, without separators ("1 85 05 2a 123 456 78" → "185052A12345678")."""
    return _strip(value)


def format_nir(value: str | None) -> str:
    """A NIR grouped as on the carte Vitale: ``"185057800604822"`` → ``"1 85 05 78 006 048 22"``
    (``stdnum.fr.nir.format``). Only for display: NIRs are stored without spaces. A value that is not
    15 characters is returned as it is."""
    number = normalize_nir(value)
    if len(number) != 15:
        return value or ""
    return stdnum_nir.format(number)


def nir_errors(value: str | None, sexe: str | None = None, birth_date: date | None = None) -> list[str]:
    """French messages for everything wrong with a NIR, empty when it is acceptable (SPEC §2.2).

    Checks the shape (13 characters — digits, or 2A/2B in the département position — and a 2-digit key),
    the key, the first digit (1 homme / 2 femme, or 7 / 8 for a provisional number) against `sexe` ("M"/"F"),
    and digits 2–3 and 4–5 against the year and month of `birth_date`. Months 20–42 and 50–99 are
    pseudo-months the INSEE gives when the civil-status record has no month (people born abroad, among
    others): accepted without a month check. A missing `sexe` or `birth_date` skips its check.
    """
    nir = normalize_nir(value)
    if not nir:
        return [NIR_REQUIRED]
    if not _NIR_SHAPE.fullmatch(nir):
        return [NIR_FORMAT]

    errors: list[str] = []
    if not stdnum_nir.is_valid(nir):
        errors.append(NIR_KEY)

    nir_sex = _NIR_SEX.get(nir[0])
    if nir_sex is None:
        errors.append(NIR_FIRST_DIGIT)
    elif sexe in _SEX_LABEL and sexe != nir_sex:
        errors.append(
            f"Le numéro de sécurité sociale commence par {nir[0]} ({_SEX_LABEL[nir_sex]}), "
            f"mais le sexe indiqué est « {_SEX_LABEL[sexe]} »"
        )

    month = int(nir[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        errors.append(NIR_MONTH_FORMAT)
    if birth_date is not None:
        if nir[1:3] != f"{birth_date.year % 100:02d}":
            errors.append(
                f"L'année de naissance contenue dans le numéro de sécurité sociale ({nir[1:3]}) "
                f"ne correspond pas à la date de naissance ({birth_date.year})"
            )
        if 1 <= month <= 12 and month != birth_date.month:
            errors.append(
                f"Le mois de naissance contenu dans le numéro de sécurité sociale ({nir[3:5]}, "
                f"{_MONTHS[month - 1]}) ne correspond pas à la date de naissance "
                f"({_MONTHS[birth_date.month - 1]})"
            )
    return errors


def is_valid_nir(value: str | None, sexe: str | None = None, birth_date: date | None = None) -> bool:
    """True when `nir_errors` finds nothing."""
    return not nir_errors(value, sexe, birth_date)


def is_valid_postal_code(value: str | None) -> bool:
    """A French postal code: 5 digits, 01xxx–95xxx in metropolitan France (Corsica is 20xxx), 97xxx/98xxx
    overseas (and Monaco's 98000)."""
    return bool(_POSTAL_CODE.fullmatch((value or "").strip()))
