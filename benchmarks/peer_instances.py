"""One departure date of a season as a single pickup-and-delivery instance, for peer solvers.

The product plans the same workers through its whole pipeline (`solve` on the same scenario cut
to that date); the peers get the aggregated groups as one model: one request per (boarding point,
home county) group, split into pieces no larger than the largest coach, over the same integer
road-metre and second matrix, with the same coaches, tariffs, stop limits, boarding times and
ride limits (direct time x detour_ratio + grace). Coaches appear at their first pickup (a
zero-cost start), as the product counts coach-km from the first pickup.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from optimizer.geography.distance import DistanceProvider, Location
from optimizer.groups import nearest_hubs
from optimizer.model import Scenario
from optimizer.places import county_seats
from optimizer.routing import PickupDeliveryProblem, Request, Vehicle


@dataclass(frozen=True)
class DateInstance:
    """A season cut to one departure date, and the same demand as one routing model."""

    scenario: Scenario
    problem: PickupDeliveryProblem
    groups: int
    seats: int


def busiest_date(scenario: Scenario) -> dt.date:
    """The date inside the most workers' windows."""
    counts: Counter[dt.date] = Counter()
    for worker in scenario.workers:
        day = max(worker.earliest, scenario.first_departure)
        while day <= min(worker.latest, scenario.last_departure):
            counts[day] += 1
            day += dt.timedelta(days=1)
    return counts.most_common(1)[0][0]


def date_instance(
    scenario: Scenario, provider: DistanceProvider, max_workers: int | None = None
) -> DateInstance:
    """Cut `scenario` to its busiest date (workers whose window holds it, at most `max_workers`),
    and build the peers' model of the same demand."""
    day = busiest_date(scenario)
    known = {c.company_id for c in scenario.companies}
    workers = [
        dataclasses.replace(w, earliest=day, latest=day)
        for w in scenario.workers
        if w.home_adcode and w.company_id in known and w.earliest <= day <= w.latest
    ]
    if max_workers is not None:
        workers = workers[:max_workers]
    # Parties ride whole: keep every member of a party that is in.
    cut = scenario.replace(
        workers=tuple(workers), first_departure=day, last_departure=day, problems=()
    )
    policy = cut.policy
    companies = {c.company_id: c for c in cut.companies}
    hubs = {f"hub:{h.hub_id}": h for h in cut.hubs}
    boarding = nearest_hubs(cut.companies, cut.hubs, policy.hub_radius_km)
    seats = county_seats({w.home_adcode for w in workers if w.home_adcode})
    demand: dict[tuple[str, str], int] = defaultdict(int)
    for worker in workers:
        if worker.home_adcode not in seats:
            continue
        site = boarding.get(worker.company_id, f"gate:{worker.company_id}")
        demand[(site, worker.home_adcode or "")] += worker.seats

    site_keys = sorted({s for s, _ in demand})
    county_keys = sorted({c for _, c in demand})
    places: list[Location] = []
    for key in site_keys:
        kind, _, ident = key.partition(":")
        point = hubs[key] if kind == "hub" else companies[ident]
        places.append(Location(point.lon, point.lat))
    places += [seats[c] for c in county_keys]
    matrix = provider.matrix(places)
    size = len(places) + 1  # the last location is the coaches' zero-cost start
    distance = np.zeros((size, size), dtype=np.int64)
    duration = np.zeros((size, size), dtype=np.int64)
    distance[:-1, :-1] = matrix.distance_m
    duration[:-1, :-1] = matrix.duration_s
    start = size - 1
    service = np.zeros(size, dtype=np.int64)
    service[: len(site_keys)] = policy.boarding_minutes * 60
    service[len(site_keys) : start] = policy.alighting_minutes * 60
    index = {key: i for i, key in enumerate(site_keys + county_keys)}
    largest = max(v.seats for v in cut.fleet)
    requests = []
    for (site, county), seats_needed in sorted(demand.items()):
        pickup, delivery = index[site], index[county]
        direct = int(duration[pickup, delivery])
        ride = round(direct * policy.detour_ratio) + policy.detour_grace_minutes * 60
        left = seats_needed
        while left > 0:
            piece = min(left, largest)
            requests.append(Request(pickup, delivery, piece, penalty=None, max_ride_s=ride))
            left -= piece
    vehicles = tuple(
        Vehicle(v.seats, int(v.fixed_cost), v.cost_per_km, start=start, end=None)
        for v in cut.fleet
        if v.available_on(day)
        for _ in range(v.count)
    )
    problem = PickupDeliveryProblem(
        distance_m=distance,
        duration_s=duration,
        requests=tuple(requests),
        vehicles=vehicles,
        service_s=service,
        max_pickup_stops=policy.max_pickup_stops,
        max_dropoff_stops=policy.max_dropoff_stops,
    )
    return DateInstance(cut, problem, groups=len(demand), seats=sum(demand.values()))
