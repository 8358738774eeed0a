"""The shared upload service: limits, sniffing, content addressing, integrity on read; a PDF's
active content found at upload and never shown in the browser; every document sandboxed."""

import html
import io

import pytest
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Draft, Service
from app.services import lucie
from app.services.simple_pdf import make_pdf
from app.services.uploads import (
    StoredFileCorrupted,
    UploadRejected,
    active_content,
    blob_path,
    read_blob,
    save_upload,
)
from tests.dat_support import DatClient, attach
from tests.factories import PASSWORD, make_company, make_establishment, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def test_pdf_is_stored_by_its_sha256_and_read_back(app):
    upload = save_upload(
        io.BytesIO(PDF), "../../etc/passwd<b>.pdf", establishment_id=None, user_id=None, service=None
    )
    db.session.commit()
    assert upload.media_type == "application/pdf"
    assert blob_path(upload.sha256).read_bytes() == PDF
    assert read_blob(upload.sha256) == PDF
    assert upload.filename == "passwdb.pdf"


def test_same_content_twice_is_stored_once(app):
    a = save_upload(io.BytesIO(PDF), "a.pdf", establishment_id=None, user_id=None, service=None)
    b = save_upload(io.BytesIO(PDF), "b.pdf", establishment_id=None, user_id=None, service=None)
    db.session.commit()
    assert a.sha256 == b.sha256 and a.id != b.id
    assert len(list(blob_path(a.sha256).parent.iterdir())) == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"<html><script>alert(1)</script></html>", "unsupported_type"),
        (b"MZ\x90\x00" + b"\0" * 100, "unsupported_type"),
    ],
)
def test_bad_files_are_refused_with_a_french_reason(app, content, code):
    with pytest.raises(UploadRejected) as error:
        save_upload(io.BytesIO(content), "piece.pdf", establishment_id=None, user_id=None, service=None)
    assert error.value.code == code
    assert error.value.message.startswith("Le fichier")
    assert not list((blob_path("00" * 32).parent.parent.parent).glob("*/*/*"))


def test_oversized_file_is_refused_and_nothing_is_left(app):
    app.config["MAX_UPLOAD_BYTES_PER_FILE"] = 1024 * 1024
    with pytest.raises(UploadRejected) as error:
        save_upload(
            io.BytesIO(PDF + b"0" * (1024 * 1024)),
            "gros.pdf",
            establishment_id=None,
            user_id=None,
            service=None,
        )
    assert error.value.code == "too_large" and "1 Mo" in error.value.message
    storage = blob_path("00" * 32).parent.parent.parent
    assert not [p for p in storage.rglob("*") if p.is_file()]


def test_tampered_blob_is_never_served(app, client, login):
    company = make_company()
    est = make_establishment(company)
    user = make_user(company=company, grants=[(est, Service.DAT)])
    upload = save_upload(
        io.BytesIO(PDF),
        "a.pdf",
        establishment_id=est.id,
        user_id=user.id,
        service=Service.DAT,
        draft_id=a_draft(est, user).id,
    )
    db.session.commit()
    blob_path(upload.sha256).write_bytes(PDF + b"tampered")
    with pytest.raises(StoredFileCorrupted):
        read_blob(upload.sha256)
    login(user)
    response = client.get(f"/fichiers/{upload.id}")
    assert response.status_code == 500
    assert "Fichier altéré" in response.get_data(as_text=True)
    assert b"tampered" not in response.data


def a_draft(establishment, user) -> Draft:
    draft = Draft(
        workflow="dat",
        establishment_id=establishment.id,
        created_by_id=user.id,
        updated_by_id=user.id,
        answers={},
        valid_steps=[],
        current_step="employeur",
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def test_download_follows_the_access_rules(app):
    company = make_company()
    est = make_establishment(company)
    other_est = make_establishment(make_company("Autre"))
    owner = make_user(company=company, grants=[(est, Service.DAT)])
    lucie_only = make_user(company=company, grants=[(est, Service.LUCIE)])
    stranger = make_user(company=other_est.company, grants=[(other_est, "*")])
    upload = save_upload(
        io.BytesIO(PDF),
        "a.pdf",
        establishment_id=est.id,
        user_id=owner.id,
        service=Service.DAT,
        draft_id=a_draft(est, owner).id,
    )
    orphan = save_upload(
        io.BytesIO(PDF), "b.pdf", establishment_id=est.id, user_id=owner.id, service=Service.DAT
    )
    db.session.commit()
    for user, status in ((owner, 200), (lucie_only, 403), (stranger, 404)):
        client = app.test_client()
        _login(client, user)
        response = client.get(f"/fichiers/{upload.id}")
        assert response.status_code == status, user.email
        if status == 200:
            assert response.data == PDF
            assert response.headers["Content-Type"] == "application/pdf"
    assert client.get("/fichiers/999999").status_code == 404
    # A file nothing holds (detached before issue 10, or of a draft deleted before) is nobody's.
    owner_client = app.test_client()
    _login(owner_client, owner)
    assert owner_client.get(f"/fichiers/{orphan.id}").status_code == 404


def _login(client, user):
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code in (302, 303)


# --- active content (issue 10 §2): found at upload with a real parse, never shown in the browser ---


def pdf_with_javascript() -> bytes:
    """A one-page PDF that runs a script when opened, as pypdf writes it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_open_action(JavaScript("app.alert('Ce document exécute du code');"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_disguised_javascript() -> bytes:
    """The same trick with its names written with escapes (``/J#61vaScript``, ``/J#53``), which a
    viewer reads as /JavaScript and /JS but a search for the bytes ``/JavaScript`` does not find."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")}
    )
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue().replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in data and b"/JS " not in data
    return data


def test_a_plain_pdf_is_recorded_without_active_content(app):
    upload = save_upload(
        io.BytesIO(make_pdf("Planning")), "p.pdf", establishment_id=None, user_id=None, service=None
    )
    db.session.commit()
    assert upload.active_content is False and upload.served_inline
    assert active_content(blob_path(upload.sha256)) == ()


@pytest.mark.parametrize("build", [pdf_with_javascript, pdf_with_disguised_javascript])
def test_a_pdf_carrying_javascript_is_recorded_at_upload_and_in_the_audit_trail(app, build):
    upload = save_upload(io.BytesIO(build()), "js.pdf", establishment_id=None, user_id=None, service=None)
    db.session.commit()
    assert upload.active_content is True and not upload.served_inline
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "upload.active_content"))
    assert event.object_id == str(upload.id)
    assert "/JavaScript" in event.details["found"] and "/JS" in event.details["found"]


def test_an_image_or_a_pdf_that_cannot_be_read_is_not_vouched_for(app):
    broken = save_upload(
        io.BytesIO(b"%PDF-1.7\n" + b"\x00garbage" * 50),
        "b.pdf",
        establishment_id=None,
        user_id=None,
        service=None,
    )
    png = save_upload(io.BytesIO(PNG), "photo.png", establishment_id=None, user_id=None, service=None)
    db.session.commit()
    assert broken.active_content is True and not broken.served_inline
    assert png.active_content is None and not png.served_inline


def test_a_pdf_with_javascript_is_offered_as_a_download_in_a_sandbox_and_the_reader_is_told(
    app, world, declarant
):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="reserves")
    upload = attach(declarant, draft_id, pdf_with_javascript(), "piege.pdf")
    assert upload.active_content is True
    page = html.unescape(
        declarant.client.get(f"/demarches/brouillons/{draft_id}/etapes/reserves").get_data(as_text=True)
    )
    assert "piege.pdf" in page
    assert "Ce PDF contient du contenu actif (JavaScript) : il est proposé en téléchargement." in page
    response = declarant.client.get(f"/fichiers/{upload.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Security-Policy"].split(";")[0] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    read = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "read", AuditEvent.object_type == "upload")
    )
    assert read.details == {"active_content": True}


def test_a_plain_pdf_is_shown_in_the_browser_still_in_a_sandbox(app, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, until="reserves")
    upload = attach(declarant, draft_id, make_pdf("Planning du 2 mars"), "planning.pdf")
    page = declarant.client.get(f"/demarches/brouillons/{draft_id}/etapes/reserves").get_data(as_text=True)
    assert "contenu actif" not in page
    response = declarant.client.get(f"/fichiers/{upload.id}")
    assert response.headers["Content-Disposition"] == "inline; filename*=UTF-8''planning.pdf"
    assert response.headers["Content-Security-Policy"] == "sandbox; frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_every_document_the_platform_serves_is_sandboxed(app, world, declarant):
    """The PDFs the platform makes (receipt, declaration, feuille d'accident; the CPAM's copies) and
    a LUCIE letter's document, shown in its page's frame or downloaded."""
    from tests.lucie_support import deposit

    reference = declarant.declare(world.metz)
    agent = DatClient(app.test_client(), world.agent).client
    lucie.subscribe(world.metz)
    letter = deposit(world.metz, world.cpam_57)
    db.session.commit()
    served = [
        declarant.client.get(f"/dat/declarations/{reference}/{kind}.pdf")
        for kind in ("accuse-reception", "declaration", "feuille-accident")
    ]
    served += [
        agent.get(f"/cpam/declarations/{reference}/{kind}.pdf")
        for kind in ("declaration", "accuse-reception")
    ]
    served += [
        agent.get(f"/courriers/{letter.id}/document"),
        agent.get(f"/courriers/{letter.id}/telecharger"),
    ]
    for response in served:
        assert response.status_code == 200 and response.data.startswith(b"%PDF-"), response.request.path
        assert response.headers["Content-Security-Policy"].split(";")[0] == "sandbox", response.request.path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    framed = served[-2]
    assert framed.headers["Content-Security-Policy"] == "sandbox; frame-ancestors 'self'"
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert served[-1].headers["Content-Disposition"].startswith("attachment;")
