"""HTTP-level answers that no view writes: ids beyond what the database can hold, unknown paths and
wrong methods — for the whole URL map, the API answering in JSON as docs/api.md says."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from app.services.api_tokens import create_token
from tests.factories import PASSWORD, make_caisse, make_company, make_establishment, make_user
from tests.lucie_support import make_mailbox

# Above PostgreSQL's INTEGER, above SQLite's and PostgreSQL's BIGINT, and the id Schemathesis sent.
HUGE_IDS = [2**31, 2**63, 10**20, 55130116800988905472]
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _int_rules(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            yield rule


def _url_with(rule, value: int) -> str:
    """The rule's URL with ``value`` in each int argument and a plausible word in the others."""

    def fill(match):
        converter = rule._converters[match.group(2)]
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        return str(value) if isinstance(converter, IntegerConverter) else "x"

    return ARGUMENT.sub(fill, rule.rule)


def _signed_in(app, user):
    client = app.test_client()
    token = client.csrf("/connexion")
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    response = client.post("/connexion", data=data)
    assert response.status_code in (302, 303)
    return client


@pytest.fixture
def clients(app):
    company = make_company("Entreprise")
    establishment = make_establishment(company, departement="57", head_office=True)
    caisse = make_caisse("CPAM", departements="57")
    return {
        "anonymous": app.test_client(),
        "employer": _signed_in(app, make_user(company=company, admin=True, grants=[(establishment, "*")])),
        "agent": _signed_in(app, make_user(kind="cpam", caisse_id=caisse.id)),
    }


def test_an_id_beyond_the_database_integers_is_404_on_every_route(app, clients):
    rules = list(_int_rules(app))
    assert any(r.endpoint == "api.get_letter" for r in rules) and len(rules) > 10
    failures = []
    for name, client in clients.items():
        for rule in rules:
            for value in HUGE_IDS:
                url = _url_with(rule, value)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    status = client.open(url, method=method).status_code
                    if status != 404:
                        failures.append(f"{name} {method} {url} → {status}")
    assert not failures, "\n".join(failures)


def test_the_largest_database_integer_is_still_an_id(app, clients):
    response = clients["employer"].get(f"/courriers/{2**31 - 1}")
    assert response.status_code == 404 and "Page introuvable" in response.get_data(as_text=True)


def test_the_api_answers_a_huge_letter_id_with_its_json_404(app):
    box = make_mailbox()
    token = create_token(box.caisse.name)[1]
    client = app.test_client()
    for value in HUGE_IDS:
        response = client.get(f"/api/v1/courriers/{value}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404, value
        assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/courriers/abc", "/api/v2/courriers", "/api/"])
def test_an_unknown_api_path_is_a_json_404_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == "not_found" and body["message"].startswith("Ressource introuvable")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/courriers", {"POST", "OPTIONS"}),
        ("GET", "/api/v1/courriers", {"POST", "OPTIONS"}),
        ("PUT", "/api/v1/courriers/1", {"GET", "HEAD", "OPTIONS"}),
        ("PATCH", "/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_a_wrong_method_on_the_api_is_a_json_405_with_allow(client, method, path, allowed):
    response = client.open(path, method=method)
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert response.get_json()["error"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == allowed


def test_every_405_of_the_site_says_which_methods_are_allowed(app, client):
    adapter = app.url_map.bind("localhost")
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = _url_with(rule, 1)
        allowed = adapter.allowed_methods(url)
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - set(allowed)):
            response = client.open(url, method=method)
            allow = response.headers.get("Allow", "")
            if response.status_code != 405 or set(allow.split(", ")) != set(allowed):
                failures.append(f"{method} {url} → {response.status_code} Allow={allow}")
    assert not failures, "\n".join(failures[:40])


@pytest.fixture
def app_config():
    return {"API_RATE_LIMIT": "5 per minute"}


def test_invalid_tokens_from_one_address_share_one_rate_limit(client):
    statuses = [
        client.get("/api/v1/courriers/1", headers={"Authorization": f"Bearer atmp_guess{n}"}).status_code
        for n in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


def test_a_valid_token_has_its_own_limit_whatever_the_invalid_ones_did(app, client):
    box = make_mailbox()
    token = create_token(box.caisse.name)[1]
    for n in range(6):
        client.get("/api/v1/courriers/1", headers={"Authorization": f"Bearer atmp_guess{n}"})
    statuses = [
        client.get("/api/v1/courriers/1", headers={"Authorization": f"Bearer {token}"}).status_code
        for _ in range(6)
    ]
    assert statuses == [404] * 5 + [429]
    other_address = client.get(
        "/api/v1/courriers/1",
        headers={"Authorization": "Bearer atmp_guess"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other_address.status_code == 401
