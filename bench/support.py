"""Shared pieces of the benchmarks (run by hand, see docs/performance.md): a fresh database,
gunicorn, a counting SMTP sink in its own process, a tiny keep-alive HTTP client."""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# The benchmarks run the development configuration (its key, in-process rate-limit counters);
# production is the default (app/config.py). Set here so the gunicorn processes inherit it too.
os.environ.setdefault("APP_ENV", "development")
VENV_BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))


def fresh_database(url: str, storage: Path) -> None:
    """An empty database at ``url`` with the schema from the migrations, and empty storage."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from app import create_app
    from app.extensions import db

    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    else:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(storage, ignore_errors=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": str(storage)})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def app_env(url: str, storage: Path, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "STORAGE_DIR": str(storage),
        "RATELIMIT_ENABLED": "false",
        "FLASK_APP": "wsgi.py",
        "DEV_MAIL_PAGE": "false",
        **{k: str(v) for k, v in extra.items()},
    }


def migrate_and_run(env: dict, script: str) -> list[str]:
    """Migrate the database ``env`` names, then run ``script`` (Python, from the project's root, with
    ``env``): the lines it printed. How each benchmark seeds its data."""
    run = {"env": env, "check": True, "capture_output": True, "cwd": ROOT}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], **run)
    return subprocess.run([sys.executable, "-c", script], text=True, **run).stdout.splitlines()


def wait_for(port: int, path: str = "/sante", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def start_gunicorn(
    env: dict,
    port: int,
    workers: int,
    threads: int = 4,
    access_log: Path | None = None,
    *,
    app: str = "wsgi:app",
    log_format: str = "%(m)s|%(U)s|%(q)s|%(s)s|%(D)s",
):
    """gunicorn serving ``app`` on loopback, with the project's gunicorn.conf.py (read from ROOT) or
    the file named by BENCH_GUNICORN_CONFIG; returns once it answers."""
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "60",
        "--log-level",
        "warning",
    ]
    if os.environ.get("BENCH_GUNICORN_CONFIG"):
        args += ["--config", os.environ["BENCH_GUNICORN_CONFIG"]]
    if access_log is not None:
        # %(D)s: the server's time for the request, in microseconds.
        args += ["--access-logfile", str(access_log), "--access-logformat", log_format]
    process = subprocess.Popen([*args, app], cwd=ROOT, env=env)
    wait_for(port)
    return process


def start_sink(port: int, out: Path):
    """A real SMTP server in its own process; one line per delivered message: its X-Outbox-Id."""
    out.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, __file__, "sink", "--port", str(port), "--out", str(out)], cwd=ROOT
    )
    deadline = time.monotonic() + 20
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return process


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data, media_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {media_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client:
    """A keep-alive HTTP client with a cookie jar of one session (enough for our pages)."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), data

    def login(self, email: str, password: str) -> None:
        import re

        _, _, page = self.request("GET", "/connexion")
        token = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1).decode()
        from urllib.parse import urlencode

        body = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        status, _, _ = self.request(
            "POST", "/connexion", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status not in (302, 303):
            raise RuntimeError(f"login failed: {status}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def _sink(port: int, out: Path) -> None:
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    from app.mailsink import serve_forever

    class Handler:
        def __init__(self):
            self.file = out.open("a", buffering=1)

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
            headers = envelope.original_content.split(b"\r\n\r\n", 1)[0]
            outbox_id = message_from_bytes(headers + b"\r\n\r\n")["X-Outbox-Id"]
            for rcpt in envelope.rcpt_tos:
                self.file.write(f"{outbox_id} {rcpt}\n")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    out.touch()
    serve_forever(controller)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["sink"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on terminate()
    _sink(arguments.port, arguments.out)
