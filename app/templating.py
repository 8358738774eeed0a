"""The application's Jinja environment: Flask's, made faster where the GOV.UK macros spend their
time (about ten nested macro calls per form field), with the same output.

Each override below returns exactly what Jinja's own code returns; tests/unit/test_templating.py
compares them on the cases that matter."""

from __future__ import annotations

import os
from collections import abc

import jinja2
from flask.templating import Environment as FlaskEnvironment
from jinja2.filters import do_indent
from jinja2.utils import _PassArg
from markupsafe import Markup

# What ``getattr(some_dict, name)`` finds on a dict: its methods and the object's attributes.
_DICT_ATTRIBUTES = frozenset(dir(dict))
_ABSENT = object()


class Template(jinja2.Template):
    """Jinja's template, with a faster ``{% from … import … %}``.

    The GOV.UK macros import three or four other macros inside their body, on every call. For
    each, Jinja checks whether the importing context has globals the imported template lacks,
    with ``set - ChainMap.keys()``, a Python loop over a keys view; ``set.difference(*maps)`` is
    the same set, computed in C."""

    def _get_default_module(self, ctx=None):
        if ctx is not None and not ctx.globals_keys.difference(*self.globals.maps):
            ctx = None  # no global of its own: the template's cached module, as Jinja returns it
        return super()._get_default_module(ctx)

    def make_module(self, vars=None, shared=False, locals=None):
        """The module of GOV.UK's ``attributes.html`` exports :func:`govuk_attributes` in place of
        its macro, when the environment allows it (``python_attributes``)."""
        module = super().make_module(vars, shared, locals)
        env = self.environment
        # (A finalize that asks for the context would be called with it by Jinja: keep the macro.)
        plain_finalize = _PassArg.from_obj(env.finalize) is None
        attributes = self.filename is not None and self.filename.endswith(_ATTRIBUTES_FILE)
        if attributes and env.python_attributes and plain_finalize:
            module.govukAttributes = env.govuk_attributes
        return module


# The GOV.UK macro that every component calls for each of its elements (about twenty times per
# form field), replaced by its Python equivalent (:func:`govuk_attributes`).
ATTRIBUTES_TEMPLATE = "govuk_frontend_jinja/macros/attributes.html"
# Its file (behind the application's PrefixLoader, the template's name is only "macros/attributes.html").
_ATTRIBUTES_FILE = os.path.join("govuk_frontend_jinja", "templates", "macros", "attributes.html")


def govuk_attributes(environment: jinja2.Environment):
    """govuk-frontend-jinja's ``govukAttributes(attributes)`` macro (macros/attributes.html, 4.1.0),
    written in Python for ``environment``: the same string, step for step.

    The macro was a fifth of a form field's rendering: for each call, Jinja builds the macro's
    arguments, a namespace, a dict per attribute, and a string per attribute through
    ``'{} {}="{}"'.format``; most calls get an undefined ``params.attributes`` and print nothing.
    Each expression of the macro is kept below, in its order, with the environment's own lookups
    (``getattr``, ``undefined``, the ``escape`` filter and ``finalize``), so that values the
    components never pass (non-dict mappings, ``{"val": …}``, ``null``) read as in the macro.
    tests/unit/test_templating.py compares the two on the components' calls."""
    getattr_ = environment.getattr
    escape = environment.filters["escape"]
    nothing: dict = {}  # the finalize function → what the macro prints for no attributes

    def govukAttributes(attributes):  # noqa: N802 (the macro's name)
        # {% set ns = namespace(attributesHtml = attributes if attributes is string else "") %}
        if not isinstance(attributes, str | abc.Mapping):
            # Most calls: an undefined ``params.attributes`` (or None): the same empty output each time
            # (finalize is a function of the value alone: app/web.py's printable).
            finalize = environment.finalize
            if finalize not in nothing:
                nothing.clear()
                nothing[finalize] = printed("")
            return nothing[finalize]
        return printed(html_of(attributes))

    def printed(html: str) -> Markup:
        # {{- ns.attributesHtml | safe -}}, printed through finalize, in a macro that autoescapes.
        finalize = environment.finalize
        shown = Markup(html) if finalize is None else finalize(Markup(html))  # noqa: S704 (the macro's | safe)
        return Markup(escape(shown))  # noqa: S704 (escaped)

    def html_of(attributes) -> str:
        html = attributes if isinstance(attributes, str) else ""
        if isinstance(attributes, abc.Mapping):
            # `undefined` and `null` are names the template never defines: two Undefined values.
            missing = [environment.undefined(name="undefined"), environment.undefined(name="null")]
            for name, value in attributes.items() if attributes else ():
                # {% if value is mapping and value.val not in [undefined, null] and value | length %}
                if isinstance(value, abc.Mapping) and getattr_(value, "val") not in missing and len(value):
                    value = getattr_(value, "val")
                if isinstance(value, abc.Mapping):
                    optional, shown = getattr_(value, "optional"), getattr_(value, "value")
                else:  # (value | string | lower if value is boolean else value), optional false
                    optional = False
                    shown = str(value).lower() if value is True or value is False else value
                if optional is True and shown is True:
                    html = f"{html} {escape(name)}"  # '{} {}'.format(…)
                elif (
                    optional is True and shown not in [*missing, None] and shown is not False
                ) or optional is not True:
                    html = f'{html} {escape(name)}="{escape(shown)}"'
        return html

    return govukAttributes


def indent(s, width=4, first=False, blank=False):
    """Jinja's ``indent`` filter. On markup (a macro's output, indented inside another macro),
    Jinja's works line by line on Markup objects, each ``+`` and ``join`` going through markupsafe;
    here the same lines are joined as one plain string, wrapped once."""
    if isinstance(s, Markup):
        return Markup(do_indent(str.__str__(s), width, first, blank))  # noqa: S704 (already markup)
    return do_indent(s, width, first, blank)


class Environment(FlaskEnvironment):
    template_class = Template
    #: GOV.UK's ``govukAttributes`` macro runs as Python (:func:`govuk_attributes`); set to False
    #: before the first render to get the macro itself (the tests compare pages both ways).
    python_attributes = True

    def __init__(self, app, **options):
        super().__init__(app, **options)
        self.filters["indent"] = indent
        self.govuk_attributes = govuk_attributes(self)

    def getattr(self, obj, attribute):
        """``params.label`` on a dict: Jinja tries the attribute first, and the AttributeError it
        raises and catches costs more than the lookup; a name no dict has is looked up directly
        (with ``dict.get``: most names a GOV.UK macro asks for are absent, and a KeyError raised
        and caught for each cost more than the lookup too)."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            value = obj.get(attribute, _ABSENT)
            if value is _ABSENT:
                return self.undefined(obj=obj, name=attribute)
            return value
        return super().getattr(obj, attribute)
