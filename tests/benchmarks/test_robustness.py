"""The robustness runner's plug points: the unlimited fleet and the fleet-sizing column."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from benchmarks import robustness
from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import Scenario, VehicleType, Worker


def _scenario() -> Scenario:
    day = dt.date(2025, 1, 25)
    fleet = (
        VehicleType("53座", 53, 4, 7.0, 1200.0, count_by_date=((day, 1),)),
        VehicleType("35座", 35, 2, 6.0, 900.0, available_from=day),
    )
    return Scenario(
        name="plug",
        direction="home",
        origin="330282",
        festival_date=dt.date(2025, 1, 29),
        first_departure=day,
        last_departure=dt.date(2025, 1, 27),
        fleet=fleet,
    )


def test_unlimited_fleet_raises_counts_and_keeps_availability_dates() -> None:
    """Counts are raised on every date; the dates a type may be used stay as given."""
    raised = robustness.unlimited(_scenario())
    assert [v.count for v in raised.fleet] == [4, 2]  # never below the given counts
    assert all(v.count_by_date == () for v in raised.fleet)
    assert raised.fleet[1].available_from == dt.date(2025, 1, 25)
    day = dt.date(2025, 1, 25)
    workers = tuple(
        Worker(f"W{i}", "E1", "王伟", "", "", "341221", day, day, home_adcode="341221")
        for i in range(500)
    )
    busy = robustness.unlimited(_scenario().replace(workers=workers))
    assert [v.count for v in busy.fleet] == [500, 500]  # never more trips than workers


def fake_size_fleet(scenario: Scenario, *, distances: Any) -> dict[str, Any]:
    """A stand-in for the fleet sizing of issue 11, in the issue's JSON shape."""
    return {
        "fleet": [
            {
                "vehicle_type": "53座",
                "seats": 53,
                "count": 3,
                "needed_from": "2025-01-25",
                "needed_to": "2025-01-27",
            }
        ],
        "workers": 10,
        "seated": 10,
    }


def test_a_sizing_function_brings_its_entry_point_and_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When a fleet-sizing function exists, the sizing run and its column appear, not before."""
    monkeypatch.setattr(robustness, "SIZING_FUNCTIONS", ("tests.benchmarks.nowhere:size",))
    assert "sizing" not in [e.name for e in robustness.available_entries()]
    assert "sized_fleet" not in [c.key for c in robustness.available_columns()]
    here = "tests.benchmarks.test_robustness:fake_size_fleet"
    monkeypatch.setattr(robustness, "SIZING_FUNCTIONS", ("tests.benchmarks.nowhere:size", here))
    assert "sizing" in [e.name for e in robustness.available_entries()]
    column = next(c for c in robustness.available_columns() if c.key == "sized_fleet")
    outcome = robustness._size_fleet(_scenario(), GreatCircleProvider())
    assert outcome.values["sized_seated"] == 10
    assert column.render(column.measure(outcome, _scenario())) == "53座 3 (01-25..01-27)"


def test_every_run_is_checked_by_the_independent_checker() -> None:
    """A run's figures come with the checker's verdict: none on a planned season, and a plan
    tampered with (two passengers on one seat) is reported, not counted as valid."""
    import dataclasses
    from pathlib import Path

    from optimizer.model import SolverParams
    from optimizer.read import read_scenario
    from optimizer.season import solve_within_fleet

    scenario = read_scenario(Path(robustness.ROOT) / "scenarios" / "tiny")
    scenario = scenario.replace(solver=SolverParams(time_limit_s=2.0))
    provider = GreatCircleProvider()
    plan, duties = solve_within_fleet(scenario, distances=provider)
    verdict = robustness._checked(plan, duties, scenario, provider)
    assert verdict["checker_errors"] == 0, verdict["checker_first_errors"]
    trip = next(t for t in plan.trips if len(t.passengers) >= 2)
    first, second, *rest = trip.passengers
    clash = dataclasses.replace(
        trip, passengers=(first, dataclasses.replace(second, seat=first.seat), *rest)
    )
    tampered = plan.replace(trips=tuple(clash if t is trip else t for t in plan.trips))
    verdict = robustness._checked(tampered, duties, scenario, provider)
    assert verdict["checker_errors"] >= 1


def test_one_reads_the_folder_with_the_policy_values_given() -> None:
    """`one --policy` changes the named `[policy]` values of the folder's scenario, no other."""
    tiny = Path(__file__).parents[2] / "scenarios" / "tiny"
    plain = robustness._read(tiny, None)
    changed = robustness._read(tiny, 7.0, {"fresh_crew_at_origin": True, "min_load": 4})
    assert changed.policy == dataclasses.replace(
        plain.policy, fresh_crew_at_origin=True, min_load=4
    )
    assert changed.solver.time_limit_s == 7.0 and changed.workers == plain.workers


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("min_load=-1", "[policy] min_load = -1 must not be negative"),
        ("min_load=lots", "[policy] min_load = 'lots' must be a whole number"),
        ("min_load", "--policy expects KEY=VALUE"),
    ],
)
def test_one_refuses_a_bad_policy_value_by_name(
    setting: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad `--policy` is a usage error (exit 2) naming it, before any planning."""
    tiny = Path(__file__).parents[2] / "scenarios" / "tiny"
    with pytest.raises(SystemExit) as stopped:
        robustness.main(["one", "--scenario", str(tiny), "--entry", "fleet", "--policy", setting])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
