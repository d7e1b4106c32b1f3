"""The `cluster` section: one large generated season planned with its routing parts on a Dask
LocalCluster of 1, 2 and 4 worker processes on this machine, and the wall time projected for N
machines from the measured time of every part.

    python -m benchmarks --sections cluster [--time-limit S] [--cluster-workers 200000]

Each run is a fresh interpreter (`python -m benchmarks.cluster one ...`), so wall time and peak
memory are the run's own. Measured per run: wall time (reading the season included), trips and
the lower bound, the solve time of every routing part inside its Dask worker (and which parallel
batch it belonged to), the peak memory of the planning process and of each Dask worker.

Parts come in kinds (`PART_KINDS`): departure-date strategies, routing parts (pooling) and
timetable parts (timetables and seats of a few hundred coaches). The planner submits a batch of
parts in one loop, then waits for their results before it goes on: a part submitted after the
planner waited on an earlier one, or of another kind, starts a new batch.

Projection (stated, not measured): with `slots` parallel slots (machines x cores per machine),
wall(slots) = serial + sum over batches of the longest-processing-time schedule of the batch's
measured part times on `slots` slots, where serial = the one-worker run's wall time minus the sum
of its part times (reading, grouping, the travel matrix, direct coaches, absorbing, the trips'
road lines, bounds, the LP bound). It ignores the transfer of parts to remote machines and
assumes a machine runs a part as fast as this one does.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import heapq
import itertools
import json
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DASK_WORKERS = (1, 2, 4)
# Parallel slots of the projection: machines of this kind (2 cores) x 2.
PROJECTED_MACHINES = (1, 2, 4, 8, 16, 32)
CORES_PER_MACHINE = 2
# The planner's part functions and what the tables call them.
PART_KINDS = {"date_strategy": "dates", "solve_part": "routing", "time_trips": "timetables"}


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """Run one part inside a Dask worker and time it there (transfer excluded)."""
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class TimingExecutor(concurrent.futures.Executor):
    """Passes parts to `inner`, recording each part's kind, batch and solve time."""

    def __init__(self, inner: concurrent.futures.Executor) -> None:
        self.inner = inner
        self.parts: list[tuple[str, int, float]] = []  # (kind, batch, seconds)
        self._batch = -1
        self._last_kind = ""
        # Set when the planner waits on a part's result: its next submission starts a batch.
        self._waited = False
        self._lock = threading.Lock()

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        kind = PART_KINDS.get(getattr(fn, "__name__", ""), getattr(fn, "__name__", "other"))
        with self._lock:
            if self._waited or kind != self._last_kind:
                self._batch += 1
            self._waited = False
            self._last_kind = kind
            batch = self._batch
        outer: concurrent.futures.Future[Any] = _Watched(self)
        # `_timed` by its module's import name: run as `python -m benchmarks.cluster` it lives in
        # __main__, and Dask then pickles the whole part with cloudpickle (several times slower).
        from benchmarks import cluster

        inner = self.inner.submit(cluster._timed, fn, *args)

        def done(future: concurrent.futures.Future[Any]) -> None:
            if future.cancelled():
                outer.cancel()
                return
            error = future.exception()
            if error is not None:
                outer.set_exception(error)
                return
            result, seconds = future.result()
            with self._lock:
                self.parts.append((kind, batch, seconds))
            outer.set_result(result)

        inner.add_done_callback(done)
        return outer


class _Watched(concurrent.futures.Future[Any]):
    """A part's future that tells its executor when the planner waits on it."""

    def __init__(self, executor: TimingExecutor) -> None:
        super().__init__()
        self.executor = executor

    def result(self, timeout: float | None = None) -> Any:
        with self.executor._lock:
            self.executor._waited = True
        return super().result(timeout)


def lpt_makespan(times: list[float], slots: int) -> float:
    """Longest-processing-time-first schedule of `times` on `slots` identical slots."""
    loads = [0.0] * max(1, slots)
    heapq.heapify(loads)
    for seconds in sorted(times, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + seconds)
    return max(loads)


def projection(wall_s: float, parts: list[tuple[str, int, float]]) -> dict[str, Any]:
    """Projected wall time on 1..32 machines of CORES_PER_MACHINE slots (see the module doc),
    and each part kind's share of it."""
    batches: dict[int, list[float]] = {}
    kind_of: dict[int, str] = {}
    for kind, batch, seconds in parts:
        batches.setdefault(batch, []).append(seconds)
        kind_of[batch] = kind
    serial = max(0.0, wall_s - sum(seconds for _, _, seconds in parts))
    kinds = sorted(set(kind_of.values()))

    def stage(kind: str, slots: int) -> float:
        return sum(lpt_makespan(t, slots) for b, t in batches.items() if kind_of[b] == kind)

    return {
        "serial_s": round(serial, 1),
        "batches": len(batches),
        "by_machines": {
            machines: round(serial + sum(stage(k, machines * CORES_PER_MACHINE) for k in kinds), 1)
            for machines in PROJECTED_MACHINES
        },
        # Each kind's batches on N machines (LPT makespans, summed over its batches).
        "by_kind": {
            kind: {
                machines: round(stage(kind, machines * CORES_PER_MACHINE), 1)
                for machines in PROJECTED_MACHINES
            }
            for kind in kinds
        },
        "limit_s": round(serial + sum(max(t) for t in batches.values()), 1),
        # The model on one slot, against the measured one-worker wall time (a check of it).
        "one_slot_s": round(serial + sum(sum(t) for t in batches.values()), 1),
    }


def part_summary(parts: list[tuple[str, int, float]]) -> dict[str, dict[str, Any]]:
    """Per part kind: count, batches, seconds summed, largest and median part."""
    summary: dict[str, dict[str, Any]] = {}
    for kind in sorted({k for k, _, _ in parts}):
        times = [s for k, _, s in parts if k == kind]
        summary[kind] = {
            "parts": len(times),
            "batches": len({b for k, b, _ in parts if k == kind}),
            "sum_s": round(sum(times), 1),
            "max_s": round(max(times), 2),
            "median_s": round(statistics.median(times), 2),
        }
    return summary


def run_one(folder: Path, time_limit_s: float | None, dask_workers: int) -> dict[str, Any]:
    """Plan `folder` with its routing parts on a LocalCluster of `dask_workers` processes."""
    from api.engine import solve_engine
    from optimizer.read import read_scenario
    from optimizer.solve import solve

    started = time.perf_counter()
    with solve_engine(workers=dask_workers) as engine:
        cluster_s = time.perf_counter() - started
        assert engine.executor is not None, "dask.distributed is not installed"
        timing = TimingExecutor(engine.executor)
        scenario = read_scenario(folder)
        read_s = time.perf_counter() - started - cluster_s
        solver = dataclasses.replace(
            scenario.solver,
            time_limit_s=time_limit_s or scenario.solver.time_limit_s,
            workers=dask_workers,
        )
        scenario = scenario.replace(solver=solver)
        marks: list[tuple[float, str]] = [(time.perf_counter(), "set-up")]

        def progress(_fraction: float, message: str) -> None:
            # "pooled part 3/8" -> "pooled", "timetabled 10/40" -> "timetabled"
            stage = re.sub(r"( part)? \d+/\d+$", "", message)
            if stage != marks[-1][1]:
                marks.append((time.perf_counter(), stage))

        plan = solve(scenario, executor=timing, progress=progress)
        marks.append((time.perf_counter(), "end"))
        wall_s = time.perf_counter() - started - cluster_s
        from distributed import Client

        client = Client.current()  # type: ignore[no-untyped-call]
        worker_peaks = sorted(client.run(_peak_rss_mb).values())
    kpis = plan.kpis
    part_times = [seconds for _, _, seconds in timing.parts]
    return {
        "dask_workers": dask_workers,
        "workers": kpis.workers,
        "seated": kpis.seated,
        "trips": kpis.trips,
        "lower_bound_trips": kpis.lower_bound_trips,
        "trips_over_bound": round(kpis.trips / kpis.lower_bound_trips, 3)
        if kpis.lower_bound_trips
        else None,
        "wall_s": round(wall_s, 1),
        "cluster_start_s": round(cluster_s, 1),
        "parts": len(part_times),
        "part_s_sum": round(sum(part_times), 1),
        "part_s_max": round(max(part_times, default=0.0), 1),
        "part_s_median": round(statistics.median(part_times), 2) if part_times else 0.0,
        "part_times": [(kind, batch, round(seconds, 3)) for kind, batch, seconds in timing.parts],
        "part_kinds": part_summary(timing.parts),
        "planner_peak_mb": _peak_rss_mb(),
        # Seconds from each progress message of the planner to the next (where the time goes).
        "stages": {"reading the season": round(read_s, 1), **_stage_seconds(marks)},
        "worker_peak_mb": worker_peaks,
        "time_limit_s": solver.time_limit_s,
    }


def _stage_seconds(marks: list[tuple[float, str]]) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for (start, stage), (end, _) in itertools.pairwise(marks):
        seconds[stage] = round(seconds.get(stage, 0.0) + end - start, 1)
    return seconds


def run_in_child(
    folder: Path, time_limit_s: float | None, dask_workers: int, timeout_s: float = 3600
) -> dict[str, Any]:
    """`run_one` in a fresh interpreter."""
    command = [sys.executable, "-m", "benchmarks.cluster", "one", "--scenario", str(folder)]
    command += ["--dask-workers", str(dask_workers)]
    if time_limit_s is not None:
        command += ["--time-limit", str(time_limit_s)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        return {"dask_workers": dask_workers, "error": done.stderr.strip().splitlines()[-3:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def section_cluster(
    quick: bool, folder: Path, time_limit_s: float | None, repeats: int = 1
) -> dict[str, Any]:
    """1, 2 and 4 Dask worker processes on `folder`; medians over `repeats` runs each."""
    rows = []
    for dask_workers in (1, 2) if quick else DASK_WORKERS:
        runs = []
        for _ in range(repeats):
            run = run_in_child(folder, time_limit_s, dask_workers)
            runs.append(run)
            print(
                f"  {dask_workers} dask worker(s): {run.get('trips')} trips, "
                f"{run.get('wall_s')} s, {run.get('error', '')}",
                flush=True,
            )
        good = [r for r in runs if "error" not in r]
        if not good:
            rows.append(runs[-1])
            continue
        row = dict(good[len(good) // 2])
        row["walls"] = [r["wall_s"] for r in good]
        row["wall_s_median"] = statistics.median(row["walls"])
        rows.append(row)
    result: dict[str, Any] = {"scenario": str(folder), "runs": rows}
    single = next((r for r in rows if r.get("dask_workers") == 1 and "error" not in r), None)
    if single is not None:
        result["projection"] = projection(single["wall_s_median"], single["part_times"])
    return result


def render(result: dict[str, Any]) -> list[str]:
    """The section's markdown lines."""
    lines = [
        "## Cluster (Dask LocalCluster on this machine)",
        "",
        f"Season: `{result['scenario']}`.",
        "",
        "| dask workers | workers | trips | bound | trips/bound | wall s (median) | walls "
        "| parts | part s sum / max | planner peak MB | Dask worker peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        if "error" in r:
            lines.append(f"| {r['dask_workers']} | error: {r['error']} |")
            continue
        lines.append(
            f"| {r['dask_workers']} | {r['workers']:,} | {r['trips']} | {r['lower_bound_trips']} "
            f"| {r['trips_over_bound']} | {r['wall_s_median']} | {r['walls']} | {r['parts']} "
            f"| {r['part_s_sum']} / {r['part_s_max']} | {r['planner_peak_mb']} "
            f"| {', '.join(str(m) for m in r['worker_peak_mb'])} |"
        )
    stages = next((r.get("stages") for r in result["runs"] if r.get("stages")), None)
    if stages:
        lines += [
            "",
            "Where the one-worker run's time goes (planner progress messages, seconds):",
            "",
            "| " + " | ".join(stages) + " |",
            "|" + "---|" * len(stages),
            "| " + " | ".join(str(v) for v in stages.values()) + " |",
        ]
    kinds = [
        (r["dask_workers"], kind, summary)
        for r in result["runs"]
        if "error" not in r
        for kind, summary in r.get("part_kinds", {}).items()
    ]
    if kinds:
        lines += [
            "",
            "Parts by kind (seconds inside the Dask worker, transfer excluded):",
            "",
            "| dask workers | kind | parts | batches | sum s | largest s | median s |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| {workers} | {kind} | {p['parts']} | {p['batches']} | {p['sum_s']} "
                f"| {p['max_s']} | {p['median_s']} |"
                for workers, kind, p in kinds
            ),
        ]
    projected = result.get("projection")
    if projected:
        machines = list(projected["by_machines"])
        lines += [
            "",
            f"Projected wall time from the one-worker run's part times (serial "
            f"{projected['serial_s']} s, {projected['batches']} batches; "
            f"{CORES_PER_MACHINE} slots per machine; limit with unlimited machines "
            f"{projected['limit_s']} s; the model on one slot: {projected['one_slot_s']} s):",
            "",
            "| machines | " + " | ".join(str(m) for m in machines) + " |",
            "|---|" + "---|" * len(machines),
            "| serial (planning process) s | "
            + " | ".join(str(projected["serial_s"]) for _ in machines)
            + " |",
            *(
                f"| {kind} parts s | " + " | ".join(str(by[m]) for m in machines) + " |"
                for kind, by in projected.get("by_kind", {}).items()
            ),
            "| **projected wall s** | "
            + " | ".join(f"**{v}**" for v in projected["by_machines"].values())
            + " |",
        ]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.cluster one --scenario DIR --dask-workers N`: print JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("one", help="plan one scenario folder on a LocalCluster, print JSON")
    one.add_argument("--scenario", type=Path, required=True)
    one.add_argument("--time-limit", type=float, default=None)
    one.add_argument("--dask-workers", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(run_one(args.scenario, args.time_limit, args.dask_workers)))


if __name__ == "__main__":
    main()
