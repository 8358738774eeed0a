"""Background commands and database faults: `flask outbox work`, `flask dat remind --every N` and
`flask drafts expire --every N`, run as real processes, survive PostgreSQL dropping their connection
(`pg_terminate_backend`, as a restart or a failover does) and go on with their work; between runs
they hold no transaction open (an old one blocks vacuum). The commands run without the pool's
pre-ping, so that the dropped connection fails a statement, as it does mid-run."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from app.extensions import db
from app.models import Draft, OutboxMessage
from app.models.types import utcnow
from app.services import outbox
from app.services.dat import REMINDER_KIND
from app.services.draft_retention import WARNING_KIND
from tests.background_support import start_command, stop, wait_until
from tests.conftest import ON_POSTGRES
from tests.dat_support import valid_answers

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="PostgreSQL only: SQLite has no server that drops a connection, and no vacuum that a "
    "transaction left open would block",
)

# Without the pre-ping a dropped connection fails the next statement: what the loop must survive.
NO_PRE_PING = {"DATABASE_POOL_PRE_PING": "0"}


@pytest.fixture
def postgres(app):
    """A connection of the test's own, outside the application's pool."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def connections(postgres, name: str) -> list[str]:
    """The states of the connections of the process named ``name``."""
    query = text("SELECT state FROM pg_stat_activity WHERE application_name = :name")
    return list(postgres.execute(query, {"name": name}).scalars())


def terminate(postgres, name: str) -> int:
    query = text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name"
    )
    return postgres.execute(query, {"name": name}).scalar()


# Seconds a command sleeps between runs in these tests. A transaction held across that sleep stays idle
# for nearly all of it; one idle for three quarters of it is not the pause between two statements of a
# run, however loaded the machine (a 0.3-second bound failed on a load average of 10 with nothing held).
BETWEEN_RUNS = 2


def assert_no_transaction_held_between_runs(postgres, name: str) -> None:
    """For two pauses between runs, none of the command's connections stays idle in a transaction
    for three quarters of a pause."""
    held = text(
        "SELECT now() - xact_start FROM pg_stat_activity WHERE application_name = :name "
        "AND state LIKE 'idle in transaction%' AND now() - state_change > make_interval(secs => :bound)"
    )
    seen = []
    for _ in range(BETWEEN_RUNS * 2 * 10):
        seen += postgres.execute(held, {"name": name, "bound": BETWEEN_RUNS * 0.75}).scalars().all()
        time.sleep(0.1)
    assert seen == [], f"{name} held a transaction open between runs"


def queued(kind: str, related_id: int | None = None) -> int:
    db.session.rollback()
    query = select(OutboxMessage.id).where(OutboxMessage.kind == kind)
    if related_id is not None:
        query = query.where(OutboxMessage.related_id == related_id)
    return len(db.session.scalars(query).all())


def test_the_outbox_worker_survives_a_dropped_connection_and_sends_the_next_alerts(mail_app, smtp, postgres):
    outbox.enqueue("avant@test.example", "Avant", "Corps", kind="test")
    db.session.commit()
    worker = start_command(
        "outbox",
        "work",
        "--interval",
        str(BETWEEN_RUNS),
        application_name="faults_outbox",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
        **NO_PRE_PING,
    )
    try:
        wait_until(lambda: smtp.to("avant@test.example"), 60, "the first alert", worker)
        wait_until(lambda: connections(postgres, "faults_outbox"), 10, "the worker's connection", worker)
        assert terminate(postgres, "faults_outbox") >= 1
        outbox.enqueue("apres@test.example", "Après", "Corps", kind="test")
        db.session.commit()
        wait_until(lambda: smtp.to("apres@test.example"), 30, "the alert queued after the fault", worker)
        assert_no_transaction_held_between_runs(postgres, "faults_outbox")
        assert worker.poll() is None
    finally:
        _, errors = stop(worker)
    assert len(smtp.messages) == 2
    faults = [line for line in errors.splitlines() if "base de données" in line]
    assert len(faults) >= 1, errors  # told, in one line per fault
    assert "Traceback" not in errors


def test_dat_reminders_survive_a_dropped_connection_and_remind_the_drafts_that_come_after(
    declarant, world, postgres
):
    reminders = start_command(
        "dat",
        "remind",
        "--every",
        str(BETWEEN_RUNS),
        application_name="faults_remind",
        DAT_REMINDER_HOURS=240,
        **NO_PRE_PING,
    )
    try:
        wait_until(lambda: connections(postgres, "faults_remind"), 60, "a first round", reminders)
        assert terminate(postgres, "faults_remind") >= 1
        draft_id = declarant.start(world.metz)
        declarant.fill(draft_id, valid_answers(), until="temoins")
        wait_until(lambda: queued(REMINDER_KIND, draft_id), 30, "the draft's reminder", reminders)
        assert_no_transaction_held_between_runs(postgres, "faults_remind")
        assert reminders.poll() is None
    finally:
        stop(reminders)


def test_draft_expiry_survives_a_dropped_connection_and_warns_the_drafts_that_come_after(
    declarant, world, postgres
):
    expiry = start_command(
        "drafts", "expire", "--every", str(BETWEEN_RUNS), application_name="faults_expire", **NO_PRE_PING
    )
    try:
        wait_until(lambda: connections(postgres, "faults_expire"), 60, "a first round", expiry)
        assert terminate(postgres, "faults_expire") >= 1
        draft_id = declarant.start(world.metz)
        db.session.execute(
            update(Draft).where(Draft.id == draft_id).values(updated_at=utcnow() - timedelta(days=85))
        )
        db.session.commit()
        wait_until(lambda: queued(WARNING_KIND, draft_id), 30, "the draft's expiry warning", expiry)
        assert_no_transaction_held_between_runs(postgres, "faults_expire")
        assert expiry.poll() is None
    finally:
        stop(expiry)
