"""Database engine, sessions and migrations.

SQLite (the embedded default) and PostgreSQL (`DATABASE_URL`) are both first-class; the schema is
always built by the Alembic migrations shipped in `api/migrations`, never by `create_all`, so a
database made by the tests is the database a user gets.

Both engines hide SQL parameters from logs and error messages (they hold ID numbers and phones),
and both are sized for the service's worker threads: a request that cannot get a connection in
time gets 503 with Retry-After (api/errors.py), never a hang.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
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
        engine = create_engine(url, pool_pre_ping=True, **pool)  # type: ignore[arg-type]
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
        **pool,  # type: ignore[arg-type]
    )

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
    def _sqlite_begin_immediate(connection: Any) -> None:
        # A deferred transaction that reads, then writes, fails at once with "database is
        # locked" when another writer committed meanwhile; taking the write lock first makes
        # writers wait their turn (busy_timeout) instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine` that keep loaded values after commit (responses read them)."""
    return sessionmaker(engine, expire_on_commit=False)


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
