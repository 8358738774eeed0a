"""The faster Jinja environment (app/templating.py) and the page's finalize (app/web.py) return
exactly what Jinja's own code returns."""

from __future__ import annotations

import jinja2
import pytest
from jinja2.filters import do_indent
from markupsafe import Markup

from app.templating import Environment, Template, indent
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
