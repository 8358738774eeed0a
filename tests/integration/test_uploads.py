"""The shared upload service: limits, sniffing, content addressing, integrity on read."""

import io

import pytest

from app.extensions import db
from app.models import Service
from app.services.uploads import StoredFileCorrupted, UploadRejected, blob_path, read_blob, save_upload
from tests.factories import PASSWORD, make_company, make_establishment, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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
        io.BytesIO(PDF), "a.pdf", establishment_id=est.id, user_id=user.id, service=Service.DAT
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


def test_download_follows_the_access_rules(app):
    company = make_company()
    est = make_establishment(company)
    other_est = make_establishment(make_company("Autre"))
    owner = make_user(company=company, grants=[(est, Service.DAT)])
    lucie_only = make_user(company=company, grants=[(est, Service.LUCIE)])
    stranger = make_user(company=other_est.company, grants=[(other_est, "*")])
    upload = save_upload(
        io.BytesIO(PDF), "a.pdf", establishment_id=est.id, user_id=owner.id, service=Service.DAT
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


def _login(client, user):
    token = client.csrf("/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code in (302, 303)
