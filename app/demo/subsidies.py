"""Subventions Prévention demo data (`flask demo load`, issue 14 item 6): the programmes loaded, then three
dossiers of the demo company filed by employeur@demo.test and decided by agent.carsat@demo.test — one
reservation accepted and awaiting its invoices (Metz), one asked for completion (Strasbourg), one paid
(Metz). The demo company has 200 employees: the TPE programmes (1–49) would refuse it, so its dossiers are on
ERGO (any size, outside the TPE cap; 25 000 € per company from 200 employees). Everything goes through the
services, letters included (LUCIE); a second run changes nothing (each dossier is found by its first quote's
number).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from pypdf import PdfWriter
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.domain.subsidies import DecisionKind
from app.extensions import db
from app.models import Establishment, SubsidyLine, User
from app.services.subsidies import dossiers, instruction, programmes

EMPLOYER, AGENT = "employeur@demo.test", "agent.carsat@demo.test"
METZ, STRASBOURG = "81234567600025", "81234567600033"

ATTESTED = {
    "regime_general": True,
    "contributions_up_to_date": True,
    "prevention_contract_in_progress": False,
    "prevention_contract_ended_on": None,
    "injunction_or_surcharge": False,
    "occupational_health_member": True,
    "staff_representatives_informed": True,
    "de_minimis_aid": Decimal("12000"),
}

# (first quote's number, SIRET, lines (kind, supplier, amount HT), what happens next)
DOSSIERS = [
    ("DEMO-ERGO-1", METZ, [("prevention", "Ergonomie Conseil Lorraine", "9000")], "accepted"),
    (
        "DEMO-ERGO-2",
        STRASBOURG,
        [("sensibilisation", "Formations Rhin", "3000"), ("prevention", "Manutention Alsace", "2500")],
        "completion",
    ),
    ("DEMO-ERGO-3", METZ, [("sensibilisation", "Formations Rhin", "4000")], "paid"),
]


def _pdf(title: str) -> FileStorage:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    data = io.BytesIO()
    writer.write(data)
    data.seek(0)
    return FileStorage(data, filename=f"{title}.pdf", content_type="application/pdf")


def _line(dossier, employer, number, kind, supplier, amount, day, *, paid=False) -> None:
    values = {
        "kind": kind,
        "supplier": supplier,
        "number": number,
        "issued_on": day,
        "paid_on": day if paid else None,
        "amount_ht": Decimal(amount),
        "leased": False,
        "second_hand": False,
    }
    dossiers.save_line(dossier, employer, values, _pdf(number))


def load_subsidies_demo() -> Iterator[str]:
    report = programmes.load_programmes(by="flask demo load")
    yield f"Programmes de subventions : {report.summary()}"
    employer = db.session.scalar(select(User).where(User.email == EMPLOYER))
    agent = db.session.scalar(select(User).where(User.email == AGENT))
    ergo = next(row for row in programmes.all_programmes() if row.code == "ERGO")
    today = dossiers.today()
    for number, siret, lines, outcome in DOSSIERS:
        if db.session.scalar(select(SubsidyLine.id).where(SubsidyLine.number == number)) is not None:
            yield f"déjà présent : dossier de subvention {number}"
            continue
        establishment = db.session.scalar(select(Establishment).where(Establishment.siret == siret))
        dossier = dossiers.start(employer, ergo, establishment, "reservation")
        dossiers.save_attestations(dossier, {**ATTESTED, "duerp_updated_on": today - timedelta(days=60)})
        for index, (kind, supplier, amount) in enumerate(lines):
            _line(
                dossier,
                employer,
                number if index == 0 else f"{number}-{index + 1}",
                kind,
                supplier,
                amount,
                today,
            )
        dossiers.submit(dossier, employer)
        if outcome == "completion":
            instruction.decide(
                dossier,
                agent,
                DecisionKind.COMPLEMENT,
                reasons="Le programme détaillé de la sensibilisation (durée, contenu, salariés concernés).",
                due_on=today + timedelta(days=30),
            )
        else:
            instruction.decide(dossier, agent, DecisionKind.ACCEPTATION)
        if outcome == "paid":
            dossiers.start_payment(dossier, employer)
            kind, supplier, amount = lines[0]
            _line(dossier, employer, f"F-{number}", kind, supplier, amount, today, paid=True)
            dossiers.submit(dossier, employer)
            instruction.decide(dossier, agent, DecisionKind.VERSEMENT)
        yield f"ajout : dossier de subvention {dossier.reference} ({outcome})"
