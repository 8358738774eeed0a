"""Background commands (`flask outbox work`, `flask dat remind`, `flask drafts expire`) run as real
processes against the test's database, the way `make run` starts them."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from flask import current_app

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).with_name("flask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(
    port: int, process: subprocess.Popen, path: str = "/sante", timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server stopped (exit code {process.returncode})"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answers on port {port}")


def start_command(*args: str, application_name: str | None = None, **settings) -> subprocess.Popen:
    """Start ``flask <args>`` on the current app's database; ``settings`` become environment
    variables. ``application_name`` names its PostgreSQL connections (pg_stat_activity)."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if application_name:
        url += f"{'&' if '?' in url else '?'}application_name={application_name}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "PYTHONUNBUFFERED": "1",
        **{name: str(value) for name, value in settings.items()},
    }
    return subprocess.Popen(
        [str(FLASK), "--app", "wsgi.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen) -> tuple[str, str]:
    """Stop a command (SIGTERM, then SIGKILL); return what it wrote (stdout, stderr)."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.communicate()


def wait_until(condition, timeout: float, what: str, process: subprocess.Popen | None = None):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds, or at once
    when ``process`` has exited (with what it wrote)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the command exited ({process.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
