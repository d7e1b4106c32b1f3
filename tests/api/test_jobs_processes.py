"""Planning jobs across real processes: a `chunyun worker` killed with SIGKILL mid-job leaves no
partial plan and its job is planned again by the next worker; two `chunyun serve --no-worker`
processes and one `chunyun worker` share one PostgreSQL database and plan a season."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api import crud, models
from api.core.db import make_engine, make_session_factory, migrate
from api.demo import load_scenario
from optimizer.read import read_scenario
from tests.api.conftest import SEASON, worker_row
from tests.api.live import SECRET, add_dispatcher, free_port, token

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
CHUNYUN = [sys.executable, "-c", "from api.cli import main; main()"]
# Short leases and polls, so a dead worker's job comes back within seconds.
QUEUE = {"CHUNYUN_JOB_LEASE_S": "2", "CHUNYUN_JOB_POLL_S": "0.2", "CHUNYUN_JOB_MAX_ATTEMPTS": "2"}


@contextmanager
def chunyun(
    log_file: Path, database_url: str, *arguments: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`chunyun ARGUMENTS` in its own process on `database_url`; ended (SIGTERM, then SIGKILL)
    at the end if still running."""
    env = {**os.environ, "DATABASE_URL": database_url, "CHUNYUN_SECRET_KEY": SECRET, **QUEUE}
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [*CHUNYUN, *arguments], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout_s} s")


# A worker process needs seconds to start on an idle machine (imports, migrations, its engine)
# and took over 30 s under load 11-15, so what a test waits for from a worker is counted from
# the worker's own start line. That line is waited for while the process lives; the bound is
# there only so that a hung start ends the test before pytest's timeout (900 s) does.
WORKER_START_S = 300.0


def wait_started(process: subprocess.Popen[bytes], log_file: Path) -> None:
    """Wait until the `chunyun worker` `process` has printed its start line to `log_file` (the
    line names the worker as host:pid:tag) and so runs its claim loop; fail at once, with the
    log, if the process ended first."""
    name = f"{socket.gethostname()}:{process.pid}:"

    def started() -> bool:
        text = log_file.read_text(encoding="utf-8", errors="replace")
        if process.poll() is not None:
            raise AssertionError(
                f"worker ended ({process.returncode}) before it started:\n" + text[-3000:]
            )
        return name in text

    wait_for(started, WORKER_START_S, f"worker {process.pid} starting")


def test_a_worker_killed_mid_job_leaves_no_partial_plan(database_url: str, tmp_path: Path) -> None:
    """SIGKILL a worker while it plans `small`: the job shows no trip; after the lease runs out
    the next worker re-queues and plans it (attempt 2), and the plan seats each worker once."""
    if not database_url.startswith("sqlite"):
        pytest.skip("one database is enough for this test; PostgreSQL has the serve test below")
    engine = make_engine(database_url)
    migrate(engine)
    factory = make_session_factory(engine)
    scenario = read_scenario(SCENARIOS / "small")
    with factory.begin() as session:
        load_scenario(session, scenario=scenario, employers=0)
        season = crud.resolve_season(session, name=scenario.name)
        user = crud.get_user_by_username(session, username="dispatcher")
        assert user is not None
        plan_id = crud.create_plan(session, season=season, user=user, time_limit_s=4).id
        registered = len(crud.list_workers(session, season=season))

    def row() -> models.Plan:
        with factory() as session:
            found = session.get(models.Plan, plan_id)
            assert found is not None
            return found

    def visible() -> tuple[int, int]:
        with factory() as session:
            trips = session.scalar(select(func.count()).where(models.Trip.plan_id == plan_id))
            seats = session.scalar(select(func.count()).where(models.Assignment.plan_id == plan_id))
            return int(trips or 0), int(seats or 0)

    log = tmp_path / "workers.log"
    with chunyun(log, database_url, "worker", "--slots", "1") as doomed:
        wait_started(doomed, log)
        wait_for(lambda: row().status == "running" and row().progress >= 0.2, 60, "the solve going")
        doomed.send_signal(signal.SIGKILL)
        assert doomed.wait(10) == -signal.SIGKILL
    killed = row()
    assert killed.status == "running" and killed.attempts == 1  # nobody has noticed yet
    assert visible() == (0, 0)
    with chunyun(log, database_url, "worker", "--slots", "1") as successor:
        # Running, its first claim-loop pass re-queues the job (its lease of 2 s ran out while
        # this worker started) and claims it: two small SQLite transactions, no solve.
        wait_started(successor, log)
        requeued = wait_for(lambda: row().attempts == 2 and row(), 60, "the re-queue")
        assert requeued.status in ("running", "succeeded")
        while row().status == "running":
            assert visible() == (0, 0)  # never a half-written plan
            time.sleep(0.05)
    done = row()
    assert done.status == "succeeded", (done.message, log.read_text()[-3000:])
    assert done.kpis is not None and done.kpis["seated"] > 0
    with factory() as session:
        keys = session.scalars(
            select(models.Assignment.worker_key).where(models.Assignment.plan_id == plan_id)
        ).all()
    assert len(keys) == len(set(keys)) == done.kpis["seated"]
    assert done.kpis["seated"] + done.kpis["unserved"] >= registered
    engine.dispose()


@pytest.mark.postgres
def test_two_servers_and_one_worker_on_postgresql_plan_a_season(
    database_url: str, tmp_path: Path
) -> None:
    """Two `chunyun serve --no-worker` and one `chunyun worker` on one PostgreSQL database:
    a plan started on one server is run by the worker, its progress shows on the other server,
    both keep answering, and both show the same finished plan."""
    if database_url.startswith("sqlite"):
        pytest.skip("the shared database under test is PostgreSQL")
    add_dispatcher(database_url, "dispatcher", "correct-horse-battery")
    ports = [free_port(), free_port()]
    log = tmp_path / "processes.log"
    with (
        chunyun(log, database_url, "serve", "--no-worker", "--port", str(ports[0])) as one,
        chunyun(log, database_url, "serve", "--no-worker", "--port", str(ports[1])) as two,
        chunyun(log, database_url, "worker") as worker,
    ):
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for server, base in zip((one, two), bases, strict=True):
            wait_serving(server, base, log)
        # The 60 s below are the job's (a 6 s solve), counted once the worker runs its claim
        # loop: under load a worker's start alone took over 30 s.
        wait_started(worker, log)
        headers = token(bases[0], "dispatcher", "correct-horse-battery")
        with (
            httpx.Client(headers=headers, timeout=30) as first,
            httpx.Client(headers=headers, timeout=30) as second,
        ):
            name = "two-servers"
            body = {**SEASON, "name": name, "solver": {"time_limit_s": 6}}
            assert first.post(f"{bases[0]}/api/seasons", json=body).status_code == 201
            gates = [{"company_id": "ALPHA", "name": "阿尔法", "lon": 121.24, "lat": 30.17}]
            fleet = [
                {"vehicle_type": "C53", "seats": 53, "count": 20, "cost_per_km": 8.0,
                 "fixed_cost": 1500},
            ]  # fmt: skip
            rows = [worker_row(n, company_id="ALPHA") for n in range(40)]
            for path, payload in (("companies", gates), ("fleet", fleet), ("workers", rows)):
                response = second.post(f"{bases[1]}/api/{path}?season={name}", json=payload)
                assert response.status_code == 200, response.text
            started = first.post(f"{bases[0]}/api/plans", json={"season": name})
            assert started.status_code == 202 and started.json()["status"] == "queued"
            plan_url = f"/api/plans/{started.json()['id']}"
            seen: list[dict[str, Any]] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                shown = second.get(bases[1] + plan_url).json()
                seen.append(shown)
                assert first.get(f"{bases[0]}/api/health").status_code == 200
                if shown["status"] not in ("queued", "running"):
                    break
                time.sleep(0.2)
            final = seen[-1]
            assert final["status"] == "succeeded", (final["message"], log.read_text()[-3000:])
            # The worker's claim and its progress reach the row the other server reads.
            assert any(s["status"] == "running" for s in seen), seen
            assert final["progress"] == 1.0 and final["message"] == "done"
            assert final["kpis"]["seated"] == 40 and final["attempts"] == 1
            trips = [second.get(bases[1] + plan_url + "/trips").json()]
            trips.append(first.get(bases[0] + plan_url + "/trips").json())
            assert trips[0] == trips[1] and trips[0]
            seated = [p["worker"] for t in trips[0] for p in t["passengers"]]
            assert len(seated) == len(set(seated)) == 40


def wait_serving(process: subprocess.Popen[bytes], base: str, log_file: Path) -> None:
    """Wait until the `chunyun serve` `process` answers its health check at `base`, while it
    lives (bounded like a worker's start); fail at once, with the log, if it ended first."""

    def serving() -> bool:
        if process.poll() is not None:
            text = log_file.read_text(encoding="utf-8", errors="replace")
            raise AssertionError(
                f"server ended ({process.returncode}) before it answered:\n" + text[-3000:]
            )
        return _healthy(base)

    wait_for(serving, WORKER_START_S, f"{base} answering")


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
