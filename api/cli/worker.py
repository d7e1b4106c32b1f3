"""`chunyun worker`: a planning worker process. It claims queued planning jobs from the service's
database (DATABASE_URL), runs them, and writes each finished plan in one transaction; as many
workers as wanted may run on as many machines, beside any number of `chunyun serve --no-worker`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add `chunyun worker` to the main app."""
    app.command()(worker)


def worker(
    slots: Annotated[
        int | None,
        typer.Option(help="jobs run at once (default: CHUNYUN_JOB_SLOTS, 2)", min=1, max=64),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler (tcp://host:8786) whose workers solve the routing parts "
            "(default: CHUNYUN_DASK_SCHEDULER; unset: this machine's processes)"
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option(help="run at most one queued job, then exit (scripts, tests)")
    ] = False,
) -> None:
    """Run planning jobs from the service's database until stopped (Ctrl-C or SIGTERM: the
    running job goes back to the queue at its next progress report)."""
    from api.cli.text import _, detail_text, error_text, service_message
    from api.core.config import get_settings
    from api.core.db import describe, make_engine, make_session_factory, migrate
    from api.deps import get_planner
    from api.engine import solve_engine
    from api.jobs import JobWorker, Planner, planner_on

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    jobs_at_once = slots or settings.job_slots
    engine = make_engine(settings.database_url, pool_size=jobs_at_once * 2 + 1)
    migrate(engine)
    address = scheduler or settings.dask_scheduler
    try:
        with solve_engine(scheduler=address) as solve:
            planner: Planner = (
                planner_on(solve.executor, solve.slots)
                if solve.executor is not None
                else get_planner()
            )
            job_worker = JobWorker(
                make_session_factory(engine),
                planner=lambda: planner,
                lease_s=settings.job_lease_s,
                poll_s=settings.job_poll_s,
                max_attempts=settings.job_max_attempts,
                slots=jobs_at_once,
            )
            typer.echo(
                service_message(
                    "worker_started",
                    name=job_worker.name,
                    database=detail_text(describe(engine)),
                    slots=jobs_at_once,
                    engine=detail_text(solve.description),
                )
            )
            if once:
                job_worker.run_once()
                return
            _run_until_signalled(job_worker.start, job_worker.stop)
            typer.echo(service_message("worker_stopped", name=job_worker.name))
    except ValueError as error:
        typer.echo(_("error: {error}", error=error_text(error)), err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def _run_until_signalled(start: Callable[[], None], stop: Callable[[float], None]) -> None:
    """Run until SIGTERM or SIGINT, then stop (waiting up to 30 s for running jobs)."""
    stopped = threading.Event()

    def on_signal(_signal: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    start()
    stopped.wait()
    stop(30.0)
