"""The Dask engine of the solve: a LocalCluster of worker processes plans exactly what the
in-process run plans (parts stopped by solution count, not the clock), whichever part kinds it
runs (departure-date strategies, routing parts, timetable parts), and a scheduler that is not
there is a clear error."""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api import engine as engine_module
from api.engine import ClusterUnavailable, solve_engine
from api.i18n import translate_detail
from optimizer.model import Scenario
from optimizer.planning import trips as trips_module
from optimizer.read import read_scenario
from optimizer.season import solve_within_fleet

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


class Counting(concurrent.futures.Executor):
    """Passes every part on to `inner`, counting them by part function."""

    def __init__(self, inner: concurrent.futures.Executor) -> None:
        self.inner = inner
        self.parts = 0
        self.kinds: Counter[str] = Counter()

    def submit(  # type: ignore[override]
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        self.parts += 1
        self.kinds[fn.__name__] += 1
        return self.inner.submit(fn, *args, **kwargs)


def reproducible(name: str) -> Scenario:
    """A bundled scenario whose routing parts stop after a number of solutions, with a time
    limit that never binds, and no LP bound (it is time-boxed)."""
    scenario = read_scenario(SCENARIOS / name)
    solver = dataclasses.replace(
        scenario.solver, time_limit_s=300, part_solution_limit=10, lower_bound_share=0
    )
    return scenario.replace(solver=solver)


def test_a_local_cluster_plans_the_same_as_the_in_process_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`tiny` (60 workers, two routing parts) planned with its parts on a two-process
    LocalCluster gives the in-process plan: same trips, stops, passengers and seats. Timetable
    parts of one coach each, so every coach is timed in a part of its own."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(trips_module, "TIMETABLE_PART_TRIPS", 1)
    scenario = reproducible("tiny")
    alone, _ = solve_within_fleet(scenario)
    with solve_engine(workers=2) as cluster:
        assert cluster.executor is not None and cluster.slots == 2
        counting = Counting(cluster.executor)
        on_cluster, _ = solve_within_fleet(scenario, executor=counting)
    assert counting.kinds["solve_part"] >= 2
    assert counting.kinds["date_strategy"] == 3  # county, province, season
    assert counting.kinds["time_trips"] == len(alone.trips) >= 2
    assert on_cluster.trips == alone.trips
    assert on_cluster.unserved == alone.unserved
    assert on_cluster.kpis.trips == alone.kpis.trips and alone.kpis.trips > 0


def test_parts_in_a_process_pool_plan_the_same_as_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`small` (600 workers, seven bad rows) with the solver's own pool of two processes (no
    executor): every part kind runs in other processes, in parts of five coaches, and the plan
    is the in-process one, unserved workers and their reasons included."""
    monkeypatch.setattr(trips_module, "TIMETABLE_PART_TRIPS", 5)
    scenario = reproducible("small")
    alone, _ = solve_within_fleet(scenario)
    pooled = scenario.replace(solver=dataclasses.replace(scenario.solver, workers=2))
    in_pool, _ = solve_within_fleet(pooled)
    assert len(alone.trips) > 5 and alone.unserved
    assert in_pool.trips == alone.trips
    assert in_pool.unserved == alone.unserved


def test_an_absent_scheduler_is_a_clear_error() -> None:
    """--scheduler pointing at nothing fails fast, naming the address."""
    pytest.importorskip("distributed")
    with (
        pytest.raises(ClusterUnavailable, match=r"no Dask scheduler answers at tcp://127\.0\.0\.1"),
        solve_engine(scheduler="tcp://127.0.0.1:9", timeout_s=2),
    ):
        pass


def test_without_dask_workers_fall_back_and_a_scheduler_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the `cluster` extra, --workers N is the solver's own process pool and
    --scheduler says what to install."""
    monkeypatch.setattr(engine_module, "dask_installed", lambda: False)
    with solve_engine(workers=3) as pool:
        assert pool.executor is None and pool.slots == 3
    with (
        pytest.raises(ClusterUnavailable, match=r"chunyun\[cluster\]"),
        solve_engine(scheduler="tcp://127.0.0.1:8786"),
    ):
        pass
    with solve_engine() as default:
        assert default.executor is None and default.description == "in this process"
    # Where the parts run, in the dispatcher's language (the CLI's "路线子问题：{engine}").
    assert translate_detail("zh_CN", default.description) == "本进程内"
    with solve_engine(workers=3) as pool:
        assert translate_detail("zh_CN", pool.description) == "3 个进程的进程池（未安装 dask）"
        assert (
            translate_detail("en", pool.description) == "a process pool of 3 (dask not installed)"
        )
