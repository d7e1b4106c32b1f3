"""The coach-time diagnostic (benchmarks.coachtime, issue 11): every hour of a coach in the
window falls in one category, the rest after a leg is the duties' layover rule, and each
fleet_exhausted worker gets the first cause that holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from benchmarks import coachtime
from benchmarks.coachtime import coach_hours, stop_use, unseated_causes
from optimizer.model import (
    Duty,
    DutyLeg,
    Kpis,
    Passenger,
    Plan,
    Policy,
    Stop,
    Trip,
    Unserved,
    UnservedReason,
)
from tests.optimizer.test_ledger import COUNTIES, DAY0, _scenario, _worker

T0 = dt.datetime.combine(DAY0, dt.time(6))


def _leg(kind: str, start_h: float, end_h: float, trip_id: str = "") -> DutyLeg:
    return DutyLeg(
        kind,  # type: ignore[arg-type]
        T0 + dt.timedelta(hours=start_h),
        T0 + dt.timedelta(hours=end_h),
        0.0,
        0.0,
        0.0,
        0.0,
        100.0,
        trip_id,
    )


def _trip(trip_id: str, county: str, riders: tuple[str, ...], gates: tuple[str, ...]) -> Trip:
    stops = (
        Stop("pickup", 0.0, 0.0, T0, T0, adcode=county, board=riders),
        *(
            Stop(
                "dropoff",
                0.0,
                0.0,
                T0 + dt.timedelta(hours=20),
                T0 + dt.timedelta(hours=20),
                company_id=gate,
                alight=riders if n == 0 else (),
            )
            for n, gate in enumerate(gates)
        ),
    )
    passengers = tuple(Passenger(r, gates[0], i + 1, 0, 1) for i, r in enumerate(riders))
    return Trip(trip_id, "c20", 20, 2, DAY0, stops, passengers, driving_minutes=18 * 60)


def test_each_hour_of_the_window_falls_in_one_category() -> None:
    """A coach: empty out 10 h, crew rest, waits, a loaded trip of 20 h, crew rest; a second
    coach with no duty. The categories add up to coaches x window; the rest after each drive is
    the 8 h crew rest (more than 4 h of driving), the remainder of the gap is waiting."""
    policy = Policy()
    trip = _trip("T1", COUNTIES[1], ("W001",), ("C1",))
    duty = Duty(
        "K1",
        "c20",
        "op",
        ("T1",),
        (_leg("deadhead", -30, -20), _leg("trip", 0, 20, "T1"), _leg("deadhead", 30, 40)),
        0.0,
        0.0,
        3,
    )
    window = (T0 - dt.timedelta(hours=40), T0 + dt.timedelta(hours=60))
    found = coach_hours([duty], {"T1": trip}, window, policy, coaches=2)
    assert sum(found.values()) == pytest.approx(2 * 100)
    assert found["before first leg"] == pytest.approx(10)
    assert found["empty"] == pytest.approx(20)
    assert found["loaded"] == pytest.approx(20)
    assert found["rest after empty"] == pytest.approx(8)
    assert found["rest after loaded"] == pytest.approx(8)
    assert found["wait"] == pytest.approx(12 + 2)
    assert found["after last leg"] == pytest.approx(20)
    assert found["no duty"] == pytest.approx(100)


def _plan(trips: tuple[Trip, ...], waiting: list[str]) -> Plan:
    kpis = Kpis(3, 1, 2, len(trips), 20, 0.05, 0.0, 0.0, 0.0, 0, 0.0, 0.0)
    unserved = tuple(Unserved(w, UnservedReason.FLEET_EXHAUSTED) for w in waiting)
    return Plan("t", "return", trips, unserved, kpis)


def test_an_unseated_worker_gets_the_first_cause_that_holds() -> None:
    """W002 lives where no trip stops on their dates; W003 where a trip stops with seats but at
    the gate-stop limit without their company's gate; W004 where the trip has their gate (some
    other rule kept them off)."""
    workers = [
        _worker(1, COUNTIES[1], 0, 0),
        _worker(2, COUNTIES[0], 0, 2),
        dataclasses.replace(_worker(3, COUNTIES[1], 0, 1), company_id="C2"),
        _worker(4, COUNTIES[1], 0, 0),
    ]
    scenario = _scenario(workers, (), 3, "return")
    scenario = scenario.replace(policy=dataclasses.replace(scenario.policy, max_dropoff_stops=1))
    plan = _plan((_trip("T1", COUNTIES[1], ("W001",), ("C1",)),), ["W002", "W003", "W004"])
    causes = unseated_causes(plan, scenario)
    assert causes == {
        "no trip at the county on a window date": 1,
        "gate stops full": 1,
        "other": 1,
    }
    figures = stop_use(plan.trips, scenario.policy, "return")
    assert figures["trips_at_origin_stop_limit"] == 1
    assert figures["riders_a_county_stop"] == 1
    assert figures["trips_at_earliest_hour"] == 1


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["{folder}", "--window", "abc"], "START,END as ISO date-times"),
        (["{folder}", "--window", "2026-02-02T00:00,2026-02-01T00:00"], "END must be after START"),
        (["{folder}/nope"], "no such scenario folder"),
    ],
)
def test_bad_arguments_are_a_usage_error_that_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    with pytest.raises(SystemExit) as stop:
        coachtime.main([a.format(folder=tmp_path) for a in argv])
    assert stop.value.code == 2
    assert says in capsys.readouterr().err
