"""The route-pattern LP's restricted master (benchmarks.servable_routes, a diagnostic of issue 11):
with one home county it holds every column of the route-pattern LP, so it is a relaxation of every
plan and never below what the coaches can seat; its route holds are the county turns' holds."""

from __future__ import annotations

import random

import pytest

from benchmarks.servable_routes import route_master
from optimizer.model import VehicleType
from optimizer.patterns import road_times, route_hold
from optimizer.servable import Turn, hold_of
from tests.optimizer.test_ledger import COUNTIES, PROVIDER, _scenario, _worker
from tests.optimizer.test_servable import _exact, _random_season


def test_the_route_master_of_one_county_is_never_below_small_seasons_solved_exhaustively() -> None:
    """Six random tight seasons of one home county (the master then has every column of the
    route-pattern LP): the master seats at least the exhaustive optimum, at most everyone."""
    rng = random.Random(11)
    for _ in range(6):
        scenario, coaches = _random_season(rng)
        exact = _exact(scenario, 20, coaches)
        found = route_master(scenario, PROVIDER)
        assert exact <= found.seated + 1e-6 <= len(scenario.workers) + 1e-6, (exact, found)


def test_a_one_county_route_holds_its_coach_as_the_county_turn_does() -> None:
    """A route of one county is that county's turn: the same hold as `hold_of`, both waves."""
    workers = [_worker(n, COUNTIES[1], 0, 2) for n in range(5)]
    fleet = (VehicleType("c20", 20, 1, 5.0, 400.0),)
    for direction in ("home", "return"):
        scenario = _scenario(workers, fleet, 3, direction)
        roads = road_times(scenario, PROVIDER)
        turn = Turn(float(roads.out[0]), float(roads.back[0]))
        hold = route_hold(roads, (0,), direction == "home", scenario.policy)
        assert hold == pytest.approx(hold_of(turn, direction == "home", scenario.policy))
