"""The application's Jinja environment: Flask's, made faster where the GOV.UK macros spend their
time (about ten nested macro calls per form field), with the same output.

Each override below returns exactly what Jinja's own code returns; tests/unit/test_templating.py
compares them on the cases that matter."""

from __future__ import annotations

import jinja2
from flask.templating import Environment as FlaskEnvironment
from jinja2.filters import do_indent
from markupsafe import Markup

# What ``getattr(some_dict, name)`` finds on a dict: its methods and the object's attributes.
_DICT_ATTRIBUTES = frozenset(dir(dict))


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


def indent(s, width=4, first=False, blank=False):
    """Jinja's ``indent`` filter. On markup (a macro's output, indented inside another macro),
    Jinja's works line by line on Markup objects, each ``+`` and ``join`` going through markupsafe;
    here the same lines are joined as one plain string, wrapped once."""
    if isinstance(s, Markup):
        return Markup(do_indent(str.__str__(s), width, first, blank))  # noqa: S704 (already markup)
    return do_indent(s, width, first, blank)


class Environment(FlaskEnvironment):
    template_class = Template

    def __init__(self, app, **options):
        super().__init__(app, **options)
        self.filters["indent"] = indent

    def getattr(self, obj, attribute):
        """``params.label`` on a dict: Jinja tries the attribute first, and the AttributeError it
        raises and catches costs more than the lookup; a name no dict has is looked up directly."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)
