"""Every PDF the application makes is tagged (RGAA 4.1, criterion 13.3; issue 10 §5): a structure tree
a screen reader can walk, the document marked as tagged, its language (fr-FR) and its title in the
metadata, shown by the reader instead of the file name. Read back with pypdf from what a user
downloads: the employer's three PDFs, the caisse's copies, the accusé de réception deposited in LUCIE,
and the demo letters."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from pypdf.generic import BooleanObject, IndirectObject
from sqlalchemy import select

from app.extensions import db
from app.models import Establishment, Letter
from app.services import lucie
from app.services.uploads import read_blob
from tests.dat_support import DatClient, make_declaration


def structure_types(node, found: set[str] | None = None) -> set[str]:
    """The structure types (``/H1``, ``/P``, ``/Table`` …) under a node of the structure tree."""
    found = set() if found is None else found
    if isinstance(node, IndirectObject):
        node = node.get_object()
    if isinstance(node, list):
        for child in node:
            structure_types(child, found)
    elif isinstance(node, dict):
        if "/S" in node:
            found.add(str(node["/S"]))
        if "/K" in node:
            structure_types(node["/K"], found)
    return found


def assert_tagged(data: bytes, title: str, *, expected: tuple[str, ...] = ("/H1", "/P")) -> None:
    reader = PdfReader(io.BytesIO(data))
    catalog = reader.trailer["/Root"]
    assert catalog.get("/MarkInfo", {}).get("/Marked") == BooleanObject(True), "not marked as tagged"
    assert "/StructTreeRoot" in catalog, "no structure tree"
    types = structure_types(catalog["/StructTreeRoot"])
    for structure in ("/Document", *expected):
        assert structure in types, (structure, sorted(types))
    assert catalog.get("/Lang") == "fr-FR"
    assert reader.metadata.title == title
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == BooleanObject(True)


@pytest.fixture
def reference(world):
    return make_declaration(world.employer, world.metz)


@pytest.mark.parametrize(
    ("kind", "title", "expected"),
    [
        ("accuse-reception", "Accusé de réception {}", ("/H1", "/P", "/Table", "/TH", "/TD")),
        ("declaration", "Déclaration d'accident du travail {}", ("/H1", "/H2", "/P")),
        ("feuille-accident", "Feuille d'accident du travail {}", ("/H1", "/H2", "/P", "/Table", "/TH")),
    ],
)
def test_the_employers_pdfs_are_tagged_in_french_with_their_title(
    client, world, reference, kind, title, expected
):
    DatClient(client, world.employer)  # signs in
    response = client.get(f"/dat/declarations/{reference}/{kind}.pdf")
    assert response.status_code == 200
    assert_tagged(response.data, title.format(reference), expected=expected)


@pytest.mark.parametrize(
    ("kind", "title"),
    [("accuse-reception", "Accusé de réception {}"), ("declaration", "Déclaration d'accident du travail {}")],
)
def test_the_caisses_copies_are_tagged(client, world, reference, kind, title):
    DatClient(client, world.agent)
    response = client.get(f"/cpam/declarations/{reference}/{kind}.pdf")
    assert response.status_code == 200
    assert_tagged(response.data, title.format(reference))


def test_the_receipt_deposited_in_lucie_is_tagged(world):
    lucie.subscribe(world.metz)
    db.session.commit()
    reference = make_declaration(world.employer, world.metz)
    letter = db.session.scalar(select(Letter))
    assert_tagged(read_blob(letter.sha256), f"Accusé de réception {reference}")


def test_the_demo_letters_are_tagged(demo_app):
    letters = db.session.scalars(select(Letter).join(Establishment).order_by(Letter.id)).all()
    assert letters
    for letter in letters:
        # The demo's declarations deposit their accusé de réception in LUCIE too.
        receipt = letter.source == "service" and letter.letter_type == "accuse_reception"
        title = f"Accusé de réception {letter.case_reference}" if receipt else letter.title
        if letter.source == "service" and letter.letter_type == "notification_taux":  # Compte AT/MP
            year = letter.case_reference.removeprefix("TAUX-")
            title = f"Notification du taux AT/MP {year} — {letter.establishment.name}"
        assert_tagged(read_blob(letter.sha256), title)
