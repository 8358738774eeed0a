"""The condition language of form models (docs/workflows.md): a question or a page is shown when its
condition on earlier answers holds, e.g. ``accident_trajet == true and lieu in ["voie", "parking"]``.

Parsed by our own tokenizer and recursive-descent parser into a small tree, evaluated by walking it:
never ``eval``, never Python's ``ast``, never Jinja. What the language has is all it can do — there is
no attribute access, no call, no indexing, no name but the questions of the model, and the sizes are
bounded (text, nesting, literals), so a hostile model file is refused at load, not at a user's request.

Grammar (keywords in lower case; ``#`` starts nothing — there are no comments)::

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := operand [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") operand]
    operand    := name | literal | list | "(" expression ")"
    list       := "[" [literal ("," literal)*] "]"
    literal    := string | number | "true" | "false" | "null"
    name       := a question id: [a-z][a-z0-9_]* (at most 40 characters)
    string     := "…" or '…' (no escapes, at most 200 characters)
    number     := -?[0-9]+(.[0-9]+)?  (at most 18 digits; read exactly, as Decimal)

Evaluation: a name is the typed value of an earlier answer (``None`` when unanswered, invalid or
not on the path). ``==``/``!=`` compare values; ``<``… compare numbers with numbers, texts with texts
and dates with dates, and are false otherwise (never an error); ``x in list`` is membership, and when
the right side is a checkboxes answer (a list), whether ``x`` was ticked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

MAX_TEXT = 1000  # characters of one condition
MAX_DEPTH = 8  # nesting of parentheses and "not"
MAX_STRING = 200  # characters of a text literal
MAX_LIST = 50  # items of a list literal
MAX_DIGITS = 18  # digits of a number literal
MAX_NODES = 100  # names, literals and operators of one condition
NAME_MAX = 40

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">", "in", "not in")


class ExpressionError(ValueError):
    """A condition that is not in the language, or names what it may not; the message is French."""


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "string", "number", "op", "keyword", "end"
    value: Any
    position: int


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; anything else (``.``, ``__``, ``*``, ``=``, an unclosed text…) is refused."""
    if not isinstance(text, str):
        raise ExpressionError("la condition doit être un texte")
    if len(text) > MAX_TEXT:
        raise ExpressionError(f"la condition dépasse {MAX_TEXT} caractères")
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"caractère non autorisé « {text[position]} » en position {position + 1}")
        kind = match.lastgroup
        value = match.group()
        if kind == "number":
            if sum(c.isdigit() for c in value) > MAX_DIGITS:
                raise ExpressionError(f"nombre trop long (au plus {MAX_DIGITS} chiffres)")
            tokens.append(Token("number", Decimal(value) if "." in value else int(value), position))
        elif kind == "name":
            if value in KEYWORDS:
                tokens.append(Token("keyword", value, position))
            else:
                if value.startswith("_") or not re.fullmatch(r"[a-z][a-z0-9_]*", value):
                    raise ExpressionError(
                        f"nom « {value[:NAME_MAX]} » non autorisé : un identifiant de question s'écrit en "
                        "minuscules, chiffres et _, sans _ au début"
                    )
                if len(value) > NAME_MAX:
                    raise ExpressionError(f"nom trop long (au plus {NAME_MAX} caractères)")
                tokens.append(Token("name", value, position))
        elif kind == "string":
            if len(value) - 2 > MAX_STRING:
                raise ExpressionError(f"texte trop long (au plus {MAX_STRING} caractères)")
            tokens.append(Token("string", value[1:-1], position))
        elif kind == "op":
            tokens.append(Token("op", value, position))
        position = match.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


# -- the tree ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


Node = Literal | Name | ListLiteral | Not | BoolOp | Compare


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text, its tree and the question ids it reads."""

    text: str
    tree: Node
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        return truthy(_evaluate(self.tree, values))


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.nodes = 0

    # helpers
    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def accept(self, kind: str, value: Any) -> bool:
        token = self.peek()
        if token.kind == kind and token.value == value:
            self.index += 1
            return True
        return False

    def expect(self, kind: str, value: Any, what: str) -> None:
        if not self.accept(kind, value):
            raise ExpressionError(f"{what} attendu en position {self.peek().position + 1}")

    def node(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"condition trop longue (au plus {MAX_NODES} éléments)")
        return node

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"condition trop imbriquée (au plus {MAX_DEPTH} niveaux)")

    # grammar
    def parse(self) -> Node:
        tree = self.or_()
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError(f"« {token.value} » inattendu en position {token.position + 1}")
        return tree

    def or_(self) -> Node:
        operands = [self.and_()]
        while self.accept("keyword", "or"):
            operands.append(self.and_())
        return operands[0] if len(operands) == 1 else self.node(BoolOp("or", tuple(operands)))

    def and_(self) -> Node:
        operands = [self.not_()]
        while self.accept("keyword", "and"):
            operands.append(self.not_())
        return operands[0] if len(operands) == 1 else self.node(BoolOp("and", tuple(operands)))

    def not_(self) -> Node:
        if self.peek().kind == "keyword" and self.peek().value == "not" and self.peek(1).value != "in":
            self.take()
            self.nest()
            operand = self.not_()
            self.depth -= 1
            return self.node(Not(operand))
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        token = self.peek()
        op = None
        if (token.kind == "op" and token.value in COMPARISONS) or (
            token.kind == "keyword" and token.value == "in"
        ):
            op = self.take().value
        elif token.kind == "keyword" and token.value == "not" and self.peek(1).value == "in":
            self.take(), self.take()
            op = "not in"
        if op is None:
            return left
        right = self.operand()
        if self.peek().kind == "op" and self.peek().value in COMPARISONS:
            raise ExpressionError("comparaisons enchaînées interdites : utilisez and")
        return self.node(Compare(op, left, right))

    def operand(self) -> Node:
        token = self.take()
        if token.kind == "name":
            if self.peek().kind == "op" and self.peek().value in ("(", "["):
                raise ExpressionError(f"« {token.value}{self.peek().value} » : appels et index interdits")
            return self.node(Name(token.value))
        if token.kind in ("string", "number"):
            return self.node(Literal(token.value))
        if token.kind == "keyword" and token.value in ("true", "false", "null"):
            return self.node(Literal({"true": True, "false": False, "null": None}[token.value]))
        if token.kind == "op" and token.value == "[":
            return self.list_()
        if token.kind == "op" and token.value == "(":
            self.nest()
            inner = self.or_()
            self.expect("op", ")", "« ) »")
            self.depth -= 1
            return inner
        if token.kind == "end":
            raise ExpressionError("condition incomplète")
        raise ExpressionError(f"« {token.value} » inattendu en position {token.position + 1}")

    def list_(self) -> Node:
        items: list[Any] = []
        if self.accept("op", "]"):
            return self.node(ListLiteral(()))
        while True:
            token = self.take()
            if token.kind in ("string", "number"):
                items.append(token.value)
            elif token.kind == "keyword" and token.value in ("true", "false", "null"):
                items.append({"true": True, "false": False, "null": None}[token.value])
            else:
                raise ExpressionError("une liste ne contient que des textes, des nombres ou true/false")
            if len(items) > MAX_LIST:
                raise ExpressionError(f"liste trop longue (au plus {MAX_LIST} éléments)")
            self.nodes += 1
            if self.accept("op", "]"):
                return self.node(ListLiteral(tuple(items)))
            self.expect("op", ",", "« , » ou « ] »")


def _names(node: Node) -> set[str]:
    if isinstance(node, Name):
        return {node.name}
    if isinstance(node, Not):
        return _names(node.operand)
    if isinstance(node, BoolOp):
        return set().union(*(_names(n) for n in node.operands))
    if isinstance(node, Compare):
        return _names(node.left) | _names(node.right)
    return set()


def parse(text: str, known_names: Collection[str] | None = None) -> Condition:
    """The condition ``text`` parsed; with ``known_names``, a name outside them is refused (its
    message lists the names that may be used)."""
    tree = _Parser(tokenize(text)).parse()
    names = frozenset(_names(tree))
    if known_names is not None:
        unknown = sorted(names - set(known_names))
        if unknown:
            allowed = ", ".join(sorted(known_names)) or "aucune"
            raise ExpressionError(
                f"nom inconnu « {unknown[0]} » : une condition ne peut citer que les questions des pages "
                f"précédentes ({allowed})"
            )
    return Condition(text, tree, names)


# -- evaluation ----------------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    if isinstance(value, list | tuple | str):
        return len(value) > 0
    return value is not None and value is not False and value != 0


def _ordered(left: Any, right: Any) -> bool:
    numbers = (int, Decimal)
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if isinstance(left, numbers) and isinstance(right, numbers):
        return True
    return any(isinstance(left, t) and isinstance(right, t) for t in (str, date, time, datetime))


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False  # true is not 1
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return sorted(map(str, left)) == sorted(map(str, right))
    if isinstance(left, date) and isinstance(right, str):
        return left.isoformat() == right
    if isinstance(right, date) and isinstance(left, str):
        return right.isoformat() == left
    return left == right


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _evaluate(node: Node, values: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ListLiteral):
        return list(node.items)
    if isinstance(node, Name):
        return values.get(node.name)
    if isinstance(node, Not):
        return not truthy(_evaluate(node.operand, values))
    if isinstance(node, BoolOp):
        if node.op == "and":
            return all(truthy(_evaluate(n, values)) for n in node.operands)
        return any(truthy(_evaluate(n, values)) for n in node.operands)
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if node.op == "==":
        return _equal(left, right)
    if node.op == "!=":
        return not _equal(left, right)
    if node.op in ("in", "not in"):
        found = isinstance(right, list | tuple) and left is not None and any(_equal(left, r) for r in right)
        return found if node.op == "in" else not found
    # Dates are compared with their ISO text in a model ("date_effet >= '2026-01-01'").
    if isinstance(left, date) and isinstance(right, str):
        right = _as_date(right)
    elif isinstance(right, date) and isinstance(left, str):
        left = _as_date(left)
    if left is None or right is None or not _ordered(left, right):
        return False
    return _ORDER[node.op](left, right)


def _as_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
