"""Bounds and KPIs of a finished plan."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from optimizer.bounds import Bounds, SeatedDemand, lower_bounds
from optimizer.geography.distance import (
    DistanceProvider,
    great_circle_km,
)
from optimizer.lp_bound import LpBound
from optimizer.model import (
    Kpis,
    Scenario,
    Trip,
    Unserved,
    Worker,
)
from optimizer.places import county_seats
from optimizer.planning.context import Context, Places, Work
from optimizer.planning.demand import locate, prepare


def plan_bounds(
    ctx: Context, places: Places, trips: Sequence[Trip], workers: Mapping[str, Worker]
) -> Bounds:
    """Lower bounds over the workers the plan seats (see optimizer.bounds)."""
    scenario = ctx.scenario
    companies = {c.company_id: c for c in scenario.companies}
    hubs = {f"hub:{h.hub_id}": h for h in scenario.hubs}
    seated: dict[tuple[str, ...], list[Worker]] = defaultdict(list)
    for trip in trips:
        for passenger in trip.passengers:
            worker = workers.get(passenger.worker_id)
            if worker is None or worker.home_adcode is None:
                continue
            key = (worker.party,) if worker.party else ("", worker.worker_id)
            seated[key].append(worker)
    homes = {w.home_adcode for group in seated.values() for w in group if w.home_adcode}
    seats = county_seats(homes)
    hub_radius = ctx.policy.hub_radius_km
    radius = ctx.policy.drop_radius_km
    demands: list[SeatedDemand] = []
    provider_km: dict[tuple[str, str], float] = {}
    geo = places.geo
    for group in seated.values():
        first = group[0]
        company = companies.get(first.company_id)
        if company is None or first.home_adcode not in seats:
            continue
        window = (max(w.earliest for w in group), min(w.latest for w in group))
        if window[0] > window[1]:
            continue
        gate = f"company:{company.company_id}"
        options = [gate]
        hub = None
        if hub_radius > 0 and not company.no_hub:
            # Only hubs of the company's own origin county (as the planner boards it).
            options += [
                key
                for key, h in hubs.items()
                if scenario.hub_county(h) == scenario.company_county(company)
                and great_circle_km(company.lon, company.lat, h.lon, h.lat) <= hub_radius
            ]
            hub = len(options) > 1
        seat = seats[first.home_adcode]
        county = f"county:{first.home_adcode}"
        best = math.inf
        for option in options:
            if radius > 0 or option not in geo.index or county not in geo.index:
                point = company if option == gate else hubs[option]
                km = great_circle_km(point.lon, point.lat, seat.lon, seat.lat) - radius
            else:
                cached = provider_km.get((option, county))
                if cached is None:
                    cached = geo.km(option, county) if ctx.home else geo.km(county, option)
                km = cached
                provider_km[(option, county)] = km
            best = min(best, km)
        demands.append(
            SeatedDemand(
                seats=sum(w.seats for w in group),
                county=first.home_adcode,
                window=window,
                boarding=None if hub else gate,
                direct_km=max(0.0, best),
            )
        )
    largest = max((v.seats for v in scenario.fleet if v.count > 0), default=1)
    return lower_bounds(
        demands,
        largest_coach=max(largest, 1),
        county_stop_limit=ctx.far_limit,
        boarding_stop_limit=ctx.near_limit,
        county_stops_fixed=radius <= 0,
    )


def seated_bounds(scenario: Scenario, provider: DistanceProvider, trips: Sequence[Trip]) -> Bounds:
    """`plan_bounds` over the workers `trips` seat, for trips made outside one planning run (a
    plan the fleet passes changed, `optimizer.season.solve_within_fleet`): the context and the
    sites in play (every worker's gate, hub and county, their travel matrix) built as `solve`
    builds them."""
    ctx = Context.of(scenario, provider)
    units, seats, origin = prepare(ctx, Work.of(scenario))
    places = locate(ctx, units, seats, origin)
    return plan_bounds(ctx, places, trips, {w.worker_id: w for w in scenario.workers})


def with_bounds(kpis: Kpis, bounds: Bounds) -> Kpis:
    """`kpis` with each lower bound the larger of its own and `bounds`' (a counting bound proven
    for the same workers); `lower_bound_source` is "counting" when `bounds` gave the trips."""
    better = bounds.trips > kpis.lower_bound_trips
    return dataclasses.replace(
        kpis,
        lower_bound_trips=max(kpis.lower_bound_trips, bounds.trips),
        lower_bound_coach_km=max(kpis.lower_bound_coach_km, bounds.coach_km),
        lower_bound_source="counting" if better else kpis.lower_bound_source,
    )


def with_lp(kpis: Kpis, lp: LpBound) -> Kpis:
    """The best of the counting bound and the LP bound, saying which gave it."""
    better = lp.trips > kpis.lower_bound_trips
    return dataclasses.replace(
        kpis,
        lower_bound_trips=max(kpis.lower_bound_trips, lp.trips),
        lower_bound_source="lp" if better else "counting",
        lower_bound_seconds=round(lp.seconds, 2),
    )


def _passenger_km(trip: Trip) -> float:
    km = [stop.km_from_previous for stop in trip.stops]
    cumulative = list(itertools.accumulate(km))
    return sum(
        p.seat_count * (cumulative[p.alight_stop] - cumulative[p.board_stop])
        for p in trip.passengers
    )


def plan_kpis(
    trips: Sequence[Trip], unserved: Sequence[Unserved], bounds: Bounds, seconds: float
) -> Kpis:
    seated = sum(len(t.passengers) for t in trips)
    offered = sum(t.seats for t in trips)
    used = sum(t.seats_used for t in trips)
    return Kpis(
        workers=seated + len(unserved),
        seated=seated,
        unserved=len(unserved),
        trips=len(trips),
        seats_offered=offered,
        seat_utilization=round(used / offered, 4) if offered else 0.0,
        coach_km=round(sum(t.distance_km for t in trips), 1),
        passenger_km=round(sum(_passenger_km(t) for t in trips), 1),
        cost=round(sum(t.cost for t in trips), 2),
        lower_bound_trips=bounds.trips,
        lower_bound_coach_km=bounds.coach_km,
        solve_seconds=round(seconds, 2),
    )
