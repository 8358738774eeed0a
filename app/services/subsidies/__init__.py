"""Subventions Prévention TPE (SPEC §7, issue 14): the programmes in the database (programmes.py), the
employer's dossiers and their submission under the company's caps (dossiers.py), the Carsat's queue and
decisions with their LUCIE letters (instruction.py). The money rules are the domain's
(app/domain/subsidies/)."""

from app.services.subsidies import dossiers, instruction, programmes

__all__ = ["dossiers", "instruction", "programmes"]
