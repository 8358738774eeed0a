"""A full file store (issue 11): the store's real write path refuses with ENOSPC — a store below its
reserve (``STORAGE_RESERVE_BYTES``) answers as a full disk does — and

- a DAT submit still records the declaration; its accusé de réception waits for the store (the
  receipt page says so) and the background run deposits it in LUCIE once there is room;
- the API answers 507 with a JSON error; a person uploading a file gets a French message next to it;
- nothing half-written stays in the store.

And the receipt PDF renders outside the reference counter's lock (PostgreSQL): while one submit's
render is held, another submit gets its number and commits.
"""

from __future__ import annotations

import html
import io
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models import Declaration, Letter, OutboxMessage, Submission
from app.services import dat, lucie
from app.services.pdf import rendering
from app.services.uploads import read_blob
from tests.conftest import ON_POSTGRES
from tests.dat_support import STEPS, fresh_draft, to_multidict, valid_answers
from tests.lucie_support import make_mailbox, pdf

FULL = 1 << 62  # more free bytes than any disk has: every write is refused with ENOSPC


def text(response) -> str:
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def stray_files(app) -> list[Path]:
    """Half-written files left in the store (a failed write must remove its temporary file)."""
    return list((Path(app.config["STORAGE_DIR"]) / "blobs").glob(".upload-*"))


def background_run(app, *args):
    """A command as its own process runs it: in an application context (and session) of its own."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def letter_text(letter: Letter) -> str:
    reader = PdfReader(io.BytesIO(read_blob(letter.sha256)))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_a_full_store_during_a_dat_submit_records_the_declaration_and_the_receipt_follows(
    app, client, world, declarant
):
    lucie.subscribe(world.metz)
    db.session.commit()
    app.config["STORAGE_RESERVE_BYTES"] = FULL
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id)

    response = declarant.submit(draft_id)

    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    declaration = db.session.scalar(select(Declaration))
    assert declaration is not None and declaration.receipt_pending_since is not None
    assert db.session.scalar(select(func.count(Letter.id))) == 0
    assert stray_files(app) == []
    receipt_url = f"/dat/declarations/{declaration.reference}/accuse-reception"
    page = text(client.get(receipt_url))
    assert "Déclaration transmise" in page
    assert "Le PDF de l'accusé de réception est en cours de préparation" in page
    # The PDF itself is made on demand: the employer downloads it while the store is full.
    assert client.get(f"/dat/declarations/{declaration.reference}/accuse-reception.pdf").status_code == 200

    still_full = background_run(app, "dat", "receipts")
    assert still_full.exit_code == 0, still_full.output
    assert "0 accusé(s) de réception déposé(s) dans LUCIE, 1 en attente" in still_full.output

    app.config["STORAGE_RESERVE_BYTES"] = 0  # room again
    retried = background_run(app, "dat", "receipts")
    assert retried.exit_code == 0, retried.output
    assert "1 accusé(s) de réception déposé(s) dans LUCIE, 0 en attente" in retried.output

    db.session.expire_all()
    letter = db.session.scalar(select(Letter))
    assert letter.letter_type == "accuse_reception" and letter.case_reference == declaration.reference
    assert declaration.reference in letter_text(letter) and "Accusé de réception" in letter_text(letter)
    assert db.session.get(Declaration, declaration.id).receipt_pending_since is None
    assert "en cours de préparation" not in text(client.get(receipt_url))
    # Once: a second run finds nothing to do, and the LUCIE user got one alert.
    again = background_run(app, "dat", "receipts")
    assert "1 accusé(s)" not in again.output
    assert db.session.scalar(select(func.count(Letter.id))) == 1
    alerts = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lucie_alert")).all()
    assert [alert.recipient for alert in alerts] == [world.no_dat.email]


def test_a_submit_with_room_deposits_the_receipt_at_once(app, world, declarant):
    lucie.subscribe(world.metz)
    db.session.commit()
    reference = declarant.declare(world.metz)
    declaration = db.session.scalar(select(Declaration).where(Declaration.reference == reference))
    assert declaration.receipt_pending_since is None
    assert db.session.scalar(select(Letter.case_reference)) == reference


def test_the_api_answers_507_in_json_when_the_store_is_full(app, client):
    from app.services.api_tokens import create_token

    box = make_mailbox()
    token = create_token(box.caisse.name)[1]
    app.config["STORAGE_RESERVE_BYTES"] = FULL
    response = client.post(
        "/api/v1/courriers",
        data={
            "siret": box.establishment.siret,
            "type": "notification_taux",
            "titre": "Taux 2027",
            "fichier": (io.BytesIO(pdf()), "taux.pdf"),
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 507
    body = response.get_json()
    assert body["error"] == "storage_full"
    assert "Le stockage des fichiers est momentanément plein" in body["message"]
    assert db.session.scalar(select(func.count(Letter.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert stray_files(app) == []


def test_a_file_uploaded_to_a_full_store_gets_a_french_message_next_to_it(app, world, declarant):
    app.config["STORAGE_RESERVE_BYTES"] = FULL
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="reserves")
    response = declarant.client.post(
        f"/dat/brouillons/{draft_id}/reserves/piece-jointe",
        data={
            **valid_answers(reserves=True)["reserves"],
            "csrf_token": declarant.token,
            "version": str(fresh_draft(draft_id).version),
            "fichier": (io.BytesIO(pdf("Planning")), "planning.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = text(response)
    assert "Le stockage des fichiers est momentanément plein" in page
    assert "Réessayez dans quelques minutes" in page
    assert "piece_jointe" not in fresh_draft(draft_id).answers.get("reserves", {})
    assert stray_files(app) == []


def _filled_draft(user, establishment, victim: str):
    from flask import current_app

    from app.services import drafts
    from app.workflows import get_workflow

    workflow = get_workflow("dat")
    answers = valid_answers(nom=victim)  # two victims: no duplicate to confirm
    with current_app.test_request_context():
        draft = drafts.start_draft(user, workflow, establishment)
        for name in STEPS:
            data = answers[name]
            if name == "employeur":
                data = {**draft.answers.get("employeur", {}), **data}
            drafts.save_step(
                user, draft, workflow, workflow.step(name), to_multidict(data), base_version=draft.version
            )
        return draft.id


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: SQLite locks the whole database for a write")
def test_a_submit_gets_its_number_while_another_submits_receipt_is_rendering(app, world):
    """The reference counter's row is locked for the number only: the receipt PDF renders after the
    commit. Before, the second submit waited for the first one's render (8 submits queued)."""
    from app.models import User
    from app.services import draft_submission, drafts
    from app.workflows import get_workflow

    lucie.subscribe(world.metz)
    db.session.commit()
    first_draft, second_draft = (
        _filled_draft(world.employer, world.metz, victim) for victim in ("Muller", "Weber")
    )
    db.session.remove()
    rendering_held, release = threading.Event(), threading.Event()

    def hold_the_first_render(_app, template):
        if threading.current_thread().name == "first" and template == "pdf/accuse_reception.html":
            rendering_held.set()
            release.wait(60)

    rendering.connect(hold_the_first_render)
    references, errors = {}, []

    def submit(draft_id):
        with app.test_request_context():
            try:
                user = db.session.get(User, world.employer.id)
                draft, _ = drafts.load_draft(user, draft_id)
                outcome = draft_submission.submit_draft(
                    user,
                    draft,
                    get_workflow("dat"),
                    base_version=draft.version,
                    declaration=to_multidict(
                        {
                            "declarant_nom": "Camille Martin",
                            "declarant_qualite": "Gérante",
                            "certification": "y",
                        }
                    ),
                )
                assert outcome.submission is not None, outcome
                references[threading.current_thread().name] = outcome.submission.reference
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    first = threading.Thread(target=submit, args=(first_draft,), name="first")
    second = threading.Thread(target=submit, args=(second_draft,), name="second")
    try:
        first.start()
        assert rendering_held.wait(60), f"the first submit never rendered its receipt: {errors} {references}"
        second.start()
        second.join(60)  # a bound for a failure only: with the lock held through the render, never
        assert not second.is_alive(), "the second submit waited for the first one's PDF"
        assert first.is_alive()  # still rendering
        assert errors == []
        year = references["second"].split("-")[1]
        assert references["second"] == f"DAT-{year}-000002"
        assert db.session.scalar(select(func.count(Submission.id))) == 2
        assert db.session.scalar(select(Letter.case_reference)) == references["second"]
    finally:
        release.set()
        first.join(60)
        rendering.disconnect(hold_the_first_render)
    assert errors == [] and references["first"] == f"DAT-{year}-000001"
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Letter.case_reference))) == sorted(references.values())
    assert dat.pending_receipts() == 0
