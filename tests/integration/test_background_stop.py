"""Ctrl-C stops a background command as SIGTERM does (app/cli/background.py): the outbox worker ends
the batch it is sending, records every message it handed to the SMTP server and says how many it sent;
a second Ctrl-C interrupts it at once. Run as a real process against a real SMTP server that takes its
time for each message. And `make run` stops whole: on Ctrl-C, or when gunicorn cannot start, every
process it started ends. On both databases (DATABASE_URL picks)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.services import outbox
from tests.background_support import ROOT, free_port, start_command, stop, wait_until, wait_until_answering

SMTP_DELAY = 0.3  # seconds the SMTP server takes for each message
BATCH = 10  # one batch: 3 s of sending


def worker_sending_a_batch(smtp):
    """A worker started on ten queued alerts, caught in the middle of its one batch."""
    smtp.delay = SMTP_DELAY
    for i in range(BATCH):
        outbox.enqueue(f"alerte{i}@test.example", f"Objet {i}", "Corps", kind="test")
    db.session.commit()
    worker = start_command(
        "outbox", "work", "--batch", str(BATCH), MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port
    )
    wait_until(lambda: len(smtp.messages) >= 2, 60, "two messages from the worker", worker)
    return worker


def delivered(smtp) -> Counter:
    return Counter(int(message["X-Outbox-Id"]) for _, message in smtp.messages)


def not_sent() -> int:
    db.session.remove()
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT)
    return db.session.scalar(query)


def test_ctrl_c_lets_the_outbox_worker_finish_its_batch_and_record_it(mail_app, smtp):
    worker = worker_sending_a_batch(smtp)
    try:
        worker.send_signal(signal.SIGINT)
        out, err = worker.communicate(timeout=30)
    finally:
        stop(worker)
    assert worker.returncode == 0, err
    assert "Traceback" not in err and "Aborted" not in err, err
    assert out.strip().splitlines()[-1] == f"{BATCH} courriel(s) envoyé(s)"
    assert delivered(smtp) == Counter(range(1, BATCH + 1))  # each once
    assert not_sent() == 0  # every message handed to the server is recorded: none would go twice


def test_a_second_ctrl_c_interrupts_the_batch(mail_app, smtp):
    worker = worker_sending_a_batch(smtp)
    try:
        worker.send_signal(signal.SIGINT)
        time.sleep(SMTP_DELAY)
        worker.send_signal(signal.SIGINT)
        worker.communicate(timeout=30)
    finally:
        stop(worker)
    assert worker.returncode != 0
    assert sum(delivered(smtp).values()) < BATCH  # it did not wait for the batch's end


def group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def make_run(app, tmp_path):
    """Starts `make run` with its demo data left out, on the test's database, in a process group of its
    own as a terminal gives a command; whatever is left of the group is killed at the end."""
    started: list[subprocess.Popen] = []

    def start(port: int) -> subprocess.Popen:
        database = app.config["SQLALCHEMY_DATABASE_URI"]
        env = {**os.environ, "DATABASE_URL": database, "MAIL_SINK_DIR": str(tmp_path)}
        ports = [f"PORT={port}", f"MAIL_PORT={free_port()}"]
        command = ["make", "--no-print-directory", "run", "-o", "demo", *ports]
        started.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        )
        return started[-1]

    yield start
    for make in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGKILL)
        stop(make)


def ended_whole(make: subprocess.Popen) -> str:
    """Waits for ``make`` and every process it started; returns what it wrote on stderr."""
    _, err = make.communicate(timeout=30)
    wait_until(lambda: group_gone(make.pid), 15, "the end of every process make run started")
    assert "Segmentation fault" not in err and "Traceback" not in err, err
    return err


def test_ctrl_c_stops_make_run_and_all_it_started(make_run):
    """A terminal's Ctrl-C is SIGINT to the whole group. Everything `make run` started ends, and nothing
    crashes on the way (its trap once signalled the shell itself until bash died of it)."""
    port = free_port()
    make = make_run(port)
    wait_until_answering(port, make)
    time.sleep(1)  # the background commands past their start
    os.killpg(make.pid, signal.SIGINT)
    ended_whole(make)


def test_make_run_stops_its_background_commands_when_gunicorn_cannot_start(make_run):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        make = make_run(taken.getsockname()[1])
        err = ended_whole(make)
    assert make.returncode != 0
    assert "Address already in use" in err
