"""Pooling on the eve of a tight date (issue 11): the loads a coach is back from by the next
evening are pooled apart from those that hold it over both dates; nothing else changes."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from optimizer.duties import TimetableEmptyDriveTimer
from optimizer.groups import Unit
from optimizer.ledger import Availability, Ledger, origin_places
from optimizer.model import Scenario, VehicleType
from optimizer.places import county_seats
from optimizer.planning import turns
from optimizer.planning.absorb import Absorb
from optimizer.planning.context import Chunk, Coach
from optimizer.season import depot_of, solve_within_fleet
from tests.checker import check_plan
from tests.optimizer.test_ledger import COUNTIES, DAY0, PROVIDER, _scenario, _worker

LINQUAN, WEINING, JIANHU = COUNTIES


def _availability(scenario: Scenario) -> Availability:
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    depot = depot_of(scenario)
    ledger = Ledger.of_trips(
        [], scenario.fleet, depot, timer, scenario.policy, origin_places(scenario)
    )
    return Availability(ledger, depot, timer)


def _chunk(county: str, seats: int) -> Chunk:
    unit = Unit((f"W-{county}",), seats, "C1", "company:C1", county, (DAY0, DAY0))
    return Chunk("company:C1", f"county:{county}", (unit,))


def _small() -> Scenario:
    return _scenario([_worker(0, JIANHU, 0, 0)], (VehicleType("c45", 45, 2, 8.0, 700.0),), 2)


def test_a_near_county_turns_within_a_day_and_a_far_one_does_not() -> None:
    """Jianhu (~350 km) is back by the next evening, Weining (~1,700 km) is not."""
    scenario = _small()
    found = turns.turners(
        [JIANHU, WEINING], DAY0, _availability(scenario), county_seats(COUNTIES), scenario.policy
    )
    assert JIANHU in found
    assert WEINING not in found


def test_the_eve_of_a_tight_date_is_pooled_in_two_groups_and_no_other_date() -> None:
    scenario = _small()
    availability = _availability(scenario)
    seats = county_seats(COUNTIES)
    chunks = {
        DAY0: [_chunk(JIANHU, 10), _chunk(WEINING, 12)],
        DAY0 + dt.timedelta(1): [_chunk(JIANHU, 5), _chunk(WEINING, 7)],
    }
    tight = frozenset({DAY0 + dt.timedelta(1)})
    groups, split = turns.turn_groups(chunks, tight, availability, seats, scenario.policy, True)
    assert split == {DAY0: frozenset({f"county:{JIANHU}"})}
    farther = [[c.far for c in group] for day, group in groups if day == DAY0]
    assert farther == [[f"county:{JIANHU}"], [f"county:{WEINING}"]]
    assert [g for d, g in groups if d != DAY0] == [chunks[DAY0 + dt.timedelta(1)]]
    # Nothing tight, the return wave, or no fleet: every date is one group, as before.
    for args in (
        (frozenset(), availability, True),
        (tight, availability, False),
        (tight, None, True),
    ):
        tight_, avail, home = args
        groups, split = turns.turn_groups(chunks, tight_, avail, seats, scenario.policy, home)
        assert not split
        assert groups == sorted(chunks.items())


def test_switched_off_every_date_is_one_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turns, "TURN_POOLING", False)
    scenario = _small()
    chunks = {DAY0: [_chunk(JIANHU, 10), _chunk(WEINING, 12)]}
    groups, split = turns.turn_groups(
        chunks,
        frozenset({DAY0 + dt.timedelta(1)}),
        _availability(scenario),
        county_seats(COUNTIES),
        scenario.policy,
        True,
    )
    assert not split and groups == [(DAY0, chunks[DAY0])]


def _tight_season(seed: int) -> Scenario:
    """Four days, Jianhu and Weining workers of two-day windows, a fleet that binds."""
    rng = random.Random(seed)
    people = []
    for n in range(160):
        start = rng.randrange(3)
        people.append(_worker(n, rng.choice((JIANHU, WEINING, LINQUAN)), start, start + 1))
    fleet = (VehicleType("c45", 45, 2, 8.0, 700.0), VehicleType("c20", 20, 2, 5.0, 400.0))
    return _scenario(people, fleet, 4, limit=2.0)


@pytest.mark.parametrize("seed", [1, 3])
def test_plans_pooled_by_turns_keep_the_fleet_and_never_mix_a_tight_eve(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the fleet binding, the first plan's coaches (pooled, then absorbed) never carry a
    turner with a county that is not one on a date pooling split, and the final plan passes the
    independent checker within the fleet."""
    split: list[tuple[dict[dt.date, frozenset[str]], list[Coach]]] = []
    real = Absorb.absorb

    def spy(self: Absorb, coaches: list[Coach], deadline: float = math.inf) -> list[Coach]:
        kept = real(self, coaches, deadline)
        split.append((dict(self.work.turners), kept))
        return kept

    monkeypatch.setattr(Absorb, "absorb", spy)
    scenario = _tight_season(seed)
    plan, duties = solve_within_fleet(scenario, distances=PROVIDER)
    assert check_plan(scenario, plan, provider=PROVIDER) == []
    assert not duties.kpis.shortages
    assert any(quick for quick, _ in split), "no date was split: the test season is too loose"
    for quick, coaches in split:
        for coach in coaches:
            counties = {far for _, _, far in coach.loads}
            if coach.day in quick:
                assert counties <= quick[coach.day] or not counties & quick[coach.day]
