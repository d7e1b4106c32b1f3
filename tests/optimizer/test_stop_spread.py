"""The seat LP of the fleet spread can price a county's stop on a date as a whole
(`optimizer.ledger.STOP_PRICED_SPREAD`, off by default): switched on, a binding fleet gives up
the thin stops before the riders of a full one; either way every unit is either dated inside
its window or left out."""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer import ledger
from optimizer.duties import TimetableEmptyDriveTimer
from optimizer.groups import Unit
from optimizer.ledger import Availability, Ledger, Spread, origin_places, spread_dates
from optimizer.model import Scenario, VehicleType, Worker
from optimizer.places import county_seats
from optimizer.season import depot_of
from tests.optimizer.test_ledger import DAY0, PROVIDER, _scenario, _worker

WEINING = "520526"  # Guizhou, ~1,700 km: one coach drives one return trip in three days


def _spread(workers: list[Worker], days: int) -> tuple[Scenario, list[Unit], Spread]:
    """The spread of a return wave with one 45-seat coach; each unit's first choice is the first
    date of its window."""
    scenario = _scenario(workers, (VehicleType("c45", 45, 1, 8.0, 700.0),), days, "return")
    units = [
        Unit((w.worker_id,), 1, "C1", "company:C1", w.home_adcode or "", (w.earliest, w.latest))
        for w in scenario.workers
    ]
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    depot = depot_of(scenario)
    ledger_ = Ledger.of_trips(
        [], scenario.fleet, depot, timer, scenario.policy, origin_places(scenario)
    )
    homes = sorted({u.home for u in units})
    spread = spread_dates(
        units,
        {i: u.window[0] for i, u in enumerate(units)},
        {c: c for c in homes},
        county_seats(homes),
        [DAY0 + dt.timedelta(k) for k in range(days)],
        Availability(ledger_, depot, timer),
        scenario.policy,
        False,
        3,
    )
    return scenario, units, spread


def _full_stop_and_two_thin_ones() -> list[Worker]:
    """Six workers of one far county who can leave on the first date only, and one each on
    the second and the third: three stops where one coach drives one trip."""
    return [_worker(n, WEINING, 0, 0) for n in range(6)] + [
        _worker(10 + n, WEINING, n, n) for n in (1, 2)
    ]


def test_a_binding_fleet_gives_up_a_thin_stop_before_a_full_stops_riders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Priced by the stop (switch on), the spread keeps the six who share the first date
    together and leaves out a lone worker's stop; priced by the seat alike on every date, it
    splits the full stop and keeps both thin ones."""
    monkeypatch.setattr(ledger, "STOP_PRICED_SPREAD", True)
    _, units, spread = _spread(_full_stop_and_two_thin_ones(), 3)
    assert spread.binding
    kept = {units[i].worker_ids[0] for i in spread.dates}
    assert {f"W{n:03d}" for n in range(6)} <= kept
    assert len([i for i in spread.dropped if units[i].window[0] > DAY0]) >= 1


def test_switched_off_the_seat_lp_prices_a_countys_seats_alike() -> None:
    """STOP_PRICED_SPREAD off (the default): the seat LP as it was, whose per-seat price leaves
    out riders of the full stop on this season (the behaviour the switch changes)."""
    assert not ledger.STOP_PRICED_SPREAD
    _, units, spread = _spread(_full_stop_and_two_thin_ones(), 3)
    assert spread.binding
    assert any(units[i].window == (DAY0, DAY0) for i in spread.dropped)


@pytest.mark.parametrize("priced", [True, False])
def test_every_unit_is_dated_in_its_window_or_left_out_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, priced: bool
) -> None:
    """Whatever the pricing, a unit kept departs on a date of its window, a unit left out says
    which coaches ran out, and no unit is both."""
    monkeypatch.setattr(ledger, "STOP_PRICED_SPREAD", priced)
    workers = [
        _worker(n, (WEINING, "341221", "320925")[n % 3], n % 4, min(3, n % 4 + n % 3))
        for n in range(60)
    ]
    _, units, spread = _spread(workers, 4)
    assert spread.binding
    assert not set(spread.dates) & set(spread.dropped)
    assert set(spread.dates) | set(spread.dropped) == set(range(len(units)))
    for index, day in spread.dates.items():
        assert units[index].window[0] <= day <= units[index].window[1]
    assert all("c45" in reason for reason in spread.dropped.values())
