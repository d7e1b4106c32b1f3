"""The servable bound (issue 11): never below what a plan can seat, checked against small seasons
solved exhaustively; an unsound variant of it (turns claimed three times as long as the roads
allow) is caught by the same check; its time model follows the rules it relies on."""

from __future__ import annotations

import itertools
import random

import pytest

from optimizer.duties import TimetableEmptyDriveTimer
from optimizer.model import Policy, Scenario, VehicleType, Worker
from optimizer.servable import (
    Turn,
    county_turns,
    earliest_back,
    least_progress,
    servable_bound,
    servable_bound_of_turns,
)
from optimizer.solve import solve
from tests.optimizer.test_ledger import COUNTIES, PROVIDER, _scenario, _worker, day_spans


def test_a_drive_makes_no_progress_in_the_park_window_and_less_at_night() -> None:
    """From 06:00, 16 h of driving end at 22:00; 4 h more take 22:00-02:00 at 80 % (3.2 h), the
    park 02:00-05:00, and 05:00-06:00 at 80 %: 20 h of driving end at 06:00 the next day."""
    policy = Policy()
    assert earliest_back(6.0, 16.0, policy) == pytest.approx(22.0)
    assert earliest_back(6.0, 20.0, policy) == pytest.approx(30.0)
    assert earliest_back(1.0, 1.0, policy) == pytest.approx(5.0 + 0.2 / 0.8)


def test_a_pause_costs_at_least_the_driving_its_least_costly_placement_prevents() -> None:
    """An 8 h crew rest placed over the night (22:00-06:00) prevents only 4 h of driving; a 1 h
    rest inside the park prevents none."""
    policy = Policy()
    assert least_progress(8.0, policy) == pytest.approx(4.0)
    assert least_progress(1.0, policy) == pytest.approx(0.0)


def _exact(scenario: Scenario, seats: int, coaches: int) -> int:
    """Workers `coaches` coaches of `seats` seats can seat, by brute force over the planner's own
    trips: any number of trips per day (the planner's trip of that day, its busy interval from
    the depot and back, rested), as long as no more than `coaches` are away at once (interval
    graphs: then `coaches` coaches can drive them); each day's trips filled with the waiting
    workers whose window ends first (exact for interval windows). A feasible plan: the true
    optimum is at least this."""
    days, spans = day_spans(scenario)
    best = 0
    for counts in itertools.product(range(coaches + 1), repeat=len(days)):
        intervals = [spans[d] for d, n in zip(days, counts, strict=True) for _ in range(n)]
        instants = [start for start, _ in intervals]
        if any(sum(1 for a, b in intervals if a <= t < b) > coaches for t in instants):
            continue
        taken: set[str] = set()
        seated = 0
        for day, n in zip(days, counts, strict=True):
            waiting = sorted(
                (w for w in scenario.workers if w.earliest <= day <= w.latest),
                key=lambda w: w.latest,
            )
            load = [w for w in waiting if w.worker_id not in taken][: n * seats]
            taken |= {w.worker_id for w in load}
            seated += len(load)
        best = max(best, seated)
    return best


def _random_season(rng: random.Random) -> tuple[Scenario, int]:
    days = rng.randint(3, 4)
    county = rng.choice(COUNTIES)
    coaches = rng.randint(1, 2)
    workers: list[Worker] = []
    for n in range(rng.randint(40, 80)):
        start = rng.randrange(days)
        workers.append(_worker(n, county, start, rng.randint(start, min(days - 1, start + 2))))
    fleet = (VehicleType("c20", 20, coaches, 5.0, 400.0),)
    direction = rng.choice(("home", "return"))
    return _scenario(workers, fleet, days, direction), coaches


def test_the_bound_is_never_below_small_seasons_solved_exhaustively() -> None:
    """Twelve random tight seasons (one home county near, mid or far; 1-2 coaches of 20 seats;
    3-4 days; home and return waves): the bound is at least the exhaustive optimum. The same
    bound fed turns three times as long as the roads allow is unsound, and the check catches it: on
    some season it falls below what the coaches can seat."""
    rng = random.Random(11)
    caught = 0
    for _ in range(12):
        scenario, coaches = _random_season(rng)
        exact = _exact(scenario, 20, coaches)
        bound = servable_bound(scenario, distances=PROVIDER)
        assert exact <= bound <= len(scenario.workers), (scenario.direction, exact, bound)
        homes = {w.home_adcode for w in scenario.workers if w.home_adcode}
        tripled = {
            county: Turn(3 * turn.out_h, 3 * turn.back_h, turn.empty_layover, turn.partners)
            for county, turn in county_turns(scenario, PROVIDER, homes).items()
        }
        if servable_bound_of_turns(scenario, tripled) < exact:
            caught += 1
    assert caught > 0


def test_road_turns_are_never_shorter_than_the_planners_own_trips() -> None:
    """The turn of each county (shortest paths over the provider the planner uses) is at most
    the driving of the planner's trip there and of the empty drive back."""
    workers = [_worker(n, county, 0, 0) for n, county in enumerate(COUNTIES)]
    scenario = _scenario(workers, (VehicleType("c53", 53, 3, 9.0, 800.0),), days=1)
    turns = county_turns(scenario, PROVIDER, COUNTIES)
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    for county in COUNTIES:
        one = scenario.replace(workers=tuple(w for w in workers if w.home_adcode == county))
        (trip,) = solve(one, distances=PROVIDER).trips
        assert turns[county].out_h * 60 <= trip.driving_minutes + 1
        last = trip.stops[-1]
        from optimizer.geography.distance import Location

        first = trip.stops[0]
        _, back_s = timer.road(
            Location(last.lon, last.lat, last.adcode), Location(first.lon, first.lat)
        )
        assert turns[county].back_h * 3600 <= back_s + 1
