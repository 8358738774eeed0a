"""Reading the Compte AT/MP's CSV files: `#` comment lines (a file's sources), `;` or `,` as separator,
UTF-8 (with or without BOM), decimals with a comma or a dot. Every problem is a French message with its
line number in the file, so that a Carsat operator can fix the file and import it again."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import BinaryIO


class LineError(ValueError):
    """A refused value on one line (the message is French and names the column)."""


@dataclass
class CsvFile:
    """A parsed file: its header comments, its rows (line number, cells by column name), its SHA-256."""

    comments: list[str]
    rows: list[tuple[int, dict[str, str]]]
    sha256: str
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_csv(data: bytes | BinaryIO, required: Iterable[str], optional: Iterable[str] = ()) -> CsvFile:
    """Parse ``data``; a missing column or an undecodable file is reported on line 1 (or the header's)."""
    raw = data if isinstance(data, bytes) else data.read()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return CsvFile([], [], sha, [(1, "Le fichier n'est pas encodé en UTF-8.")])
    lines = text.splitlines()
    comments: list[str] = []
    header_at = 0
    while header_at < len(lines) and (lines[header_at].startswith("#") or not lines[header_at].strip()):
        if lines[header_at].startswith("#"):
            comments.append(lines[header_at].lstrip("# ").rstrip())
        header_at += 1
    if header_at == len(lines):
        return CsvFile(comments, [], sha, [(1, "Le fichier est vide : aucune ligne d'en-tête.")])
    header_line = lines[header_at]
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines[header_at:])), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    missing = [name for name in required if name not in header]
    if missing:
        return CsvFile(
            comments,
            [],
            sha,
            [(header_at + 1, f"Colonne(s) manquante(s) dans l'en-tête : {', '.join(missing)}.")],
        )
    known = set(required) | set(optional)
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[tuple[int, str]] = []
    for offset, cells in enumerate(reader, start=header_at + 2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append((offset, f"{len(cells)} valeurs au lieu de {len(header)} (une par colonne)."))
            continue
        rows.append((offset, {k: v.strip() for k, v in zip(header, cells, strict=True) if k in known}))
    return CsvFile(comments, rows, sha, errors)


def decimal_cell(row: dict[str, str], column: str, label: str, *, required: bool = True) -> Decimal | None:
    value = row.get(column, "").replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not value:
        if required:
            raise LineError(f"{label} : valeur manquante.")
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise LineError(f"{label} : « {row[column]} » n'est pas un nombre.") from None
    if not amount.is_finite():
        raise LineError(f"{label} : « {row[column]} » n'est pas un nombre.")
    if amount < 0:
        raise LineError(f"{label} : le montant ne peut pas être négatif.")
    return amount


def int_cell(row: dict[str, str], column: str, label: str, *, required: bool = True) -> int | None:
    value = row.get(column, "").replace(" ", "")
    if not value:
        if required:
            raise LineError(f"{label} : valeur manquante.")
        return None
    if not value.isdigit():
        raise LineError(f"{label} : « {row[column]} » n'est pas un nombre entier positif.")
    return int(value)


def year_cell(row: dict[str, str], column: str = "annee") -> int:
    year = int_cell(row, column, "Année")
    if not 1990 <= year <= 2100:
        raise LineError(f"Année : « {row[column]} » n'est pas une année valable.")
    return year


def date_cell(row: dict[str, str], column: str, label: str) -> date:
    value = row.get(column, "")
    for parse in (date.fromisoformat, _french_date):
        try:
            return parse(value)
        except ValueError:
            continue
    raise LineError(f"{label} : « {value} » n'est pas une date (JJ/MM/AAAA ou AAAA-MM-JJ).")


def _french_date(value: str) -> date:
    day, month, year = value.split("/")
    return date(int(year), int(month), int(day))


def bool_cell(row: dict[str, str], column: str, label: str) -> bool:
    value = row.get(column, "").lower()
    if value in ("", "non", "n", "0", "false"):
        return False
    if value in ("oui", "o", "1", "true"):
        return True
    raise LineError(f"{label} : « {row[column]} » : indiquez oui ou non.")
