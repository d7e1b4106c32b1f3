"""The servable bound (issue 11): never below what a plan can seat, checked against small seasons
solved exhaustively, and the tightened bound never above the first version; unsound variants of
it (turns claimed three times as long as the roads allow, a stop counted per worker) are caught by
the same check; its time model follows the rules it relies on."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import random

import pytest

import optimizer.servable
from optimizer.duties import TimetableEmptyDriveTimer
from optimizer.model import Policy, Scenario, VehicleType, Worker
from optimizer.routing import LinearProgram, LpNotSolved
from optimizer.season import solve_within_fleet
from optimizer.servable import (
    Hold,
    Turn,
    _covers,
    _covers_one_by_one,
    _windows,
    coach_cycle,
    county_turns,
    earliest_back,
    hold_of,
    homeward_ends,
    least_progress,
    least_span,
    servable_bound,
    servable_bound_of_turns,
    split_cover,
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


# Cached: the route-master test (tests/benchmarks/test_servable_routes.py) draws the same first
# seasons from the same seed, and on the same worker process reuses their optima.
@functools.cache
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


def test_the_bound_is_never_below_small_seasons_solved_exhaustively(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twelve random tight seasons (one home county near, mid or far; 1-2 coaches of 20 seats;
    3-4 days; home and return waves): the bound is at least the exhaustive optimum and at most
    the first version's (tightened=False), and strictly below it on some season; the whole-cycle
    rows and the return wave's split cover only lower it, strictly on some season. Three unsound
    variants fall below what the coaches can seat on some season, and the check catches each:
    turns three times as long as the roads allow, a county's stop of a day counted once per
    worker instead of once for all its workers of that day, and coach cycles three times as long
    as the holds prove."""
    rng = random.Random(11)
    caught_turns = caught_stops = caught_cycles = tighter = cut_by_cycles = 0
    for _ in range(12):
        scenario, coaches = _random_season(rng)
        exact = _exact(scenario, 20, coaches)
        homes = {w.home_adcode for w in scenario.workers if w.home_adcode}
        turns = county_turns(scenario, PROVIDER, homes)
        bound = servable_bound(scenario, distances=PROVIDER)
        first = servable_bound_of_turns(scenario, turns, tightened=False)
        assert bound == servable_bound_of_turns(scenario, turns)
        assert exact <= bound <= first <= len(scenario.workers), (scenario.direction, exact, bound)
        tighter += bound < first
        tripled = {
            county: Turn(3 * turn.out_h, 3 * turn.back_h, turn.empty_layover, turn.partners)
            for county, turn in turns.items()
        }
        if servable_bound_of_turns(scenario, tripled) < exact:
            caught_turns += 1
        with monkeypatch.context() as patch:
            patch.setattr(optimizer.servable, "workers_per_stop", lambda size: 1.0)
            if servable_bound_of_turns(scenario, turns) < exact:
                caught_stops += 1
        with monkeypatch.context() as patch:
            patch.setattr(optimizer.servable, "CYCLE_ROWS", False)
            patch.setattr(optimizer.servable, "RETURN_COVER", False)
            without = servable_bound_of_turns(scenario, turns)
        assert bound <= without
        cut_by_cycles += bound < without
        with monkeypatch.context() as patch:
            patch.setattr(optimizer.servable, "coach_cycle", lambda *args: 3 * coach_cycle(*args))
            if servable_bound_of_turns(scenario, turns) < exact:
                caught_cycles += 1
    assert caught_turns > 0
    assert caught_stops > 0
    assert caught_cycles > 0
    assert tighter > 0
    assert cut_by_cycles > 0


def test_the_split_cover_is_the_least_overlap_over_every_interval_the_hold_allows() -> None:
    """A return trip departing at s in [E, L] holds [s - B, s + A) with B >= before,
    A >= least_after, A + B >= length: the split cover at s = E and s = L is the least overlap
    with the window over a fine grid of such B, A and s (and never more)."""
    hold = Hold(3.5, 0.0, 50.0, 26.0)
    for a, b in ((-18.0, 46.0), (-18.0, 70.0), (0.0, 200.0), (5.0, 30.0), (-60.0, 120.0)):
        split = min(split_cover(hold, s, a, b) for s in (6.0, 22.0))
        least = math.inf
        for s in (6.0 + 0.5 * i for i in range(33)):
            for b_extra in (0.5 * i for i in range(101)):
                back = hold.before + b_extra
                ahead = max(hold.least_after, hold.length - back)
                for after in (ahead, ahead + 7.0):
                    overlap = min(s + after, b) - max(s - back, a)
                    least = min(least, max(0.0, overlap))
        assert split == pytest.approx(least, abs=1e-9), (a, b)


def test_a_county_stop_of_a_day_is_whole_where_the_first_bound_counted_a_fraction() -> None:
    """One 20-seat coach, three days of a return wave from Weining (Guizhou, ~28 h each way): a
    trip holds its coach for more than three days (empty out, loaded back, two crew rests), so
    one trip is all it makes. One worker can go only on day 0, one only on day 2, three on any
    day: any plan seats at most four. The first bound counted the day-0 and day-2 workers as a
    quarter of a stop each and said five (everyone); the tightened one says four."""
    county = COUNTIES[1]
    spans = [(0, 0), (2, 2), (0, 2), (0, 2), (0, 2)]
    workers = [_worker(n, county, start, end) for n, (start, end) in enumerate(spans)]
    fleet = (VehicleType("c20", 20, 1, 5.0, 400.0),)
    scenario = _scenario(workers, fleet, 3, "return")
    turns = county_turns(scenario, PROVIDER, {county})
    assert servable_bound_of_turns(scenario, turns, tightened=False) == len(workers)
    assert servable_bound(scenario, distances=PROVIDER) == 4
    assert _exact(scenario, 20, 1) == 4


def test_the_least_clock_span_of_a_drive_is_the_least_over_its_possible_starts() -> None:
    """The least clock time of D hours of driving equals a fine search over start times (any
    hour, and departures between 06:00 and 22:00): 16 h fit one day; 20 h from any hour need
    21 h (the 02:00-05:00 park is skipped only if the drive ends before it), from 06:00-22:00
    24 h; it is never shorter than the driving itself."""
    policy = Policy()
    assert least_span(16.0, policy) == pytest.approx(16.0)
    assert least_span(20.0, policy) == pytest.approx(21.0)
    assert least_span(20.0, policy, (6.0, 22.0)) == pytest.approx(24.0)
    for drive in (3.0, 17.0, 30.0, 45.0, 61.5):
        anywhere = min(earliest_back(a / 20, drive, policy) - a / 20 for a in range(480))
        by_day = min(earliest_back(a / 20, drive, policy) - a / 20 for a in range(120, 441))
        # The search's grid is 3 min: it can miss the least by at most that much.
        assert drive <= least_span(drive, policy) <= anywhere + 1e-9
        assert anywhere - 0.05 <= least_span(drive, policy)
        assert by_day - 0.05 <= least_span(drive, policy, (6.0, 22.0)) <= by_day + 1e-9


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


def test_a_tightened_lp_cut_short_falls_back_to_the_first_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When GLOP has not proved the tightened LP's optimum in its time (its time limit made to
    pass at once here, on a season where the two bounds differ), the bound is the first
    version's, never the value of an unfinished LP."""
    county = COUNTIES[1]
    spans = [(0, 0), (2, 2), (0, 2), (0, 2), (0, 2)]
    workers = [_worker(n, county, start, end) for n, (start, end) in enumerate(spans)]
    scenario = _scenario(workers, (VehicleType("c20", 20, 1, 5.0, 400.0),), 3, "return")
    turns = county_turns(scenario, PROVIDER, {county})
    assert servable_bound_of_turns(scenario, turns) == 4
    real = optimizer.servable.solve_lp

    def out_of_time(
        program: LinearProgram, time_limit_s: float | None = None
    ) -> tuple[float, tuple[float, ...]]:
        if time_limit_s is not None:
            raise LpNotSolved("time limit")
        return real(program)

    monkeypatch.setattr(optimizer.servable, "solve_lp", out_of_time)
    assert servable_bound_of_turns(scenario, turns) == len(workers)


def test_a_far_trip_cannot_end_at_a_near_partner_beyond_its_workers_detour() -> None:
    """Homeward, a trip to a far county c whose empty drive home would start at a near partner
    n (a short drive: a one-hour turnaround, not the crew rest) must carry n's workers past c,
    longer than their detour limit allows, or pass the origin side between c and n (driving
    out(n) + back(n) more): the hold is the least of the two cases, later than the first
    version's, which paired c's driving with n's short layover."""
    policy = Policy()
    far = Turn(10.0, 10.0, True, frozenset({"near"}), 10.4)
    near = Turn(2.0, 2.0, True, frozenset({"far"}), 2.3)
    turns = {"far": far, "near": near}
    # 10 h > 1.3 x 2.3 h + 1 h: n cannot be reached through c within the detour limit.
    assert homeward_ends("far", turns, policy) == [(0.0, 10.0), (4.0, 2.0)]
    # The near county's own trip may end at the far one (2 h <= 1.3 x 10.4 h + 1 h).
    assert homeward_ends("near", turns, policy) == [(0.0, 2.0), (0.0, 10.0)]
    first = hold_of(far, True, policy, 2.0, 2.0)
    held = hold_of(far, True, policy, 2.0, 2.0, ends=homeward_ends("far", turns, policy))
    drive = 20.0 + least_progress(8.0, policy)
    own_end = earliest_back(6.0, drive, policy) + 8.0
    via_origin = earliest_back(6.0, drive + 4.0, policy) + 1.0
    assert held.after_earliest == pytest.approx(min(own_end, via_origin))
    assert held.after_earliest >= first.after_earliest + 4.0
    assert held.length >= first.length + 4.0
    # A partner within reach keeps the first version's short layover.
    reachable = {"far": far, "near": Turn(2.0, 2.0, True, frozenset({"far"}), 8.0)}
    assert homeward_ends("far", reachable, policy) == [(0.0, 2.0), (0.0, 10.0)]
    same = hold_of(far, True, policy, 2.0, 2.0, ends=homeward_ends("far", reachable, policy))
    assert same == first


def test_the_last_stop_cases_only_lower_the_bound_and_never_below_the_planners_plan() -> None:
    """On a homeward season of a far county (Weining, 27.6 h) and a near one (Taicang, 2.3 h:
    a one-hour turnaround after its empty drive), partners by the relaxed pairing, Weining's
    trips can end at Taicang only through the origin side; the bound with the last-stop cases
    is at most the one without them, and at least what the planner seats with one coach."""
    weining, taicang = COUNTIES[1], "320585"
    spans = [(0, 2)] * 6 + [(1, 1)] * 2
    workers = [_worker(n, weining, a, b) for n, (a, b) in enumerate(spans)]
    workers += [_worker(10 + n, taicang, 0, 2) for n in range(3)]
    scenario = _scenario(workers, (VehicleType("c20", 20, 1, 5.0, 400.0),), 3)
    turns = county_turns(scenario, PROVIDER, {weining, taicang})
    assert all(t.reach_h is not None for t in turns.values())
    assert turns[weining].partners == frozenset({taicang})
    cases = homeward_ends(weining, turns, scenario.policy)
    near = turns[taicang]
    assert cases == [(0.0, turns[weining].back_h), (near.out_h + near.back_h, near.back_h)]
    unreached = {c: Turn(t.out_h, t.back_h, t.empty_layover, t.partners) for c, t in turns.items()}
    with_cases = servable_bound_of_turns(scenario, turns)
    assert with_cases <= servable_bound_of_turns(scenario, unreached)
    seated = sum(len(t.passengers) for t in solve(scenario, distances=PROVIDER).trips)
    assert seated <= with_cases


@pytest.mark.parametrize("home", [True, False])
def test_the_covers_of_all_windows_at_once_are_those_of_each_window_alone(home: bool) -> None:
    """`_covers` works on every window of a day at once (numpy): the same (window, hours) list,
    float for float, as the window-by-window form, over random holds, days and the windows of
    a 30-day season (instants, short and long windows, the whole season)."""
    policy = Policy()
    first = dt.date(2027, 2, 1)
    season = [first + dt.timedelta(days=i) for i in range(30)]
    windows = _windows(season, first, policy, True)
    rng = random.Random(11)
    for _ in range(60):
        before = rng.choice([0.0, rng.uniform(0.0, 40.0)])
        length = rng.uniform(0.5, 120.0)
        hold = Hold(before, rng.uniform(0.0, 80.0), length, rng.choice([0.0, length / 2]))
        longest = max(hold.after_earliest, hold.length)
        for day in rng.sample(range(30), 5):
            assert _covers(hold, day, windows, home, policy, longest) == _covers_one_by_one(
                hold, day, windows, home, policy, longest
            )


def test_a_plan_whose_servable_lp_runs_out_of_its_box_gets_the_first_bound_and_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tightened LP gets `SERVABLE_SHARE` of the plan's time limit (a tiny box here: GLOP
    is told so, and treated as not having proved its optimum within it); the plan then carries
    the first version's bound, still >= seated, and a note naming the fallback."""
    import optimizer.season

    workers = [_worker(n, COUNTIES[n % 2], 0, 2) for n in range(60)]
    scenario = _scenario(workers, (VehicleType("c20", 20, 1, 5.0, 400.0),), 3, "return")
    turns = county_turns(scenario, PROVIDER, set(COUNTIES[:2]))
    first = servable_bound_of_turns(scenario, turns, tightened=False)
    real = optimizer.servable.solve_lp
    boxes: list[float] = []

    def tiny_box(
        program: LinearProgram, time_limit_s: float | None = None
    ) -> tuple[float, tuple[float, ...]]:
        if time_limit_s is not None:
            boxes.append(time_limit_s)
            if time_limit_s < 0.01:
                raise LpNotSolved("time limit")
        return real(program, time_limit_s)

    monkeypatch.setattr(optimizer.servable, "solve_lp", tiny_box)
    monkeypatch.setattr(optimizer.season, "SERVABLE_SHARE", 1e-4)
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    assert plan.kpis.seated < len(workers)
    assert boxes == [pytest.approx(1e-4 * scenario.solver.time_limit_s)]
    assert plan.kpis.fleet_servable_bound == first
    assert first >= plan.kpis.seated
    assert any("servable bound by its first version" in note for note in plan.notes)
    # With the whole box the tightened LP gives the bound and no note.
    monkeypatch.setattr(optimizer.season, "SERVABLE_SHARE", 0.25)
    plan, _ = solve_within_fleet(scenario, distances=PROVIDER)
    assert plan.kpis.fleet_servable_bound == servable_bound_of_turns(scenario, turns)
    assert not any("servable bound" in note for note in plan.notes)
