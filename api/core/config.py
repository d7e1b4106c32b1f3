"""Service settings from the environment (pydantic-settings), read once through `get_settings()`.

There is deliberately no module-level settings instance: the app and the CLI call `get_settings()`
(cached), and tests override the `get_settings` dependency or pass their own `Settings` to
`create_app`.
"""

from __future__ import annotations

import os
import secrets
import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def user_data_dir() -> Path:
    """Where chunyun keeps its database by default: the platform's per-user data directory.

    `CHUNYUN_DATA_DIR` wins; then %LOCALAPPDATA%\\chunyun on Windows,
    ~/Library/Application Support/chunyun on macOS and $XDG_DATA_HOME/chunyun
    (~/.local/share/chunyun) elsewhere.
    """
    explicit = os.environ.get("CHUNYUN_DATA_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "chunyun"


def default_database_url() -> str:
    """The embedded default: a SQLite file `chunyun.db` in the user's data directory."""
    return f"sqlite:///{user_data_dir() / 'chunyun.db'}"


class Settings(BaseSettings):
    """Everything the service reads from its environment (or a `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    # DATABASE_URL, e.g. postgresql+psycopg://user@host:5432/chunyun; default: SQLite file.
    database_url: str = Field(default_factory=default_database_url)
    # Signs access tokens. Unset: a random key per process (tokens end with a restart); set
    # CHUNYUN_SECRET_KEY when running several server processes or to keep sessions over restarts.
    secret_key: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32), alias="CHUNYUN_SECRET_KEY"
    )
    access_token_minutes: int = Field(default=8 * 60, alias="CHUNYUN_TOKEN_MINUTES")
    # Solver time for a planning job started without an explicit time limit.
    plan_time_limit_s: float = Field(default=60.0, alias="CHUNYUN_PLAN_TIME_LIMIT_S")
    # Planning jobs (api/jobs.py). `chunyun serve` runs a worker in its own process unless this
    # is false (`serve --no-worker`): then `chunyun worker` processes on any machine do the jobs.
    in_process_worker: bool = Field(default=True, alias="CHUNYUN_IN_PROCESS_WORKER")
    # Jobs one worker process runs at once.
    job_slots: int = Field(default=2, ge=1, le=64, alias="CHUNYUN_JOB_SLOTS")
    # A running job's lease (seconds): its worker renews it every third of this; a job whose
    # worker stopped renewing is re-queued after it runs out, at most `job_max_attempts` claims.
    job_lease_s: float = Field(default=30.0, gt=0, alias="CHUNYUN_JOB_LEASE_S")
    job_max_attempts: int = Field(default=2, ge=1, le=20, alias="CHUNYUN_JOB_MAX_ATTEMPTS")
    # Seconds an idle worker waits before it looks for queued jobs again.
    job_poll_s: float = Field(default=2.0, gt=0, alias="CHUNYUN_JOB_POLL_S")
    # A Dask scheduler (tcp://host:8786) whose workers solve the routing parts of every job
    # this process's worker runs; unset: the solver's own processes.
    dask_scheduler: str | None = Field(default=None, alias="CHUNYUN_DASK_SCHEDULER")
    # Fleet sizing answers while the caller waits: its planning time is capped at this many
    # seconds, and at most `fleet_size_concurrency` run at once per process (then 503).
    fleet_size_max_s: float = Field(default=120.0, gt=0, alias="CHUNYUN_FLEET_SIZE_MAX_S")
    fleet_size_concurrency: int = Field(
        default=2, ge=1, le=64, alias="CHUNYUN_FLEET_SIZE_CONCURRENCY"
    )
    # Largest accepted upload (bytes): a season's workbook is a few MB at most.
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, alias="CHUNYUN_MAX_UPLOAD_BYTES")
    # Largest accepted body of any other request (JSON, forms), refused before it is read.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, alias="CHUNYUN_MAX_BODY_BYTES")
    # Rows one upload may hold: a large employer has a few thousand people; a city ~20,000.
    max_upload_rows: int = Field(default=50_000, alias="CHUNYUN_MAX_UPLOAD_ROWS")
    # An XLSX may unpack to at most this many bytes (a zip bomb is refused before parsing).
    max_xlsx_unpacked_bytes: int = Field(
        default=200 * 1024 * 1024, alias="CHUNYUN_MAX_XLSX_UNPACKED_BYTES"
    )
    # Seconds an upload may take to be read into a table before it is refused.
    upload_parse_seconds: float = Field(default=60.0, alias="CHUNYUN_UPLOAD_PARSE_SECONDS")

    # Threads that run requests touching the database (one connection each while they run).
    worker_threads: int = Field(default=8, ge=1, le=256, alias="CHUNYUN_WORKER_THREADS")
    # Connections kept open; default: one per worker thread (see docs/api.md, "Capacity").
    db_pool_size: int | None = Field(default=None, ge=1, alias="CHUNYUN_DB_POOL_SIZE")
    # Extra connections for planning jobs and commits finishing after their request thread.
    db_max_overflow: int | None = Field(default=None, ge=0, alias="CHUNYUN_DB_MAX_OVERFLOW")
    # Seconds a request waits for a free connection before it gets 503 + Retry-After.
    db_pool_timeout_s: float = Field(default=15.0, gt=0, alias="CHUNYUN_DB_POOL_TIMEOUT_S")
    # Seconds a SQLite writer waits for the database lock before it gets 503 + Retry-After.
    sqlite_busy_timeout_s: float = Field(default=30.0, gt=0, alias="CHUNYUN_SQLITE_BUSY_TIMEOUT_S")

    # Sign-in throttling: failed attempts per user name and per client address in a window.
    login_failures_per_user: int = Field(default=10, ge=1, alias="CHUNYUN_LOGIN_FAILURES_PER_USER")
    login_failures_per_address: int = Field(
        default=50, ge=1, alias="CHUNYUN_LOGIN_FAILURES_PER_ADDRESS"
    )
    login_window_minutes: int = Field(default=15, ge=1, alias="CHUNYUN_LOGIN_WINDOW_MINUTES")
    # Where the throttle counts: "database" (default, shared by every server process on the
    # same database), "memory://" (one process) or a `limits` storage URI such as redis://host.
    rate_limit_storage: str = Field(default="database", alias="CHUNYUN_RATE_LIMIT_STORAGE")

    @property
    def pool_size(self) -> int:
        """Connections kept open: `db_pool_size`, else one per worker thread."""
        return self.db_pool_size or self.worker_threads

    @property
    def max_overflow(self) -> int:
        """Connections opened beyond the pool at peaks: `db_max_overflow`, else half the pool."""
        return self.db_max_overflow if self.db_max_overflow is not None else self.pool_size // 2 + 2


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
