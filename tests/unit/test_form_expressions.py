"""The condition language of form models (app/workflows/expressions.py): what it reads, how it
evaluates, and every hostile or oversized expression refused at load."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from app.workflows.expressions import MAX_DEPTH, MAX_LIST, MAX_STRING, ExpressionError, parse

NAMES = ["arret", "jours", "lieu", "mesures", "montant", "date_effet", "commentaire"]


def holds(text: str, **values) -> bool:
    return parse(text, NAMES).evaluate(values)


def test_equality_and_difference_with_texts_numbers_and_booleans():
    assert holds("lieu == 'bureau'", lieu="bureau")
    assert not holds('lieu == "bureau"', lieu="atelier")
    assert holds("lieu != 'bureau'", lieu="atelier")
    assert holds("arret == true", arret=True)
    assert not holds("arret == true", arret=None)  # unanswered
    assert not holds("arret == 1", arret=True)  # true is not 1
    assert holds("jours == 3", jours=3)
    assert holds("montant == 12.50", montant=Decimal("12.5"))


def test_comparisons_are_false_rather_than_errors_across_types():
    assert holds("jours >= 4 and jours < 30", jours=4)
    assert not holds("jours > 4", jours=4)
    assert not holds("jours > 4", jours=None)
    assert not holds("jours > 4", jours="beaucoup")
    assert holds("montant <= 1000", montant=Decimal("999.99"))
    assert holds("date_effet >= '2026-01-01'", date_effet=date(2026, 3, 1))
    assert not holds("date_effet >= '2026-01-01'", date_effet=date(2025, 12, 31))


def test_membership_in_a_list_and_in_a_checkboxes_answer():
    assert holds("lieu in ['bureau', 'atelier']", lieu="atelier")
    assert not holds("lieu in ['bureau', 'atelier']", lieu="chantier")
    assert holds("lieu not in ['bureau']", lieu="chantier")
    assert holds("'formation' in mesures", mesures=["equipement", "formation"])
    assert not holds("'formation' in mesures", mesures=[])
    assert not holds("'formation' in mesures", mesures=None)
    assert not holds("lieu in []", lieu="bureau")


def test_and_or_not_and_parentheses_follow_the_usual_precedence():
    assert holds("arret == true or lieu == 'bureau' and jours > 3", arret=True, lieu="x", jours=0)
    assert not holds("(arret == true or lieu == 'bureau') and jours > 3", arret=True, lieu="x", jours=0)
    assert holds("not arret", arret=False)
    assert holds("not not arret", arret=True)
    assert holds("commentaire", commentaire="oui")  # a name alone: answered
    assert not holds("commentaire", commentaire=None)


def test_the_names_read_are_known():
    assert parse("arret == true and 'x' in mesures", NAMES).names == {"arret", "mesures"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inconnu == 1", "nom inconnu « inconnu »"),
        ("lieu.upper() == 'X'", "caractère non autorisé « . »"),
        ("lieu.__class__", "caractère non autorisé « . »"),
        ("__import__('os')", "non autorisé"),
        ("_lieu == 1", "non autorisé"),
        ("lieu(1)", "appels et index interdits"),
        ("mesures[0] == 'x'", "appels et index interdits"),
        ("open('/etc/passwd')", "appels et index interdits"),
        ("lieu = 'x'", "caractère non autorisé « = »"),
        ("jours * 2 > 3", "caractère non autorisé « * »"),
        ("lambda: 1", "caractère non autorisé « : »"),
        ("lieu == 'bureau", "caractère non autorisé"),
        ("{{ config }}", "caractère non autorisé « { »"),
        ("Lieu == 1", "non autorisé"),
        ("1 < jours < 3", "comparaisons enchaînées interdites"),
        ("arret and", "condition incomplète"),
        ("(arret", "« ) » attendu"),
        ("[arret] == 1", "une liste ne contient que"),
        ("", "condition incomplète"),
    ],
)
def test_hostile_or_malformed_expressions_are_refused(text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse(text, NAMES)


def test_deep_nesting_is_refused_beyond_the_bound():
    parse("(" * MAX_DEPTH + "arret" + ")" * MAX_DEPTH, NAMES)
    with pytest.raises(ExpressionError, match="trop imbriquée"):
        parse("(" * (MAX_DEPTH + 1) + "arret" + ")" * (MAX_DEPTH + 1), NAMES)
    with pytest.raises(ExpressionError, match="trop imbriquée"):
        parse("not " * (MAX_DEPTH + 1) + "arret", NAMES)
    with pytest.raises(ExpressionError, match="dépasse 1000 caractères"):
        parse("(" * 5000 + "arret" + ")" * 5000, NAMES)


def test_huge_literals_are_refused():
    with pytest.raises(ExpressionError, match="texte trop long"):
        parse("lieu == '" + "x" * (MAX_STRING + 1) + "'", NAMES)
    with pytest.raises(ExpressionError, match="nombre trop long"):
        parse("jours == " + "9" * 19, NAMES)
    with pytest.raises(ExpressionError, match="liste trop longue"):
        parse("lieu in [" + ",".join(["1"] * (MAX_LIST + 1)) + "]", NAMES)
    with pytest.raises(ExpressionError, match="trop longue"):
        parse(" or ".join(["lieu"] * 110), NAMES)
