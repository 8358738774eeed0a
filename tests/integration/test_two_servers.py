"""More than one machine (docs/deployment.md): two gunicorn application servers on two ports, in
production mode, over one PostgreSQL and one Redis, with two outbox workers — as two hosts would run
them. A session opened on one server works on the other, the sign-in limit counts across both, and a
LUCIE alert is e-mailed once whichever server took the deposit (a real SMTP server, aiosmtpd).

PostgreSQL only (SQLite is one file on one machine) and redis-server (`make redis`)."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from app.extensions import db
from app.services import outbox
from app.services.api_tokens import create_token
from tests.background_support import ROOT, free_port, stop, wait_until_answering
from tests.conftest import ON_POSTGRES
from tests.factories import PASSWORD
from tests.integration.test_gunicorn import redis_url  # noqa: F401 (a fixture)
from tests.lucie_support import make_mailbox, pdf

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="PostgreSQL only: several servers share a database server, not a file"
)


def wait_until(condition, timeout: float, what: str) -> None:
    """Poll ``condition`` until it is true (what an operator's next scrape would see); fail after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
METRICS_TOKEN = "jeton-de-supervision-0123456789"


class Server:
    def __init__(self, name: str, port: int, process: subprocess.Popen, home: Path):
        self.name, self.port, self.process, self.home = name, port, process, home

    def pids_of(self, path: str) -> set[str]:
        """The worker processes that answered ``path`` (gunicorn's access log)."""
        lines = (self.home / "access.log").read_text().splitlines()
        return {line.split()[0] for line in lines if line.split()[1:2] == [path]}

    def request(self, method: str, path: str, body=None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()


def start_server(name: str, tmp_path: Path, settings: dict, workers: int = 1) -> Server:
    port = free_port()
    runtime_dir = tmp_path / name
    runtime_dir.mkdir()
    env = {
        **os.environ,
        **settings,
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "METRICS_DIR": str(runtime_dir / "metrics"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--access-logfile",
            str(runtime_dir / "access.log"),
            "--access-logformat",
            "%(p)s %(U)s",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    return Server(name, port, process, runtime_dir)


def cookie_of(headers: dict) -> str:
    return headers["Set-Cookie"].split(";")[0]


@pytest.fixture
def servers(app, tmp_path, redis_url, smtp):  # noqa: F811 (the fixture imported above)
    """Servers A and B: the same settings (SECRET_KEY, DATABASE_URL, RATELIMIT_STORAGE_URI,
    STORAGE_DIR on shared storage), each its own port — as two machines behind a reverse proxy."""
    settings = {
        "APP_ENV": "production",
        "SECRET_KEY": "a-production-like-secret-key-shared-by-every-server-0123",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "STORAGE_DIR": app.config["STORAGE_DIR"],
        "RATELIMIT_STORAGE_URI": redis_url,
        "LOGIN_RATE_LIMIT": "3 per minute",
        "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback
        "BASE_URL": "http://atmp.localhost",
        "METRICS_TOKEN": METRICS_TOKEN,
        "HOME": str(tmp_path),
    }
    # A with two workers: its latency histogram must add up both (METRICS_DIR).
    pair = [start_server("a", tmp_path, settings, workers=2), start_server("b", tmp_path, settings)]
    try:
        for server in pair:
            wait_until_answering(server.port, server.process)
        yield pair
    finally:
        for server in pair:
            stop(server.process)


@pytest.fixture
def people(app):
    box = make_mailbox()
    token = create_token(box.caisse.name)[1]
    db.session.commit()
    return {"box": box, "token": token}


def test_two_app_servers_share_sessions_rate_limits_and_send_each_alert_once(
    app, servers, people, smtp, mail_app
):
    a, b = servers
    box = people["box"]
    for server in servers:
        status, _, body = server.request("GET", "/sante")
        assert status == 200 and json.loads(body)["statut"] == "ok"

    # A session opened on A works on B.
    _, headers, page = a.request("GET", "/connexion")
    cookie, token = cookie_of(headers), CSRF_RE.search(page.decode()).group(1)
    form = {"email": box.reader.email, "password": PASSWORD, "csrf_token": token}
    post = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    status, headers, _ = a.request("POST", "/connexion", urlencode(form), post)
    assert status in (302, 303)
    signed_in = cookie_of(headers)
    status, _, home = b.request("GET", "/", headers={"Cookie": signed_in})
    assert status == 200, "B did not know the session opened on A"
    assert box.reader.full_name in home.decode()

    # The sign-in limit (3 a minute from this address; the sign-in above was one) counts across
    # both: counted per server, B would have let a second and a third attempt through.
    _, headers, page = a.request("GET", "/connexion")
    anonymous = {"Cookie": cookie_of(headers), "Content-Type": "application/x-www-form-urlencoded"}
    wrong = urlencode(
        {
            "email": "personne@exemple.fr",
            "password": "pas-le-bon",
            "csrf_token": CSRF_RE.search(page.decode())[1],
        }
    )
    statuses = [server.request("POST", "/connexion", wrong, anonymous)[0] for server in (b, a)]
    assert statuses == [422] * 2  # the CSRF token of A's page is good on B: one SECRET_KEY
    assert b.request("POST", "/connexion", wrong, anonymous)[0] == 429
    assert a.request("POST", "/connexion", wrong, anonymous)[0] == 429

    # Deposits through either server; the same Idempotency-Key replayed on B is the same letter.
    def deposit(server: Server, key: str, title: str):
        boundary = "----frontiere"
        fields = {"siret": box.establishment.siret, "type": "notification_taux", "titre": title}
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        ]
        body = (
            "".join(parts).encode()
            + (
                f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; filename="c.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + pdf(title)
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            "Authorization": f"Bearer {people['token']}",
            "Idempotency-Key": key,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        status, response_headers, answer = server.request("POST", "/api/v1/courriers", body, headers)
        assert status == 201, answer
        return json.loads(answer)["id"], response_headers.get("Idempotent-Replayed")

    first, _ = deposit(a, "depot-1", "Taux 2027")
    replayed, was_replayed = deposit(b, "depot-1", "Taux 2027")
    second, _ = deposit(b, "depot-2", "Taux 2028")
    assert replayed == first and was_replayed == "true" and second != first

    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    metrics = b.request("GET", "/metrics", headers=auth)[2].decode()
    assert "atmp_outbox_queue_depth 2" in metrics.splitlines()

    # A's latency histogram counts the requests of both its workers, whichever answers the scrape.
    count = re.compile(
        r'^atmp_http_request_duration_seconds_count\{endpoint="main.accessibility",method="GET"\} (\d+)$',
        re.M,
    )

    def accessibility_pages_counted() -> int:
        found = count.search(a.request("GET", "/metrics", headers=auth)[2].decode())
        return int(found[1]) if found else 0

    with ThreadPoolExecutor(max_workers=8) as pool:  # at once, so that both workers take some
        assert set(pool.map(lambda _: a.request("GET", "/accessibilite")[0], range(16))) == {200}
    assert len(a.pids_of("/accessibilite")) == 2, "the pages should reach both workers"
    wait_until(lambda: accessibility_pages_counted() == 16, 10, "16 pages counted by A's /metrics")

    # Two outbox workers against one SMTP server (two hosts; the processes themselves are proven in
    # test_background_faults.py and test_outbox_claims.py): each alert once.
    errors = []

    def work(name: str) -> None:
        with mail_app.app_context():
            try:
                while outbox.send_due(batch=1, worker=name)[0]:
                    pass
            except BaseException as error:  # noqa: BLE001 — reported by the assertion below
                errors.append(error)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work, args=(f"hote-{n}",)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    links = sorted(
        int(re.search(r"/courriers/(\d+)", message.get_body().get_content())[1])
        for _, message in smtp.messages
    )
    assert links == sorted([first, second])
    assert [rcpt for rcpt, _ in smtp.messages] == [box.reader.email] * 2
    assert "atmp_outbox_queue_depth 0" in a.request("GET", "/metrics", headers=auth)[2].decode().splitlines()
