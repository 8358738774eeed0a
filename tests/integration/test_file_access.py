"""Files follow what holds them (issue 10 §2): a draft's files are the draft's — never an agent's,
never another establishment's — a sent declaration's files are read by who reads the declaration,
and erasing a draft (« Supprimer », or the retention rule) erases its files: the rows, and the stored
bytes unless another row holds the same content."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Declaration, Service, Upload, User
from app.services import dat as dat_service
from app.services.draft_retention import expire_drafts
from app.services.simple_pdf import make_pdf
from app.services.uploads import blob_path
from tests.dat_support import DatClient, attach, fresh_draft, make_declaration
from tests.factories import make_user

MOTIVATION = "La victime était en congé ce jour-là : l'accident ne peut pas avoir eu lieu sur le chantier."


def draft_at_reserves(declarant, world) -> int:
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="reserves")
    return draft_id


def signed_in(app, user):
    return DatClient(app.test_client(), user).client


def status(app, user, upload_id: int) -> int:
    return signed_in(app, user).get(f"/fichiers/{upload_id}").status_code


def test_the_file_of_an_unsent_draft_is_read_only_by_the_people_of_the_draft(app, world, declarant):
    draft_id = draft_at_reserves(declarant, world)
    upload = attach(declarant, draft_id)
    assert declarant.client.get(f"/fichiers/{upload.id}").status_code == 200
    paris_only = make_user(
        "paris@batiments-est.fr", company=world.company, grants=[(world.paris, Service.DAT)]
    )
    db.session.commit()
    # The CPAM covering the establishment, another CPAM, another company, a colleague of another
    # establishment: the draft does not exist for them, nor its file.
    for user in (world.agent, world.agent_75, world.stranger, paris_only):
        assert status(app, user, upload.id) == 404, user.email
    assert status(app, world.no_dat, upload.id) == 403  # sees the establishment, not the DAT


def test_once_sent_the_file_is_read_by_whoever_reads_the_declaration(app, world, declarant):
    draft_id = draft_at_reserves(declarant, world)
    upload = attach(declarant, draft_id)
    declarant.post_step(draft_id, "reserves", fresh_draft(draft_id).answers["reserves"])
    assert declarant.submit(draft_id).status_code == 303
    declaration = db.session.scalar(select(Declaration))
    assert db.session.get(Upload, upload.id).declaration_id == declaration.id
    assert status(app, world.employer, upload.id) == 200
    assert status(app, world.agent, upload.id) == 200  # the CPAM of Moselle instructs it
    assert status(app, world.agent_75, upload.id) == 404
    assert status(app, world.stranger, upload.id) == 404


def test_a_reserves_addendum_file_is_the_declarations(app, world):
    reference = make_declaration(world.employer, world.metz)
    addendum = dat_service.add_reserves(
        world.employer,
        reference,
        category="lieu_temps",
        motivation=MOTIVATION,
        stream=io.BytesIO(make_pdf("Planning de congés")),
        filename="conges.pdf",
    )
    assert status(app, world.agent, addendum.upload_id) == 200
    assert status(app, world.agent_75, addendum.upload_id) == 404
    assert status(app, world.stranger, addendum.upload_id) == 404


def test_supprimer_le_brouillon_erases_its_file_and_the_stored_bytes(app, world, declarant):
    draft_id = draft_at_reserves(declarant, world)
    upload = attach(declarant, draft_id)
    upload_id, blob = upload.id, blob_path(upload.sha256)
    assert blob.exists()
    response = declarant.client.post(
        f"/demarches/brouillons/{draft_id}/supprimer",
        data={"csrf_token": declarant.token, "version": str(fresh_draft(draft_id).version)},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Upload, upload_id) is None
    assert not blob.exists()
    assert declarant.client.get(f"/fichiers/{upload_id}").status_code == 404
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "draft.discard"))
    assert event.details["files_erased"] == 1


def test_the_retention_rule_erases_the_file_of_an_abandoned_draft(app, world, declarant):
    draft_id = draft_at_reserves(declarant, world)
    upload = attach(declarant, draft_id)
    upload_id, blob = upload.id, blob_path(upload.sha256)
    saved = fresh_draft(draft_id).updated_at
    expire_drafts(now=saved + timedelta(days=83, hours=1))
    assert expire_drafts(now=saved + timedelta(days=90, hours=2)).deleted == 1
    db.session.expire_all()
    assert db.session.get(Upload, upload_id) is None
    assert not blob.exists()
    assert declarant.client.get(f"/fichiers/{upload_id}").status_code == 404


def test_bytes_another_upload_holds_are_kept(app, world, declarant):
    same = make_pdf("Le même planning")
    kept_draft, erased_draft = draft_at_reserves(declarant, world), draft_at_reserves(declarant, world)
    kept = attach(declarant, kept_draft, same, "a.pdf")
    erased = attach(declarant, erased_draft, same, "b.pdf")
    assert kept.sha256 == erased.sha256 and kept.id != erased.id
    declarant.client.post(
        f"/demarches/brouillons/{erased_draft}/supprimer",
        data={"csrf_token": declarant.token, "version": str(fresh_draft(erased_draft).version)},
    )
    db.session.expire_all()
    assert db.session.get(Upload, erased.id) is None
    assert blob_path(kept.sha256).exists()
    response = declarant.client.get(f"/fichiers/{kept.id}")
    assert response.status_code == 200 and response.data == same


@pytest.mark.parametrize("how", ["supprimer", "retention"])
def test_bytes_a_lucie_letter_holds_are_kept(app, world, declarant, how):
    from app.services import lucie
    from tests.lucie_support import deposit

    document = make_pdf("Courrier et pièce identiques")
    lucie.subscribe(world.metz)
    db.session.commit()
    deposit(world.metz, world.cpam_57, document=document)
    draft_id = draft_at_reserves(declarant, world)
    upload = attach(declarant, draft_id, document)
    if how == "supprimer":
        declarant.client.post(
            f"/demarches/brouillons/{draft_id}/supprimer",
            data={"csrf_token": declarant.token, "version": str(fresh_draft(draft_id).version)},
        )
    else:
        saved = fresh_draft(draft_id).updated_at
        expire_drafts(now=saved + timedelta(days=83, hours=1))
        expire_drafts(now=saved + timedelta(days=90, hours=2))
    db.session.expire_all()
    assert db.session.get(Upload, upload.id) is None
    assert blob_path(upload.sha256).read_bytes() == document


def test_migration_0011_gives_existing_files_their_holders(app, world, declarant):
    """Rows from before 0011: the file of a sent draft becomes its declaration's, the file of an open
    draft that draft's, an addendum's file its declaration's; a detached file keeps no holder."""
    from flask_migrate import downgrade, upgrade

    sent = draft_at_reserves(declarant, world)
    sent_file = attach(declarant, sent, make_pdf("Envoyé"), "envoye.pdf")
    declarant.post_step(sent, "reserves", fresh_draft(sent).answers["reserves"])
    assert declarant.submit(sent).status_code == 303
    open_draft = draft_at_reserves(declarant, world)
    detached = attach(declarant, open_draft, make_pdf("Retiré"), "retire.pdf")
    kept = attach(declarant, open_draft, make_pdf("Gardé"), "garde.pdf")
    reference = db.session.scalar(select(Declaration.reference))
    addendum = dat_service.add_reserves(
        world.employer,
        reference,
        category="lieu_temps",
        motivation=MOTIVATION,
        stream=io.BytesIO(make_pdf("Planning de congés")),
        filename="conges.pdf",
    )
    declaration_id = db.session.scalar(select(Declaration.id))
    ids = (sent_file.id, detached.id, kept.id, addendum.upload_id)
    agent_id, employer_id = world.agent.id, world.employer.id
    db.session.remove()
    db.engine.dispose()

    downgrade(revision="0010")
    db.engine.dispose()
    upgrade()

    rows = {
        row.id: (row.draft_id, row.declaration_id, row.active_content)
        for row in db.session.execute(
            select(Upload.id, Upload.draft_id, Upload.declaration_id, Upload.active_content)
        )
    }
    assert [rows[i] for i in ids] == [
        (sent, declaration_id, None),
        (None, None, None),
        (open_draft, None, None),
        (None, declaration_id, None),
    ]
    agent, employer = db.session.get(User, agent_id), db.session.get(User, employer_id)
    assert status(app, agent, ids[0]) == 200
    assert status(app, agent, ids[2]) == 404
    assert status(app, employer, ids[1]) == 404
    # Never checked for active content: offered as a download, not shown in the browser.
    response = signed_in(app, employer).get(f"/fichiers/{ids[2]}")
    assert response.headers["Content-Disposition"].startswith("attachment;")
