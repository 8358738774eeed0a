"""Form models as data (docs/workflows.md): a YAML file under ``app/workflows/models/`` describes a
questionnaire — code, title, version, status, sections → pages → questions with their bounds, options
and conditions. This module reads and checks one: the JSON Schema (``form_model.schema.json``) first,
then what a schema cannot say (ids unique in the model, options only where they belong, bounds of the
right kind, conditions that parse and only name questions of earlier pages). Every refusal names the
model and the question. Pure: no Flask, no database (app/services/form_models.py stores the versions).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import jsonschema
import yaml

from app.workflows.expressions import Condition, ExpressionError, parse

MODELS_DIR: Final = Path(__file__).parent / "models"
SCHEMA_FILE: Final = Path(__file__).parent / "form_model.schema.json"

STATUSES: Final = ("draft", "published", "retired")
STATUS_LABELS: Final = {"draft": "Brouillon", "published": "Publiée", "retired": "Retirée"}

TYPE_LABELS: Final = {
    "short_text": "Texte court",
    "long_text": "Texte long",
    "integer": "Nombre entier",
    "decimal": "Nombre décimal",
    "money": "Montant en euros",
    "date": "Date",
    "time": "Heure",
    "datetime": "Date et heure",
    "yes_no": "Oui / non",
    "radios": "Choix unique (boutons radio)",
    "checkboxes": "Choix multiples (cases à cocher)",
    "select": "Liste déroulante",
    "email": "Adresse e-mail",
    "phone": "Numéro de téléphone",
    "siret": "Numéro SIRET",
    "file": "Fichier",
    "files": "Fichiers",
}
TEXT_TYPES: Final = frozenset({"short_text", "long_text"})
NUMBER_TYPES: Final = frozenset({"integer", "decimal", "money"})
CHOICE_TYPES: Final = frozenset({"radios", "checkboxes", "select"})
FILE_TYPES: Final = frozenset({"file", "files"})
# What a model's drafts may belong to (``subjects``): an establishment (started from « Mes
# démarches »), or a party of a case — the employer side or the victim (started from the case).
SUBJECTS: Final = ("establishment", "case_party")
SUBJECT_LABELS: Final = {
    "establishment": "un établissement",
    "case_party": "une partie d'un dossier (l'employeur ou la victime)",
}
# The fields of a model that are not its content: a published version may change them (retire it).
LIFECYCLE_KEYS: Final = ("status", "published_at")


class FormModelError(ValueError):
    """A model file that cannot be loaded; the message (French) names the model and the question."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    hint: str | None = None


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: str
    hint: str | None = None
    required: bool = False
    required_message: str | None = None
    summary_label: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min: Any = None  # int / Decimal / date, as the type says
    max: Any = None
    pattern: str | None = None
    pattern_message: str | None = None
    options: tuple[Option, ...] = ()
    condition: Condition | None = None
    max_files: int | None = None  # ``files`` only (``file``: one)

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]


@dataclass(frozen=True)
class Group:
    """An "add another" group (GOV.UK *Add multiple things*): the page lists its items, each one
    answering the page's questions on a page of its own. ``id`` prefixes the stored inputs and is
    the name conditions of later pages use for the number of items."""

    id: str
    item_label: str  # « témoin »: « Témoin 2 »
    items_label: str  # « témoins »: « Ajoutez au moins 2 témoins »
    min_items: int = 0
    item_limit: int = 10
    add_label: str = ""  # « Ajouter un témoin » (the French gender is the model's to say)


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    section: str
    questions: tuple[Question, ...]
    condition: Condition | None = None
    group: Group | None = None  # the page is an "add another" group of these questions


@dataclass(frozen=True)
class Section:
    title: str
    pages: tuple[Page, ...]


@dataclass(frozen=True)
class ModelDefinition:
    """One version of a form model, checked. ``content_sha256`` covers everything but the status and
    the publication date: a published version whose hash changes is a new version."""

    code: str
    title: str
    version: int
    status: str
    service: str
    reference_prefix: str
    sections: tuple[Section, ...]
    description: str = ""
    published_at: str | None = None
    subjects: tuple[str, ...] = ("establishment",)  # what a draft may belong to (SUBJECTS)
    content_sha256: str = ""
    data: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def pages(self) -> list[Page]:
        return [page for section in self.sections for page in section.pages]

    @property
    def questions(self) -> list[Question]:
        return [q for page in self.pages for q in page.questions]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class _NoFloatNoDateLoader(yaml.SafeLoader):
    """YAML without implicit floats or dates: ``12.50`` and ``2026-01-01`` stay texts, read exactly."""


_NoFloatNoDateLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in {"tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def content_sha256(data: dict) -> str:
    content = {k: v for k, v in data.items() if k not in LIFECYCLE_KEYS}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def read_yaml(text: str, name: str = "modèle") -> dict:
    try:
        data = yaml.load(text, Loader=_NoFloatNoDateLoader)  # noqa: S506 — a SafeLoader
    except yaml.YAMLError as error:
        raise FormModelError(f"{name} : YAML illisible : {error}") from None
    if not isinstance(data, dict):
        raise FormModelError(f"{name} : le fichier doit décrire un modèle (code, title, version…)")
    return data


def _where(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(le modèle entier)"


def load_definition(data: dict, name: str = "modèle") -> ModelDefinition:
    """The model ``data`` (read from YAML or stored JSON) checked and parsed, or :class:`FormModelError`."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        more = f" (et {len(errors) - 1} autre(s) erreur(s))" if len(errors) > 1 else ""
        raise FormModelError(f"{name} : {_where(first.absolute_path)} : {first.message}{more}")
    label = f"{data['code']} version {data['version']}"
    seen_pages: set[str] = set()
    earlier: list[str] = []  # the names of the pages before the current one: questions, groups
    in_group: dict[str, str] = {}  # a question of a group's items → its group
    sections = []
    for section in data["sections"]:
        pages = []
        for page in section["pages"]:
            if page["id"] in seen_pages:
                raise FormModelError(f"{label} : la page « {page['id']} » est définie deux fois")
            seen_pages.add(page["id"])
            page_where = f"{label}, page « {page['id']} »"
            page_condition = _condition(page.get("condition"), earlier, page_where, in_group)
            group = _group(page.get("group"), page_where)
            questions = []
            on_page: list[str] = []
            if group is not None and (group.id in earlier or group.id in in_group):
                raise FormModelError(f"{page_where} : l'identifiant du groupe « {group.id} » est déjà pris")
            for raw in page["questions"]:
                where = f"{label}, question « {raw['id']} »"
                taken = (*earlier, *on_page, *in_group, *([group.id] if group else []))
                if raw["id"] in taken:
                    raise FormModelError(f"{where} : cet identifiant est déjà utilisé dans le modèle")
                questions.append(_question(raw, earlier, where, in_group))
                on_page.append(raw["id"])
            pages.append(
                Page(page["id"], page["title"], section["title"], tuple(questions), page_condition, group)
            )
            if group is not None:
                # Later conditions read the number of items, never an item's answers (which item?).
                earlier.append(group.id)
                in_group.update(dict.fromkeys(on_page, group.id))
            else:
                earlier.extend(on_page)
        sections.append(Section(section["title"], tuple(pages)))
    return ModelDefinition(
        code=data["code"],
        title=data["title"],
        version=data["version"],
        status=data["status"],
        service=data["service"],
        reference_prefix=data["reference_prefix"],
        sections=tuple(sections),
        description=data.get("description", ""),
        published_at=data.get("published_at"),
        subjects=tuple(data.get("subjects", ("establishment",))),
        content_sha256=content_sha256(data),
        data=data,
    )


def _condition(
    text: str | None, known: list[str], where: str, in_group: dict[str, str] | None = None
) -> Condition | None:
    if text is None:
        return None
    try:
        condition = parse(text)
        for name in sorted(condition.names):
            if in_group and name in in_group and name not in known:
                raise FormModelError(
                    f"{where} : condition refusée : « {name} » est une question des éléments du groupe "
                    f"« {in_group[name]} », dont chaque élément a sa réponse ; une condition peut lire "
                    f"le nombre d'éléments (« {in_group[name]} >= 1 »), pas leurs réponses"
                )
        return parse(text, known)
    except ExpressionError as error:
        raise FormModelError(f"{where} : condition refusée : {error}") from None


def _group(raw: dict | None, where: str) -> Group | None:
    if raw is None:
        return None
    group = Group(
        id=raw["id"],
        item_label=raw["item_label"],
        items_label=raw["items_label"],
        min_items=raw.get("min_items", 0),
        item_limit=raw.get("item_limit", 10),
        add_label=raw.get("add_label", ""),
    )
    if group.min_items > group.item_limit:
        raise FormModelError(f"{where} : min_items est plus grand que item_limit")
    return group


def _bound(value: Any, kind: str, where: str, key: str) -> Any:
    if value is None:
        return None
    try:
        if kind == "integer":
            if not isinstance(value, int) and not re.fullmatch(r"-?\d+", str(value)):
                raise ValueError
            return int(value)
        if kind in ("decimal", "money"):
            return Decimal(str(value))
        if kind == "date":
            return date.fromisoformat(str(value))
    except (ValueError, InvalidOperation):
        pass
    raise FormModelError(f"{where} : {key} « {value} » ne convient pas à une question de type {kind}")


def _question(raw: dict, earlier: list[str], where: str, in_group: dict[str, str]) -> Question:
    kind = raw["type"]
    options = tuple(Option(o["value"], o["label"], o.get("hint")) for o in raw.get("options", ()))
    if kind in CHOICE_TYPES and not options:
        raise FormModelError(f"{where} : une question de type {kind} doit avoir des options")
    if kind not in CHOICE_TYPES and options:
        raise FormModelError(f"{where} : seules les questions à choix ont des options")
    if len({o.value for o in options}) != len(options):
        raise FormModelError(f"{where} : deux options ont la même valeur")
    if ("min_length" in raw or "max_length" in raw or "pattern" in raw) and kind not in TEXT_TYPES:
        raise FormModelError(f"{where} : min_length, max_length et pattern ne valent que pour un texte")
    if ("min" in raw or "max" in raw) and kind not in NUMBER_TYPES | {"date"}:
        raise FormModelError(f"{where} : min et max ne valent que pour un nombre, un montant ou une date")
    if "max_files" in raw and kind != "files":
        raise FormModelError(f"{where} : max_files ne vaut que pour une question de type files")
    low, high = _bound(raw.get("min"), kind, where, "min"), _bound(raw.get("max"), kind, where, "max")
    if low is not None and high is not None and low > high:
        raise FormModelError(f"{where} : min est plus grand que max")
    if raw.get("min_length", 0) > raw.get("max_length", 20000):
        raise FormModelError(f"{where} : min_length est plus grand que max_length")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as error:
            raise FormModelError(
                f"{where} : pattern n'est pas une expression régulière valide ({error})"
            ) from None
        if "pattern_message" not in raw:
            raise FormModelError(f"{where} : un pattern doit avoir son pattern_message (le message d'erreur)")
    return Question(
        id=raw["id"],
        type=kind,
        label=raw["label"],
        hint=raw.get("hint"),
        required=raw.get("required", False),
        required_message=raw.get("required_message"),
        summary_label=raw.get("summary_label"),
        min_length=raw.get("min_length"),
        max_length=raw.get("max_length"),
        min=low,
        max=high,
        pattern=pattern,
        pattern_message=raw.get("pattern_message"),
        options=options,
        condition=_condition(raw.get("condition"), earlier, where, in_group),
        max_files=raw.get("max_files"),
    )


def read_file(path: Path) -> ModelDefinition:
    """The model of one YAML file; its file name must be ``<code>-v<version>.yaml``."""
    data = read_yaml(path.read_text(encoding="utf-8"), path.name)
    definition = load_definition(data, path.name)
    expected = f"{definition.code}-v{definition.version}.yaml"
    if path.name != expected:
        raise FormModelError(f"{path.name} : le fichier de ce modèle doit s'appeler {expected}")
    return definition


def read_directory(directory: Path = MODELS_DIR) -> list[ModelDefinition]:
    """Every model file of ``directory``, ordered by code and version."""
    definitions = [read_file(path) for path in sorted(directory.glob("*.yaml"))]
    return sorted(definitions, key=lambda d: (d.code, d.version))
