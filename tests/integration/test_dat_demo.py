"""The DAT demo data (`flask demo load`): made through the real services, in several states, one
late, one with reserves, a draft halfway — and a second run changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo.dat import load_dat_demo
from app.demo.qrpro import AT_VICTIM
from app.extensions import db
from app.models import Declaration, Draft, ReserveAddendum, Submission


def test_demo_declarations_cover_the_states_and_are_idempotent(demo_app):
    # The QR Pro demo sends one more (its AT case with reserves, app/demo/qrpro.py): not the DAT demo's.
    qrpro = AT_VICTIM[0].upper()
    declarations = [d for d in db.session.scalars(select(Declaration)) if not d.victim_name.startswith(qrpro)]
    assert len(declarations) == 7
    # The CPAM de Moselle's insured working at the Paris head office (SPEC §1: the victim's CPAM).
    commuter = next(d for d in declarations if d.victim_name == "HOFFMANN Julien")
    assert (commuter.departement, commuter.cpam_departement) == ("75", "57")
    assert commuter.cmi_received_on is not None
    statuses = [d.status for d in declarations]
    assert set(statuses) == {"transmise", "en_instruction", "prise_en_charge", "refus"}
    assert sum(d.late for d in declarations) == 1
    assert sum(d.has_reserves for d in declarations) == 1
    assert db.session.scalar(select(func.count(ReserveAddendum.id))) == 1
    assert sum(d.is_trajet for d in declarations) == 1
    assert all(d.submission.workflow == "dat" for d in declarations)
    open_drafts = db.session.scalars(
        select(Draft).where(Draft.workflow == "dat", Draft.submitted_at.is_(None))
    ).all()
    assert len(open_drafts) == 1 and open_drafts[0].answers["victime"]["nom"] == "Lambert"

    again = list(load_dat_demo())
    assert all(line.startswith("déjà présent") for line in again), again
    assert db.session.scalar(select(func.count(Submission.id))) == 7 + 1
