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
    # Largest accepted upload (bytes): a season's workbook is a few MB at most.
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, alias="CHUNYUN_MAX_UPLOAD_BYTES")


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
