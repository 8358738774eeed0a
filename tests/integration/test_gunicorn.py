"""The application as production runs it: gunicorn with two workers (gunicorn.conf.py), the rate
limits in a real Redis shared by both (docs/security.md), French answers for addresses too long,
and no control socket shared with other instances."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.background_support import ROOT, free_port, stop, wait_until, wait_until_answering
from tests.conftest import _fresh_database

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server on a free loopback port, keeping nothing on disk (`make redis` installs it)."""
    assert Path(REDIS).exists(), "redis-server is missing: `make redis` installs it"
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path_factory.mktemp("redis")),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    stop(process)


class Gunicorn:
    def __init__(self, port: int, access_log: Path, home: Path):
        self.port, self.access_log, self.home = port, access_log, home

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode()

    def pids_of(self, path: str) -> list[str]:
        """The worker process that answered each request to ``path`` (gunicorn's access log)."""
        lines = self.access_log.read_text().splitlines()
        return [line.split()[0] for line in lines if line.split()[2:3] == [path]]


@pytest.fixture(scope="module")
def gunicorn(migrated_template, tmp_path_factory, redis_url):
    """`gunicorn -c gunicorn.conf.py wsgi:app` with two workers, in production mode (one server for
    the module: starting one takes seconds)."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "a-production-like-secret-key-0123456789abcdef",
        "DATABASE_URL": _fresh_database(migrated_template, tmp_path),
        "STORAGE_DIR": str(tmp_path / "storage"),
        "RATELIMIT_STORAGE_URI": redis_url,
        "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "HOME": str(tmp_path),
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
            "2",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %(s)s %(U)s",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_until_answering(port, process)
        yield Gunicorn(port, access_log, tmp_path)
    finally:
        stop(process)


def test_the_sign_in_limit_holds_across_two_gunicorn_workers(gunicorn):
    """10 attempts a minute per address: the workers count together in Redis. Before, each worker
    counted its own, and 25 attempts in 9.5 s got only 7 refusals."""
    status, headers, page = gunicorn.request("GET", "/connexion")
    cookie = next(value.split(";")[0] for name, value in headers if name.lower() == "set-cookie")
    token = CSRF_RE.search(page).group(1)
    form = urlencode({"email": "personne@exemple.fr", "password": "pas-le-bon-mot", "csrf_token": token})
    post_headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}

    def attempt(_):
        return gunicorn.request("POST", "/connexion", form, post_headers)[0]

    with ThreadPoolExecutor(max_workers=10) as pool:  # at once, so that both workers take some
        statuses = list(pool.map(attempt, range(10)))
    assert statuses == [422] * 10
    assert len(set(gunicorn.pids_of("/connexion")[1:])) == 2, "the attempts should reach both workers"

    status, _, body = gunicorn.request("POST", "/connexion", form, post_headers)
    assert status == 429
    assert "Trop de tentatives" in body and 'lang="fr"' in body


def test_an_address_longer_than_ours_gets_a_french_414_from_the_application(gunicorn):
    status, _, body = gunicorn.request("GET", "/connexion?q=" + "a" * 5000)
    assert status == 414
    assert "Adresse trop longue" in body and "Services AT/MP" in body


def test_an_address_longer_than_gunicorn_accepts_gets_a_french_414_too(gunicorn):
    status, _, body = gunicorn.request("GET", "/connexion?q=" + "a" * 9000)
    assert status == 414
    assert "Adresse trop longue" in body and 'lang="fr"' in body
    assert "URI Too Long" not in body and "aaaa" not in body


def test_gunicorn_opens_no_control_socket_another_instance_would_share(gunicorn):
    """gunicorn ≥ 25.1 opens $XDG_RUNTIME_DIR/gunicorn.ctl (else ~/.gunicorn/gunicorn.ctl), one path
    for every instance of a user: gunicorn.conf.py turns it off."""
    assert list((gunicorn.home / "run").iterdir()) == []
    assert not (gunicorn.home / ".gunicorn").exists()


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


KNOCKS = 16  # connections a client opens in a round


def knock(port: int, stop: threading.Event) -> None:
    """Open connections and send a request on each, one after another, up to KNOCKS or until ``stop``."""
    for _ in range(KNOCKS):
        if stop.is_set():
            return
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as c:
            c.sendall(b"GET /sante HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")


def test_a_worker_told_to_quit_while_taking_connections_quits(migrated_template, tmp_path):
    """gthread's own quit handler shut its thread pool down from inside the signal handler; an order
    landing while the worker's main thread handed a connection to that pool (holding the pool's lock)
    waited for that lock forever, until the master's graceful timeout (30 s; gunicorn.conf.py,
    `quit_once`). Ctrl-C in a terminal also reaches each worker twice, from the terminal and from the
    master, and the second order re-entered the first. Here a fresh worker with 64 threads still to
    start (each connection it takes then starts one, the widest form of that moment) takes connections
    from eight clients while it gets SIGINT over and over for 50 ms, six times (the master starts a new
    worker each time): each must end at once. `--preload` makes a new worker quick to start, and a
    backlog of 64 leaves the next one few connections to answer. Before the fix, most runs of this
    test failed (11 in 16)."""
    port = free_port()
    database = _fresh_database(migrated_template, tmp_path)
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database}
    server = ["--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    options = ["--threads", "64", "--backlog", "64", "--preload"]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *server, *options, "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a group of its own: a hung worker is killed with it at the end
    )
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    try:
        for _ in range(6):
            wait_until_answering(port, process)  # one worker: the one that answered, booted
            worker = int(children.read_text().split()[0])
            stop_knocking = threading.Event()
            with ThreadPoolExecutor(8) as clients:
                for _ in range(8):
                    clients.submit(knock, port, stop_knocking)
                time.sleep(0.05)
                until = time.monotonic() + 0.05
                while time.monotonic() < until and not gone(worker):
                    with contextlib.suppress(ProcessLookupError):  # it ended between the two
                        os.kill(worker, signal.SIGINT)
                stop_knocking.set()
            wait_until(lambda worker=worker: gone(worker), 10, f"the end of worker {worker}", process)
    finally:
        stop(process)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
