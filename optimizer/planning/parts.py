"""Independent parts of a planning stage, run where the run's context says: on the caller's
executor (a Dask client's, api/engine.py), else in a process pool of `SolverParams.workers`, else
one after the other in this process (the embedded default).

A part is a top-level function and plain picklable arguments; its results come back in
submission order, so the plan never depends on which part finishes first or where it ran.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import TypeVar

from optimizer.planning.context import Context

Result = TypeVar("Result")


def run_parts(
    ctx: Context,
    fn: Callable[..., Result],
    parts: Sequence[tuple[object, ...]],
    on_done: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """`fn(*args)` for every `args` in `parts`, results in the order of `parts`.

    `on_done(done, total)` is called after each result is in (progress reports).
    """
    if not parts:
        return []
    workers = ctx.scenario.solver.workers
    if ctx.executor is not None:
        return _collect(ctx.executor, fn, parts, on_done)
    if workers > 1 and len(parts) > 1:
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            return _collect(pool, fn, parts, on_done)
    results: list[Result] = []
    for done, args in enumerate(parts, start=1):
        results.append(fn(*args))
        if on_done is not None:
            on_done(done, len(parts))
    return results


def _collect(
    executor: concurrent.futures.Executor,
    fn: Callable[..., Result],
    parts: Sequence[tuple[object, ...]],
    on_done: Callable[[int, int], None] | None,
) -> list[Result]:
    """Every part submitted at once, results in submission order."""
    futures = [executor.submit(fn, *args) for args in parts]
    results: list[Result] = []
    try:
        for done, future in enumerate(futures, start=1):
            results.append(future.result())
            if on_done is not None:
                on_done(done, len(parts))
    finally:
        for future in futures:  # a cancelled job stops queued parts from starting
            future.cancel()
    return results
