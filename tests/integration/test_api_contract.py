"""The OpenAPI description is true: every /api/v1 route is described, and every described response
is produced here by a real request whose JSON body matches the described schema."""

from __future__ import annotations

import io
import re

import pytest
from openapi_spec_validator import validate

from app.api_spec import openapi_document
from app.extensions import db
from app.services import lucie
from app.services.api_tokens import create_token
from tests.factories import make_caisse
from tests.lucie_support import make_mailbox, pdf

SPEC = openapi_document("http://test")


def _resolve(schema: dict) -> dict:
    ref = schema.get("$ref")
    if ref:
        node = SPEC
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node
    return schema


def check(value, schema: dict, where: str = "$") -> None:
    """A small JSON Schema check for the keywords our description uses."""
    schema = _resolve(schema)
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        python = {
            "object": dict,
            "array": list,
            "string": str,
            "integer": int,
            "boolean": bool,
            "null": type(None),
        }
        assert any(
            isinstance(value, python[t]) and not (t == "integer" and isinstance(value, bool)) for t in types
        ), f"{where}: {value!r} is not {types}"
    if value is None:
        return
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, str):
        if "pattern" in schema:
            assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
        if "maxLength" in schema:
            assert len(value) <= schema["maxLength"]
        if schema.get("format") == "date-time":
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", value), f"{where}: {value!r}"
        if schema.get("format") == "date":
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", value), f"{where}: {value!r}"
    if isinstance(value, dict):
        for name in schema.get("required", []):
            assert name in value, f"{where}: missing {name}"
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                check(item, properties[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                raise AssertionError(f"{where}: unexpected property {name}")
            elif isinstance(schema.get("additionalProperties"), dict):
                check(item, schema["additionalProperties"], f"{where}.{name}")


@pytest.fixture
def app_config():
    return {"MAX_UPLOAD_BYTES_PER_FILE": 4096, "API_RATE_LIMIT": "5 per minute"}


@pytest.fixture
def ctx(app):
    box = make_mailbox()
    other = make_caisse("CPAM du Bas-Rhin", departements="67")
    db.session.commit()
    token = create_token(box.caisse.name)[1]
    other_token = create_token(other.name)[1]
    return {
        "box": box,
        "auth": {"Authorization": f"Bearer {token}"},
        "other": {"Authorization": f"Bearer {other_token}"},
    }


def _post(client, ctx, headers=None, file=None, **fields):
    data = {
        "siret": ctx["box"].establishment.siret,
        "type": "notification_taux",
        "titre": "Taux 2027",
        **fields,
    }
    data["fichier"] = (io.BytesIO(file if file is not None else pdf()), "taux.pdf")
    return client.post(
        "/api/v1/courriers",
        data=data,
        headers=headers if headers is not None else ctx["auth"],
        content_type="multipart/form-data",
    )


def _deposited(client, ctx) -> int:
    return _post(client, ctx).get_json()["id"]


def _rate_limited(client, do):
    responses = [do() for _ in range(6)]
    return responses[-1]


SCENARIOS = {
    ("/courriers", "post", "201"): lambda c, x: _post(c, x),
    ("/courriers", "post", "401"): lambda c, x: _post(c, x, headers={}),
    ("/courriers", "post", "404"): lambda c, x: (
        lucie.set_subscription(x["box"].admin, x["box"].establishment, False),
        _post(c, x),
    )[1],
    ("/courriers", "post", "413"): lambda c, x: _post(c, x, file=pdf() + b"%" + b"x" * 5000),
    ("/courriers", "post", "415"): lambda c, x: _post(c, x, file=b"GIF89a not a pdf"),
    ("/courriers", "post", "422"): lambda c, x: _post(c, x, titre=""),
    ("/courriers", "post", "429"): lambda c, x: _rate_limited(c, lambda: _post(c, x, titre="")),
    # A file store with less free space than its reserve refuses every write with ENOSPC.
    ("/courriers", "post", "507"): lambda c, x: (
        c.application.config.update(STORAGE_RESERVE_BYTES=1 << 62),
        _post(c, x),
    )[1],
    ("/courriers/{id}", "get", "200"): lambda c, x: c.get(
        f"/api/v1/courriers/{_deposited(c, x)}", headers=x["auth"]
    ),
    ("/courriers/{id}", "get", "401"): lambda c, x: c.get("/api/v1/courriers/1"),
    ("/courriers/{id}", "get", "404"): lambda c, x: c.get(
        f"/api/v1/courriers/{_deposited(c, x)}", headers=x["other"]
    ),
    ("/courriers/{id}", "get", "429"): lambda c, x: _rate_limited(
        c, lambda: c.get("/api/v1/courriers/999", headers=x["auth"])
    ),
    ("/openapi.json", "get", "200"): lambda c, x: c.get("/api/v1/openapi.json"),
}

DOCUMENTED = [
    (path, method, status)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
    for status in operation["responses"]
]


def test_every_api_route_is_documented(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule.removeprefix("/api/v1"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    documented = {(path, method) for path, method, _ in DOCUMENTED}
    assert routes == documented


def test_every_documented_response_has_a_scenario():
    assert set(DOCUMENTED) == set(SCENARIOS)


@pytest.mark.parametrize(("path", "method", "status"), DOCUMENTED)
def test_documented_response_is_produced_with_its_schema(client, ctx, path, method, status):
    response = SCENARIOS[(path, method, status)](client, ctx)
    assert response.status_code == int(status), response.get_data(as_text=True)
    described = SPEC["paths"][path][method]["responses"][status]
    media = described.get("content", {}).get("application/json")
    assert media is not None and response.mimetype == "application/json"
    check(response.get_json(), media["schema"])
    for header, spec in described.get("headers", {}).items():
        if spec.get("required"):
            assert response.headers.get(header), header
        if header in response.headers:
            check(response.headers[header], spec["schema"], f"header {header}")


def test_the_description_is_valid_openapi_3_1(client):
    validate(client.get("/api/v1/openapi.json").get_json())


def test_the_description_states_the_configured_size_limit(client, app):
    body = client.get("/api/v1/openapi.json").get_json()
    form = body["paths"]["/courriers"]["post"]["requestBody"]["content"]["multipart/form-data"]
    fichier = form["schema"]["properties"]["fichier"]
    assert fichier["format"] == "binary" and fichier["contentMediaType"] == "application/pdf"
    assert fichier["minLength"] == 1 and fichier["maxLength"] == app.config["MAX_UPLOAD_BYTES_PER_FILE"]
    assert form["encoding"]["fichier"]["contentType"] == "application/pdf"
