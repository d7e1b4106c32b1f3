"""Planning jobs: durable rows in the `plans` table, claimed and run by worker processes.

A job is a `plans` row: queued -> running -> succeeded / failed / cancelled. A worker (`chunyun
worker`, or the one `chunyun serve` runs in its own process unless told not to) claims the oldest
queued row (`crud.claim_job`: FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on SQLite),
holds it under a lease that a heartbeat thread renews, writes progress into the row, and writes
the finished plan in one transaction together with the status change, so a plan is visible only
when complete. The row is the only channel: a dispatcher cancels by setting `cancel_requested`,
which the worker reads at its heartbeat and progress reports; a worker that died (its lease ran
out) has its job re-queued by any other worker, up to `max_attempts` claims, then failed with
the reason. A worker that lost its lease, or whose job was cancelled, writes nothing.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api import convert, crud, models
from optimizer import model as domain

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]


class Planner(Protocol):
    """What a job calls: scenario and locked trips in, plan out (optimizer.solve.solve's shape)."""

    def __call__(
        self,
        scenario: domain.Scenario,
        *,
        locked: Sequence[domain.Trip],
        progress: ProgressCallback | None,
    ) -> domain.Plan: ...


def optimizer_planner(
    scenario: domain.Scenario,
    *,
    locked: Sequence[domain.Trip],
    progress: ProgressCallback | None,
    executor: concurrent.futures.Executor | None = None,
) -> domain.Plan:
    """The product's planner: `optimizer.season.solve_within_fleet` on the default distance
    provider, so the physical fleet suffices over the season (coaches away on multi-day trips are
    not planned again); the plan carries its coach duties and fleet KPIs, and, when workers are
    `fleet_exhausted`, the coaches to add (`optimizer.sizing.fleet_advice`). `executor` runs the
    routing parts (a Dask cluster's, see api/engine.py); default: the solver's own."""
    from optimizer.season import solve_within_fleet
    from optimizer.sizing import fleet_advice, with_advice

    plan, _ = solve_within_fleet(scenario, locked=locked, progress=progress, executor=executor)
    return with_advice(plan, fleet_advice(scenario, [plan]))


def planner_on(executor: concurrent.futures.Executor, slots: int) -> Planner:
    """The product's planner with its routing parts on `executor` (`slots` parts at once)."""
    import dataclasses

    def plan(
        scenario: domain.Scenario,
        *,
        locked: Sequence[domain.Trip],
        progress: ProgressCallback | None,
    ) -> domain.Plan:
        solver = dataclasses.replace(scenario.solver, workers=slots)
        return optimizer_planner(
            scenario.replace(solver=solver), locked=locked, progress=progress, executor=executor
        )

    return plan


class JobCancelled(Exception):
    """Raised inside a job (from its progress callback) when a dispatcher cancelled it."""


class LeaseLost(Exception):
    """Raised inside a job when its row is no longer this worker's (lease ran out, re-queued)."""


class WorkerStopping(Exception):
    """Raised inside a job when its worker process is shutting down: the job goes back to the
    queue for another worker."""


def worker_name() -> str:
    """This process's name in the `plans.worker` column: host, process id and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobWorker:
    """Claims and runs planning jobs from one database, `slots` at a time.

    `planner` is asked for the planner at each claim (the app passes its dependency, which
    tests override). `start()` runs the claim loop in background threads (the in-process worker
    of `chunyun serve`); `run_forever()` runs it in the calling thread (`chunyun worker`).
    """

    # Progress is written at most this often: a solver may report many times a second.
    PROGRESS_INTERVAL_S = 0.5

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        planner: Callable[[], Planner],
        lease_s: float = 30.0,
        poll_s: float = 2.0,
        max_attempts: int = 2,
        slots: int = 1,
        name: str | None = None,
    ) -> None:
        if lease_s <= 0 or poll_s <= 0 or max_attempts < 1 or slots < 1:
            raise ValueError("lease_s and poll_s must be positive, max_attempts and slots >= 1")
        self._session_factory = session_factory
        self._planner = planner
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.max_attempts = max_attempts
        self.slots = slots
        self.name = name or worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._running = 0
        self._submitted: set[int] = set()

    # --- the queue's users: the app and the CLI ------------------------------------------------
    def submit(self, plan_id: int) -> None:
        """A job was committed as queued: look for it now rather than at the next poll."""
        with self._lock:
            self._submitted.add(plan_id)
        self._wake.set()

    def start(self) -> None:
        """Run the claim loop in `slots` background threads."""
        for slot in range(self.slots):
            thread = threading.Thread(
                target=self.run_forever, name=f"plan-worker-{slot}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop claiming; a running job is handed back to the queue at its next progress
        report (or its lease runs out if the process ends first)."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def wait(self, timeout_s: float = 60.0) -> bool:
        """Wait until every job submitted here has ended and no job runs in this worker; False
        if that has not happened after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                submitted, running = set(self._submitted), self._running
            if not running and not self._active(submitted):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def _active(self, plan_ids: set[int]) -> bool:
        if not plan_ids:
            return False
        with self._session_factory() as session:
            active = session.scalars(
                select(models.Plan.id).where(
                    models.Plan.id.in_(plan_ids),
                    models.Plan.status.in_(models.ACTIVE_JOB_STATUSES),
                )
            ).all()
        return bool(active)

    # --- the claim loop ------------------------------------------------------------------------
    def run_forever(self) -> None:
        """Claim and run jobs until `stop()`; sleeps `poll_s` (or until woken) when idle."""
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the database may be away for a while: keep polling
                log.exception("worker %s could not claim a job", self.name)
                ran = False
            if not ran:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def run_once(self) -> bool:
        """Recover expired jobs, claim the oldest queued one and run it; False if none."""
        with self._session_factory.begin() as session:
            requeued, ended = crud.recover_expired_jobs(session, max_attempts=self.max_attempts)
        if requeued or ended:
            log.warning("%d job(s) of stopped workers re-queued, %d ended", requeued, ended)
        # Each claim has its own token, so a job taken from this process (lease ran out) and
        # claimed again by it is never confused with the old run.
        claim = f"{self.name}#{uuid.uuid4().hex[:6]}"
        with self._session_factory.begin() as session:
            plan_id = crud.claim_job(session, worker=claim, lease_s=self.lease_s)
        if plan_id is None:
            return False
        with self._lock:
            self._running += 1
        try:
            self._run(plan_id, claim)
        finally:
            with self._lock:
                self._running -= 1
        return True

    def _run(self, plan_id: int, claim: str) -> None:
        log.info("worker %s runs plan %s", claim, plan_id)
        job = _JobState()
        heartbeat = threading.Thread(
            target=self._heartbeat,
            args=(plan_id, claim, job),
            name=f"heartbeat-{plan_id}",
            daemon=True,
        )
        heartbeat.start()
        try:
            with self._session_factory.begin() as session:
                plan_row = crud.get_plan(session, plan_id=plan_id)
                scenario, locked = crud.job_inputs(session, plan=plan_row)
            locked = [trip if trip.locked else _locked(trip) for trip in locked]
            planner = self._planner()
            result = planner(scenario, locked=locked, progress=self._progress(plan_id, claim, job))
            job.check(None)  # a finished plan is still written when the worker is stopping
            locked_ids = {t.trip_id for t in locked}
            changes = (
                convert.plan_changes(locked, result.trips, locked_ids=locked_ids)
                if locked
                else None
            )
            with self._session_factory.begin() as session:
                written = crud.finish_plan(
                    session,
                    plan_id=plan_id,
                    result=result,
                    locked_ids=locked_ids,
                    changes=changes,
                    worker=claim,
                )
            if not written:
                self._after_refusal(plan_id, claim)
        except JobCancelled:
            with self._session_factory.begin() as session:
                crud.mark_cancelled(session, plan_id=plan_id, worker=claim)
            log.info("plan %s cancelled", plan_id)
        except LeaseLost:
            log.warning("plan %s was taken from worker %s (lease ran out)", plan_id, claim)
        except WorkerStopping:
            with self._session_factory.begin() as session:
                crud.release_job(session, plan_id=plan_id, worker=claim)
            log.info("plan %s handed back to the queue: worker stopping", plan_id)
        except Exception as error:  # a job must never die silently: record why
            from api.errors import describe_for_log

            # Where it failed, without the data involved (no SQL parameters, IDs or phones).
            log.error("plan %s failed: %s", plan_id, describe_for_log(error))
            with self._session_factory.begin() as session:
                crud.fail_plan(
                    session, plan_id=plan_id, message=_failure_message(error), worker=claim
                )
        finally:
            job.done.set()
            heartbeat.join(5)

    def _after_refusal(self, plan_id: int, claim: str) -> None:
        """The finished plan was not written: cancelled meanwhile, or no longer this worker's."""
        with self._session_factory.begin() as session:
            row = crud.get_plan(session, plan_id=plan_id)
            if row.status == "running" and row.worker == claim and row.cancel_requested:
                crud.mark_cancelled(session, plan_id=plan_id, worker=claim)
                return
        log.warning("plan %s finished after it was taken from this worker; dropped", plan_id)

    def _heartbeat(self, plan_id: int, claim: str, job: _JobState) -> None:
        interval = self.lease_s / 3
        while not job.done.wait(interval):
            try:
                with self._session_factory.begin() as session:
                    held, cancel = crud.renew_lease(
                        session, plan_id=plan_id, worker=claim, lease_s=self.lease_s
                    )
            except Exception:  # a missed beat is retried; the lease has room for two
                log.exception("heartbeat of plan %s failed", plan_id)
                continue
            job.note(held, cancel)

    def _progress(self, plan_id: int, claim: str, job: _JobState) -> ProgressCallback:
        last = [0.0]

        def report(fraction: float, message: str) -> None:
            job.check(self._stop)
            now = time.monotonic()
            if now - last[0] < self.PROGRESS_INTERVAL_S and fraction < 1.0:
                return
            last[0] = now
            try:
                with self._session_factory.begin() as session:
                    held, cancel = crud.set_progress(
                        session,
                        plan_id=plan_id,
                        progress=fraction,
                        message=message,
                        worker=claim,
                    )
            except Exception:  # progress is best effort; the job itself goes on
                log.exception("could not record progress of plan %s", plan_id)
                return
            job.note(held, cancel)
            job.check(self._stop)

        return report


class _JobState:
    """What the heartbeat and progress reports learnt about one running job."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.lost = False
        self.cancelled = False

    def note(self, held: bool, cancel: bool) -> None:
        self.lost = self.lost or not held
        self.cancelled = self.cancelled or cancel

    def check(self, stopping: threading.Event | None) -> None:
        """Raise if the job must end now: lost, cancelled, or its worker is stopping."""
        if self.lost:
            raise LeaseLost
        if self.cancelled:
            raise JobCancelled
        if stopping is not None and stopping.is_set():
            raise WorkerStopping


def _locked(trip: domain.Trip) -> domain.Trip:
    import dataclasses

    return dataclasses.replace(trip, locked=True)


def _failure_message(error: Exception) -> str:
    from api.errors import status_for

    if status_for(error) < 500:
        return f"planning failed: {error}"
    return f"planning failed with an internal error ({type(error).__name__}: {error})"
