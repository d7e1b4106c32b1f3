"""The deterministic same-plans check (benchmarks/same_plans.py): it says "equal" for one
revision against itself and can fail, on the bundled tiny scenario (a few seconds a side)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from benchmarks import robustness, same_plans
from optimizer.model import Passenger, Stop, Trip

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"


def test_the_same_revision_twice_gives_the_same_plans() -> None:
    (row,) = same_plans.same_plans(str(ROOT), str(ROOT), [TINY])
    assert row["equal"]
    assert row["before"]["seated"] == row["after"]["seated"] == 60
    assert row["before"]["digest"] == row["after"]["digest"]


def test_a_different_planning_setting_is_caught_with_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One pickup stop per coach on the after side: other trips, so the check must fail."""
    argv = ["same", "--before", str(ROOT), "--after", str(ROOT), "--scenario", str(TINY)]
    with pytest.raises(SystemExit) as exited:
        robustness.main([*argv, "--after-set", "policy.max_pickup_stops=1"])
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "tiny: DIFFERENT" in out
    assert "DIFFERENT on 1 of 1: tiny" in out


def test_an_unknown_setting_section_fails_the_side_not_the_check() -> None:
    (row,) = same_plans.same_plans(str(ROOT), str(ROOT), [TINY], after_settings={"fleet.count": 1})
    assert not row["equal"]
    assert "only solver.KEY and policy.KEY" in row["after"]["error"]


def _trip(trip_id: str, day: int, riders: tuple[str, ...]) -> Trip:
    at = dt.datetime(2019, 1, day, 8)
    stops = (
        Stop("pickup", 121.0, 30.0, at, at, name="gate"),
        Stop("dropoff", 121.0, 30.0, at, at, name="home"),
    )
    passengers = tuple(Passenger(w, "c1", seat, 0, 1) for seat, w in enumerate(riders, 1))
    return Trip(trip_id, "coach-45", 45, 1, at.date(), stops, passengers)


def test_the_digest_ignores_trip_ids_and_order_but_not_riders() -> None:
    one, two = _trip("T1", 28, ("w1", "w2")), _trip("T2", 29, ("w3",))
    renumbered = [dataclasses.replace(two, trip_id="T9"), dataclasses.replace(one, trip_id="T8")]
    assert same_plans.trips_digest([one, two]) == same_plans.trips_digest(renumbered)
    moved = _trip("T2", 29, ("w3", "w2"))
    assert same_plans.trips_digest([one, two]) != same_plans.trips_digest([one, moved])
