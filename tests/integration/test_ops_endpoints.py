"""`/sante` and `/metrics` (issue 11, docs/deployment.md): what a load balancer and a Prometheus
scrape read, without a sign-in and without leaving a database session behind."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import create_app
from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.models.types import utcnow
from app.services import outbox
from tests.conftest import _base_config

TOKEN = "jeton-de-supervision-0123456789"


def test_health_answers_200_when_the_database_and_the_store_answer(app, client):
    db.session.remove()
    response = client.get("/sante")
    assert response.status_code == 200
    assert response.get_json() == {"statut": "ok", "base_de_donnees": "ok", "stockage_fichiers": "ok"}
    assert "Set-Cookie" not in response.headers  # no session opened for a load balancer
    assert db.engine.pool.checkedout() == 0  # its connection went back to the pool


def test_health_answers_503_when_the_database_is_unreachable(app, tmp_path):
    broken = create_app(_base_config(f"sqlite:///{tmp_path}/absent/dossier/base.sqlite3", tmp_path))
    response = broken.test_client().get("/sante")
    assert response.status_code == 503
    assert response.get_json() == {
        "statut": "indisponible",
        "base_de_donnees": "injoignable",
        "stockage_fichiers": "ok",
    }


def test_health_answers_503_when_the_file_store_is_unreachable(app, client, tmp_path):
    not_a_directory = tmp_path / "stockage-demonte"
    not_a_directory.write_text("")
    app.config["STORAGE_DIR"] = str(not_a_directory)
    response = client.get("/sante")
    assert response.status_code == 503
    assert response.get_json()["stockage_fichiers"] == "injoignable"


def test_a_full_store_keeps_the_server_in_service_and_says_so(app, client):
    app.config["STORAGE_RESERVE_BYTES"] = 1 << 62
    response = client.get("/sante")
    assert response.status_code == 200
    assert response.get_json()["stockage_fichiers"] == "plein"


def test_metrics_do_not_exist_until_configured(app, client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    ("settings", "headers", "status"),
    [
        ({"METRICS_TOKEN": TOKEN}, {}, 403),
        ({"METRICS_TOKEN": TOKEN}, {"Authorization": "Bearer autre-jeton"}, 403),
        ({"METRICS_TOKEN": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}, 200),
        ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.0.0/16"}, {}, 403),
        ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, 127.0.0.1"}, {}, 200),  # the test client's address
    ],
)
def test_metrics_need_the_token_or_an_allowed_network(app, client, settings, headers, status):
    app.config.update(settings)
    response = client.get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 403:
        assert response.get_json() == {"error": "forbidden", "message": "Accès aux métriques refusé."}


def metric(body: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", body, re.MULTILINE)
    assert match, f"{name}{labels} missing from:\n{body}"
    return float(match.group(1))


def test_metrics_show_the_outbox_queue_and_the_request_latencies(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    auth = {"Authorization": f"Bearer {TOKEN}"}
    empty = client.get("/metrics", headers=auth).get_data(as_text=True)
    assert metric(empty, "atmp_outbox_queue_depth") == 0
    assert metric(empty, "atmp_outbox_oldest_pending_age_seconds") == 0
    labels = '{endpoint="ops.health",method="GET"}'
    count = "atmp_http_request_duration_seconds_count"
    before = metric(empty, count, labels) if f"{count}{labels}" in empty else 0  # counted per process

    outbox.enqueue("a@exemple.fr", "Premier", "Texte", kind="test")
    outbox.enqueue("b@exemple.fr", "Second", "Texte", kind="test")
    outbox.enqueue("c@exemple.fr", "Échoué", "Texte", kind="test")
    db.session.flush()
    messages = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    messages[0].created_at = utcnow() - timedelta(minutes=7)
    messages[2].status = OutboxStatus.FAILED
    db.session.commit()
    for _ in range(3):
        assert client.get("/sante").status_code == 200

    response = client.get("/metrics", headers=auth)
    assert response.status_code == 200
    assert response.mimetype == "text/plain" and "version=0.0.4" in response.headers["Content-Type"]
    body = response.get_data(as_text=True)
    assert "# TYPE atmp_outbox_queue_depth gauge" in body
    assert metric(body, "atmp_outbox_queue_depth") == 2
    assert 7 * 60 <= metric(body, "atmp_outbox_oldest_pending_age_seconds") < 8 * 60
    assert metric(body, "atmp_outbox_failed") == 1
    assert metric(body, "atmp_dat_receipts_pending") == 0
    assert "# TYPE atmp_http_request_duration_seconds histogram" in body
    assert metric(body, count, labels) == before + 3
    inf = '{endpoint="ops.health",method="GET",le="+Inf"}'
    assert metric(body, "atmp_http_request_duration_seconds_bucket", inf) == metric(
        body, "atmp_http_request_duration_seconds_count", labels
    )
