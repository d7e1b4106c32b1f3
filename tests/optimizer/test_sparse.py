"""Short fleets on sparse seasons (issue 11): a county's few workers gathered onto one date of
their windows cost one stop, not one per date."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from optimizer import patterns, season
from optimizer.duties import DutyResult
from optimizer.groups import Unit, consolidate_dates
from optimizer.model import Plan, Scenario, UnservedReason, VehicleType
from optimizer.season import solve_within_fleet
from tests.checker import check_plan
from tests.optimizer.test_ledger import PROVIDER, _scenario, _worker

DAY = dt.date(2026, 2, 1)


def _unit(n: int, county: str, start: int, end: int, seats: int = 1) -> Unit:
    return Unit(
        (f"W{n}",),
        seats,
        "C1",
        "company:C1",
        county,
        (DAY + dt.timedelta(start), DAY + dt.timedelta(end)),
    )


def _day(k: int) -> dt.date:
    return DAY + dt.timedelta(k)


ALLOWED = [_day(k) for k in range(4)]
COST = {"A": {0: 0.1, 1: 0.1}, "B": {0: 0.1, 1: 0.1}}


def test_a_countys_units_whose_windows_share_a_date_go_on_it() -> None:
    """County A's three units on three dates, every window holding day 1: all go to day 1 (the
    date already taken, so no capacity is asked); county B's, whose windows share no date,
    stay."""
    units = [
        _unit(0, "A", 0, 1),
        _unit(1, "A", 0, 2, seats=3),
        _unit(2, "A", 1, 2),
        _unit(3, "B", 0, 0),
        _unit(4, "B", 2, 3),
    ]
    dates = {0: _day(0), 1: _day(1), 2: _day(2), 3: _day(0), 4: _day(3)}
    result, saved = consolidate_dates(
        units, dates, {"A": "A", "B": "B"}, ALLOWED, COST, {}, {}, coach_seats=53
    )
    assert saved == 2
    assert [result[i] for i in range(3)] == [_day(1)] * 3
    assert result[3] == _day(0) and result[4] == _day(3)


def test_full_coaches_and_full_days_are_not_merged() -> None:
    """Two dates of 40 and 30 seats need two coaches either way: they stay. Two thin dates
    whose only shared date is a third one move there only when its days have room."""
    big = [_unit(0, "A", 0, 1, seats=40), _unit(1, "A", 0, 1, seats=30)]
    result, saved = consolidate_dates(
        big, {0: _day(0), 1: _day(1)}, {"A": "A"}, ALLOWED, COST, {}, {}, coach_seats=53
    )
    assert saved == 0 and result == {0: _day(0), 1: _day(1)}
    thin = [_unit(0, "A", 0, 1), _unit(1, "A", 1, 2)]
    dates = {0: _day(0), 1: _day(2)}
    full = {d: 0.2 for d in ALLOWED}
    load = {_day(0): 0.2, _day(1): 0.2, _day(2): 0.2, _day(3): 0.1}
    result, saved = consolidate_dates(
        thin, dates, {"A": "A"}, ALLOWED, COST, load, full, coach_seats=53
    )
    assert saved == 0 and result == dates
    roomy = {d: 1.0 for d in ALLOWED}
    result, saved = consolidate_dates(
        thin, dates, {"A": "A"}, ALLOWED, COST, load, roomy, coach_seats=53
    )
    assert saved == 1 and result == {0: _day(1), 1: _day(1)}


def _linquan_season() -> Scenario:
    windows = {
        "341221": [(1, 1)] * 3 + [(2, 4)] * 2 + [(3, 4)] * 4 + [(4, 4)] * 3,
        "510781": [(0, 2)] * 5 + [(3, 4)] * 3 + [(4, 5)] * 3 + [(5, 5)],
        "520526": [(2, 2)] + [(3, 4)] * 2 + [(4, 4)] * 3 + [(5, 5)] * 6,
    }
    n = itertools.count()
    workers = [
        _worker(next(n), county, start, end)
        for county, spans in windows.items()
        for start, end in spans
    ]
    return _scenario(workers, (VehicleType("c53", 53, 1, 9.0, 800.0),), days=6, limit=1.0)


def _check(scenario: Scenario, plan: Plan, duties: DutyResult) -> None:
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert duties.kpis.coaches <= 1 and not duties.kpis.shortages
    assert all(u.reason is UnservedReason.FLEET_EXHAUSTED for u in plan.unserved), plan.unserved


def test_a_short_fleet_seats_a_countys_shared_date_on_one_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One coach over six days, three counties' few workers: Linquan's 9 workers whose windows
    hold day 4 (and 3 more free on day 1 only) are gathered on day 4 with Weining's instead of
    spread over days 3 and 4 (the seat-pricing spread: the route-pattern spread switched off,
    tests/optimizer/test_patterns.py plans this season with it). With the spread alone (no
    plan with the dates of planning without a fleet) the plan passes the checker, keeps the
    fleet, carries Linquan on one trip and seats 16 (before: 12 on 3 trips, Linquan on 2)."""
    monkeypatch.setattr(season, "UNSPREAD_PASS_SHARE", 0.0)
    monkeypatch.setattr(patterns, "ROUTE_PATTERN_SPREAD", False)  # the seat-pricing spread's
    scenario = _linquan_season()
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    _check(scenario, plan, duties)
    assert any("gathered onto another date" in note for note in plan.notes), plan.notes
    linquan = {w.worker_id for w in scenario.workers if w.home_adcode == "341221"}
    trips = {t.trip_id for t in plan.trips for p in t.passengers if p.worker_id in linquan}
    assert len(trips) == 1
    assert plan.kpis.seated >= 16


def test_the_dates_of_planning_without_a_fleet_are_tried_when_trips_are_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same season: planned once more with the dates of planning without a fleet (each
    county on its fewest dates), the exact chaining keeping the trips that seat the most,
    the plan seats more than the spread's 16 (23 when written) and says which plan it kept
    (the pass is off by default: on the family's large seasons it was never kept). The
    seat-pricing spread's (the route-pattern spread seats 28 and the pass is not kept)."""
    monkeypatch.setattr(season, "UNSPREAD_PASS_SHARE", 0.5)
    monkeypatch.setattr(patterns, "ROUTE_PATTERN_SPREAD", False)  # the seat-pricing spread's
    scenario = _linquan_season()
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    _check(scenario, plan, duties)
    assert plan.kpis.seated > 16
    assert any("this plan kept" in note for note in plan.notes), plan.notes
