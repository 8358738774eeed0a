"""People's names (app/domain/names.py, issue 10): letters with accents, spaces, apostrophes, hyphens and
dots; no control character, no markup — with the French message shown next to the field."""

from __future__ import annotations

import pytest

from app.domain.names import is_person_name, person_name_error


@pytest.mark.parametrize(
    "name",
    [
        "Lefèvre",
        "O'Neill",
        "d’Artagnan",
        "Jean-Éric",
        "St. John",
        "Müller-Łukasiewicz",
        "Nguyễn Thị",
        "Ødegård",
    ],
)
def test_real_names_are_accepted(name):
    assert person_name_error(name) is None and is_person_name(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Lefèvre<b>bold</b>", "Le nom ne peut pas contenir de balise ni les signes < et >"),
        ("Lef\x00èvre", "Le nom contient un caractère invisible ou de contrôle : retirez-le"),
        ("Lef\tèvre", "Le nom contient un caractère invisible ou de contrôle : retirez-le"),
        ("Mar\u202etin", "Le nom contient un caractère invisible ou de contrôle : retirez-le"),
        ("Martin\u200b", "Le nom contient un caractère invisible ou de contrôle : retirez-le"),
        (
            "Martin2",
            "Le nom ne peut contenir que des lettres, des espaces, des apostrophes, des tirets et des points",
        ),
        ("Martin & fils", "caractère refusé : « & »"),
        ("'-.", "Le nom doit contenir au moins une lettre"),
    ],
)
def test_markup_control_characters_and_symbols_are_refused(name, message):
    assert message in person_name_error(name)
    assert not is_person_name(name)


def test_the_message_names_the_field():
    assert person_name_error("<i>", "Le prénom").startswith("Le prénom ne peut pas contenir de balise")
    assert person_name_error("") is None and not is_person_name("")
