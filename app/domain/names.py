"""People's names as typed in a form (victim, witnesses, declarant, users): what is accepted, with the
French message shown next to the field otherwise. Pure Python: no Flask, no database.

A name holds letters (accented or not, in any script), spaces, apostrophes, hyphens and dots — « Jean-Éric »,
« O'Neill », « d'Artagnan », « Lefèvre-Müller », « St. John ». Control characters (a tab, a NUL, a
right-to-left override) and markup (``Lefèvre<b>bold</b>``) are refused: a name is printed on receipts,
PDFs and letters, and read by other people.
"""

from __future__ import annotations

import unicodedata

# Apostrophes and hyphens as keyboards and word processors type them.
_PUNCTUATION = frozenset("'’ʼ-‐‑.")
_SPACES = frozenset(" \u00a0\u202f")


def person_name_error(value: str | None, what: str = "Le nom") -> str | None:
    """The French message for a person's name that may not be stored (``what``: « Le nom de
    famille », « Le prénom »…), or None when it is acceptable. An empty value is the caller's
    business (required or not)."""
    if not value:
        return None
    has_letter = False
    for char in value:
        category = unicodedata.category(char)
        if category[0] == "L":
            has_letter = True
        elif category[0] == "M" or char in _PUNCTUATION or char in _SPACES:
            continue
        elif category[0] in "CZ":
            return f"{what} contient un caractère invisible ou de contrôle : retirez-le"
        elif char in "<>":
            return f"{what} ne peut pas contenir de balise ni les signes < et >"
        else:
            return (
                f"{what} ne peut contenir que des lettres, des espaces, des apostrophes, des tirets "
                f"et des points (caractère refusé : « {char} »)"
            )
    if not has_letter:
        return f"{what} doit contenir au moins une lettre"
    return None


def is_person_name(value: str | None) -> bool:
    """True when ``value`` is an acceptable person's name (see :func:`person_name_error`)."""
    return bool(value) and person_name_error(value) is None
