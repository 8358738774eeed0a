"""Flask extensions, created once and initialised in the application factory."""

import contextlib
import sqlite3
import threading

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay usable after commit without a reload: a request's session is short-lived, and a
# reload of the draft and the user after every save doubled the statements of a step save.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
compress = Compress()
# No global default limit: autosave posts often; limits are set per route (login, reset, API).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class ThreadSafeMemoryStorage(MemoryStorage):
    """limits' ``memory://`` store (development and the tests; production refuses it: app/config.py)
    with the fix of limits' pull request #352, merged after 5.8.0, its latest release: two threads
    counting a hit at once could both start the store's one expiry timer, and the second raised
    « threads can only be started once » — a 500 on a sign-in under `make run`'s threads (issue 11's
    load bench). Its expiry pass, too, no longer dies on a counter another thread removed (below).
    Registered for ``memory://`` in place of limits' own; tests/unit/test_rate_limit_store.py says when
    a release of limits no longer needs either."""

    STORAGE_SCHEME = ["memory"]  # noqa: RUF012 (limits' registry reads it from the class)

    def __init__(self, *args, **kwargs):
        self._timer_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (limits' private method, by its name)
        with self._timer_lock:
            super()._MemoryStorage__schedule_expiry()

    def _MemoryStorage__expire_events(self) -> None:  # noqa: N802 (limits' private method, by its name)
        """The timer's pass over expired counters, which limits runs unlocked: when a request's own
        expiry check (``get()``) removed a counter while the pass was reading it, the pass ended on a
        ``KeyError`` (« Exception in thread … »). That counter is gone already; the rest waits for the
        next pass, which the next hit schedules, and ``get()`` never counts an expired counter."""
        with contextlib.suppress(KeyError):
            super()._MemoryStorage__expire_events()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite, the embedded default, served by several gunicorn workers and the mail worker:
    WAL lets readers run beside a writer, busy_timeout waits for the lock instead of failing."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def ping_opens_the_transaction(engine: Engine) -> None:
    """PostgreSQL with psycopg: the pool's pre-ping (one round trip at each checkout, so that a
    connection the database dropped is replaced before a request uses it: app/config.py) sends
    ``BEGIN`` instead of an empty query. It checks the connection as well, and psycopg, finding the
    transaction open, no longer sends its own ``BEGIN`` before the request's first statement: one
    round trip less on every request that reads or writes (issue 11; a step save waited for eight,
    now seven). psycopg's ``BEGIN`` is this plain one unless an isolation level, read-only or
    deferrable mode is set on the connection: then, and for a connection in autocommit or already in a
    transaction, the usual ping runs."""
    dialect = engine.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return
    from psycopg import OperationalError, pq

    usual_ping = dialect.do_ping

    def do_ping(dbapi_connection) -> bool:
        if (
            dbapi_connection.autocommit
            or dbapi_connection.isolation_level is not None
            or dbapi_connection.read_only is not None
            or dbapi_connection.deferrable is not None
            or dbapi_connection.info.transaction_status != pq.TransactionStatus.IDLE
        ):
            return usual_ping(dbapi_connection)
        try:
            result = dbapi_connection.pgconn.exec_(b"BEGIN")
        except Exception as error:
            dbapi_connection.close()
            raise OperationalError(str(error)) from error
        if result.status != pq.ExecStatus.COMMAND_OK:
            # A plain BEGIN on an idle connection fails only when the connection is gone (the server
            # ended it: restart, pg_terminate_backend). Closed here, SQLAlchemy sees a disconnect and
            # replaces it before the request uses it, as with the usual ping.
            message = result.error_message or dbapi_connection.pgconn.get_error_message() or b"BEGIN failed"
            dbapi_connection.close()
            raise OperationalError(message.decode(errors="replace"))
        return True

    dialect.do_ping = do_ping

    # SQLAlchemy sets a connection's isolation level (an ``isolation_level`` execution option, e.g.
    # AUTOCOMMIT) before the connection's first transaction, which psycopg refuses inside one: end the
    # empty transaction the ping opened first (nothing ran in it).
    usual_set_isolation_level = dialect.set_isolation_level

    def set_isolation_level(dbapi_connection, level) -> None:
        if dbapi_connection.info.transaction_status == pq.TransactionStatus.INTRANS:
            dbapi_connection.rollback()
        usual_set_isolation_level(dbapi_connection, level)

    dialect.set_isolation_level = set_isolation_level
