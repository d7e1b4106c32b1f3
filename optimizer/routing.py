"""Pickup-and-delivery routing core on OR-Tools (the only module that imports ortools).

A generic capacitated pickup-and-delivery problem with time windows, ride-time limits, stop
limits counted by site, heterogeneous vehicles with fixed costs and open routes. The planner
builds a `PickupDeliveryProblem` per decomposed part and calls `solve_pickup_delivery`
(the problem, its routes and solution are plain data in optimizer/pdp.py, re-exported here).
`min_cost_flow` is OR-Tools' exact min-cost flow, which the coach duties use for chaining.

Units: distances integer metres, times integer seconds, money in the caller's currency.
Inside the OR-Tools model money is scaled by `COST_SCALE` so that per-km tariffs with decimals
stay exact enough on metre arcs.

Node model: the problem's matrices are indexed by *locations*; requests and vehicles refer to
locations, and several requests may share one (a factory gate, a county seat). OR-Tools visits
each of its nodes at most once, so the model gets one node per request end, one per distinct
depot location and one shared "open end" that costs nothing to reach.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.graph.python import min_cost_flow as min_cost_flow_solver
from ortools.math_opt.python import mathopt
from ortools.util import optional_boolean_pb2

from optimizer.errors import InvalidInput
from optimizer.pdp import (
    PickupDeliveryProblem,
    PickupDeliverySolution,
    Request,
    Route,
    SolveStatus,
    Vehicle,
)

logger = logging.getLogger(__name__)

# Money inside the model is in 1/COST_SCALE currency units: an arc costs
# round(distance_m * cost_per_km) because metres x per-km = 1/1000 of a currency unit.
COST_SCALE = 1000

FIRST_SOLUTION_STRATEGIES = frozenset(
    name
    for name in routing_enums_pb2.FirstSolutionStrategy.Value.keys()  # noqa: SIM118
    if name not in ("UNSET", "FIRST_UNBOUND_MIN_VALUE")
)
# `use_iterated_local_search` (ruin and recreate) is left out: in 9.15 through pywrapcp it stopped
# after the first local optimum on Li & Lim instances instead of iterating (docs/routing-core.md).
METAHEURISTICS = frozenset(
    {
        "AUTOMATIC",
        "GREEDY_DESCENT",
        "GUIDED_LOCAL_SEARCH",
        "SIMULATED_ANNEALING",
        "TABU_SEARCH",
        "GENERIC_TABU_SEARCH",
    }
)


@dataclass(frozen=True)
class RoutingParams:
    """How OR-Tools searches.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget of the whole solve, seconds.
    first_solution
        An OR-Tools FirstSolutionStrategy name.
    metaheuristic
        An OR-Tools LocalSearchMetaheuristic name.
    log_search
        Let OR-Tools log its search to stderr.
    guided_local_search_lambda
        GLS penalty weight (OR-Tools default 0.1).
    fleet_minimisation
        Spend part of the budget removing whole routes (vehicles-first objective).
    insertion_lns
        Add OR-Tools' cheapest-insertion LNS operators around close nodes and expensive
        chains (off by default in OR-Tools); they are what moves Li & Lim to the BKS.
    multi_armed_bandit
        Let a multi-armed bandit order the local search operators instead of a fixed order.
    solution_limit
        Stop after this many improving solutions (None: time only); for tests and smoke runs.
    first_solution_limit_s
        Give up (status `no_solution`) when no first solution is built within this many
        seconds, so that a caller with a solution of its own can use the rest of its time.
    """

    time_limit_s: float = 10.0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    log_search: bool = False
    guided_local_search_lambda: float = 0.1
    fleet_minimisation: bool = True
    insertion_lns: bool = True
    multi_armed_bandit: bool = False
    solution_limit: int | None = None
    first_solution_limit_s: float | None = None

    def __post_init__(self) -> None:
        if self.first_solution_limit_s is not None and not self.first_solution_limit_s > 0:
            raise InvalidInput("first_solution_limit_s must be positive")
        if not self.time_limit_s > 0 or not math.isfinite(self.time_limit_s):
            raise InvalidInput("time_limit_s must be positive")
        if self.first_solution not in FIRST_SOLUTION_STRATEGIES:
            raise InvalidInput("unknown first_solution strategy")
        if self.metaheuristic not in METAHEURISTICS:
            raise InvalidInput("unknown metaheuristic")
        if not self.guided_local_search_lambda > 0:
            raise InvalidInput("guided_local_search_lambda must be positive")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise InvalidInput("solution_limit must be at least 1")


# --------------------------------------------------------------------------------------------
# Model construction


@dataclass
class _Layout:
    """Where each OR-Tools node comes from."""

    location: NDArray[np.int64]  # node -> location (-1 for the open end)
    request: NDArray[np.int64]  # node -> request (-1 for depots)
    is_pickup: NDArray[np.bool_]
    is_delivery: NDArray[np.bool_]
    site: NDArray[np.int64]
    starts: list[int]
    ends: list[int]
    first_request_node: int
    open_end: int | None

    @property
    def size(self) -> int:
        return int(self.location.shape[0])

    def pickup_node(self, request: int) -> int:
        return self.first_request_node + 2 * request

    def delivery_node(self, request: int) -> int:
        return self.first_request_node + 2 * request + 1


def _layout(problem: PickupDeliveryProblem) -> _Layout:
    depot_locations: list[int] = []
    for vehicle in problem.vehicles:
        for place in (vehicle.start, vehicle.end):
            if place is not None and place not in depot_locations:
                depot_locations.append(place)
    depot_node = {place: node for node, place in enumerate(depot_locations)}
    has_open = any(vehicle.end is None for vehicle in problem.vehicles)
    open_end = len(depot_locations) if has_open else None
    first = len(depot_locations) + int(has_open)
    count = len(problem.requests)
    size = first + 2 * count

    location = np.full(size, -1, dtype=np.int64)
    location[: len(depot_locations)] = depot_locations
    request_of = np.full(size, -1, dtype=np.int64)
    is_pickup = np.zeros(size, dtype=bool)
    is_delivery = np.zeros(size, dtype=bool)
    for index, request in enumerate(problem.requests):
        location[first + 2 * index] = request.pickup
        location[first + 2 * index + 1] = request.delivery
        request_of[first + 2 * index : first + 2 * index + 2] = index
        is_pickup[first + 2 * index] = True
        is_delivery[first + 2 * index + 1] = True

    # Depots get sites of their own so that the first pickup is always a stop.
    site = np.arange(-1, -size - 1, -1, dtype=np.int64)
    location_site = problem.site if problem.site is not None else np.arange(problem.num_locations)
    site[first:] = location_site[location[first:]]
    return _Layout(
        location=location,
        request=request_of,
        is_pickup=is_pickup,
        is_delivery=is_delivery,
        site=site,
        starts=[depot_node[vehicle.start] for vehicle in problem.vehicles],
        ends=[
            depot_node[vehicle.end] if vehicle.end is not None else first - 1
            for vehicle in problem.vehicles
        ],
        first_request_node=first,
        open_end=open_end,
    )


def _node_matrix(layout: _Layout, matrix: NDArray[np.int64]) -> NDArray[np.int64]:
    """Location matrix expanded to OR-Tools nodes; arcs into and out of the open end are free."""
    index = np.where(layout.location >= 0, layout.location, 0)
    expanded: NDArray[np.int64] = np.array(matrix[np.ix_(index, index)], dtype=np.int64)
    if layout.open_end is not None:
        expanded[layout.open_end, :] = 0
        expanded[:, layout.open_end] = 0
    return expanded


class _Model:
    """An OR-Tools routing model for one problem, with helpers to read solutions."""

    def __init__(
        self,
        problem: PickupDeliveryProblem,
        vehicles: list[int],
        deadline: float = math.inf,
    ) -> None:
        self.problem = problem
        self.vehicles = vehicles  # model vehicle -> problem vehicle
        # Read by the route-elimination callback (a one-item list, so the callback needs no
        # reference to the model).
        self.stop_flag = [False]
        self.layout = layout = _layout(problem)
        fleet = [problem.vehicles[v] for v in vehicles]
        self.manager = pywrapcp.RoutingIndexManager(
            layout.size,
            len(fleet),
            [layout.starts[v] for v in vehicles],
            [layout.ends[v] for v in vehicles],
        )
        self.routing = routing = pywrapcp.RoutingModel(self.manager)
        manager = self.manager
        solver = routing.solver()
        self.distance = _node_matrix(layout, problem.distance_m)
        # OR-Tools checks its own time limit only every so many calls, calibrated on early
        # fast ones; with the insertion LNS operators later calls are slow and runs overshot
        # a 10 s limit by minutes (lr104: 254 s). This limit reads the clock on every call;
        # the cost was below measurement (same solutions in 5 s on lr104).
        self.deadline = deadline
        # The check must not hold `self`: OR-Tools keeps it alive from C++, and a cycle through
        # C++ is one Python's collector cannot see, so the whole model would never be freed.
        self._deadline_check = lambda: time.perf_counter() >= deadline
        self._deadline_limit = solver.CustomLimit(self._deadline_check)
        routing.AddSearchMonitor(self._deadline_limit)

        # Arc costs: one matrix per distinct tariff (OR-Tools caches evaluators per vehicle class).
        evaluators: dict[float, int] = {}
        for model_vehicle, vehicle in enumerate(fleet):
            if vehicle.cost_per_km not in evaluators:
                cost = np.rint(self.distance * vehicle.cost_per_km).astype(np.int64)
                evaluators[vehicle.cost_per_km] = routing.RegisterTransitMatrix(cost.tolist())
            routing.SetArcCostEvaluatorOfVehicle(evaluators[vehicle.cost_per_km], model_vehicle)
            routing.SetFixedCostOfVehicle(vehicle.fixed_cost * COST_SCALE, model_vehicle)

        # Load.
        demand = np.zeros(layout.size, dtype=np.int64)
        for index, request in enumerate(problem.requests):
            demand[layout.pickup_node(index)] = request.demand
            demand[layout.delivery_node(index)] = -request.demand
        load = routing.RegisterUnaryTransitVector(demand.tolist())
        routing.AddDimensionWithVehicleCapacity(
            load, 0, [vehicle.capacity for vehicle in fleet], True, "load"
        )

        # Time, when anything depends on it.
        self.time: Any = None
        needs_time = (
            problem.time_windows is not None
            or problem.max_route_duration_s is not None
            or any(request.max_ride_s is not None for request in problem.requests)
        )
        if needs_time:
            self.time = self._add_time(fleet)

        # Stop limits: a stop is a change of site onto a pickup (delivery) node.
        for limit, mask, name in (
            (problem.max_pickup_stops, layout.is_pickup, "pickup_stops"),
            (problem.max_dropoff_stops, layout.is_delivery, "dropoff_stops"),
        ):
            if limit is None:
                continue
            changes = layout.site[:, None] != layout.site[None, :]
            transit = (changes & mask[None, :]).astype(np.int64)
            routing.AddDimension(
                routing.RegisterTransitMatrix(transit.tolist()), 0, limit, True, name
            )

        if problem.pickups_before_deliveries:
            # A dimension of capacity 0 that an arc from a delivery to a pickup would raise
            # to 1: dimension filters reject such moves cheaply during local search.
            back = (layout.is_delivery[:, None] & layout.is_pickup[None, :]).astype(np.int64)
            routing.AddDimension(
                routing.RegisterTransitMatrix(back.tolist()), 0, 0, True, "outbound_only"
            )

        # Pairs. Precedence needs a cumul that grows along the route: time if there is one,
        # otherwise a visit counter.
        order = self.time
        if order is None:
            rank = routing.RegisterUnaryTransitVector([1] * layout.size)
            routing.AddDimension(rank, 0, layout.size + 1, True, "rank")
            order = routing.GetDimensionOrDie("rank")
        self.mandatory_penalty = self._mandatory_penalty(fleet)
        for index, request in enumerate(problem.requests):
            pickup = manager.NodeToIndex(layout.pickup_node(index))
            delivery = manager.NodeToIndex(layout.delivery_node(index))
            routing.AddPickupAndDelivery(pickup, delivery)
            solver.Add(routing.VehicleVar(pickup) == routing.VehicleVar(delivery))
            solver.Add(routing.ActiveVar(pickup) == routing.ActiveVar(delivery))
            # Node precedences are checked by the dimension's filters during local search;
            # the same inequality posted with solver.Add is only seen by constraint
            # propagation, which made first solutions 40x slower (docs/routing-core.md).
            order.AddNodePrecedence(pickup, delivery, 0)
            # Mandatory requests get a penalty larger than any solution cost instead of none:
            # insertion heuristics then always return a solution, and the few requests that
            # cannot be served show up as dropped instead of the whole search failing.
            penalty = (
                self.mandatory_penalty if request.penalty is None else request.penalty * COST_SCALE
            )
            routing.AddDisjunction([pickup], penalty - penalty // 2)
            routing.AddDisjunction([delivery], penalty // 2)
            if request.max_ride_s is not None and self.time is not None:
                service = 0 if problem.service_s is None else int(problem.service_s[request.pickup])
                # cumul(pickup) >= cumul(delivery) - (service + max ride), as a precedence.
                self.time.AddNodePrecedence(delivery, pickup, -(service + request.max_ride_s))

    def _add_time(self, fleet: list[Vehicle]) -> Any:
        problem, layout, routing, manager = self.problem, self.layout, self.routing, self.manager
        service = np.zeros(layout.size, dtype=np.int64)
        if problem.service_s is not None:
            located = layout.location >= 0
            service[located] = problem.service_s[layout.location[located]]
        driving = _node_matrix(layout, problem.duration_s)
        transit = driving + service[:, None]
        if problem.service_per_stop:
            # Staying at a location is no new stop: its service is paid on leaving it.
            located = layout.location >= 0
            stay = (layout.location[:, None] == layout.location[None, :]) & located[:, None]
            transit[stay] = driving[stay]
        if layout.open_end is not None:
            # Reaching the open end means finishing the last service, not driving.
            transit[:, layout.open_end] = service
            transit[layout.open_end, :] = 0
        if problem.time_windows is not None:
            horizon = max(b for _, b in problem.time_windows)
        else:
            horizon = int(transit.max(initial=0)) * (layout.size + 1)
            if problem.max_route_duration_s is not None:
                horizon = min(horizon, problem.max_route_duration_s)
        horizon = max(horizon, 1)
        evaluator = routing.RegisterTransitMatrix(transit.tolist())
        # Without time windows waiting never helps, so times follow the route from 0: no slack
        # makes every cumul fixed by the path, which the ride-time precedences check cheaply.
        windows_given = problem.time_windows is not None
        slack = horizon if windows_given else 0
        routing.AddDimension(evaluator, slack, horizon, not windows_given, "time")
        time_dimension = routing.GetDimensionOrDie("time")
        if problem.time_windows is not None:
            windows = problem.time_windows
            for node in range(layout.first_request_node, layout.size):
                earliest, latest = windows[layout.location[node]]
                time_dimension.CumulVar(manager.NodeToIndex(node)).SetRange(earliest, latest)
            for model_vehicle, vehicle in enumerate(fleet):
                earliest, latest = windows[vehicle.start]
                time_dimension.CumulVar(routing.Start(model_vehicle)).SetRange(earliest, latest)
                if vehicle.end is not None:
                    earliest, latest = windows[vehicle.end]
                    time_dimension.CumulVar(routing.End(model_vehicle)).SetRange(earliest, latest)
        for model_vehicle in range(len(fleet)):
            if problem.max_route_duration_s is not None:
                time_dimension.SetSpanUpperBoundForVehicle(
                    problem.max_route_duration_s, model_vehicle
                )
            if not windows_given:
                continue
            # Compact timetables: leave as late as possible, finish as early as possible.
            routing.AddVariableMaximizedByFinalizer(
                time_dimension.CumulVar(routing.Start(model_vehicle))
            )
            routing.AddVariableMinimizedByFinalizer(
                time_dimension.CumulVar(routing.End(model_vehicle))
            )
        return time_dimension

    def _mandatory_penalty(self, fleet: list[Vehicle]) -> int:
        """A penalty above the cost of any solution that serves more requests."""
        arcs = self.layout.size + len(fleet)
        max_tariff = max((vehicle.cost_per_km for vehicle in fleet), default=0.0)
        routes = sum(vehicle.fixed_cost for vehicle in fleet) * COST_SCALE
        driving = math.ceil(float(self.distance.max(initial=0)) * max_tariff) * arcs
        optional = sum(
            request.penalty * COST_SCALE
            for request in self.problem.requests
            if request.penalty is not None
        )
        return routes + driving + optional + COST_SCALE

    # ---- reading and writing solutions

    def routes_of(self, assignment: Any) -> list[list[int]]:
        """Per model vehicle, the OR-Tools nodes visited (depots excluded)."""
        routing, manager = self.routing, self.manager
        routes = []
        for model_vehicle in range(routing.vehicles()):
            index = assignment.Value(routing.NextVar(routing.Start(model_vehicle)))
            nodes = []
            while not routing.IsEnd(index):
                nodes.append(manager.IndexToNode(index))
                index = assignment.Value(routing.NextVar(index))
            routes.append(nodes)
        return routes

    def assignment_from(self, routes: list[list[int]]) -> Any:
        """An assignment that starts the search from given node routes (or None if rejected)."""
        indices = [[self.manager.NodeToIndex(node) for node in nodes] for nodes in routes]
        return self.routing.ReadAssignmentFromRoutes(indices, True)

    def solution_of(self, assignment: Any, status: int) -> PickupDeliverySolution:
        problem, layout, routing, manager = self.problem, self.layout, self.routing, self.manager
        routes: list[Route] = []
        served: set[int] = set()
        for model_vehicle, nodes in enumerate(self.routes_of(assignment)):
            if not nodes:
                continue
            vehicle = problem.vehicles[self.vehicles[model_vehicle]]
            path = [layout.starts[self.vehicles[model_vehicle]], *nodes]
            if vehicle.end is not None:
                path.append(layout.ends[self.vehicles[model_vehicle]])
            distance = int(sum(self.distance[a, b] for a, b in itertools.pairwise(path)))
            if self.time is not None:
                start = assignment.Value(self.time.CumulVar(routing.Start(model_vehicle)))
                end = assignment.Value(self.time.CumulVar(routing.End(model_vehicle)))
                arrivals = tuple(
                    int(assignment.Value(self.time.CumulVar(manager.NodeToIndex(node))))
                    for node in nodes
                )
            else:
                start, end, arrivals = 0, 0, self._arrivals(path, nodes)
                if arrivals:
                    end = self._end_time(path, arrivals[-1], nodes[-1])
            served.update(int(layout.request[node]) for node in nodes)
            routes.append(
                Route(
                    vehicle=self.vehicles[model_vehicle],
                    nodes=tuple(int(layout.location[node]) for node in nodes),
                    requests=tuple(int(layout.request[node]) for node in nodes),
                    arrival_s=arrivals,
                    start_s=int(start),
                    end_s=int(end),
                    distance_m=distance,
                )
            )
        dropped = tuple(index for index in range(len(problem.requests)) if index not in served)
        mandatory_dropped = any(problem.requests[index].penalty is None for index in dropped)
        if mandatory_dropped:
            solve_status, cost = SolveStatus.INFEASIBLE, math.inf
        else:
            solve_status = (
                SolveStatus.OPTIMAL
                if status == routing_enums_pb2.RoutingSearchStatus.ROUTING_OPTIMAL
                else SolveStatus.FEASIBLE
            )
            cost = assignment.ObjectiveValue() / COST_SCALE
        return PickupDeliverySolution(
            routes=tuple(routes), dropped=dropped, cost=cost, status=solve_status
        )

    def _service(self, node: int) -> int:
        location = int(self.layout.location[node])
        if location < 0 or self.problem.service_s is None:
            return 0
        return int(self.problem.service_s[location])

    def _arrivals(self, path: list[int], nodes: list[int]) -> tuple[int, ...]:
        duration = self.problem.duration_s
        clock, arrivals = 0, []
        location = self.layout.location
        for previous, node in zip(path, nodes, strict=False):
            stays = self.problem.service_per_stop and location[previous] == location[node]
            clock += (0 if stays else self._service(previous)) + int(
                duration[self.layout.location[previous], self.layout.location[node]]
            )
            arrivals.append(clock)
        return tuple(arrivals)

    def _end_time(self, path: list[int], last_arrival: int, last_node: int) -> int:
        end = last_arrival + self._service(last_node)
        if path[-1] != last_node:
            location = self.layout.location
            end += int(self.problem.duration_s[location[last_node], location[path[-1]]])
        return end


def _search_parameters(params: RoutingParams, time_limit_s: float) -> Any:
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic
    )
    search.guided_local_search_lambda_coefficient = params.guided_local_search_lambda
    if params.insertion_lns:
        # Ruin-and-reinsert moves around neighbouring visits and the costliest arcs: GLS with
        # the default operators stalls at the first local optimum on PDPTW (lr201: +7.6 %
        # after 10 s either way), with these it reaches the best known (docs/routing-core.md).
        operators = search.local_search_operators
        for name in (
            "use_global_cheapest_insertion_close_nodes_lns",
            "use_local_cheapest_insertion_close_nodes_lns",
            "use_global_cheapest_insertion_expensive_chain_lns",
            "use_local_cheapest_insertion_expensive_chain_lns",
        ):
            setattr(operators, name, optional_boolean_pb2.BOOL_TRUE)
    search.use_multi_armed_bandit_concatenate_operators = params.multi_armed_bandit
    search.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    search.log_search = params.log_search
    return search


class _Clock:
    """Wall-clock budget shared by the phases of one solve."""

    def __init__(self, limit_s: float) -> None:
        self.started = time.perf_counter()
        self.limit_s = limit_s
        self.deadline = self.started + limit_s

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float:
        return self.limit_s - self.elapsed()


def solve_pickup_delivery(
    problem: PickupDeliveryProblem,
    params: RoutingParams | None = None,
    initial_routes: Mapping[int, Sequence[int]] | None = None,
) -> PickupDeliverySolution:
    """Route `problem`'s requests on its vehicles; infeasibility is a result, not an error.

    Parameters
    ----------
    problem
        The instance (integer metres and seconds).
    params
        Search parameters; `params.time_limit_s` bounds the whole call's wall time.
    initial_routes
        A solution to start from instead of building one: vehicle index -> the requests it
        serves in visit order, each twice (its pickup at the first occurrence, its delivery at
        the second), as in `Route.requests`; requests in no route start unserved. The search
        then only improves on it (in the model's cost). Routes the model cannot accept
        (capacity, windows, stop or ride limits) are set aside and the search starts from
        scratch; `warm_started` in the result says which happened.

    Returns
    -------
    A solution whose `status` says whether every mandatory request is served; dropped
    requests are listed by index. With no solution at all, every request is dropped.
    """
    params = params or RoutingParams()
    clock = _Clock(params.time_limit_s)
    if initial_routes is not None:
        _check_initial_routes(problem, initial_routes)
    warm: bool | None = None if initial_routes is None else False
    if not problem.requests:
        return PickupDeliverySolution((), (), 0.0, SolveStatus.FEASIBLE, clock.elapsed(), 0.0)
    if not problem.vehicles:
        return _nothing_served(problem, clock, solved=True)

    model = _Model(problem, list(range(len(problem.vehicles))), clock.deadline)
    first_solution_s: list[float] = []

    def on_solution() -> None:
        if not first_solution_s:
            first_solution_s.append(clock.elapsed())

    model.routing.AddAtSolutionCallback(on_solution)
    if params.first_solution_limit_s is not None:
        cutoff = clock.started + params.first_solution_limit_s
        # Reads only the list and the time: OR-Tools keeps the check alive from C++.
        model.routing.AddSearchMonitor(
            model.routing.solver().CustomLimit(
                lambda: not first_solution_s and time.perf_counter() >= cutoff
            )
        )
    share = 0.5 if params.fleet_minimisation and params.solution_limit is None else 1.0
    search = _search_parameters(params, max(clock.left() * share, 0.001))
    # Closing the model with the search parameters first: reading routes into an open model
    # closes it with OR-Tools' defaults, which then override the metaheuristic and operators
    # (google/or-tools#1841); only the limits still come from the later call.
    model.routing.CloseModelWithParameters(search)
    initial = None
    if initial_routes is not None:
        initial = model.assignment_from(
            [
                _visit_nodes(model.layout, initial_routes.get(vehicle, ()))
                for vehicle in range(len(problem.vehicles))
            ]
        )
        warm = initial is not None
        if initial is None:
            logger.debug("initial routes rejected by the model; searching from scratch")
    if initial is not None:
        first_solution_s.append(clock.elapsed())
        assignment = model.routing.SolveFromAssignmentWithParameters(initial, search)
        if assignment is None:  # nothing better within the limits: the start stands
            assignment = initial
    else:
        assignment = model.routing.SolveWithParameters(search)
    if assignment is None:
        return dataclasses.replace(_nothing_served(problem, clock, solved=False), warm_started=warm)
    best = model.solution_of(assignment, model.routing.status())
    first_s = first_solution_s[0] if first_solution_s else None
    if params.fleet_minimisation and best.is_feasible() and len(best.routes) > 1:
        model, assignment, best = _eliminate_routes(problem, params, clock, model, assignment, best)
    if clock.left() > 0.05 and params.solution_limit is None:
        polished = model.routing.SolveFromAssignmentWithParameters(
            assignment, _search_parameters(params, clock.left())
        )
        if polished is not None:
            candidate = model.solution_of(polished, model.routing.status())
            if candidate.is_feasible() and candidate.cost <= best.cost:
                best = candidate
    return dataclasses.replace(_with_timing(best, clock, first_s), warm_started=warm)


def _check_initial_routes(
    problem: PickupDeliveryProblem, initial_routes: Mapping[int, Sequence[int]]
) -> None:
    """Initial routes must name real vehicles and requests, each request twice on one route;
    whether they are feasible is the model's to say."""
    seen: set[int] = set()
    for vehicle, requests in initial_routes.items():
        if not 0 <= vehicle < len(problem.vehicles):
            raise InvalidInput("initial route vehicle out of range")
        counts: dict[int, int] = {}
        for request in requests:
            if not 0 <= request < len(problem.requests):
                raise InvalidInput("initial route request out of range")
            counts[request] = counts.get(request, 0) + 1
        if any(count != 2 for count in counts.values()):
            raise InvalidInput("an initial route must visit each of its requests twice")
        if seen & counts.keys():
            raise InvalidInput("a request is on more than one initial route")
        seen.update(counts)


def _visit_nodes(layout: _Layout, requests: Sequence[int]) -> list[int]:
    """OR-Tools nodes of a visit order of requests: the first visit of a request is its
    pickup, the second its delivery."""
    seen: set[int] = set()
    nodes = []
    for request in requests:
        nodes.append(
            layout.delivery_node(request) if request in seen else layout.pickup_node(request)
        )
        seen.add(request)
    return nodes


def _with_timing(
    solution: PickupDeliverySolution, clock: _Clock, first_s: float | None
) -> PickupDeliverySolution:
    return dataclasses.replace(solution, wall_s=clock.elapsed(), first_solution_s=first_s)


def _nothing_served(
    problem: PickupDeliveryProblem, clock: _Clock, *, solved: bool
) -> PickupDeliverySolution:
    dropped = tuple(range(len(problem.requests)))
    mandatory = any(request.penalty is None for request in problem.requests)
    if not solved:
        status, cost = SolveStatus.NO_SOLUTION, math.inf
    elif mandatory:
        status, cost = SolveStatus.INFEASIBLE, math.inf
    else:
        status = SolveStatus.FEASIBLE
        cost = float(sum(request.penalty or 0 for request in problem.requests))
    return PickupDeliverySolution((), dropped, cost, status, clock.elapsed(), None)


def _eliminate_routes(
    problem: PickupDeliveryProblem,
    params: RoutingParams,
    clock: _Clock,
    model: _Model,
    assignment: Any,
    best: PickupDeliverySolution,
) -> tuple[_Model, Any, PickupDeliverySolution]:
    """Route elimination on the used fleet: drop one route's vehicle, restart the search from
    the other routes and stop as soon as every request is back on board.

    Fixed costs alone rarely make local search close a route, because moving requests out of a
    route one pair at a time is uphill until the very last one. Restricting the fleet to the
    used vehicles minus one (unserved mandatory requests cost the big penalty) gives the search
    a downhill path to the smaller fleet. The smallest routes are tried first.
    """
    failures: set[int] = set()
    while clock.left() > 0.2 and len(best.routes) > 1:
        used = [route.vehicle for route in best.routes]
        candidates = sorted(
            (route for route in best.routes if route.vehicle not in failures),
            key=lambda route: (len(route.requests), route.distance_m),
        )
        if not candidates:
            break
        victim = candidates[0]
        fleet = sorted(v for v in used if v != victim.vehicle)
        attempt = _Model(problem, fleet, clock.deadline)
        position = {vehicle: k for k, vehicle in enumerate(fleet)}
        routes: list[list[int]] = [[] for _ in fleet]
        for route in best.routes:
            if route.vehicle != victim.vehicle:
                routes[position[route.vehicle]] = _visit_nodes(attempt.layout, route.requests)
        slice_s = min(clock.left(), max(0.5, 0.5 * clock.left()))
        search = _search_parameters(params, slice_s)
        # Closed with the search parameters before the routes are read (see above).
        attempt.routing.CloseModelWithParameters(search)
        initial = attempt.assignment_from(routes)
        if initial is None:
            failures.add(victim.vehicle)
            continue
        attempt.routing.AddAtSolutionCallback(_stop_when_all_served(attempt))
        attempt.stop_flag[0] = True
        result = attempt.routing.SolveFromAssignmentWithParameters(initial, search)
        attempt.stop_flag[0] = False
        candidate = (
            None if result is None else attempt.solution_of(result, attempt.routing.status())
        )
        logger.debug(
            "route elimination: %d -> %s vehicles at %.2f s",
            len(best.routes),
            "no" if candidate is None or not candidate.is_feasible() else len(candidate.routes),
            clock.elapsed(),
        )
        if candidate is not None and candidate.is_feasible() and candidate.cost < best.cost:
            model, assignment, best = attempt, result, candidate
            failures.clear()
        else:
            failures.add(victim.vehicle)
            if len(failures) >= 2:
                break
    return model, assignment, best


def _stop_when_all_served(model: _Model) -> Any:
    """A solution callback that ends the search once no mandatory request is dropped."""
    cost_var = model.routing.CostVar()
    solver = model.routing.solver()
    flag, penalty = model.stop_flag, model.mandatory_penalty

    def callback() -> None:
        # Any dropped mandatory request costs the big penalty, which exceeds all else.
        if flag[0] and cost_var.Value() < penalty:
            solver.FinishCurrentSearch()

    return callback


def min_cost_flow(
    tails: NDArray[np.int64],
    heads: NDArray[np.int64],
    capacities: NDArray[np.int64],
    costs: NDArray[np.int64],
    supplies: NDArray[np.int64],
) -> NDArray[np.int64]:
    """The flow on each arc of an exact minimum-cost flow (OR-Tools `SimpleMinCostFlow`).

    Arc k runs from node `tails[k]` to `heads[k]` with integer `capacities[k]` and unit
    `costs[k]` (negative allowed); `supplies[v]` is node v's supply (negative: demand), summing
    to zero. Raises `ValueError` when no feasible flow exists or the costs are out of range.
    """
    flow = min_cost_flow_solver.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int64),
        np.asarray(heads, dtype=np.int64),
        np.asarray(capacities, dtype=np.int64),
        np.asarray(costs, dtype=np.int64),
    )
    flow.set_nodes_supplies(
        np.arange(len(supplies), dtype=np.int64), np.asarray(supplies, dtype=np.int64)
    )
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise ValueError(f"min-cost flow: no optimal flow (OR-Tools status {status})")
    flows: NDArray[np.int64] = np.asarray(flow.flows(arcs), dtype=np.int64)
    return flows


__all__ = [
    "COST_SCALE",
    "PickupDeliveryProblem",
    "PickupDeliverySolution",
    "Request",
    "Route",
    "RoutingParams",
    "SolveStatus",
    "Vehicle",
    "min_cost_flow",
    "solve_pickup_delivery",
]


@dataclass(frozen=True)
class LinearProgram:
    """maximise `objective . x` subject to `rows` (sparse: {var: coefficient} <= bound) and
    0 <= x <= `upper`. Solved by GLOP (OR-Tools' simplex), exact up to its tolerances."""

    objective: tuple[float, ...]
    upper: tuple[float, ...]
    rows: tuple[tuple[dict[int, float], float], ...]


class LpNotSolved(RuntimeError):
    """GLOP stopped before it proved an optimum (its time limit)."""


def _load_program(solver: Any, program: LinearProgram, xs: Sequence[Any]) -> Any:
    """Load `program`'s rows (each at most its bound) and its objective, maximised, over the
    variables `xs` into a pywraplp `solver`; the objective."""
    for coefficients, bound in program.rows:
        row = solver.Constraint(-solver.infinity(), bound)
        for index, coefficient in coefficients.items():
            row.SetCoefficient(xs[index], coefficient)
    goal = solver.Objective()
    for x, weight in zip(xs, program.objective, strict=True):
        goal.SetCoefficient(x, weight)
    goal.SetMaximization()
    return goal


def solve_lp(
    program: LinearProgram, time_limit_s: float | None = None
) -> tuple[float, tuple[float, ...]]:
    """The optimum value and a solution of `program` (it is always feasible: x = 0); with
    `time_limit_s`, `LpNotSolved` when GLOP has not proved the optimum by then."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with every OR-Tools wheel
        raise RuntimeError("OR-Tools GLOP is not available")
    xs = [solver.NumVar(0.0, ub, f"x{i}") for i, ub in enumerate(program.upper)]
    goal = _load_program(solver, program, xs)
    if time_limit_s is not None:
        solver.SetTimeLimit(max(1, math.ceil(time_limit_s * 1000)))
    status = solver.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        if time_limit_s is not None:
            raise LpNotSolved(f"GLOP ended with status {status} within {time_limit_s} s")
        raise RuntimeError(f"GLOP ended with status {status}")  # pragma: no cover - by shape
    return goal.Value(), tuple(x.solution_value() for x in xs)


@dataclass(frozen=True)
class IntegerProgramResult:
    """What SCIP proved about an integer program within its time: `bound` is at least the
    optimum (a proven dual bound, the one figure a relaxation may use); `value` the best
    solution found, None when none was."""

    bound: float
    value: float | None
    optimal: bool


def solve_integer_program(
    program: LinearProgram, integer: Sequence[int], time_limit_s: float
) -> IntegerProgramResult:
    """`program` with the variables at indices `integer` whole, by SCIP (one thread) for at
    most `time_limit_s` seconds. `LpNotSolved` when SCIP proved no bound by then (its root LP
    unfinished)."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:  # pragma: no cover - SCIP ships with every OR-Tools wheel
        raise RuntimeError("OR-Tools SCIP is not available")
    whole = set(integer)
    xs = [
        solver.IntVar(0.0, ub, f"x{i}") if i in whole else solver.NumVar(0.0, ub, f"x{i}")
        for i, ub in enumerate(program.upper)
    ]
    goal = _load_program(solver, program, xs)
    solver.SetNumThreads(1)
    solver.SetTimeLimit(max(1, math.ceil(time_limit_s * 1000)))
    status = solver.Solve()
    if status == pywraplp.Solver.OPTIMAL:
        return IntegerProgramResult(goal.Value(), goal.Value(), True)
    proven = goal.BestBound()
    if status != pywraplp.Solver.FEASIBLE or not math.isfinite(proven):
        raise LpNotSolved(f"SCIP ended with status {status} within {time_limit_s} s")
    return IntegerProgramResult(proven, goal.Value(), False)


# --------------------------------------------------------------------------- covering LP
class CoveringLp:
    """min Σ x_p subject to Σ_p a_rp x_p >= b_r for every row r, x >= 0, grown column by column
    and solved with GLOP through MathOpt (the linear-programming core of `optimizer.lp_bound`).

    With `incremental` (the default) the model stays inside one MathOpt solver between solves
    (only the new columns are sent) and each re-solve starts from the last optimal basis, the new
    columns at zero: still primal feasible, so GLOP's primal simplex goes on from there instead
    of solving from scratch (docs/benchmarks.md "lpinc": on cixi-2019's LP about a third of the
    simplex time). Without it every solve starts from scratch (what column generation did
    before; the tests compare the two).
    """

    def __init__(
        self, rhs: Sequence[float], *, presolve: bool = True, incremental: bool = True
    ) -> None:
        """`presolve` False turns GLOP's preprocessing off for a solve without a basis (a warm
        start does without it anyway)."""
        self._model = mathopt.Model(name="covering")
        self._rows = [self._model.add_linear_constraint(lb=float(b)) for b in rhs]
        self._columns: list[Any] = []
        self._presolve = presolve
        self._incremental = incremental
        self._solver: Any = None
        self._basis: Any = None
        # Columns the kept basis already lists (the later ones enter it at zero).
        self._in_basis = 0

    @property
    def column_count(self) -> int:
        """Columns added so far."""
        return len(self._columns)

    def add_column(
        self, rows: Sequence[int], coefficients: Sequence[float], cost: float = 1.0
    ) -> int:
        """A new column x_p (cost 1, or `cost`) with `coefficients` in `rows`; returns its index."""
        variable = self._model.add_variable(lb=0.0)
        for row, coefficient in zip(rows, coefficients, strict=True):
            self._rows[row].set_coefficient(variable, float(coefficient))
        self._model.objective.set_linear_coefficient(variable, float(cost))
        self._columns.append(variable)
        return len(self._columns) - 1

    def set_cost(self, column: int, cost: float) -> None:
        """Change a column's cost (e.g. the artificial columns that box the duals in)."""
        self._model.objective.set_linear_coefficient(self._columns[column], float(cost))

    def solve(
        self, time_limit_s: float
    ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]] | None:
        """(objective, row duals, column values) at the optimum, or None when GLOP did not reach
        it within `time_limit_s` seconds (or the rows cannot be covered by the columns)."""
        params = mathopt.SolveParameters(
            time_limit=dt.timedelta(seconds=max(0.001, time_limit_s)),
            presolve=None if self._presolve else mathopt.Emphasis.OFF,
        )
        if not self._incremental:
            result = mathopt.solve(self._model, mathopt.SolverType.GLOP, params=params)
        else:
            if self._solver is None:
                self._solver = mathopt.IncrementalSolver(self._model, mathopt.SolverType.GLOP)
            if self._basis is not None:
                at_zero = mathopt.BasisStatus.AT_LOWER_BOUND
                for variable in self._columns[self._in_basis :]:
                    self._basis.variable_status[variable] = at_zero
            # Only the non-zero values come back, and no reduced costs: on masters of 10,000
            # columns reading the whole result is a tenth of a second a round.
            wanted = mathopt.ModelSolveParameters(
                variable_values_filter=mathopt.SparseVectorFilter(skip_zero_values=True),
                reduced_costs_filter=mathopt.SparseVectorFilter(filtered_items=()),
                initial_basis=self._basis,
            )
            result = self._solver.solve(params=params, model_params=wanted)
        if result.termination.reason != mathopt.TerminationReason.OPTIMAL or not result.solutions:
            self._basis = None  # a stopped solve's basis is no warm start
            return None
        solution = result.solutions[0]
        if self._incremental and solution.basis is not None:
            self._basis = solution.basis
            self._in_basis = len(self._columns)
        duals = np.array(result.dual_values(self._rows), dtype=np.float64)
        values = np.zeros(len(self._columns), dtype=np.float64)
        if solution.primal_solution is not None:
            # Variables are numbered 0, 1, ... in the order added: the column index.
            for variable, value in solution.primal_solution.variable_values.items():
                values[variable.id] = value
        return float(result.objective_value()), duals, values
