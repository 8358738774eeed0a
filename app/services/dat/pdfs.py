"""The declaration's three PDFs."""

from __future__ import annotations

from flask import abort

from app.domain import dat as rules
from app.forms import dat as dat_forms
from app.models import Declaration
from app.services.pdf import render_pdf

from .reading import attachment_of, caisse_of, dat_start_of, declarant, reserves_deadline, sections


def _pdf_context(declaration: Declaration) -> dict:
    return {
        "declaration": declaration,
        "submission": declaration.submission,
        "establishment": declaration.establishment,
        "answers": declaration.answers,
        "sections": sections(declaration),
        "declarant": declarant(declaration),
        "reserves_deadline": reserves_deadline(declaration),
        "dat_start": dat_start_of(declaration),
        "attachment": attachment_of(declaration),
        "caisse": caisse_of(declaration),
        "labels": dat_forms,
        "rules": rules,
    }


PDF_TEMPLATES = {
    "accuse-reception": "pdf/accuse_reception.html",
    "declaration": "pdf/declaration.html",
    "feuille-accident": "pdf/feuille_accident.html",
}


def pdf(declaration: Declaration, kind: str) -> bytes:
    """One of the declaration's PDFs: ``accuse-reception``, ``declaration`` (Cerfa 14463*03
    layout) or ``feuille-accident`` (Cerfa 11383*02, page 1)."""
    template = PDF_TEMPLATES.get(kind)
    if template is None:
        abort(404)
    return render_pdf(template, **_pdf_context(declaration))
