"""The planning job queue driven by hand: claims never collide, cancellation and progress reach
the job through its row, expired leases re-queue or fail the job, a stopping worker hands its
job back. The service here runs no worker of its own (jobs on external workers)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from api import crud, models
from api.i18n import translate_detail
from api.jobs import JobWorker
from optimizer import model as domain
from tests.api.conftest import Service, fake_planner, open_season, worker_row


@pytest.fixture(scope="module")
def svc(database_url: str) -> Iterator[Service]:
    service = Service(database_url)
    service.settings = service.settings.model_copy(update={"in_process_worker": False})
    with service.client:
        service.add_user("dispatcher", "dispatcher")
        yield service


def season(svc: Service, name: str, workers: int = 6) -> None:
    open_season(svc, name)
    rows = [worker_row(n, company_id="ALPHA") for n in range(workers)]
    response = svc.call("POST", f"/api/workers?season={name}", "dispatcher", json=rows)
    assert response.status_code == 200, response.text


def start(svc: Service, name: str) -> int:
    response = svc.call("POST", "/api/plans", "dispatcher", json={"season": name})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    plan_id: int = response.json()["id"]
    return plan_id


def state(svc: Service, plan_id: int) -> dict[str, Any]:
    shown: dict[str, Any] = svc.call("GET", f"/api/plans/{plan_id}", "dispatcher").json()
    return shown


def trips_of(svc: Service, plan_id: int) -> list[Any]:
    found: list[Any] = svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
    return found


def make_worker(svc: Service, planner: Any = fake_planner, **options: Any) -> JobWorker:
    settings = {"lease_s": 3.0, "poll_s": 0.1, "max_attempts": 2, **options}
    return JobWorker(svc.app.state.session_factory, planner=lambda: planner, **settings)


class SlowPlanner:
    """Reports progress every 20 ms for up to `seconds`, then plans like the fake planner."""

    def __init__(self, seconds: float = 20.0) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.reports = 0
        self.stopped_by: BaseException | None = None

    def __call__(self, scenario: domain.Scenario, **kwargs: Any) -> domain.Plan:
        progress = kwargs["progress"]
        self.started.set()
        deadline = time.monotonic() + self.seconds
        try:
            while time.monotonic() < deadline:
                self.reports += 1
                progress(min(0.9, self.reports / 1000), f"step {self.reports}")
                time.sleep(0.02)
        except BaseException as error:
            self.stopped_by = error
            raise
        return fake_planner(scenario, locked=kwargs.get("locked", ()))


def test_concurrent_claims_take_different_jobs(svc: Service) -> None:
    """Two workers claiming at the same moment get two different jobs; a third finds none."""
    season(svc, "claim-a")
    season(svc, "claim-b")
    first, second = start(svc, "claim-a"), start(svc, "claim-b")
    factory = svc.app.state.session_factory
    got: list[int | None] = []
    holding = threading.Event()

    def slow_claim() -> None:
        with factory.begin() as session:
            got.append(crud.claim_job(session, worker="slow", lease_s=60))
            holding.set()
            time.sleep(0.5)  # the claim's transaction is still open

    thread = threading.Thread(target=slow_claim)
    thread.start()
    assert holding.wait(10)
    with factory.begin() as session:
        got.append(crud.claim_job(session, worker="fast", lease_s=60))
    thread.join()
    with factory.begin() as session:
        assert crud.claim_job(session, worker="late", lease_s=60) is None
    assert sorted(g for g in got if g is not None) == [first, second]
    assert state(svc, first)["attempts"] == state(svc, second)["attempts"] == 1
    with factory.begin() as session:
        for plan_id in (first, second):
            crud.fail_plan(session, plan_id=plan_id, message="stopped by the test")


def test_progress_and_cancellation_reach_a_running_job(svc: Service) -> None:
    """A running job's progress shows in its row; a dispatcher's cancel stops the planner at its
    next report, the job ends cancelled and no trip of it is ever visible."""
    season(svc, "cancel-running")
    plan_id = start(svc, "cancel-running")
    planner = SlowPlanner()
    worker = make_worker(svc, planner)
    worker.start()
    try:
        assert planner.started.wait(10)
        time.sleep(1.0)
        running = state(svc, plan_id)
        assert running["status"] == "running" and 0 < running["progress"] < 1
        assert running["message"].startswith("step ")
        cancel = svc.call("POST", f"/api/plans/{plan_id}/cancel", "dispatcher")
        assert cancel.status_code == 200, cancel.text
        assert cancel.json()["cancel_requested"] is True
        deadline = time.monotonic() + 10
        while state(svc, plan_id)["status"] == "running" and time.monotonic() < deadline:
            assert trips_of(svc, plan_id) == []
            time.sleep(0.05)
    finally:
        worker.stop()
    ended = state(svc, plan_id)
    assert ended["status"] == "cancelled" and ended["message"] == "cancelled by a dispatcher"
    assert planner.stopped_by is not None  # stopped long before its 20 s were up
    assert trips_of(svc, plan_id) == []
    again = svc.call("POST", f"/api/plans/{plan_id}/cancel", "dispatcher")
    assert again.status_code == 409
    assert "only a queued or running job can be cancelled" in again.json()["detail"]


def test_a_queued_job_is_cancelled_at_once(svc: Service) -> None:
    """Cancelling a queued job ends it before any worker sees it; the season can plan again."""
    season(svc, "cancel-queued")
    plan_id = start(svc, "cancel-queued")
    assert svc.call("POST", f"/api/plans/{plan_id}/cancel", "dispatcher").json()["status"] == (
        "cancelled"
    )
    worker = make_worker(svc)
    assert worker.run_once() is False
    assert state(svc, plan_id)["attempts"] == 0
    second = start(svc, "cancel-queued")
    assert worker.run_once() is True
    assert state(svc, second)["status"] == "succeeded"


def test_employers_cannot_cancel(svc: Service) -> None:
    """Only a dispatcher cancels a job."""
    season(svc, "cancel-employer")
    plan_id = start(svc, "cancel-employer")
    svc.add_user("alpha-clerk", "employer", "ALPHA")
    response = svc.call("POST", f"/api/plans/{plan_id}/cancel", "alpha-clerk")
    assert response.status_code == 403
    assert state(svc, plan_id)["status"] == "queued"
    svc.call("POST", f"/api/plans/{plan_id}/cancel", "dispatcher")


def expire(svc: Service, plan_id: int) -> None:
    with svc.session() as session:
        row = session.get(models.Plan, plan_id)
        row.lease_expires_at = models.utcnow() - dt.timedelta(seconds=1)


def test_expired_lease_requeues_then_fails_with_the_reason(svc: Service) -> None:
    """A job whose worker stopped renewing its lease is re-queued while it has attempts left
    (another worker then plans it), and failed with a clear message after the last."""
    season(svc, "lease")
    plan_id = start(svc, "lease")
    factory = svc.app.state.session_factory
    with factory.begin() as session:
        assert crud.claim_job(session, worker="vanished", lease_s=60) == plan_id
    expire(svc, plan_id)
    worker = make_worker(svc, max_attempts=2)
    assert worker.run_once() is True  # recovers it, claims it again (attempt 2) and plans it
    done = state(svc, plan_id)
    assert done["status"] == "succeeded" and done["attempts"] == 2

    other = start(svc, "lease")
    for attempt in (1, 2):
        with factory.begin() as session:
            assert crud.claim_job(session, worker=f"dies-{attempt}", lease_s=60) == other
        expire(svc, other)
        with factory.begin() as session:
            crud.recover_expired_jobs(session, max_attempts=2)
    failed = state(svc, other)
    assert failed["status"] == "failed" and failed["attempts"] == 2
    assert "stopped 2 time(s), so it is not tried again" in failed["message"]
    assert trips_of(svc, other) == []
    # The plan page shows it in Chinese (the catalogue recognises the template).
    assert translate_detail("zh_CN", failed["message"]).startswith("排班失败")


def test_a_stopping_worker_hands_its_job_back(svc: Service) -> None:
    """A worker told to stop mid-job puts the job back in the queue (its attempt not counted);
    the next worker plans it."""
    season(svc, "handback")
    plan_id = start(svc, "handback")
    planner = SlowPlanner()
    worker = make_worker(svc, planner)
    worker.start()
    assert planner.started.wait(10)
    worker.stop(timeout_s=10)
    back = state(svc, plan_id)
    assert back["status"] == "queued" and back["attempts"] == 0
    assert back["message"] == "queued again: the worker planning it was shut down"
    assert make_worker(svc).run_once() is True
    assert state(svc, plan_id)["status"] == "succeeded"
