"""Departure-date stabbing and the coach lower bounds."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.bounds import SeatedDemand, lower_bounds
from optimizer.dates import choose_dates, min_stabbing_count

DAY0 = dt.date(2019, 1, 24)

windows = st.lists(
    st.tuples(st.integers(0, 9), st.integers(0, 4)).map(
        lambda p: (DAY0 + dt.timedelta(p[0]), DAY0 + dt.timedelta(p[0] + p[1]))
    ),
    min_size=1,
    max_size=8,
)


def brute_force_stabbing(ws: list[tuple[dt.date, dt.date]]) -> int:
    days = sorted({w[0] + dt.timedelta(i) for w in ws for i in range((w[1] - w[0]).days + 1)})
    for size in range(1, len(days) + 1):
        for chosen in itertools.combinations(days, size):
            if all(any(a <= d <= b for d in chosen) for a, b in ws):
                return size
    raise AssertionError("unreachable")


@settings(max_examples=60, deadline=None)
@given(windows)
def test_greedy_stabbing_is_minimal(ws: list[tuple[dt.date, dt.date]]) -> None:
    """The greedy count equals the brute-force minimum."""
    assert min_stabbing_count(ws) == brute_force_stabbing(ws)


@settings(max_examples=60, deadline=None)
@given(windows, st.integers(0, 9))
def test_chosen_dates_hit_every_window_with_the_minimum_count(
    ws: list[tuple[dt.date, dt.date]], favourite: int
) -> None:
    """Whatever the preference, the chosen dates stab every window and are as few as possible."""
    liked = DAY0 + dt.timedelta(favourite)
    dates = choose_dates(ws, preference=lambda d: -abs((d - liked).days))
    assert len(dates) == min_stabbing_count(ws)
    assert all(any(a <= d <= b for d in dates) for a, b in ws)


def test_preference_moves_a_date_inside_its_freedom() -> None:
    """Two overlapping windows are served on the preferred common day."""
    ws = [(DAY0, DAY0 + dt.timedelta(4)), (DAY0 + dt.timedelta(1), DAY0 + dt.timedelta(6))]
    liked = DAY0 + dt.timedelta(2)
    assert choose_dates(ws, preference=lambda d: d == liked) == [liked]


def demand(
    seats: int, county: str, start: int, end: int, boarding: str | None = "g"
) -> SeatedDemand:
    return SeatedDemand(
        seats=seats,
        county=county,
        window=(DAY0 + dt.timedelta(start), DAY0 + dt.timedelta(end)),
        boarding=boarding,
        direct_km=100.0,
    )


def test_seat_bound() -> None:
    """Seats alone: ⌈seats / largest coach⌉."""
    bounds = lower_bounds(
        [demand(60, "A", 0, 0, None), demand(50, "A", 0, 0, None)],
        largest_coach=53,
        county_stop_limit=3,
        boarding_stop_limit=3,
        county_stops_fixed=True,
    )
    assert bounds.seat_bound == 3 and bounds.trips == 3


def test_county_stop_bound_counts_dates_per_county() -> None:
    """Seven counties each needing two dates: ⌈14 / 3⌉ = 5 coaches for only 14 seats over the
    season, and 3 + 3 counting each date apart (seven stops on one date need three coaches)."""
    demands = [demand(1, c, d, d, None) for c in "ABCDEFG" for d in (0, 5)]
    bounds = lower_bounds(
        demands,
        largest_coach=53,
        county_stop_limit=3,
        boarding_stop_limit=3,
        county_stops_fixed=True,
    )
    assert bounds.county_stop_bound == 5
    assert bounds.date_bound == 6 and bounds.trips == 6
    relaxed = lower_bounds(
        demands,
        largest_coach=53,
        county_stop_limit=3,
        boarding_stop_limit=3,
        county_stops_fixed=False,
    )
    # Without fixed drop-offs: one coach per date.
    assert relaxed.county_stop_bound == 0 and relaxed.trips == 2


def test_boarding_stop_bound_counts_only_fixed_gates() -> None:
    """Eight gates with workers on one date and a 2-stop pickup limit force 4 coaches."""
    fixed = [demand(1, "A", 0, 0, f"gate{i}") for i in range(8)]
    bounds = lower_bounds(
        fixed,
        largest_coach=53,
        county_stop_limit=3,
        boarding_stop_limit=2,
        county_stops_fixed=True,
    )
    assert bounds.boarding_stop_bound == 4
    free = [demand(1, "A", 0, 0, None) for _ in range(8)]
    assert (
        lower_bounds(
            free,
            largest_coach=53,
            county_stop_limit=3,
            boarding_stop_limit=2,
            county_stops_fixed=True,
        ).trips
        == 1
    )


def test_coach_km_bound() -> None:
    """Passenger-km over the largest coach."""
    bounds = lower_bounds(
        [demand(106, "A", 0, 0)],
        largest_coach=53,
        county_stop_limit=3,
        boarding_stop_limit=3,
        county_stops_fixed=True,
    )
    assert 199.0 <= bounds.coach_km <= 200.0


def test_date_bound_adds_up_dates_that_cannot_share_a_coach() -> None:
    """Ten seats on each of three dates that no window joins: three coaches, though the seats
    alone would fit one, and a wide window between them joins neither interval."""
    demands = [demand(10, "A", d, d, None) for d in (0, 2, 4)] + [demand(5, "A", 0, 4, None)]
    bounds = lower_bounds(
        demands,
        largest_coach=53,
        county_stop_limit=3,
        boarding_stop_limit=3,
        county_stops_fixed=False,
    )
    assert bounds.seat_bound == 1
    assert bounds.date_bound == 3 and bounds.trips == 3


small_demands = st.lists(
    st.tuples(st.integers(1, 6), st.sampled_from("ABCD"), st.integers(0, 3), st.integers(0, 2)),
    min_size=1,
    max_size=5,
)


def best_by_dates(items: list[tuple[int, str, int, int]], capacity: int, limit: int) -> int:
    """The fewest coaches over every choice of dates, each date needing at least its seats over
    the capacity and its county visits over the stop limit (itself a lower bound per date)."""
    options = [range(start, start + span + 1) for _, _, start, span in items]
    best = None
    for dates in itertools.product(*options):
        cost = 0
        for day in set(dates):
            seats: dict[str, int] = {}
            for (n, county, _, _), d in zip(items, dates, strict=True):
                if d == day:
                    seats[county] = seats.get(county, 0) + n
            visits = sum(-(-n // capacity) for n in seats.values())
            cost += max(-(-sum(seats.values()) // capacity), -(-visits // limit))
        best = cost if best is None else min(best, cost)
    assert best is not None
    return best


@settings(max_examples=80, deadline=None)
@given(small_demands)
def test_date_bound_never_exceeds_any_choice_of_dates(
    items: list[tuple[int, str, int, int]],
) -> None:
    """Brute force over every choice of departure dates: the bound is never above the best."""
    demands = [demand(n, county, start, start + span, None) for n, county, start, span in items]
    bounds = lower_bounds(
        demands,
        largest_coach=5,
        county_stop_limit=2,
        boarding_stop_limit=3,
        county_stops_fixed=True,
    )
    assert bounds.trips <= best_by_dates(items, 5, 2)
