"""The LP lower bound: never above the optimum of small seasons, never below the counting bound."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import Phase, given, reject, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from optimizer.bounds import SeatedDemand, lower_bounds
from optimizer.lp_bound import LpBound, LpDemand, county_sets, lp_lower_bound, metric_closure

DAY0 = dt.date(2019, 1, 24)


@dataclass(frozen=True)
class Group:
    seats: int
    county: int
    gate: int
    start: int
    length: int


@dataclass(frozen=True)
class Season:
    """A small abstract season: gates, counties, a travel-time matrix that need not obey the
    triangle inequality, dates with a coach size each, and demand groups."""

    gates: int
    counties: int
    seconds: tuple[tuple[int, ...], ...]  # sites: gates first, then counties
    capacity: tuple[int, ...]  # seats of the largest coach per date
    groups: tuple[Group, ...]
    county_stops: int
    pickup_stops: int
    ratio: float
    grace_s: int

    def site(self, i: int) -> str:
        return f"company:g{i}" if i < self.gates else f"county:c{i - self.gates}"

    def day(self, i: int) -> dt.date:
        return DAY0 + dt.timedelta(days=i)

    def window(self, g: Group) -> tuple[dt.date, dt.date]:
        last = min(g.start + g.length, len(self.capacity) - 1)
        return self.day(g.start), self.day(last)


# CP-SAT's effort per optimum, in deterministic seconds: the same season gets the same answer
# on a quiet machine and under load (a wall-clock limit made the property flaky there).
OPTIMUM_DETERMINISTIC_S = 60.0


def proven_minimum(model: cp_model.CpModel) -> int:
    """The model's proven minimum; a season CP-SAT cannot close within its deterministic effort
    is rejected (the property is checked only against proven optima)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = OPTIMUM_DETERMINISTIC_S
    if solver.solve(model) != cp_model.OPTIMAL:
        reject()
    return round(solver.objective_value)


@st.composite
def seasons(draw: Callable[..., object]) -> Season:
    gates = draw(st.integers(1, 3))
    counties = draw(st.integers(1, 4))
    size = gates + counties
    values = draw(st.lists(st.integers(600, 12_000), min_size=size * size, max_size=size * size))
    assert isinstance(values, list)
    seconds = tuple(
        tuple(0 if i == j else values[i * size + j] for j in range(size)) for i in range(size)
    )
    days = draw(st.integers(1, 3))
    capacity = tuple(draw(st.lists(st.sampled_from([4, 6, 8]), min_size=days, max_size=days)))
    groups = draw(
        st.lists(
            st.builds(
                Group,
                st.integers(1, 5),
                st.integers(0, counties - 1),
                st.integers(0, gates - 1),
                st.integers(0, days - 1),
                st.integers(0, 2),
            ),
            min_size=1,
            max_size=6,
        )
    )
    assert isinstance(groups, list)
    return Season(
        gates,
        counties,
        seconds,
        capacity,
        tuple(groups),
        county_stops=draw(st.integers(1, 3)),
        pickup_stops=draw(st.integers(1, 2)),
        ratio=draw(st.sampled_from([1.0, 1.2, 1.5])),
        grace_s=draw(st.sampled_from([0, 600, 1800])),
    )


def optimum(season: Season) -> int:
    """The fewest coaches of the season, by CP-SAT over every coach route: a date, up to
    `pickup_stops` gates then up to `county_stops` counties in order, each passenger riding the
    route's legs within direct x ratio + grace (+1 s, as the plan checker allows)."""
    t = season.seconds
    gates = range(season.gates)
    counties = [season.gates + c for c in range(season.counties)]
    routes = []
    for day, _ in enumerate(season.capacity):
        for k in range(1, season.pickup_stops + 1):
            for near in itertools.permutations(gates, k):
                for m in range(1, season.county_stops + 1):
                    for far in itertools.permutations(counties, m):
                        routes.append((day, (*near, *far)))
    model = cp_model.CpModel()
    total = sum(g.seats for g in season.groups)
    coaches = []
    carried: dict[int, list[cp_model.IntVar]] = {i: [] for i in range(len(season.groups))}
    for r, (day, sequence) in enumerate(routes):
        x = model.new_int_var(0, total, f"x{r}")
        coaches.append(x)
        position = {site: i for i, site in enumerate(sequence)}
        loads = []
        for i, g in enumerate(season.groups):
            gate, county = g.gate, season.gates + g.county
            if gate not in position or county not in position:
                continue
            if not g.start <= day <= g.start + g.length:
                continue
            a, b = position[gate], position[county]
            ride = sum(t[sequence[s]][sequence[s + 1]] for s in range(a, b))
            if ride > t[gate][county] * season.ratio + season.grace_s + 1:
                continue
            y = model.new_int_var(0, g.seats, f"y{r}_{i}")
            loads.append(y)
            carried[i].append(y)
        if loads:
            model.add(sum(loads) <= season.capacity[day] * x)
    for i, g in enumerate(season.groups):
        model.add(sum(carried[i]) == g.seats)
    model.minimize(sum(coaches))
    return proven_minimum(model)


def lp_bound(
    season: Season,
    collapse_windows: bool = False,
    county_stops: int = 0,
    max_rounds: int | None = None,
    known: int = 0,
    presolve: bool = True,
    pickup: int | None = None,
    purge_keep: int = 0,
    price_duals: bool | None = None,
    incremental: bool = True,
    stop_early: bool | None = None,
) -> LpBound:
    demands = []
    for g in season.groups:
        window = season.window(g)
        if collapse_windows:  # the invalid variant: every group departs on its first day
            window = (window[0], window[0])
        demands.append(
            LpDemand(g.seats, season.site(season.gates + g.county), window, (season.site(g.gate),))
        )
    size = season.gates + season.counties
    return lp_lower_bound(
        demands,
        capacity_by_date={season.day(i): q for i, q in enumerate(season.capacity)},
        county_stop_limit=county_stops or season.county_stops,
        sites=[season.site(i) for i in range(size)],
        leg_s=np.array(season.seconds),
        detour_ratio=season.ratio,
        detour_grace_s=season.grace_s,
        time_limit_s=30,
        max_rounds=max_rounds,
        until_converged=True,
        known_bound=known,
        presolve=presolve,
        boarding_stop_limit=pickup,
        purge_keep=purge_keep,
        price_duals=price_duals,
        incremental=incremental,
        stop_early=stop_early,
    )


def counting_bound(season: Season) -> int:
    demands = [
        SeatedDemand(g.seats, f"c{g.county}", season.window(g), f"g{g.gate}", 0.0)
        for g in season.groups
    ]
    return lower_bounds(
        demands,
        largest_coach=max(season.capacity),
        county_stop_limit=season.county_stops,
        boarding_stop_limit=season.pickup_stops,
        county_stops_fixed=True,
    ).trips


def check(season: Season, bound: Callable[[Season], LpBound]) -> None:
    """The property: the bound, and the best of it and the counting bound, stay at or under the
    exact optimum; the best is never under the counting bound."""
    best = optimum(season)
    lp = bound(season)
    counting = counting_bound(season)
    combined = max(lp.trips, counting)
    assert lp.trips <= best, (lp.trips, best)
    assert counting <= combined <= best


@settings(max_examples=40, deadline=None)
@given(seasons())
def test_lp_bound_never_exceeds_the_optimum(season: Season) -> None:
    """On random small seasons (non-metric travel times included) the LP bound is valid, also
    when stopped after one pricing round (the Farley bound), and converges."""
    check(season, lp_bound)
    check(season, lambda s: lp_bound(s, max_rounds=1))
    lp = lp_bound(season)
    assert lp.converged
    # Given the counting bound as a row, the LP bound is never below it and still valid.
    counting = counting_bound(season)
    check(season, lambda s: lp_bound(s, known=counting))
    check(season, lambda s: lp_bound(s, known=counting, max_rounds=1))
    assert lp_bound(season, known=counting, max_rounds=1).trips >= counting
    # The LP alone is at least the seat bound (its rows cover every seat).
    assert lp.value >= sum(g.seats for g in season.groups) / max(season.capacity) - 1e-6


@settings(max_examples=40, deadline=None)
@given(seasons())
def test_pickup_rows_stay_valid_and_never_weaker(season: Season) -> None:
    """With the pickup rows (a coach carries a county's seats from at most `pickup_stops`
    gates) the bound stays at or under the CP-SAT optimum, also after one round and with the
    counting bound as a row, and its converged LP value is never below the plain LP's."""
    check(season, lambda s: lp_bound(s, pickup=s.pickup_stops))
    check(season, lambda s: lp_bound(s, pickup=s.pickup_stops, max_rounds=1))
    counting = counting_bound(season)
    check(season, lambda s: lp_bound(s, pickup=s.pickup_stops, known=counting))
    plain, rows = lp_bound(season), lp_bound(season, pickup=season.pickup_stops)
    assert plain.converged and rows.converged
    assert rows.value >= plain.value - 1e-6
    assert rows.trips >= plain.trips


def test_pickup_rows_raise_the_bound_where_gates_cannot_share() -> None:
    """One county, four gates of two seats each, coaches of eight seats, one pickup stop per
    coach: the plain LP proves one coach (the seats fit), the pickup rows prove four, the
    optimum; with two pickup stops they prove two."""
    hour = 3600
    seconds = tuple(
        tuple(0 if i == j else (600 if i < 4 and j < 4 else 3 * hour) for j in range(5))
        for i in range(5)
    )
    season = Season(4, 1, seconds, (8,), tuple(Group(2, 0, g, 0, 0) for g in range(4)), 3, 1,
                    1.3, 1800)  # fmt: skip
    plain = lp_bound(season)
    rows = lp_bound(season, pickup=1)
    assert plain.trips == 1 and rows.trips == 4 == optimum(season)
    two = dataclasses.replace(season, pickup_stops=2)
    assert lp_bound(two, pickup=2).trips == 2 == optimum(two)


@settings(max_examples=15, deadline=None)
@given(seasons())
def test_glop_without_preprocessing_converges_to_the_same_lp(season: Season) -> None:
    """GLOP with its preprocessing off (it keeps its basis between rounds) converges to the same
    LP optimum, so the same bound."""
    default, kept = lp_bound(season), lp_bound(season, presolve=False)
    assert default.converged and kept.converged
    assert kept.value == pytest.approx(default.value, abs=1e-6)
    assert kept.trips == default.trips


@settings(max_examples=25, deadline=None)
@given(seasons())
def test_incremental_master_gives_the_lp_of_a_master_solved_from_scratch(season: Season) -> None:
    """The master re-solved from its last basis (the default) stays at or under the CP-SAT
    optimum (also after one round, with pickup rows and with the counting bound as a row) and
    converges to the same LP optimum, so the same bound, as a master solved from scratch every
    round."""
    counting = counting_bound(season)
    check(season, lambda s: lp_bound(s, max_rounds=1))
    check(season, lambda s: lp_bound(s, known=counting, max_rounds=1))
    check(season, lambda s: lp_bound(s, pickup=s.pickup_stops, known=counting))
    for pickup in (None, season.pickup_stops):
        warm = lp_bound(season, pickup=pickup)
        cold = lp_bound(season, pickup=pickup, incremental=False)
        assert warm.converged and cold.converged
        assert warm.value == pytest.approx(cold.value, abs=1e-6)
        assert warm.trips == cold.trips


@settings(max_examples=30, deadline=None)
@given(seasons())
def test_purged_master_and_priced_duals_stay_valid_and_converge(season: Season) -> None:
    """A master rebuilt every few rounds with only some of its columns (`purge_keep` 1: after
    every third column) and the master's own duals priced every round stay at or under the
    CP-SAT optimum, also after one round and with the counting bound as a row, and converge to
    the same LP optimum as the plain loop."""
    check(season, lambda s: lp_bound(s, purge_keep=1, price_duals=True))
    check(season, lambda s: lp_bound(s, purge_keep=1, price_duals=True, max_rounds=1))
    counting = counting_bound(season)
    check(season, lambda s: lp_bound(s, purge_keep=1, price_duals=True, known=counting))
    check(season, lambda s: lp_bound(s, pickup=s.pickup_stops, purge_keep=1, price_duals=True))
    plain, purged = lp_bound(season), lp_bound(season, purge_keep=1, price_duals=True)
    assert plain.converged and purged.converged
    assert purged.value == pytest.approx(plain.value, abs=1e-6)
    assert purged.trips == plain.trips


def test_a_purged_master_out_of_time_reports_the_last_solution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the box runs out in the first solve of a purged master, the bound keeps the last
    master's solution on the kept columns (before: an IndexError, its values were the unpurged
    master's)."""
    import optimizer.lp_bound
    from optimizer.routing import CoveringLp

    masters: list[CoveringLp] = []

    class OutOfTimeAfterPurge(CoveringLp):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            masters.append(self)

        def solve(self, time_limit_s: float) -> Any:
            return None if len(masters) > 2 else super().solve(time_limit_s)

    monkeypatch.setattr(optimizer.lp_bound, "CoveringLp", OutOfTimeAfterPurge)
    season = three_counties()
    lp = lp_bound(season, purge_keep=1, price_duals=True)
    assert len(masters) == 3 and "inside the LP solver" in lp.note
    assert lp.patterns and lp.trips <= optimum(season)
    assert sum(p.coaches for p in lp.patterns) == pytest.approx(lp.lp_value, abs=1e-6)


@pytest.mark.parametrize(
    "invalid",
    [
        pytest.param(lambda s: lp_bound(s, collapse_windows=True), id="first-day-of-window"),
        pytest.param(lambda s: lp_bound(s, county_stops=1), id="one-county-per-coach"),
        pytest.param(lambda s: lp_bound(s, pickup=1), id="pickup-rows-with-one-gate-per-coach"),
        pytest.param(
            lambda s: lp_bound(s, collapse_windows=True, purge_keep=1, price_duals=True),
            id="first-day-of-window-purged",
        ),
        pytest.param(
            lambda s: lp_bound(s, collapse_windows=True, incremental=False),
            id="first-day-of-window-from-scratch",
        ),
    ],
)
def test_an_invalid_variant_is_caught(invalid: Callable[[Season], LpBound]) -> None:
    """The same property check fails for a bound that wrongly ignores the windows' flexibility
    (each group forced onto its first day), lets a coach serve one county only, or builds the
    pickup rows with one gate per coach where the season allows two: the test has teeth."""

    @settings(max_examples=400, deadline=None, database=None, phases=[Phase.generate])
    @given(seasons())
    def property_of_invalid(season: Season) -> None:
        check(season, invalid)

    with pytest.raises(AssertionError):
        property_of_invalid()


def test_metric_closure_obeys_the_triangle_inequality() -> None:
    """The closure is never above the matrix and takes the shortcut through a third site."""
    closure = metric_closure([[0, 100, 10], [100, 0, 10], [10, 10, 0]])
    assert closure[0, 1] == 20
    assert (closure <= np.array([[0, 100, 10], [100, 0, 10], [10, 10, 0]])).all()


def test_metric_closure_past_its_deadline_stops() -> None:
    """Past its deadline the closure stops with TimeoutError (the LP bound then reports why
    instead of running past its box); before it, the same closure as without one."""
    import time

    seconds = [[0, 100, 10], [100, 0, 10], [10, 10, 0]]
    with pytest.raises(TimeoutError, match="closing the travel times"):
        metric_closure(seconds, deadline=time.monotonic() - 1.0)
    later = metric_closure(seconds, deadline=time.monotonic() + 60.0)
    assert (later == metric_closure(seconds)).all()


def test_counties_in_opposite_directions_never_share_a_coach() -> None:
    """Two counties each 5 h from the gate but 10 h apart are no pattern; two on one road are."""
    sites = ["company:g", "county:a", "county:b", "county:c"]
    hour = 3600
    leg = np.array(
        [
            [0, 5 * hour, 5 * hour, 6 * hour],
            [5 * hour, 0, 10 * hour, 1 * hour],
            [5 * hour, 10 * hour, 0, 11 * hour],
            [6 * hour, 1 * hour, 11 * hour, 0],
        ]
    )
    sets = county_sets(
        ["county:a", "county:b", "county:c"],
        sites=sites,
        leg_s=leg,
        boarding_sites=["company:g"],
        boarding_of={c: ["company:g"] for c in sites[1:]},
        county_stop_limit=3,
        detour_ratio=1.2,
        detour_grace_s=hour,
    )
    assert sets is not None
    assert (0, 2) in sets  # a then c along one road
    assert (0, 1) not in sets and (1, 2) not in sets


def three_counties() -> Season:
    """One gate an hour from three counties ten minutes apart, six groups of 3 over two days."""
    return Season(
        1,
        3,
        ((0, 3600, 3600, 3600), (3600, 0, 600, 600), (3600, 600, 0, 600), (3600, 600, 600, 0)),
        (8, 8),
        tuple(Group(3, c % 3, 0, c % 2, 0) for c in range(6)),
        3,
        1,
        1.3,
        1800,
    )


def test_time_boxed_bound_is_still_proven() -> None:
    """Stopped after one pricing round, or out of time at once, the bound is a weaker but valid
    one and says why it stopped."""
    season = three_counties()
    full = lp_bound(season)
    early = lp_bound(season, max_rounds=1)
    assert full.converged and not early.converged and "round" in early.note
    assert early.value <= full.value + 1e-9 and full.trips <= optimum(season)
    none = lp_lower_bound(
        [LpDemand(3, "county:c0", (DAY0, DAY0), ("company:g0",))],
        capacity_by_date={DAY0: 8},
        county_stop_limit=3,
        sites=["company:g0", "county:c0"],
        leg_s=np.array([[0, 3600], [3600, 0]]),
        detour_ratio=1.3,
        detour_grace_s=0,
        time_limit_s=0.0,
    )
    assert none.trips == 0 and "time limit" in none.note


@pytest.mark.parametrize("share", [-0.1, 0.6])
def test_solver_params_refuse_a_bad_lower_bound_share(share: float) -> None:
    """lower_bound_share outside 0..0.5 is refused with a message naming it."""
    from optimizer.errors import InvalidInput
    from optimizer.model import SolverParams

    with pytest.raises(InvalidInput, match="lower_bound_share"):
        SolverParams(lower_bound_share=share)


def test_solve_reports_the_best_bound_and_its_source() -> None:
    """A plan says which bound it reports; the bound stays under the trips and at or above the
    counting bound; the LP bound of the plan's seated workers converges under the trips, at or
    above the LP without the pickup rows; with no share of time for it the LP does not run."""
    import re
    from pathlib import Path

    from optimizer.geography.distance import GreatCircleProvider
    from optimizer.lp_bound import plan_lp_bound
    from optimizer.model import SolverParams
    from optimizer.read import read_scenario
    from optimizer.solve import solve

    folder = Path(__file__).resolve().parents[1] / "data" / "pooling"
    scenario = read_scenario(folder).replace(
        solver=SolverParams(time_limit_s=10.0, lower_bound_share=0.5)
    )
    provider = GreatCircleProvider()
    plan = solve(scenario, distances=provider)
    kpis = plan.kpis
    parts = next(n for n in plan.notes if "date intervals" in n)
    match = re.search(r"date intervals (\d+)", parts)
    assert match is not None and "LP " in parts
    counting = int(match.group(1))
    assert kpis.trips >= kpis.lower_bound_trips >= counting > 0
    assert (kpis.lower_bound_source == "lp") == (kpis.lower_bound_trips > counting)
    workers = {w.worker_id: w for w in scenario.workers}
    lp = plan_lp_bound(scenario, plan.trips, workers, provider, 60.0)
    stopped = "bound equals the master's value rounded up"
    assert (lp.converged or lp.note == stopped) and 0 < lp.trips <= kpis.trips
    # The LP without pickup rows ran first (its figures kept) and proved no more; alone, the
    # LP with them proves the same.
    assert lp.plain is not None and 0 < lp.plain.trips <= lp.trips
    alone = plan_lp_bound(scenario, plan.trips, workers, provider, 60.0, plain_first=False)
    assert alone.plain is None and alone.trips == lp.trips
    # Without the pickup rows (the LP before them) the converged value is never higher.
    plain = plan_lp_bound(scenario, plan.trips, workers, provider, 60.0, pickup_rows=False)
    assert plain.converged and plain.value <= lp.value + 1e-6
    # Some of these companies may board at a hub: with hub stops every seat is under the pickup
    # rows, so the plan has no fall-back note; without them the hub seats are left out, and the
    # converged value is never higher.
    assert 0 < lp.hub_seats < lp.limited_seats == lp.seats
    assert not [n for n in plan.notes if n.startswith("LP bound: pickup rows for ")]
    gates = plan_lp_bound(scenario, plan.trips, workers, provider, 60.0, hub_stops=False)
    assert gates.converged and gates.trips <= lp.trips
    assert 0 < gates.limited_seats < gates.seats and gates.hub_seats == 0
    assert lp.patterns and all(p.coaches > 0 for p in lp.patterns)
    skipped = solve(
        scenario.replace(solver=SolverParams(time_limit_s=3.0, lower_bound_share=0.0)),
        distances=provider,
    )
    assert skipped.kpis.lower_bound_seconds == 0 and skipped.kpis.lower_bound_source == "counting"


def test_the_lp_bound_runs_when_the_stages_before_it_ran_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the stages before the LP bound have used up the whole time limit (a loaded machine),
    the bound still runs, for part of its reserve (before: it was skipped, 0 s), and is
    reported."""
    import time
    from pathlib import Path

    import optimizer.solve
    from optimizer.geography.distance import GreatCircleProvider
    from optimizer.model import SolverParams
    from optimizer.read import read_scenario

    folder = Path(__file__).resolve().parents[1] / "data" / "pooling"
    scenario = read_scenario(folder).replace(
        solver=SolverParams(time_limit_s=6.0, lower_bound_share=0.5)
    )
    bounds = optimizer.solve.plan_bounds

    def late(ctx: Any, *args: Any) -> Any:
        while ctx.elapsed() < ctx.scenario.solver.time_limit_s:
            time.sleep(0.05)
        return bounds(ctx, *args)

    monkeypatch.setattr(optimizer.solve, "plan_bounds", late)
    plan = optimizer.solve.solve(scenario, distances=GreatCircleProvider())
    assert plan.kpis.lower_bound_seconds > 0
    assert plan.kpis.trips >= plan.kpis.lower_bound_trips > 0


@settings(max_examples=30, deadline=None)
@given(seasons(), st.integers(0, 2**31 - 1))
def test_label_pricing_finds_the_exact_maximum(season: Season, seed: int) -> None:
    """The pricing that extends labels with pruning finds the same largest pattern value as
    pricing every corridor-compatible county set by brute force, at random duals (some zero):
    the Farley bound rests on that maximum being exact."""
    from optimizer.lp_bound import _price, corridors

    rng = np.random.default_rng(seed)
    counties = [season.site(season.gates + c) for c in range(season.counties)]
    sites = [season.site(i) for i in range(season.gates + season.counties)]
    boarding = {
        c: [season.site(g.gate) for g in season.groups if season.site(season.gates + g.county) == c]
        or [sites[0]]
        for c in counties
    }
    corridor = corridors(
        counties,
        sites=sites,
        leg_s=np.array(season.seconds),
        boarding_sites=sites[: season.gates],
        boarding_of=boarding,
        county_stop_limit=season.county_stops,
        detour_ratio=season.ratio,
        detour_grace_s=season.grace_s,
    )
    sets = county_sets(
        counties,
        sites=sites,
        leg_s=np.array(season.seconds),
        boarding_sites=sites[: season.gates],
        boarding_of=boarding,
        county_stop_limit=season.county_stops,
        detour_ratio=season.ratio,
        detour_grace_s=season.grace_s,
    )
    assert sets is not None
    days = [season.day(i) for i in range(len(season.capacity))]
    capacity = {season.day(i): q for i, q in enumerate(season.capacity)}
    sizes = np.array([float(g.seats) for g in season.groups])
    duals = rng.random(len(season.groups) + season.counties) * (
        rng.random(len(season.groups) + season.counties) < 0.7
    )
    eligible: dict[tuple[int, int], list[int]] = {}
    for row, g in enumerate(season.groups):
        first, last = season.window(g)
        for di, day in enumerate(days):
            if first <= day <= last:
                eligible.setdefault((di, g.county), []).append(row)
    arrays = {key: np.array(rows, dtype=np.int64) for key, rows in eligible.items()}
    priced = _price(duals, sizes, len(season.groups), corridor, days, capacity, arrays, math.inf)
    assert priced is not None
    brute = 0.0
    for di, day in enumerate(days):
        for served in sets:
            rows = [r for c in served for r in eligible.get((di, c), [])]
            prices = sorted(
                (p for r in rows for p in [duals[r]] * season.groups[r].seats), reverse=True
            )
            visits = sum(duals[len(season.groups) + c] for c in served if (di, c) in eligible)
            brute = max(brute, sum(prices[: capacity[day]]) + visits)
    assert priced[0] == pytest.approx(brute, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(seasons(), st.integers(0, 2**31 - 1), st.integers(1, 2))
def test_label_pricing_with_pickup_rows_finds_the_exact_maximum(
    season: Season, seed: int, limit: int
) -> None:
    """With pickup rows the pricing's maximum equals brute force over every compatible county
    set and every choice of at most `limit` gates for the coach, at random duals (some zero),
    and the columns it returns respect that limit."""
    from optimizer.lp_bound import _PickupLimit, _price, corridors

    rng = np.random.default_rng(seed)
    counties = [season.site(season.gates + c) for c in range(season.counties)]
    sites = [season.site(i) for i in range(season.gates + season.counties)]
    boarding = {c: sites[: season.gates] for c in counties}
    arguments = dict(
        sites=sites,
        leg_s=np.array(season.seconds),
        boarding_sites=sites[: season.gates],
        boarding_of=boarding,
        county_stop_limit=season.county_stops,
        detour_ratio=season.ratio,
        detour_grace_s=season.grace_s,
    )
    corridor = corridors(counties, **arguments)  # type: ignore[arg-type]
    sets = county_sets(counties, **arguments)  # type: ignore[arg-type]
    assert sets is not None
    days = [season.day(i) for i in range(len(season.capacity))]
    capacity = {season.day(i): q for i, q in enumerate(season.capacity)}
    groups = season.groups
    sizes = np.array([float(g.seats) for g in groups])
    duals = rng.random(len(groups) + season.counties) * (
        rng.random(len(groups) + season.counties) < 0.7
    )
    eligible: dict[tuple[int, int], list[int]] = {}
    for row, g in enumerate(groups):
        first, last = season.window(g)
        for di, day in enumerate(days):
            if first <= day <= last:
                eligible.setdefault((di, g.county), []).append(row)
    arrays = {key: np.array(rows, dtype=np.int64) for key, rows in eligible.items()}
    limits = _PickupLimit(np.array([g.gate for g in groups], dtype=np.int64), limit)
    priced = _price(
        duals, sizes, len(groups), corridor, days, capacity, arrays, math.inf, limits=limits
    )
    assert priced is not None
    brute = 0.0
    gate_sets = [
        chosen
        for k in range(1, limit + 1)
        for chosen in itertools.combinations(range(season.gates), k)
    ]
    for di, day in enumerate(days):
        for served in sets:
            visits = sum(duals[len(groups) + c] for c in served if (di, c) in eligible)
            for allowed in gate_sets:
                rows = [
                    r
                    for c in served
                    for r in eligible.get((di, c), [])
                    if groups[r].gate in allowed
                ]
                prices = sorted(
                    (p for r in rows for p in [duals[r]] * groups[r].seats), reverse=True
                )
                brute = max(brute, sum(prices[: capacity[day]]) + visits)
    assert priced[0] == pytest.approx(brute, abs=1e-9)
    for di, _, loading in priced[1]:
        assert sum(loading.values()) <= capacity[days[di]]
        assert len({groups[r].gate for r in loading}) <= limit


# Hub stops: sites are gates, then counties, then hubs; a hub gathers the gates attached to it.


@dataclass(frozen=True)
class HubSeason:
    """A `Season` with hubs: `attached[h]` are the gates whose workers may board at hub h (site
    gates + counties + h); a coach's boarding stops are gates or hubs, `pickup_stops` in all."""

    base: Season
    attached: tuple[tuple[int, ...], ...]
    seconds: tuple[tuple[int, ...], ...]

    def hub_site(self, h: int) -> str:
        return f"hub:h{h}"

    def options(self, gate: int) -> list[int]:
        """Site indices where a gate's workers may board: the gate, then its hubs."""
        first = self.base.gates + self.base.counties
        return [gate, *(first + h for h, gates in enumerate(self.attached) if gate in gates)]

    def site(self, i: int) -> str:
        first = self.base.gates + self.base.counties
        return self.base.site(i) if i < first else self.hub_site(i - first)


@st.composite
def hub_seasons(draw: Callable[..., object]) -> HubSeason:
    base = draw(seasons())
    assert isinstance(base, Season)
    hubs = draw(st.integers(1, 2))
    attached = tuple(
        tuple(sorted(draw(st.sets(st.integers(0, base.gates - 1), min_size=1))))
        for _ in range(hubs)
    )
    size = base.gates + base.counties + hubs
    values = draw(st.lists(st.integers(300, 12_000), min_size=size * size, max_size=size * size))
    assert isinstance(values, list)
    old = base.gates + base.counties
    seconds = tuple(
        tuple(
            0 if i == j else base.seconds[i][j] if i < old and j < old else values[i * size + j]
            for j in range(size)
        )
        for i in range(size)
    )
    return HubSeason(base, attached, seconds)


def hub_optimum(season: HubSeason) -> int:
    """The fewest coaches by CP-SAT over every route: a date, up to `pickup_stops` boarding stops
    (gates or hubs) then up to `county_stops` counties; a group rides when one of its options in
    the route keeps its ride within direct (from that option) x ratio + grace + 1 s."""
    base, t = season.base, season.seconds
    boarding = [
        *range(base.gates),
        *(base.gates + base.counties + h for h in range(len(season.attached))),
    ]
    counties = [base.gates + c for c in range(base.counties)]
    model = cp_model.CpModel()
    total = sum(g.seats for g in base.groups)
    coaches = []
    carried: dict[int, list[cp_model.IntVar]] = {i: [] for i in range(len(base.groups))}
    for day, capacity in enumerate(base.capacity):
        for k in range(1, base.pickup_stops + 1):
            for near in itertools.permutations(boarding, k):
                for m in range(1, base.county_stops + 1):
                    for far in itertools.permutations(counties, m):
                        sequence = (*near, *far)
                        position = {site: i for i, site in enumerate(sequence)}
                        loads = []
                        for i, g in enumerate(base.groups):
                            county = base.gates + g.county
                            if county not in position or not g.start <= day <= g.start + g.length:
                                continue
                            b = position[county]
                            fits = False
                            for option in season.options(g.gate):
                                if option not in position:
                                    continue
                                a = position[option]
                                ride = sum(t[sequence[s]][sequence[s + 1]] for s in range(a, b))
                                fits |= ride <= t[option][county] * base.ratio + base.grace_s + 1
                            if fits:
                                y = model.new_int_var(0, g.seats, "")
                                loads.append(y)
                                carried[i].append(y)
                        if loads:
                            x = model.new_int_var(0, total, "")
                            coaches.append(x)
                            model.add(sum(loads) <= capacity * x)
    for i, g in enumerate(base.groups):
        model.add(sum(carried[i]) == g.seats)
    model.minimize(sum(coaches))
    return proven_minimum(model)


def hub_lp_bound(
    season: HubSeason,
    hub_stops: bool = True,
    max_rounds: int | None = None,
    known: int = 0,
    gates_only: bool = False,
    purge_keep: int = 0,
    price_duals: bool | None = None,
) -> LpBound:
    """The LP bound with pickup rows; `gates_only` is the invalid variant that keys hub seats to
    their gate alone (as if no hub stop could gather them)."""
    base = season.base
    demands = [
        LpDemand(
            g.seats,
            base.site(base.gates + g.county),
            base.window(g),
            tuple(season.site(o) for o in season.options(g.gate)[: 1 if gates_only else None]),
        )
        for g in base.groups
    ]
    return lp_lower_bound(
        demands,
        capacity_by_date={base.day(i): q for i, q in enumerate(base.capacity)},
        county_stop_limit=base.county_stops,
        sites=[season.site(i) for i in range(len(season.seconds))],
        leg_s=np.array(season.seconds),
        detour_ratio=base.ratio,
        detour_grace_s=base.grace_s,
        time_limit_s=30,
        boarding_sites=[season.site(o) for g in range(base.gates) for o in season.options(g)],
        max_rounds=max_rounds,
        until_converged=True,
        known_bound=known,
        boarding_stop_limit=base.pickup_stops,
        hub_stops=hub_stops,
        purge_keep=purge_keep,
        price_duals=price_duals,
    )


def hub_counting_bound(season: HubSeason) -> int:
    base = season.base
    demands = [
        SeatedDemand(
            g.seats,
            f"c{g.county}",
            base.window(g),
            None if len(season.options(g.gate)) > 1 else f"g{g.gate}",
            0.0,
        )
        for g in base.groups
    ]
    return lower_bounds(
        demands,
        largest_coach=max(base.capacity),
        county_stop_limit=base.county_stops,
        boarding_stop_limit=base.pickup_stops,
        county_stops_fixed=True,
    ).trips


def hub_check(season: HubSeason, bound: Callable[[HubSeason], LpBound]) -> None:
    best = hub_optimum(season)
    lp = bound(season)
    counting = hub_counting_bound(season)
    assert lp.trips <= best, (lp.trips, best)
    assert counting <= max(lp.trips, counting) <= best


@settings(max_examples=25, deadline=None)
@given(hub_seasons())
def test_hub_stops_stay_valid_and_never_weaker(season: HubSeason) -> None:
    """With hub stops (a coach's boarding stops are gates or hubs, at most `pickup_stops`, and a
    hub gathers its gates' workers) the bound stays at or under the CP-SAT optimum, converged,
    after one round and with the counting bound as a row (then never below it); converged, it
    is never below the LP whose hub seats fall back to unlimited rows."""
    hub_check(season, hub_lp_bound)
    hub_check(season, lambda s: hub_lp_bound(s, max_rounds=1))
    hub_check(season, lambda s: hub_lp_bound(s, purge_keep=1, price_duals=True))
    counting = hub_counting_bound(season)
    hub_check(season, lambda s: hub_lp_bound(s, known=counting))
    assert hub_lp_bound(season, known=counting, max_rounds=1).trips >= counting
    hubs, fallback = hub_lp_bound(season), hub_lp_bound(season, hub_stops=False)
    assert hubs.converged and fallback.converged
    assert hubs.value >= fallback.value - 1e-6
    assert hubs.limited_seats == hubs.seats


def test_the_hub_check_catches_the_invalid_hub_variant() -> None:
    """Keying the hub seats to their gate alone (no hub stop may gather them) overstates the
    bound on the season of a hub next to two of four one-stop gates (`_hub_next_to_two_gates`:
    four coaches said, three suffice): the hub property check has teeth. The fast, fixed
    counterpart of `test_an_invalid_hub_variant_is_caught` (slow: a random search of up to
    300 seasons, each with a CP-SAT optimum, took ten minutes under load)."""
    season = _hub_next_to_two_gates()
    assert hub_lp_bound(season, gates_only=True).trips == 4 > 3 == hub_optimum(season)
    with pytest.raises(AssertionError):
        hub_check(season, lambda s: hub_lp_bound(s, gates_only=True))
    hub_check(season, hub_lp_bound)  # the valid bound passes the same check


@pytest.mark.slow
def test_an_invalid_hub_variant_is_caught() -> None:
    """Keying the hub seats to their gate alone (no hub stop may gather them) overstates the
    bound on some random season: the hub property check has teeth on the seasons the generator
    draws, not only on a hand-made one."""

    # A fixed draw: unseeded, one run in many drew 300 seasons with no counterexample (the test
    # failed on main at 01:56 UTC, 2026-12-08, and passed on the next two runs).
    @settings(
        max_examples=300, deadline=None, database=None, phases=[Phase.generate], derandomize=True
    )
    @given(hub_seasons())
    def property_of_invalid(season: HubSeason) -> None:
        hub_check(season, lambda s: hub_lp_bound(s, gates_only=True))

    with pytest.raises(AssertionError):
        property_of_invalid()


def _hub_next_to_two_gates() -> HubSeason:
    """One county, four gates of two seats, coaches of eight, one boarding stop per coach, a hub
    next to gates 0 and 1: a coach at the hub takes their four seats, gates 2 and 3 need a coach
    each, so three."""
    hour = 3600
    seconds = tuple(
        tuple(0 if i == j else (3 * hour if 4 in (i, j) else 600) for j in range(6))
        for i in range(6)
    )
    base = Season(4, 1, tuple(row[:5] for row in seconds[:5]), (8,),
                  tuple(Group(2, 0, g, 0, 0) for g in range(4)), 3, 1, 1.3, 1800)  # fmt: skip
    return HubSeason(base, ((0, 1),), seconds)


def test_hub_stops_raise_the_bound_to_the_optimum() -> None:
    """The season of `_hub_next_to_two_gates` (three coaches): the LP whose hub seats are
    unlimited proves two; with hub stops, three."""
    season = _hub_next_to_two_gates()
    assert hub_lp_bound(season, hub_stops=False).trips == 2
    assert hub_lp_bound(season).trips == 3 == hub_optimum(season)


@settings(max_examples=30, deadline=None)
@given(hub_seasons(), st.integers(0, 2**31 - 1))
def test_label_pricing_with_hub_stops_finds_the_exact_maximum(season: HubSeason, seed: int) -> None:
    """With hub stops the pricing's maximum equals brute force over every compatible county set
    and every choice of at most `pickup_stops` boarding stops (gates or hubs), at random duals;
    its columns carry seats only of groups with an option among at most that many stops, and the
    best column is worth the maximum (the Farley bound rests on it)."""
    from optimizer.lp_bound import _price

    case = _HubPricing.of(season, seed)
    groups, duals, capacity, days = case.groups, case.duals, case.capacity, case.days
    priced = _price(
        duals,
        case.sizes,
        len(groups),
        case.corridor,
        days,
        capacity,
        case.arrays,
        math.inf,
        limits=case.limits,
    )
    assert priced is not None
    assert priced[0] == pytest.approx(case.brute(), abs=1e-9)
    best = 0.0
    for di, served, loading in priced[1]:
        assert sum(loading.values()) <= capacity[days[di]]
        assert all(0 < loading[r] <= groups[r].seats for r in loading)
        assert any(all(case.boardable[r] & chosen for r in loading) for chosen in case.choices)
        visits = sum(duals[len(groups) + c] for c in served if (di, c) in case.eligible)
        best = max(best, sum(duals[r] * a for r, a in loading.items()) + visits)
    if priced[1]:
        assert best == pytest.approx(priced[0], abs=1e-9)


@dataclass
class _HubPricing:
    """`_price`'s arguments for a hub season at random duals (some zero), and what brute force
    needs: each group's boarding stops, every choice of at most `pickup_stops` of them, the
    compatible county sets."""

    groups: list[Any]
    duals: npt.NDArray[np.float64]
    sizes: npt.NDArray[np.float64]
    corridor: Any
    days: list[dt.date]
    capacity: dict[dt.date, int]
    eligible: dict[tuple[int, int], list[int]]
    arrays: dict[tuple[int, int], npt.NDArray[np.int64]]
    limits: Any
    sets: Any
    boardable: list[set[str]]
    choices: list[set[str]]
    rng: np.random.Generator

    @classmethod
    def of(cls, season: HubSeason, seed: int) -> _HubPricing:
        from optimizer.lp_bound import _PickupLimit, corridors

        base = season.base
        rng = np.random.default_rng(seed)
        counties = [base.site(base.gates + c) for c in range(base.counties)]
        sites = [season.site(i) for i in range(len(season.seconds))]
        boards = [season.site(o) for g in range(base.gates) for o in season.options(g)]
        arguments = dict(
            sites=sites,
            leg_s=np.array(season.seconds),
            boarding_sites=boards,
            boarding_of={c: boards for c in counties},
            county_stop_limit=base.county_stops,
            detour_ratio=base.ratio,
            detour_grace_s=base.grace_s,
        )
        corridor = corridors(counties, **arguments)  # type: ignore[arg-type]
        sets = county_sets(counties, **arguments)  # type: ignore[arg-type]
        assert sets is not None
        days = [base.day(i) for i in range(len(base.capacity))]
        capacity = {base.day(i): q for i, q in enumerate(base.capacity)}
        groups = base.groups
        duals = rng.random(len(groups) + base.counties) * (
            rng.random(len(groups) + base.counties) < 0.7
        )
        eligible: dict[tuple[int, int], list[int]] = {}
        for row, g in enumerate(groups):
            first, last = base.window(g)
            for di, day in enumerate(days):
                if first <= day <= last:
                    eligible.setdefault((di, g.county), []).append(row)
        hubs = [
            sum(1 << h for h, gates in enumerate(season.attached) if g.gate in gates)
            for g in groups
        ]
        limits = _PickupLimit(
            np.array([g.gate for g in groups], dtype=np.int64),
            base.pickup_stops,
            np.array(hubs, dtype=np.int64),
        )
        stops = [f"g{g}" for g in range(base.gates)] + [
            f"h{h}" for h in range(len(season.attached))
        ]
        boardable = [
            {f"g{g.gate}", *(f"h{h}" for h, gates in enumerate(season.attached) if g.gate in gates)}
            for g in groups
        ]
        choices = [
            set(chosen)
            for k in range(1, base.pickup_stops + 1)
            for chosen in itertools.combinations(stops, k)
        ]
        return cls(
            list(groups),
            duals,
            np.array([float(g.seats) for g in groups]),
            corridor,
            days,
            capacity,
            eligible,
            {key: np.array(rows, dtype=np.int64) for key, rows in eligible.items()},
            limits,
            sets,
            boardable,
            choices,
            rng,
        )

    def brute(self) -> float:
        """The largest pattern value over every compatible county set, date and choice of
        boarding stops (without the per-coach dual)."""
        groups, duals = self.groups, self.duals
        best = 0.0
        for di, day in enumerate(self.days):
            for served in self.sets:
                visits = sum(duals[len(groups) + c] for c in served if (di, c) in self.eligible)
                for chosen in self.choices:
                    rows = [
                        r
                        for c in served
                        for r in self.eligible.get((di, c), [])
                        if self.boardable[r] & chosen
                    ]
                    prices = sorted(
                        (p for r in rows for p in [duals[r]] * groups[r].seats), reverse=True
                    )
                    best = max(best, sum(prices[: self.capacity[day]]) + visits)
        return best


def hub_pricing_case(season: HubSeason, seed: int) -> tuple[Callable[[], float], float]:
    """`_price`'s arguments for a hub season at random duals (some zero) and a random per-coach
    dual, a call that prices them (stopping early where told), and the brute-force maximum."""
    from optimizer.lp_bound import _price

    case = _HubPricing.of(season, seed)
    per_coach = float(case.rng.random()) * 0.5

    def price() -> float:
        priced = _price(
            case.duals,
            case.sizes,
            len(case.groups),
            case.corridor,
            case.days,
            case.capacity,
            case.arrays,
            math.inf,
            per_coach=per_coach,
            limits=case.limits,
            stop_early=True,
        )
        assert priced is not None
        return priced[0]

    return price, case.brute() + per_coach


@settings(max_examples=40, deadline=None)
@given(hub_seasons(), st.integers(0, 2**31 - 1))
def test_pricing_over_estimate_is_never_below_the_maximum(season: HubSeason, seed: int) -> None:
    """A pricing round stopped at once (before any set is priced exactly) answers with its
    over-estimate of the largest pattern value (corridors and coach sharing left out): never
    below brute-force pricing over every compatible county set and choice of boarding stops, at
    random duals; a complete round answers with the maximum itself."""
    price, brute = hub_pricing_case(season, seed)
    assert price() == pytest.approx(brute, abs=1e-9)
    with stopping_early(at_once=True):
        estimate = price()
    assert math.isfinite(estimate)
    assert estimate >= brute - 1e-9


def stopping_early(at_once: bool = False) -> contextlib.ExitStack:
    """Every pricing round with hub stops stops as soon as it has one improving column priced
    exactly (`at_once`: before pricing any), and none is ever completed: the partial rounds of a
    large season, on a small one."""
    from unittest import mock

    from optimizer import lp_bound, lp_pricing

    stack = contextlib.ExitStack()
    least = 0 if at_once else 1
    stack.enter_context(mock.patch.object(lp_pricing, "EXACT_SETS_PER_ROUND", least))
    stack.enter_context(mock.patch.object(lp_pricing, "COLUMNS_PER_ROUND", least))
    stack.enter_context(mock.patch.object(lp_bound, "_worth_completing", lambda *a: False))
    return stack


def test_a_partial_round_yields_a_finite_proven_value() -> None:
    """One county, four gates of two seats, a hub by gates 0 and 1 (optimum three coaches): a
    single round that stops early (its maximum unknown) still proves a positive value, from the
    over-estimate, under the converged LP value; before, such a round proved nothing."""
    hour = 3600
    seconds = tuple(
        tuple(0 if i == j else (3 * hour if 4 in (i, j) else 600) for j in range(6))
        for i in range(6)
    )
    base = Season(4, 1, tuple(row[:5] for row in seconds[:5]), (8,),
                  tuple(Group(2, 0, g, 0, 0) for g in range(4)), 3, 1, 1.3, 1800)  # fmt: skip
    season = HubSeason(base, ((0, 1),), seconds)
    full = hub_lp_bound(season)
    with stopping_early(at_once=True):
        partial = hub_lp_bound(season, max_rounds=1)
    assert math.isfinite(partial.value) and partial.value > 0
    assert partial.value <= full.value + 1e-9 and partial.trips <= hub_optimum(season) == 3


@settings(max_examples=25, deadline=None)
@given(hub_seasons())
def test_bounds_from_partial_rounds_stay_valid(season: HubSeason) -> None:
    """With every round stopped early (Farley values from the over-estimate only) the bound
    stays at or under the CP-SAT optimum, after one round, after many, and with the counting
    bound as a row (then never below it)."""
    counting = hub_counting_bound(season)
    with stopping_early():
        hub_check(season, lambda s: hub_lp_bound(s, max_rounds=1))
        hub_check(season, lambda s: hub_lp_bound(s, max_rounds=20))
        hub_check(season, lambda s: hub_lp_bound(s, known=counting, max_rounds=20))
        assert hub_lp_bound(season, known=counting, max_rounds=1).trips >= counting


@settings(max_examples=30, deadline=None)
@given(seasons())
def test_first_lp_rounds_stopped_early_stay_valid(season: Season) -> None:
    """Without pickup rows and every round stopped at its first improving set of counties
    (`stop_early`, the `PLAIN_STOP_EARLY` experiment: Farley values from the over-estimate),
    the bound stays at or under the CP-SAT optimum, and run to convergence it reaches the LP
    value of exact rounds."""
    counting = counting_bound(season)
    with stopping_early():
        check(season, lambda s: lp_bound(s, max_rounds=1, stop_early=True))
        check(season, lambda s: lp_bound(s, known=counting, stop_early=True))
        early = lp_bound(season, stop_early=True)
    exact = lp_bound(season)
    assert early.converged and exact.converged
    assert early.value == pytest.approx(exact.value, abs=1e-6)


def test_an_invalid_variant_stopped_early_is_caught() -> None:
    """The same check fails for the collapsed-window variant with rounds stopped early."""

    @settings(max_examples=400, deadline=None, database=None, phases=[Phase.generate])
    @given(seasons())
    def property_of_invalid(season: Season) -> None:
        with stopping_early():
            check(season, lambda s: lp_bound(s, collapse_windows=True, stop_early=True))

    with pytest.raises(AssertionError):
        property_of_invalid()
