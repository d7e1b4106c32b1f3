"""Background planning jobs: one thread per job, the planner injected as a plain callable.

A job reads the season as it is when the job starts, calls the planner with the locked trips of
the season's published plan, and writes the finished plan in one transaction together with the
status change, so a plan is visible only when complete. A job that is no longer running when it
finishes (a restart declared it failed) writes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from api import convert, crud
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
) -> domain.Plan:
    """The product's planner: `optimizer.season.solve_within_fleet` on the default distance
    provider, so the physical fleet suffices over the season (coaches away on multi-day trips are
    not planned again); the plan carries its coach duties and fleet KPIs, and, when workers are
    `fleet_exhausted`, the coaches to add (`optimizer.sizing.fleet_advice`)."""
    from optimizer.season import solve_within_fleet
    from optimizer.sizing import fleet_advice, with_advice

    plan, _ = solve_within_fleet(scenario, locked=locked, progress=progress)
    return with_advice(plan, fleet_advice(scenario, [plan]))


class JobRunner:
    """Runs planning jobs in background threads against one database."""

    # Progress is written at most this often: a solver may report many times a second.
    PROGRESS_INTERVAL_S = 0.5

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def submit(self, plan_id: int, *, planner: Planner) -> None:
        """Start job `plan_id` (already committed as queued) in a background thread."""
        thread = threading.Thread(
            target=self._run, args=(plan_id, planner), name=f"plan-{plan_id}", daemon=True
        )
        with self._lock:
            self._threads[plan_id] = thread
        thread.start()

    def wait(self, timeout_s: float = 60.0) -> bool:
        """Wait for every started job to end; False if some still run after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def _run(self, plan_id: int, planner: Planner) -> None:
        try:
            with self._session_factory.begin() as session:
                if not crud.mark_running(session, plan_id=plan_id):
                    return
                plan_row = crud.get_plan(session, plan_id=plan_id)
                scenario, locked = crud.job_inputs(session, plan=plan_row)
            locked = [trip if trip.locked else _locked(trip) for trip in locked]
            result = planner(scenario, locked=locked, progress=self._progress(plan_id))
            locked_ids = {t.trip_id for t in locked}
            changes = (
                convert.plan_changes(locked, result.trips, locked_ids=locked_ids)
                if locked
                else None
            )
            with self._session_factory.begin() as session:
                if not crud.finish_plan(
                    session, plan_id=plan_id, result=result, locked_ids=locked_ids, changes=changes
                ):
                    log.warning("plan %s finished after it was declared failed; dropped", plan_id)
        except Exception as error:  # a job must never die silently: record why
            from api.errors import describe_for_log

            # Where it failed, without the data involved (no SQL parameters, IDs or phones).
            log.error("plan %s failed: %s", plan_id, describe_for_log(error))
            with self._session_factory.begin() as session:
                crud.fail_plan(session, plan_id=plan_id, message=_failure_message(error))

    def _progress(self, plan_id: int) -> ProgressCallback:
        last = [0.0]

        def report(fraction: float, message: str) -> None:
            now = time.monotonic()
            if now - last[0] < self.PROGRESS_INTERVAL_S and fraction < 1.0:
                return
            last[0] = now
            try:
                with self._session_factory.begin() as session:
                    crud.set_progress(session, plan_id=plan_id, progress=fraction, message=message)
            except Exception:  # progress is best effort; the job itself goes on
                log.exception("could not record progress of plan %s", plan_id)

        return report


def _locked(trip: domain.Trip) -> domain.Trip:
    import dataclasses

    return dataclasses.replace(trip, locked=True)


def _failure_message(error: Exception) -> str:
    from api.errors import status_for

    if status_for(error) < 500:
        return f"planning failed: {error}"
    return f"planning failed with an internal error ({type(error).__name__}: {error})"
