"""Reasoned reserves after the declaration (SPEC §2.1, CSS R441-6): accepted as an addendum while the
10 jours francs are open, refused afterwards with a clear message. The clock is passed to the
service as ``now``."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from app.domain import dat as rules
from app.extensions import db
from app.models import AuditEvent, Declaration, DeclarationEvent, ReserveAddendum, Submission
from app.services import dat as dat_service
from app.services.simple_pdf import make_pdf
from app.workflows.engine import sha256_of
from tests.dat_support import PARIS, DatClient, make_declaration

MOTIVATION = "La victime était en congé ce jour-là : l'accident ne peut pas avoir eu lieu sur le chantier."


@pytest.fixture
def declaration(world):
    reference = make_declaration(world.employer, world.metz)
    return db.session.scalar(select(Declaration).where(Declaration.reference == reference))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def last_day(declaration) -> datetime:
    """The last instant of the window, in the establishment's time."""
    due = rules.reserves_deadline(declaration.submitted_at, "57").due
    return datetime.combine(due, time(23, 59, 59), PARIS)


def test_reserves_are_accepted_until_the_last_day_of_the_window(world, declaration):
    addendum = dat_service.add_reserves(
        world.employer,
        declaration.reference,
        category="cause_etrangere",
        motivation=MOTIVATION,
        now=last_day(declaration),
    )
    assert addendum.declaration_id == declaration.id
    assert addendum.sha256 == sha256_of(
        {
            "declaration": declaration.reference,
            "declaration_sha256": declaration.submission.sha256,
            "categorie": "cause_etrangere",
            "motivation": MOTIVATION,
            "piece_jointe": None,
            "submitted_at": last_day(declaration).isoformat(),
        }
    )
    events = db.session.scalars(select(DeclarationEvent).where(DeclarationEvent.kind == "reserves")).all()
    assert len(events) == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dat.reserves")) is not None


def test_reserves_are_refused_the_day_after(world, declaration):
    with pytest.raises(dat_service.ReservesClosed) as closed:
        dat_service.add_reserves(
            world.employer,
            declaration.reference,
            category="lieu_temps",
            motivation=MOTIVATION,
            now=last_day(declaration) + timedelta(seconds=1),
        )
    assert closed.value.due == declaration.reserves_due_on
    assert db.session.scalar(select(ReserveAddendum)) is None


def test_reserves_page_sends_an_addendum_with_its_file(client, world, declarant, declaration):
    page = text(client.get(f"/dat/declarations/{declaration.reference}/reserves"))
    assert "Émettre des réserves motivées" in page and "inclus" in page
    response = client.post(
        f"/dat/declarations/{declaration.reference}/reserves",
        data={
            "csrf_token": declarant.token,
            "categorie": "lieu_temps",
            "motivation": MOTIVATION,
            "fichier": (io.BytesIO(make_pdf("Planning de congés")), "conges.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    addendum = db.session.scalar(select(ReserveAddendum))
    assert addendum.upload.filename == "conges.pdf" and addendum.upload.service == "dat"
    page = text(client.get(f"/dat/declarations/{declaration.reference}"))
    assert "Vos réserves motivées ont été transmises" in page
    assert "Ajoutées le" in page and MOTIVATION in page and "conges.pdf" in page
    assert "Réserves motivées ajoutées" in page  # timeline
    # The immutable declaration did not change; the addendum is beside it.
    submission = db.session.scalar(select(Submission))
    assert submission.sha256 == sha256_of(submission.data)


def test_reserves_form_validation(client, world, declarant, declaration):
    response = client.post(
        f"/dat/declarations/{declaration.reference}/reserves",
        data={"csrf_token": declarant.token, "categorie": "autre", "motivation": "réserves"},
    )
    assert response.status_code == 422
    page = text(response)
    assert "Sélectionnez une des réponses proposées" in page
    assert "Motivez vos réserves en 50 caractères au moins" in page
    response = client.post(
        f"/dat/declarations/{declaration.reference}/reserves",
        data={
            "csrf_token": declarant.token,
            "categorie": "lieu_temps",
            "motivation": MOTIVATION,
            "fichier": (io.BytesIO(b"GIF89a not accepted"), "photo.gif"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Le fichier doit être au format" in text(response)
    assert db.session.scalar(select(ReserveAddendum)) is None


def test_reserves_after_the_window_are_refused_with_a_clear_message(client, world, declarant, declaration):
    # The declaration was made 20 days ago (its dates moved back, as if time had passed).
    past = datetime.now(UTC) - timedelta(days=20)
    db.session.execute(
        update(Declaration)
        .where(Declaration.id == declaration.id)
        .values(submitted_at=past, reserves_due_on=rules.reserves_deadline(past, "57").due)
    )
    db.session.commit()
    page = text(client.get(f"/dat/declarations/{declaration.reference}"))
    assert "Le délai pour émettre des réserves a pris fin le" in page
    assert "Émettre des réserves motivées</a>" not in page
    response = client.post(
        f"/dat/declarations/{declaration.reference}/reserves",
        data={"csrf_token": declarant.token, "categorie": "lieu_temps", "motivation": MOTIVATION},
    )
    assert response.status_code == 409
    page = text(response)
    assert "Le délai pour émettre des réserves a pris fin le" in page
    assert "Vos réserves ne peuvent plus être reçues" in page
    assert db.session.scalar(select(ReserveAddendum)) is None


def test_another_company_cannot_add_reserves(client, world, declaration):
    stranger = DatClient(client, world.stranger)
    response = client.post(
        f"/dat/declarations/{declaration.reference}/reserves",
        data={"csrf_token": stranger.token, "categorie": "lieu_temps", "motivation": MOTIVATION},
    )
    assert response.status_code == 404
    with pytest.raises(Exception) as refused:
        dat_service.add_reserves(
            world.stranger, declaration.reference, category="lieu_temps", motivation=MOTIVATION
        )
    assert getattr(refused.value, "code", None) == 404
