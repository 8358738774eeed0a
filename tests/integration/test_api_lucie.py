"""The caisses' API (SPEC §4): POST /api/v1/courriers and GET /api/v1/courriers/<id>, every status
code, idempotency, one caisse never reading another's letters, forged PDFs refused."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiToken, Letter, OutboxMessage
from app.services import lucie, outbox
from app.services.api_tokens import create_token, hash_token, revoke_token
from tests.factories import make_caisse
from tests.lucie_support import make_mailbox, pdf


@pytest.fixture
def box(app):
    return make_mailbox()


@pytest.fixture
def token(box):
    return create_token(box.caisse.name, "tests")[1]


def post(client, token, *, headers=None, file=None, filename="courrier.pdf", **fields):
    data = {
        "siret": fields.pop("siret"),
        "type": "notification_decision",
        "titre": "Décision de prise en charge",
        "reference_dossier": "57-2026-000042",
        **fields,
    }
    data = {k: v for k, v in data.items() if v is not None}
    if file is not False:
        data["fichier"] = (io.BytesIO(file if file is not None else pdf()), filename)
    return client.post(
        "/api/v1/courriers",
        data=data,
        headers={**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})},
        content_type="multipart/form-data",
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_deposit_answers_201_with_the_letter(client, box, token):
    response = post(client, token, siret=box.establishment.siret)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "siret", "type", "titre", "deposited_at", "sha256"}
    letter = db.session.get(Letter, body["id"])
    assert body["siret"] == box.establishment.siret and body["type"] == "notification_decision"
    assert body["titre"] == "Décision de prise en charge" and body["sha256"] == letter.sha256
    assert body["deposited_at"].endswith("Z")
    assert response.headers["Location"] == f"/api/v1/courriers/{letter.id}"
    assert letter.caisse_id == box.caisse.id and letter.source == "api"
    assert count(OutboxMessage) == 1  # the habilitated reader is alerted


def test_same_idempotency_key_returns_the_same_letter_without_a_second_alert(client, box, token):
    first = post(client, token, siret=box.establishment.siret, headers={"Idempotency-Key": "dossier-42-v1"})
    again = post(client, token, siret=box.establishment.siret, headers={"Idempotency-Key": "dossier-42-v1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count(Letter) == 1 and count(OutboxMessage) == 1


def test_same_idempotency_key_with_another_content_is_refused(client, box, token):
    post(client, token, siret=box.establishment.siret, headers={"Idempotency-Key": "k-1"})
    response = post(
        client, token, siret=box.establishment.siret, titre="Autre titre", headers={"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == "idempotency_key_reused"
    assert count(Letter) == 1


def test_same_idempotency_key_from_another_caisse_is_another_letter(client, box, token):
    other = make_caisse("Carsat Alsace-Moselle", kind="carsat", departements="57 67 68")
    db.session.commit()
    other_token = create_token(other.name)[1]
    a = post(client, token, siret=box.establishment.siret, headers={"Idempotency-Key": "same"})
    b = post(client, other_token, siret=box.establishment.siret, headers={"Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 201
    assert a.get_json()["id"] != b.get_json()["id"] and count(Letter) == 2


def test_malformed_idempotency_key_is_422(client, box, token):
    response = post(client, token, siret=box.establishment.siret, headers={"Idempotency-Key": "a b"})
    assert response.status_code == 422
    assert "idempotency_key" in response.get_json()["fields"]


@pytest.mark.parametrize(
    "authorization", [None, "Bearer ", "Bearer atmp_nope", "Basic dXNlcjpwYXNz", "atmp_x"]
)
def test_without_a_valid_token_401(client, box, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/api/v1/courriers", data={"siret": box.establishment.siret}, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/courriers/1", headers=headers).status_code == 401
    assert count(Letter) == 0


def test_a_revoked_token_stops_working(client, box, token):
    assert post(client, token, siret=box.establishment.siret).status_code == 201
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    revoke_token(row.id)
    assert post(client, token, siret=box.establishment.siret).status_code == 401


def test_tokens_are_stored_hashed(box, token):
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash == hash_token(token) and token not in row.token_hash


def test_unknown_or_not_subscribed_or_other_territory_siret_is_404(client, box, token):
    assert post(client, token, siret="73282932000074").get_json()["error"] == "unknown_establishment"
    lucie.set_subscription(box.admin, box.establishment, False)
    response = post(client, token, siret=box.establishment.siret)
    assert response.status_code == 404 and response.get_json()["error"] == "not_subscribed"
    assert "n'est pas abonné à LUCIE" in response.get_json()["message"]
    lucie.subscribe(box.head_office)  # Paris: not the CPAM de Moselle's territory
    db.session.commit()
    response = post(client, token, siret=box.head_office.siret)
    assert response.status_code == 404 and response.get_json()["error"] == "unknown_establishment"
    assert count(Letter) == 0 and count(OutboxMessage) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"siret": ""}, "siret"),
        ({"siret": "1234"}, "siret"),
        ({"type": None}, "type"),
        ({"type": "lettre_simple"}, "type"),
        ({"titre": ""}, "titre"),
        ({"titre": "x" * 201}, "titre"),
        ({"reference_dossier": "<script>"}, "reference_dossier"),
        ({"file": False}, "fichier"),
    ],
)
def test_missing_or_invalid_fields_are_422_in_french(client, box, token, fields, field):
    fields = {"siret": box.establishment.siret, **fields}
    response = post(client, token, **fields)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_fields" and field in body["fields"]
    assert body["fields"][field] in body["message"]
    assert body["fields"][field].split()[0] in {"Indiquez", "Le", "La", "Joignez"}  # French sentences
    assert count(Letter) == 0


def test_a_forged_pdf_named_pdf_is_415(client, box, token):
    for content in (b"Bonjour, ceci n'est pas un PDF", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, b"PK\x03\x04zip"):
        response = post(client, token, siret=box.establishment.siret, file=content, filename="courrier.pdf")
        assert response.status_code == 415
        assert response.get_json()["error"] == "unsupported_media_type"
    assert count(Letter) == 0


@pytest.fixture
def app_config():
    return {"MAX_UPLOAD_BYTES_PER_FILE": 4096, "MAX_CONTENT_LENGTH": 64 * 1024}


def test_a_file_too_large_is_413(client, box, token):
    big = pdf() + b"%" + b"x" * 5000
    response = post(client, token, siret=box.establishment.siret, file=big)
    assert response.status_code == 413 and response.get_json()["error"] == "file_too_large"
    # Over the whole request limit: refused before the body is read, still JSON.
    huge = pdf() + b"%" + b"x" * 70 * 1024
    response = post(client, token, siret=box.establishment.siret, file=huge)
    assert response.status_code == 413 and response.get_json()["error"] == "file_too_large"
    assert count(Letter) == 0


def test_get_returns_the_letter_with_its_legal_dates(mail_app, smtp, client, box, token):
    letter_id = post(client, token, siret=box.establishment.siret).get_json()["id"]
    body = client.get(
        f"/api/v1/courriers/{letter_id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["alert_sent_at"] is None and body["first_consulted_at"] is None
    assert body["deemed_notified_at"] is None and body["appeal_deadline"] is None
    assert body["reference_dossier"] == "57-2026-000042"
    outbox.send_due()
    lucie.open_letter(box.reader, letter_id)
    body = client.get(
        f"/api/v1/courriers/{letter_id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["alert_sent_at"].endswith("Z") and body["first_consulted_at"].endswith("Z")
    assert body["deemed_notified_at"] == body["first_consulted_at"]
    assert body["appeal_deadline"] >= body["first_consulted_at"][:10]


def test_a_caisse_cannot_read_another_caisses_letter(client, box, token):
    letter_id = post(client, token, siret=box.establishment.siret).get_json()["id"]
    other = make_caisse("CPAM du Bas-Rhin", departements="67")
    db.session.commit()
    other_token = create_token(other.name)[1]
    response = client.get(
        f"/api/v1/courriers/{letter_id}", headers={"Authorization": f"Bearer {other_token}"}
    )
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    missing = client.get("/api/v1/courriers/999999", headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404


def test_the_api_needs_no_csrf_token_but_the_site_does(client, box, token):
    assert client.application.config.get("WTF_CSRF_ENABLED", True)
    assert post(client, token, siret=box.establishment.siret).status_code == 201


def test_openapi_description_is_served(client):
    body = client.get("/api/v1/openapi.json").get_json()
    assert body["openapi"].startswith("3.1")
    assert {"/courriers", "/courriers/{id}", "/openapi.json"} <= set(body["paths"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"titre": "   "}, "titre"),
        ({"titre": "Décision\x00"}, "titre"),
        ({"titre": "Décision\nde prise en charge"}, "titre"),
        ({"titre": "\u3000\u00a0"}, "titre"),
        ({"titre": " " + "x" * 200}, "titre"),
        ({"reference_dossier": " 57-2026"}, "reference_dossier"),
        ({"reference_dossier": "57-2026\n"}, "reference_dossier"),
        ({"siret": "1234567890123²"}, "siret"),
        ({"siret": " 81234567600025"}, "siret"),
    ],
)
def test_values_outside_the_published_patterns_are_422(client, box, token, fields, field):
    response = post(client, token, **{"siret": box.establishment.siret, **fields})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]
    assert count(Letter) == 0


def test_an_empty_file_or_a_pdf_sent_as_a_plain_field_is_422(client, box, token):
    empty = post(client, token, siret=box.establishment.siret, file=b"")
    assert empty.status_code == 422 and "fichier" in empty.get_json()["fields"]
    as_field = client.post(
        "/api/v1/courriers",
        data={"siret": box.establishment.siret, "type": "autre", "titre": "Courrier", "fichier": "%PDF-1.4"},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert as_field.status_code == 422
    assert "nom de fichier" in as_field.get_json()["fields"]["fichier"]
    assert count(Letter) == 0


def test_a_title_with_visible_text_and_spaces_around_is_kept_without_them(client, box, token):
    response = post(client, token, siret=box.establishment.siret, titre="\u00a0 Décision n° 2 ")
    assert response.status_code == 201 and response.get_json()["titre"] == "Décision n° 2"
