"""The fleet spread's capacity at a date's morning and evening departure instants
(`optimizer.ledger.HALF_DAY_SPREAD`, off by default: it lost side by side): switched on, a
coach whose morning trip is back before the next date's evening takes that evening's load,
which one capacity row per date charges as a share of the next date's whole coach, and the
coach of that load is timed from the evening."""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer import ledger
from optimizer.duties import TimetableEmptyDriveTimer
from optimizer.groups import Unit
from optimizer.ledger import (
    ESTIMATE_SLACK,
    Availability,
    Ledger,
    Span,
    Spread,
    busy_instants,
    spread_dates,
)
from optimizer.model import Policy, VehicleType, Worker
from optimizer.places import county_seats
from optimizer.season import depot_of, solve_within_fleet
from tests.checker import check_plan
from tests.optimizer.test_ledger import DAY0, PROVIDER, _scenario, _worker

JIANHU = "320925"  # Jiangsu, ~350 km: a lone coach leaving 06:00 is back the next forenoon


def test_busy_instants_are_the_departure_hours_inside_the_slackened_span() -> None:
    """A coach out 20 h (24 h with the slack) from 06:00 is away at that day's 06:00 and 22:00,
    free at the next 06:00; from 22:00 it is away at 22:00 and the next 06:00 and 22:00 when
    out 25 h (30 h); a return-wave coach that left 10 h before its 06:00 pickup was away at the
    evening before."""
    policy = Policy()
    assert busy_instants(Span(0.0, 20.0), 6, policy) == [(0, 0), (0, 1)]
    assert busy_instants(Span(0.0, 25.0), 22, policy) == [(0, 1), (1, 0), (1, 1)]
    back = busy_instants(Span(10.0, 4.0), 6, policy)
    assert back == [(-1, 1), (0, 0)] and 10.0 * ESTIMATE_SLACK > 8


def _spread(workers: list[Worker], days: int) -> tuple[list[Unit], Spread]:
    """The home-wave spread with one 53-seat coach, each unit's first choice its window's start."""
    scenario = _scenario(workers, (VehicleType("c53", 53, 1, 9.0, 800.0),), days)
    units = [
        Unit((w.worker_id,), 1, "C1", "company:C1", w.home_adcode or "", (w.earliest, w.latest))
        for w in scenario.workers
    ]
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    depot = depot_of(scenario)
    homes = sorted({u.home for u in units})
    spread = spread_dates(
        units,
        {i: u.window[0] for i, u in enumerate(units)},
        {c: c for c in homes},
        county_seats(homes),
        [DAY0 + dt.timedelta(k) for k in range(days)],
        Availability(
            Ledger.of_trips([], scenario.fleet, depot, timer, scenario.policy), depot, timer
        ),
        scenario.policy,
        True,
        3,
    )
    return units, spread


def _two_full_days() -> list[Worker]:
    """A coachful of Jianhu workers who must leave on the first date, another on the second."""
    return [_worker(n, JIANHU, 0, 0) for n in range(53)] + [
        _worker(n, JIANHU, 1, 1) for n in range(53, 106)
    ]


def test_the_next_dates_evening_takes_the_second_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switched on, both loads are kept, the second at its date's evening: the coach of the
    first morning is back before the second evening."""
    monkeypatch.setattr(ledger, "HALF_DAY_SPREAD", True)
    units, spread = _spread(_two_full_days(), 2)
    assert spread.binding
    assert spread.dropped == {} and len(spread.dates) == len(units)
    for index, day in spread.dates.items():
        assert day == units[index].window[0]
    assert spread.evening == {(JIANHU, DAY0 + dt.timedelta(1))}


def test_one_row_per_date_charges_the_turn_on_the_next_date() -> None:
    """One row per date (the default): the first trip's share of the second date leaves that
    date's load part of a coach, and the rest of its workers out."""
    assert not ledger.HALF_DAY_SPREAD
    units, spread = _spread(_two_full_days(), 2)
    assert not spread.evening
    assert spread.binding and spread.dropped
    assert all(units[i].window[0] == DAY0 + dt.timedelta(1) for i in spread.dropped)
    assert all("c53" in reason for reason in spread.dropped.values())


@pytest.mark.slow
@pytest.mark.parametrize("halves", [True, False])
def test_one_coach_drives_both_loads_within_the_fleet(
    monkeypatch: pytest.MonkeyPatch, halves: bool
) -> None:
    """Planned within the fleet with the switch on, one coach seats both dates' loads, the
    second trip timed from the evening; with one row per date the spread leaves part of the
    second load out. Either plan passes the checker."""
    monkeypatch.setattr(ledger, "HALF_DAY_SPREAD", halves)
    scenario = _scenario(
        _two_full_days(), (VehicleType("c53", 53, 1, 9.0, 800.0),), days=2, limit=2.0
    )
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert duties.kpis.coaches == 1
    assert (plan.kpis.seated == 106) is halves
    second = max(plan.trips, key=lambda t: t.departure)
    assert (second.departure.hour >= ledger.EVENING_FROM_HOUR) is halves
