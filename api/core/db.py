"""Database engine, sessions and migrations.

SQLite (the embedded default) and PostgreSQL (`DATABASE_URL`) are both first-class; the schema is
always built by the Alembic migrations shipped in `api/migrations`, never by `create_all`, so a
database made by the tests is the database a user gets.

Both engines hide SQL parameters from logs and error messages (they hold ID numbers and phones),
and both are sized for the service's worker threads: a request that cannot get a connection in
time gets 503 with Retry-After (api/errors.py), never a hang.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

# Defaults for callers without settings (CLI commands, tests): small, since they run alone.
DEFAULT_POOL_SIZE = 5
DEFAULT_MAX_OVERFLOW = 5
DEFAULT_POOL_TIMEOUT_S = 15.0
DEFAULT_BUSY_TIMEOUT_S = 30.0


def make_engine(
    database_url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    pool_timeout_s: float = DEFAULT_POOL_TIMEOUT_S,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
) -> Engine:
    """An engine for `database_url` with a bounded connection pool.

    PostgreSQL: lock waits end after `busy_timeout_s` (an error, not a hang). SQLite: WAL (readers
    never block the writer), foreign keys on, and every transaction starts with BEGIN IMMEDIATE,
    so writers queue for the one write lock (up to `busy_timeout_s`) instead of failing when a
    read turns into a write; the file's directory is created.
    """
    url = make_url(database_url)
    pool = {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_timeout": pool_timeout_s,
        # SQL parameters are personal data: never in logs or exception messages.
        "hide_parameters": True,
    }
    if url.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, **pool)
        lock_timeout_ms = int(busy_timeout_s * 1000)

        @event.listens_for(engine, "connect")
        def _postgres_timeouts(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET lock_timeout = {lock_timeout_ms}")
            cursor.execute(f"SET idle_in_transaction_session_timeout = {10 * lock_timeout_ms}")
            cursor.close()
            dbapi_connection.commit()

        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # Planning jobs and request threads share the pool: connections must cross threads.
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
        **pool,
    )

    gate = WriteGate(busy_timeout_s)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions itself: "begin" below decides how they start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(WRITE_OPTION):
            # Readers never wait in WAL mode: a plain (deferred) transaction.
            connection.exec_driver_sql("BEGIN")
            return
        # A deferred transaction that reads, then writes, fails at once with "database is
        # locked" when another writer committed meanwhile; a writer takes the lock first. In
        # this process writers queue on a lock of our own, in turn, instead of SQLite's
        # sleep-and-retry, which lets some wait past any timeout while others go first.
        gate.enter(connection.connection.dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.leave(connection.connection.dbapi_connection)
            raise

    def _end(connection: Any) -> None:
        gate.leave(connection.connection.dbapi_connection)

    event.listen(engine, "commit", _end)
    event.listen(engine, "rollback", _end)

    @event.listens_for(engine.pool, "checkin")
    def _checkin(dbapi_connection: Any, _record: Any) -> None:
        gate.leave(dbapi_connection)

    @event.listens_for(engine.pool, "close")
    def _close(dbapi_connection: Any, _record: Any) -> None:
        gate.leave(dbapi_connection)

    return engine


# Execution option that makes a SQLite transaction a writer (BEGIN IMMEDIATE, in turn).
WRITE_OPTION = "chunyun_write"


class WriteGate:
    """One SQLite writer at a time in this process, waiting in turn for at most `timeout_s`;
    a wait beyond it is the "database is locked" error (503 + Retry-After)."""

    def __init__(self, timeout_s: float) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None
        self.timeout_s = timeout_s

    def enter(self, dbapi_connection: Any) -> None:
        if not self._lock.acquire(timeout=self.timeout_s):
            raise sa_exc.OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            )
        self._holder = id(dbapi_connection)

    def leave(self, dbapi_connection: Any) -> None:
        # Called on commit, rollback, check-in and close alike: only the holder releases.
        if self._holder is not None and self._holder == id(dbapi_connection):
            self._holder = None
            self._lock.release()


def make_session_factory(engine: Engine, *, write: bool = True) -> sessionmaker[Session]:
    """Sessions bound to `engine` that keep loaded values after commit (responses read them).

    `write` sessions start their transactions as writers (on SQLite: BEGIN IMMEDIATE, one at a
    time); read sessions (`write=False`) start plain transactions that never wait, for GET
    requests and sign-in checks. On PostgreSQL both are the same."""
    bind = engine.execution_options(**{WRITE_OPTION: write})
    return sessionmaker(bind, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Make sure `session` writes in a writer's transaction: a read session (a GET that must
    write after all, e.g. an audit entry) ends its read transaction and starts a writer's, so
    it never upgrades a read transaction. A write session is left as it is."""
    if session.get_bind().get_execution_options().get(WRITE_OPTION):
        return
    session.commit()
    session.connection(execution_options={WRITE_OPTION: True})


def migrate(engine: Engine) -> None:
    """Bring the database behind `engine` to the newest schema (Alembic `upgrade head`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_sqlite(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite"


def describe(engine: Engine) -> str:
    """The database in words for start-up messages, without the password."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return f"{url.get_backend_name()} {url.render_as_string(hide_password=True)}"
