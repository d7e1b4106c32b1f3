"""Peer solvers on the planner's own pickup-and-delivery instances: VROOM, PyVRP, plain OR-Tools.

Every peer gets the same `PickupDeliveryProblem` (same aggregated groups, same integer metres and
seconds) and the same time budget. Their answers are converted to one form (visits per vehicle)
and re-checked by `evaluate`, which counts vehicles, km and cost with the same rules for all and
lists what a peer's answer breaks that the product's model enforces (stop limits, ride times):
peers that cannot express a rule are not given credit for breaking it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from optimizer.routing import PickupDeliveryProblem, PickupDeliverySolution

NO_LIMIT = 2**63 - 1  # PyVRP's "unbounded" for durations

# A visit: (request index, True for its pickup / False for its delivery).
Visit = tuple[int, bool]


@dataclass(frozen=True)
class PeerRoute:
    """One used vehicle of a peer's answer: its index and visits in order."""

    vehicle: int
    visits: tuple[Visit, ...]


@dataclass(frozen=True)
class Evaluation:
    """A peer's answer measured with the product's rules."""

    solver: str
    vehicles: int
    distance_km: float
    cost: float
    dropped_requests: int
    dropped_demand: int
    wall_s: float
    violations: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        """True when the answer breaks none of the product's rules."""
        return not self.violations


def evaluate(
    problem: PickupDeliveryProblem, routes: Sequence[PeerRoute], solver: str, wall_s: float
) -> Evaluation:
    """Vehicles, km, cost and broken rules of `routes` on `problem` (open routes end at the last
    visit)."""
    violations: list[str] = []
    served: set[int] = set()
    distance_m = 0
    cost = 0.0
    site = problem.site if problem.site is not None else np.arange(problem.num_locations)
    service = (
        problem.service_s if problem.service_s is not None else np.zeros(problem.num_locations, int)
    )
    for route in routes:
        if not route.visits:
            continue
        vehicle = problem.vehicles[route.vehicle]
        places = [
            problem.requests[r].pickup if p else problem.requests[r].delivery
            for r, p in route.visits
        ]
        path = [vehicle.start, *places] + ([vehicle.end] if vehicle.end is not None else [])
        metres = int(sum(problem.distance_m[a, b] for a, b in itertools.pairwise(path)))
        distance_m += metres
        cost += vehicle.fixed_cost + vehicle.cost_per_km * metres / 1000
        load = 0
        clock = 0
        picked_at: dict[int, int] = {}
        previous = vehicle.start
        pickup_sites: list[int] = []
        dropoff_sites: list[int] = []
        for (request_index, is_pickup), place in zip(route.visits, places, strict=True):
            request = problem.requests[request_index]
            clock += int(problem.duration_s[previous, place])
            if is_pickup:
                load += request.demand
                picked_at[request_index] = clock + int(service[place])
                if not pickup_sites or pickup_sites[-1] != site[place]:
                    pickup_sites.append(int(site[place]))
            else:
                if request_index not in picked_at:
                    violations.append(f"vehicle {route.vehicle}: delivery before pickup")
                load -= request.demand
                served.add(request_index)
                ride = clock - picked_at.get(request_index, clock)
                if request.max_ride_s is not None and ride > request.max_ride_s:
                    violations.append(
                        f"vehicle {route.vehicle}: request {request_index} rides {ride} s "
                        f"> {request.max_ride_s} s"
                    )
                if not dropoff_sites or dropoff_sites[-1] != site[place]:
                    dropoff_sites.append(int(site[place]))
            if load > vehicle.capacity:
                violations.append(f"vehicle {route.vehicle}: load {load} > {vehicle.capacity}")
            clock += int(service[place])
            previous = place
        if problem.max_pickup_stops is not None and len(pickup_sites) > problem.max_pickup_stops:
            violations.append(
                f"vehicle {route.vehicle}: {len(pickup_sites)} pickup stops "
                f"> {problem.max_pickup_stops}"
            )
        if problem.max_dropoff_stops is not None and len(dropoff_sites) > problem.max_dropoff_stops:
            violations.append(
                f"vehicle {route.vehicle}: {len(dropoff_sites)} drop-off stops "
                f"> {problem.max_dropoff_stops}"
            )
    dropped = [i for i in range(len(problem.requests)) if i not in served]
    for i in dropped:
        penalty = problem.requests[i].penalty
        if penalty is None:
            violations.append(f"mandatory request {i} not served")
        else:
            cost += penalty
    used = len({r.vehicle for r in routes if r.visits})
    return Evaluation(
        solver=solver,
        vehicles=used,
        distance_km=round(distance_m / 1000, 1),
        cost=round(cost, 1),
        dropped_requests=len(dropped),
        dropped_demand=sum(problem.requests[i].demand for i in dropped),
        wall_s=round(wall_s, 2),
        violations=tuple(violations),
    )


def solve_vroom(problem: PickupDeliveryProblem, time_limit_s: float) -> Evaluation:
    """VROOM (pyvroom): shipments with capacities; it has no per-shipment ride limit or stop
    limit, so those are checked afterwards. Costs in cents: fixed + per-km."""
    import datetime as dt

    import vroom

    started = time.perf_counter()
    instance = vroom.Input()
    instance.set_durations_matrix(profile="car", matrix_input=problem.duration_s.astype(np.uint32))
    instance.set_distances_matrix(profile="car", matrix_input=problem.distance_m.astype(np.uint32))
    shift = route_duration_limit(problem)
    stops = None
    if problem.max_pickup_stops is not None and problem.max_dropoff_stops is not None:
        # Tasks are visits, not distinct stops: a generous stand-in for the stop limits.
        stops = 2 * (problem.max_pickup_stops + problem.max_dropoff_stops)
    for index, vehicle in enumerate(problem.vehicles):
        instance.add_vehicle(
            vroom.Vehicle(
                index,
                start=vehicle.start,
                end=vehicle.end,
                capacity=[vehicle.capacity],
                max_travel_time=shift,
                max_tasks=stops,
                costs=vroom.VehicleCosts(
                    fixed=int(vehicle.fixed_cost * 100),
                    per_hour=0,
                    per_km=round(vehicle.cost_per_km * 100),
                ),
            )
        )
    service = problem.service_s
    for index, request in enumerate(problem.requests):
        # VROOM serves higher priorities first when it cannot serve everything.
        instance.add_shipment(
            vroom.ShipmentStep(
                2 * index,
                request.pickup,
                default_service=int(service[request.pickup]) if service is not None else 0,
            ),
            vroom.ShipmentStep(
                2 * index + 1,
                request.delivery,
                default_service=int(service[request.delivery]) if service is not None else 0,
            ),
            amount=vroom.Amount([request.demand]),
            priority=100 if request.penalty is None else 10,
        )
    solution = instance.solve(
        exploration_level=5, nb_threads=1, timeout=dt.timedelta(seconds=time_limit_s)
    )
    wall = time.perf_counter() - started
    routes: list[PeerRoute] = []
    frame = solution.routes
    for vehicle_id, rows in frame.groupby("vehicle_id"):
        visits: list[Visit] = []
        for _, row in rows.iterrows():
            if row["type"] in ("pickup", "delivery"):
                job = int(row["id"])
                visits.append((job // 2, row["type"] == "pickup"))
        routes.append(PeerRoute(int(vehicle_id), tuple(visits)))
    return evaluate(problem, routes, "VROOM", wall)


def solve_pyvrp(problem: PickupDeliveryProblem, time_limit_s: float, seed: int = 0) -> Evaluation:
    """PyVRP 0.14 with paired pickup and delivery (`Model.add_shipment`). One vehicle type per
    vehicle; open routes end at a zero-cost dummy depot. No ride or stop limits (checked after)."""
    from pyvrp import ActivityType, Model
    from pyvrp.stop import MaxRuntime

    started = time.perf_counter()
    model = Model()
    size = problem.num_locations
    locations = [model.add_location(float(i), 0.0) for i in range(size)]
    dummy = model.add_location(-1.0, 0.0)
    depots = {}
    for vehicle in problem.vehicles:
        for place in (vehicle.start, vehicle.end):
            if place is not None and place not in depots:
                depots[place] = model.add_depot(locations[place])
    open_end = model.add_depot(dummy)
    scale = 100  # cents: integer costs
    shift = route_duration_limit(problem)
    for vehicle in problem.vehicles:
        model.add_vehicle_type(
            num_available=1,
            capacity=vehicle.capacity,
            start_depot=depots[vehicle.start],
            end_depot=depots[vehicle.end] if vehicle.end is not None else open_end,
            fixed_cost=int(vehicle.fixed_cost * scale),
            unit_distance_cost=max(1, round(vehicle.cost_per_km * scale)),
            shift_duration=shift if shift is not None else NO_LIMIT,
        )
    service = problem.service_s
    for request in problem.requests:
        model.add_shipment(
            locations[request.pickup],
            locations[request.delivery],
            pickup_service_duration=int(service[request.pickup]) if service is not None else 0,
            delivery_service_duration=int(service[request.delivery]) if service is not None else 0,
            amount=request.demand,
            prize=int(request.penalty * scale) if request.penalty is not None else 0,
            required=request.penalty is None,
        )
    # Distances in km (integer) keep PyVRP's integer costs in range; ride times in seconds.
    km = np.rint(problem.distance_m / 1000).astype(int)
    for i, a in enumerate(locations):
        for j, b in enumerate(locations):
            model.add_edge(a, b, distance=int(km[i, j]), duration=int(problem.duration_s[i, j]))
        model.add_edge(a, dummy, distance=0, duration=0)
        model.add_edge(dummy, a, distance=0, duration=0)
    model.add_edge(dummy, dummy, distance=0, duration=0)
    result = model.solve(MaxRuntime(time_limit_s), seed=seed, display=False)
    wall = time.perf_counter() - started
    routes: list[PeerRoute] = []
    for route in result.best.routes():
        visits: list[Visit] = []
        for activity in route.schedule():
            if activity.type in (ActivityType.PICKUP, ActivityType.DELIVERY):
                visits.append((int(activity.idx), activity.type == ActivityType.PICKUP))
        routes.append(PeerRoute(int(route.vehicle_type()), tuple(visits)))
    return evaluate(problem, routes, "PyVRP", wall)


def solve_ortools_plain(problem: PickupDeliveryProblem, time_limit_s: float) -> Evaluation:
    """OR-Tools used plainly: the same model as the product's core (capacities, pairs, stop and
    ride limits, fixed costs), one model for the whole instance, OR-Tools' default search
    (AUTOMATIC first solution and metaheuristic) and no fleet-minimisation phase."""
    from optimizer.routing import RoutingParams, solve_pickup_delivery

    started = time.perf_counter()
    solution = solve_pickup_delivery(
        problem,
        RoutingParams(
            time_limit_s=time_limit_s,
            first_solution="AUTOMATIC",
            metaheuristic="AUTOMATIC",
            fleet_minimisation=False,
        ),
    )
    return evaluate(problem, core_routes(solution), "OR-Tools plain", time.perf_counter() - started)


def core_routes(solution: PickupDeliverySolution) -> list[PeerRoute]:
    """The product core's routes as visits (a request's first visit is its pickup)."""
    routes = []
    for route in solution.routes:
        seen: set[int] = set()
        visits: list[Visit] = []
        for request in route.requests:
            visits.append((request, request not in seen))
            seen.add(request)
        routes.append(PeerRoute(route.vehicle, tuple(visits)))
    return routes


def route_duration_limit(problem: PickupDeliveryProblem) -> int | None:
    """The longest a coach may be under way for a passenger to stay within their ride limit: what
    VROOM and PyVRP can express of the ride limits (a route-level cap), so they are not given
    credit for multi-day routes no passenger could ride."""
    rides = [r.max_ride_s for r in problem.requests if r.max_ride_s is not None]
    if not rides:
        return problem.max_route_duration_s
    service = problem.service_s
    extra = int(service.max()) * 2 if service is not None and len(service) else 0
    limit = max(rides) + extra + int(problem.duration_s.max() // 4)
    if problem.max_route_duration_s is not None:
        limit = min(limit, problem.max_route_duration_s)
    return limit
