"""A real `uvicorn` server on loopback for tests and benchmarks that need real concurrency:
requests from several threads reach one server process exactly as clerks' browsers would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from api import crud, schemas
from api.core.db import make_engine, make_session_factory, migrate

SECRET = "live-server-secret-key-of-at-least-32-bytes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def add_dispatcher(database_url: str, username: str, password: str) -> None:
    """A dispatcher account straight in the database (the server migrates it again: harmless)."""
    engine = make_engine(database_url)
    migrate(engine)
    with make_session_factory(engine).begin() as session:
        if crud.get_user_by_username(session, username=username) is None:
            crud.create_user(
                session,
                user_in=schemas.UserCreate(username=username, password=password, role="dispatcher"),
            )
    engine.dispose()


@contextmanager
def live_server(database_url: str, log_file: Path, **environment: str) -> Iterator[str]:
    """`uvicorn api.main:create_app` on a free loopback port; yields its base URL and stops it
    (SIGTERM, then SIGKILL after 20 s) at the end. Its log goes to `log_file`."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHUNYUN_SECRET_KEY": SECRET,
        **environment,
    }
    command = [
        sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "info",
        "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip
    with log_file.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log_file.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def token(base: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/auth/token", data={"username": username, "password": password}, timeout=30
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(r[k]) for k in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()
