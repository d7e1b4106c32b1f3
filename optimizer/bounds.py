"""Proven lower bounds on the number of coaches and on coach-km of any legal plan.

The bounds are computed over the workers a plan seats (a plan that seats fewer people needs fewer
coaches), so `kpis.trips >= lower_bound_trips` holds for every plan, and the gap says how much
better any planner could do for the same people. Proof sketches are in docs/plan-format.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.dates import Window, disjoint_interval_best, min_stabbing_count


@dataclass(frozen=True)
class SeatedDemand:
    """Seats that a plan carries together: home county, allowed dates and fixed boarding point.

    `boarding` is the gate or hub key when the boarding point is fixed by policy, or None when the
    planner may choose (a gate near a hub). `direct_km` is the shortest road km from any allowed
    boarding point to the county seat, less the drop radius.
    """

    seats: int
    county: str
    window: Window
    boarding: str | None
    direct_km: float


@dataclass(frozen=True)
class Bounds:
    """Lower bounds: coaches (the largest of the parts) and coach-km."""

    trips: int
    seat_bound: int
    county_stop_bound: int
    boarding_stop_bound: int
    coach_km: float
    # The best sum of the three parts over departure-date intervals that do not overlap.
    date_bound: int = 0


def _visits(groups: dict[str, list[SeatedDemand]], largest_coach: int) -> int:
    """Σ over places of the fewest (coach, place) stops: by seats and by departure dates."""
    total = 0
    for demands in groups.values():
        seats = sum(d.seats for d in demands)
        dates = min_stabbing_count(d.window for d in demands)
        total += max(math.ceil(seats / largest_coach), dates)
    return total


def lower_bounds(
    demands: Sequence[SeatedDemand],
    *,
    largest_coach: int,
    county_stop_limit: int,
    boarding_stop_limit: int,
    county_stops_fixed: bool,
) -> Bounds:
    """Lower bounds for carrying `demands`.

    Each coach departs on one date, carries at most `largest_coach` seats, stops at no more than
    `county_stop_limit` counties and `boarding_stop_limit` boarding points. A place whose
    passengers need v coach visits (enough seats, and one visit per date of a stabbing set of
    their windows) therefore forces ⌈Σ v / limit⌉ coaches. The county part needs each worker to
    alight in their own county (`county_stops_fixed`, i.e. drop_radius_km = 0); the boarding part
    counts only boarding points fixed by policy (no hub to choose).
    """
    if largest_coach < 1:
        raise ValueError("largest_coach must be at least 1")
    whole = _parts(
        demands, largest_coach, county_stop_limit, boarding_stop_limit, county_stops_fixed
    )
    seat_bound, county_bound, boarding_bound = whole
    date_bound = _date_intervals(
        demands, largest_coach, county_stop_limit, boarding_stop_limit, county_stops_fixed
    )
    # Every passenger rides at least their direct km; a coach carries at most largest_coach of
    # them on each km. The small allowance absorbs rounding of matrices to whole metres.
    passenger_km = sum(d.seats * max(0.0, d.direct_km - 0.01) for d in demands)
    return Bounds(
        trips=max(seat_bound, county_bound, boarding_bound, date_bound),
        seat_bound=seat_bound,
        county_stop_bound=county_bound,
        boarding_stop_bound=boarding_bound,
        coach_km=math.floor(passenger_km / largest_coach * 10) / 10,
        date_bound=date_bound,
    )


def _parts(
    demands: Sequence[SeatedDemand],
    largest_coach: int,
    county_stop_limit: int,
    boarding_stop_limit: int,
    county_stops_fixed: bool,
) -> tuple[int, int, int]:
    """The seat, county-stop and boarding-stop bounds for carrying `demands`."""
    seat_bound = math.ceil(sum(d.seats for d in demands) / largest_coach)
    county_bound = 0
    if county_stops_fixed:
        by_county: dict[str, list[SeatedDemand]] = defaultdict(list)
        for demand in demands:
            by_county[demand.county].append(demand)
        county_bound = math.ceil(_visits(by_county, largest_coach) / county_stop_limit)
    by_boarding: dict[str, list[SeatedDemand]] = defaultdict(list)
    for demand in demands:
        if demand.boarding is not None:
            by_boarding[demand.boarding].append(demand)
    boarding_bound = math.ceil(_visits(by_boarding, largest_coach) / boarding_stop_limit)
    return seat_bound, county_bound, boarding_bound


def _date_intervals(
    demands: Sequence[SeatedDemand],
    largest_coach: int,
    county_stop_limit: int,
    boarding_stop_limit: int,
    county_stops_fixed: bool,
) -> int:
    """The largest Σ over pairwise disjoint date intervals I of the bound for the demands whose
    windows lie inside I.

    Those demands depart on a date of I, so they need at least the bound's coaches departing in
    I; coaches departing in disjoint intervals are different coaches. The best family of disjoint
    intervals is found by dynamic programming over the window start and end dates (weighted
    interval scheduling). With one interval (the whole season) this is the plain bound.
    """
    if not demands:
        return 0
    starts = sorted({d.window[0] for d in demands})
    ends = sorted({d.window[1] for d in demands})
    # Only seats, county, window and boarding point matter to the parts: add up alike demands.
    alike: dict[tuple[str, Window, str | None], int] = defaultdict(int)
    for demand in demands:
        alike[(demand.county, demand.window, demand.boarding)] += demand.seats
    by_window: dict[Window, list[SeatedDemand]] = defaultdict(list)
    for (county, window, boarding), seats in alike.items():
        by_window[window].append(SeatedDemand(seats, county, window, boarding, 0.0))

    def weight(first: dt.date, last: dt.date) -> int:
        inside = [
            d
            for window, group in by_window.items()
            for d in group
            if first <= window[0] and window[1] <= last
        ]
        if not inside:
            return 0
        return max(
            _parts(
                inside, largest_coach, county_stop_limit, boarding_stop_limit, county_stops_fixed
            )
        )

    return disjoint_interval_best(starts, ends, weight)
