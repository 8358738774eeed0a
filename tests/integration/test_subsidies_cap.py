"""The TPE cap under concurrency (issue 14 item 4): two establishments of one company submitting at once
never get more than 25 000 € together. Each submission runs in its own thread with its own session; both
are held at the moment they have read the company's other dossiers (`cap_computed`), so without the
company's row lock both read 0 € and both take 20 000 € — the second test shows exactly that, with the
lock taken away."""

from __future__ import annotations

import contextlib
import io
import threading
from datetime import date
from decimal import Decimal

import pytest
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import SubsidyDossier, User
from app.services.subsidies import dossiers as service
from app.services.subsidies import programmes
from tests.conftest import ON_POSTGRES
from tests.subsidies_support import make_world, pdf_bytes

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL: row locks between two connections")

ATTESTED = {
    "regime_general": True,
    "contributions_up_to_date": True,
    "duerp_updated_on": date.today().replace(day=1),
    "prevention_contract_in_progress": False,
    "prevention_contract_ended_on": None,
    "injunction_or_surcharge": False,
    "occupational_health_member": True,
    "staff_representatives_informed": True,
    "de_minimis_aid": Decimal(0),
}


def _draft(world, establishment) -> int:
    programme = next(p for p in programmes.all_programmes() if p.code == "TOPBTP")
    dossier = service.start(world.employer, programme, establishment, "reservation")
    service.save_attestations(dossier, ATTESTED)
    upload = FileStorage(io.BytesIO(pdf_bytes()), filename="devis.pdf", content_type="application/pdf")
    values = {
        "kind": "equipement",
        "supplier": "Outils Est",
        "number": "D-1",
        "issued_on": date.today().replace(day=1),
        "paid_on": None,
        "amount_ht": Decimal("40000"),  # 50 % → 20 000 €
        "leased": False,
        "second_hand": False,
    }
    service.save_line(dossier, world.employer, values, upload)
    return dossier.id


def _submit_both(app, world) -> list:
    ids = [_draft(world, world.metz), _draft(world, world.strasbourg)]
    user_id = world.employer.id
    db.session.commit()
    barrier = threading.Barrier(2, timeout=3)

    def hold(sender, **kwargs):
        # Both submissions have read the company's dossiers (without the lock); with it, the other one
        # waits for the company's row and cannot get here meanwhile: the barrier breaks after 3 s.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    outcomes = []

    def run(dossier_id):
        with app.app_context():
            try:
                dossier = db.session.get(SubsidyDossier, dossier_id)
                service.submit(dossier, db.session.get(User, user_id))
                outcomes.append(("sent", dossier_id))
            except service.SubmissionRefused as refused:
                outcomes.append(("refused", refused.reasons))
            finally:
                db.session.remove()

    service.cap_computed.connect(hold)
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        service.cap_computed.disconnect(hold)
    db.session.expire_all()
    return [db.session.get(SubsidyDossier, i) for i in ids]


def test_two_establishments_submitting_at_once_stay_under_the_cap(app):
    world = make_world()
    sent = _submit_both(app, world)
    amounts = sorted(d.requested_amount for d in sent)
    assert all(d.status == "deposee" for d in sent)
    assert amounts == [Decimal("5000.00"), Decimal("20000.00")]  # the second is cut to what remains
    assert sum(amounts) == Decimal(25000)
    cut = next(d for d in sent if d.requested_amount == Decimal("5000.00"))
    assert "Plafond des subventions Prévention TPE" in cut.computation


def test_without_the_company_lock_both_would_take_the_whole_amount(app, monkeypatch):
    """The proof that the test above can fail: the same two submissions without the row lock."""
    monkeypatch.setattr(service, "_hold_company", lambda company_id: None)
    world = make_world()
    sent = _submit_both(app, world)
    assert sum(d.requested_amount for d in sent) == Decimal(40000)
