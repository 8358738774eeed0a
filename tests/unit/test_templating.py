"""The faster Jinja environment (app/templating.py) and the page's finalize (app/web.py) return
exactly what Jinja's own code returns."""

from __future__ import annotations

import types

import jinja2
import pytest
from jinja2.filters import do_indent
from markupsafe import Markup

from app.templating import ATTRIBUTES_TEMPLATE, Environment, Template, indent
from app.web import _NOT_IN_HTML, printable


@pytest.mark.parametrize("value", ["", "a", "a\nb", "a\n\nb\n", "\n x", "<b>\n&amp;\n"])
@pytest.mark.parametrize("width", [0, 2, 4, "<>"])
@pytest.mark.parametrize(("first", "blank"), [(False, False), (True, False), (False, True), (True, True)])
def test_indent_is_jinjas_on_text_and_on_markup(value, width, first, blank):
    for typed in (value, Markup(value)):  # noqa: S704 (a test value)
        ours, jinjas = indent(typed, width, first, blank), do_indent(typed, width, first, blank)
        assert ours == jinjas and type(ours) is type(jinjas)


class _Flask:  # what Flask's Environment reads of its app
    def create_global_jinja_loader(self):
        return jinja2.DictLoader({})


def test_getattr_on_dicts_is_jinjas():
    ours, jinjas = Environment(_Flask(), autoescape=True), jinja2.Environment(autoescape=True)
    params = {"text": "Question", "items": [1], "none": None}
    for name in ("text", "none", "absent", "items", "get", "__class__"):
        mine, theirs = ours.getattr(params, name), jinjas.getattr(params, name)
        assert type(mine) is type(theirs) and (mine == theirs or isinstance(mine, jinja2.Undefined))
    assert ours.getattr(params, "items") == params.items  # the method, as in Jinja
    assert isinstance(ours.getattr(params, "absent"), jinja2.Undefined)
    assert ours.getattr("abc", "upper")() == "ABC"  # not a dict: Jinja's own lookup
    template = ours.from_string("{{ p.text }}|{{ p.absent | default('d') }}|{{ p.items() | list | length }}")
    assert template.render(p=params) == "Question|d|3"


def test_imports_inside_macros_give_the_same_modules():
    loader = jinja2.DictLoader(
        {
            "inner.html": "{% macro m(x) %}[{{ x }}{{ extra | default('') }}]{% endmacro %}",
            "outer.html": '{% macro o(x) %}{% from "inner.html" import m %}{{ m(x) }}{% endmacro %}',
            "page.html": '{% from "outer.html" import o %}{{ o(1) }}{{ o(2) }}',
        }
    )
    ours = Environment(_Flask(), loader=loader, autoescape=True)
    jinjas = jinja2.Environment(loader=loader, autoescape=True)
    assert ours.template_class is Template
    assert ours.get_template("page.html").render() == jinjas.get_template("page.html").render() == "[1][2]"
    # A template with a global of its own: the imported template gets a module that sees it.
    source = '{% from "inner.html" import m %}{{ m(3) }}'
    for env in (ours, jinjas):
        assert env.from_string(source, globals={"extra": "!"}).render() == "[3!]"
        assert env.from_string(source).render() == "[3]"
    inner = ours.get_template("inner.html")
    assert inner._get_default_module(None) is inner.module  # cached once


def test_printable_replaces_exactly_the_characters_html_forbids():
    for code in _NOT_IN_HTML:
        assert printable(f"a{chr(code)}b") == "a\ufffdb", hex(code)
    kept = "tab\t, lines\n\r\f, no-break\u00a0space, é, emoji \U0001f600, last \U0010fffd"
    assert printable(kept) == kept
    assert type(printable(Markup("<b>\x01</b>"))) is Markup
    assert printable(Markup("<b>\x01</b>")) == Markup("<b>\ufffd</b>")
    assert printable(None) is None and printable(3) == 3


def _environments():
    """Ours (``govukAttributes`` in Python) and one that runs GOV.UK's macro, as the application's are
    set up (autoescape, trimmed blocks, the page's finalize)."""
    loader = jinja2.PrefixLoader({"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")})
    options = {"loader": loader, "autoescape": True, "trim_blocks": True, "lstrip_blocks": True}
    ours, macros = Environment(_Flask(), **options), Environment(_Flask(), **options)
    macros.python_attributes = False
    for env in (ours, macros):
        env.finalize = printable
    return ours, macros


def _attributes(env):
    return env.get_template(ATTRIBUTES_TEMPLATE).module.govukAttributes


# What the GOV.UK components pass (an undefined ``params.attributes``, dicts of strings, of options
# with ``value``/``optional``) and what they could: booleans, numbers, None, markup, characters HTML
# forbids, the ``{"val": …}`` of a `safe`-filtered value, strings, a mapping that is not a dict.
ATTRIBUTE_CASES = [
    None,
    "",
    ' data-module="govuk-button"',
    Markup(' data-x="<b>"'),
    {},
    {"data-module": "govuk-radios", "data-x": "<&\"'>"},
    {"<b>": "x", "a b": ""},
    {"hidden": True, "aria-hidden": False, "n": 0, "f": 1.5, "none": None, "list": ["a"]},
    {"value": "x\x01y\ufdd0z"},
    {"m": Markup("<i>é</i>")},
    {"o": {"value": "v", "optional": True}, "t": {"value": True, "optional": True}},
    {"f": {"value": False, "optional": True}, "n": {"value": None, "optional": True}},
    {"e": {"value": "", "optional": True}, "z": {"value": 0, "optional": True}},
    {"no": {"value": "x", "optional": False}, "plain": {"value": "x"}, "empty": {}},
    {"t": {"value": True}, "s": {"value": "true", "optional": "true"}},
    {"val": {"val": "kept"}, "valnone": {"val": None}, "valfalse": {"val": False}},
    {"nested": {"val": {"value": "inner", "optional": True}}},
    types.MappingProxyType({"proxy": "yes", "opt": {"value": None, "optional": True}}),
    [("a", "b")],
    3,
]


@pytest.mark.parametrize("attributes", ATTRIBUTE_CASES)
def test_govuk_attributes_in_python_prints_what_the_macro_prints(attributes):
    ours, macros = _environments()
    theirs = _attributes(macros)
    assert isinstance(theirs, jinja2.runtime.Macro)  # the macro itself, to compare with
    mine = _attributes(ours)
    assert mine is ours.govuk_attributes
    assert mine(attributes) == theirs(attributes) and type(mine(attributes)) is type(theirs(attributes))


def test_govuk_attributes_in_python_on_undefined_values_and_inside_components():
    ours, macros = _environments()
    for env_value in (ours.undefined(name="attributes"), {"a": ours.undefined(name="x")}):
        assert _attributes(ours)(env_value) == _attributes(macros)(env_value)
    optional_undefined = {"a": {"value": ours.undefined(name="v"), "optional": True}, "b": {"optional": True}}
    assert _attributes(ours)(optional_undefined) == _attributes(macros)(optional_undefined) == ""
    # Whole components, each calling govukAttributes several times.
    params = {
        "name": "nom",
        "id": "nom",
        "label": {"text": "Nom <de naissance>", "attributes": {"data-a": "1"}},
        "hint": {"text": "Tel qu'il figure\x01", "attributes": {"data-h": True}},
        "errorMessage": {"text": "Saisissez le nom", "visuallyHiddenText": "Erreur\u00a0"},
        "value": "Dupont & fils",
        "attributes": {
            "data-x": {"value": "", "optional": True},
            "required": {"value": True, "optional": True},
        },
        "formGroup": {"attributes": {"data-g": "g"}},
        "prefix": {"text": "€", "attributes": {"data-p": None}},
        "items": [
            {"value": "a", "text": "A", "attributes": {"data-i": "1"}},
            {"value": "b", "text": "B", "checked": True, "hint": {"text": "b"}},
        ],
        "fieldset": {"legend": {"text": "Question"}, "attributes": {"data-f": False}},
    }
    for component, macro in (
        ("input", "govukInput"),
        ("radios", "govukRadios"),
        ("checkboxes", "govukCheckboxes"),
        ("textarea", "govukTextarea"),
        ("select", "govukSelect"),
        ("date-input", "govukDateInput"),
        ("button", "govukButton"),
    ):
        path = f"govuk_frontend_jinja/components/{component}/macro.html"
        rendered = [getattr(env.get_template(path).module, macro)(params) for env in (ours, macros)]
        assert rendered[0] == rendered[1], component
