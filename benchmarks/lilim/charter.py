"""Synthetic charter-like pickup-and-delivery instances and their independent checker.

Shaped like the pooling step of the planner after decomposition: the remainders of
(factory gate -> home county) groups for one departure date, 1-52 seats each, picked up at gates
spread over a Cixi-sized city and dropped at county seats 300-2,000 km away along a few
corridors; coaches of 35/45/53 seats with a large fixed cost (fewest coaches first), at most 3
pickup and 3 drop-off stops, a ride-time limit of 1.3 x direct time + 1 h, one outbound run per
coach (all pickups first) and open routes (a coach ends at its last drop-off). Coordinates are
planar kilometres; road distance is 1.3 x the straight line, driven at 80 km/h.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from optimizer.routing import PickupDeliveryProblem, PickupDeliverySolution, Request, Vehicle

ROAD_FACTOR = 1.3
SPEED_KMH = 80.0
BOARDING_S = 20 * 60
ALIGHTING_S = 10 * 60
DETOUR_RATIO = 1.3
DETOUR_GRACE_S = 3600
STOP_LIMIT = 3
COACHES = ((53, 100_000, 9.0), (45, 95_000, 8.0), (35, 90_000, 7.0))  # seats, fixed, per km


@dataclass(frozen=True)
class CharterInstance:
    """A generated instance with what its lower bound needs."""

    name: str
    problem: PickupDeliveryProblem
    seats: int
    counties: int

    @property
    def lower_bound(self) -> int:
        """Coaches >= seats / largest coach, and >= counties served / drop-off limit."""
        return max(math.ceil(self.seats / COACHES[0][0]), math.ceil(self.counties / STOP_LIMIT))


def generate(requests: int, seed: int = 0) -> CharterInstance:
    """A charter-like instance with `requests` (gate, county) groups."""
    rng = random.Random(seed)
    gates = max(6, requests // 5)
    counties = max(10, requests // 4)
    corridors = [math.radians(angle) for angle in (225.0, 260.0, 290.0, 320.0)]
    points = [(0.0, 0.0)]  # coach yard
    points += [(rng.uniform(-15, 15), rng.uniform(-15, 15)) for _ in range(gates)]
    for _ in range(counties):
        axis = rng.choice(corridors) + rng.gauss(0.0, math.radians(6))
        radius = rng.uniform(300, 2000)
        points.append((radius * math.cos(axis), radius * math.sin(axis)))
    xy = np.array(points)
    km = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) * ROAD_FACTOR
    distance = np.rint(km * 1000).astype(np.int64)
    duration = np.rint(km / SPEED_KMH * 3600).astype(np.int64)
    service = np.array([0] + [BOARDING_S] * gates + [ALIGHTING_S] * counties, dtype=np.int64)

    pairs: set[tuple[int, int]] = set()
    if requests > gates * counties // 2:
        raise ValueError("too many requests for the generated gates and counties")
    while len(pairs) < requests:
        pairs.add((1 + rng.randrange(gates), 1 + gates + rng.randrange(counties)))
    groups = []
    for pickup, delivery in sorted(pairs):
        # Remainders after full coaches are small more often than large.
        seats = min(52, 1 + int(rng.expovariate(1 / 11)))
        direct = int(duration[pickup, delivery])
        groups.append(
            Request(
                pickup,
                delivery,
                seats,
                penalty=3 * COACHES[0][1],
                max_ride_s=int(direct * DETOUR_RATIO) + DETOUR_GRACE_S,
            )
        )
    share = {53: 0.35, 45: 0.1, 35: 0.1}
    fleet = tuple(
        Vehicle(capacity=seats, fixed_cost=fixed, cost_per_km=per_km, start=0, end=None)
        for seats, fixed, per_km in COACHES
        for _ in range(math.ceil(share[seats] * requests) + 1)
    )
    problem = PickupDeliveryProblem(
        distance_m=distance,
        duration_s=duration,
        requests=tuple(groups),
        vehicles=fleet,
        service_s=service,
        max_pickup_stops=STOP_LIMIT,
        max_dropoff_stops=STOP_LIMIT,
        pickups_before_deliveries=True,
    )
    served_counties = len({request.delivery for request in groups})
    return CharterInstance(
        f"charter-{requests}-s{seed}", problem, sum(r.demand for r in groups), served_counties
    )


def check(problem: PickupDeliveryProblem, solution: PickupDeliverySolution) -> list[str]:
    """Independent re-check: each request once (or dropped), seats, stops, ride times.

    Times are recomputed from the matrices without waiting (no time windows here).
    """
    violations: list[str] = []
    site = problem.site if problem.site is not None else np.arange(problem.num_locations)
    service = (
        problem.service_s
        if problem.service_s is not None
        else np.zeros(problem.num_locations, dtype=np.int64)
    )
    served: list[int] = []
    for route in solution.routes:
        vehicle = problem.vehicles[route.vehicle]
        load, clock, previous = 0, 0, vehicle.start
        picked: dict[int, int] = {}
        pickup_stops = dropoff_stops = 0
        previous_site = None
        delivered = False
        for location, request_index in zip(route.nodes, route.requests, strict=True):
            request = problem.requests[request_index]
            clock += int(problem.duration_s[previous, location])
            new_stop = site[location] != previous_site
            if request_index not in picked:
                if delivered and problem.pickups_before_deliveries:
                    violations.append(f"vehicle {route.vehicle}: pickup after a delivery")
                if location != request.pickup:
                    violations.append(f"request {request_index}: pickup at the wrong place")
                picked[request_index] = clock + int(service[location])
                load += request.demand
                pickup_stops += int(new_stop)
            else:
                if location != request.delivery:
                    violations.append(f"request {request_index}: delivery at the wrong place")
                load -= request.demand
                delivered = True
                dropoff_stops += int(new_stop)
                ride = clock - picked[request_index]
                if request.max_ride_s is not None and ride > request.max_ride_s:
                    violations.append(f"request {request_index}: ride {ride} s too long")
                served.append(request_index)
            if load > vehicle.capacity:
                violations.append(f"vehicle {route.vehicle}: {load} seats > {vehicle.capacity}")
            clock += int(service[location])
            previous, previous_site = location, site[location]
        if len(picked) * 2 != len(route.requests):
            violations.append(f"vehicle {route.vehicle}: a request is picked up but not dropped")
        if problem.max_pickup_stops is not None and pickup_stops > problem.max_pickup_stops:
            violations.append(f"vehicle {route.vehicle}: {pickup_stops} pickup stops")
        if problem.max_dropoff_stops is not None and dropoff_stops > problem.max_dropoff_stops:
            violations.append(f"vehicle {route.vehicle}: {dropoff_stops} drop-off stops")
    if sorted(served + list(solution.dropped)) != list(range(len(problem.requests))):
        violations.append("requests not served exactly once nor dropped")
    if len({route.vehicle for route in solution.routes}) != len(solution.routes):
        violations.append("a vehicle is used twice")
    return violations
