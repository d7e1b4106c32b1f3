"""The pickup-and-delivery problem and its solution as plain data (no OR-Tools here).

`PickupDeliveryProblem` (requests, vehicles, matrices, windows and stop limits) is what the
planner builds per decomposed part; `PickupDeliverySolution` (routes, dropped requests, status)
is what `optimizer.routing.solve_pickup_delivery` returns. They live apart from the OR-Tools
backend (optimizer/routing.py, which re-exports them) so that the backend module holds the
solver code only; see that module for the units and the node model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from optimizer.errors import InvalidInput


class SolveStatus(StrEnum):
    """Outcome of one solve. Only FEASIBLE and OPTIMAL serve every mandatory request."""

    FEASIBLE = "feasible"
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"  # a solution exists but some mandatory requests are dropped
    NO_SOLUTION = "no_solution"  # the search found nothing within its limits


@dataclass(frozen=True)
class Request:
    """A load to carry from location `pickup` to location `delivery`.

    Parameters
    ----------
    pickup, delivery
        Location indices into the problem's matrices (may be shared with other requests).
    demand
        Seats (capacity units) taken from pickup to delivery.
    penalty
        None: the request must be served. Otherwise dropping it costs this much money.
    max_ride_s
        Longest time, in seconds, from the end of service at the pickup to the start of
        service at the delivery (waiting on board counts).
    """

    pickup: int
    delivery: int
    demand: int
    penalty: int | None = None
    max_ride_s: int | None = None

    def __post_init__(self) -> None:
        if self.demand < 0:
            raise InvalidInput("request demand must not be negative")
        if self.penalty is not None and self.penalty < 0:
            raise InvalidInput("request penalty must not be negative")
        if self.max_ride_s is not None and self.max_ride_s < 0:
            raise InvalidInput("request max_ride_s must not be negative")
        if self.pickup < 0 or self.delivery < 0:
            raise InvalidInput("request locations must not be negative")


@dataclass(frozen=True)
class Vehicle:
    """One vehicle (coach) that may be used at most once.

    Parameters
    ----------
    capacity
        Seats.
    fixed_cost
        Money paid if the vehicle is used at all; make it large to minimise vehicles first.
    cost_per_km
        Money per kilometre driven (from start to the end, or to the last stop when open).
    start, end
        Location indices; `end=None` is an open route that ends at its last delivery.
    """

    capacity: int
    fixed_cost: int
    cost_per_km: float
    start: int
    end: int | None = None

    def __post_init__(self) -> None:
        if self.capacity < 0:
            raise InvalidInput("vehicle capacity must not be negative")
        if self.fixed_cost < 0:
            raise InvalidInput("vehicle fixed_cost must not be negative")
        if not math.isfinite(self.cost_per_km) or self.cost_per_km < 0:
            raise InvalidInput("vehicle cost_per_km must be finite and not negative")
        if self.start < 0 or (self.end is not None and self.end < 0):
            raise InvalidInput("vehicle locations must not be negative")


def _int_matrix(values: Any, name: str) -> NDArray[np.int64]:
    array = np.array(values)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise InvalidInput(f"{name} must be a square matrix")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise InvalidInput(f"{name} must hold integers")
    array = array.astype(np.int64)
    if array.size and array.min() < 0:
        raise InvalidInput(f"{name} must not be negative")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class PickupDeliveryProblem:
    """An immutable pickup-and-delivery instance over `n` locations.

    Parameters
    ----------
    distance_m, duration_s
        (n, n) integer matrices of road metres and driving seconds between locations.
    requests, vehicles
        What to carry and what to carry it with.
    service_s
        (n,) seconds spent at each location per visit (boarding, alighting); default 0.
    time_windows
        n pairs (earliest, latest) in seconds for the start of service at each location
        (vehicle starts and closed ends included); default unconstrained.
    site
        (n,) site id per location: consecutive visits at one site count as ONE stop for the
        stop limits; default each location is its own site.
    max_pickup_stops, max_dropoff_stops
        Most distinct pickup (delivery) stops on one route.
    max_route_duration_s
        Longest time from a vehicle's start to its end (or last delivery when open).
    pickups_before_deliveries
        Every route makes all its pickups before its first delivery: one outbound run per
        vehicle, as a charter coach drives (no coming back for a second load).
    service_per_stop
        Consecutive visits at one location are one stop: its service time is spent once, when
        the vehicle leaves (everyone boarding at a gate boards together). Default: every visit
        spends its location's service time.
    """

    distance_m: NDArray[np.int64]
    duration_s: NDArray[np.int64]
    requests: tuple[Request, ...]
    vehicles: tuple[Vehicle, ...]
    service_s: NDArray[np.int64] | None = None
    time_windows: tuple[tuple[int, int], ...] | None = None
    site: NDArray[np.int64] | None = None
    max_pickup_stops: int | None = None
    max_dropoff_stops: int | None = None
    max_route_duration_s: int | None = None
    pickups_before_deliveries: bool = False
    service_per_stop: bool = False

    def __post_init__(self) -> None:
        distance = _int_matrix(self.distance_m, "distance_m")
        duration = _int_matrix(self.duration_s, "duration_s")
        if distance.shape != duration.shape:
            raise InvalidInput("distance_m and duration_s must have the same shape")
        object.__setattr__(self, "distance_m", distance)
        object.__setattr__(self, "duration_s", duration)
        object.__setattr__(self, "requests", tuple(self.requests))
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        size = distance.shape[0]
        for request in self.requests:
            if request.pickup >= size or request.delivery >= size:
                raise InvalidInput("request location out of range")
        for vehicle in self.vehicles:
            if vehicle.start >= size or (vehicle.end is not None and vehicle.end >= size):
                raise InvalidInput("vehicle location out of range")
        for name in ("service_s", "site"):
            value = getattr(self, name)
            if value is None:
                continue
            array = np.array(value)
            if array.shape != (size,) or (
                array.size and not np.issubdtype(array.dtype, np.integer)
            ):
                raise InvalidInput(f"{name} must be an integer vector with one entry per location")
            array = array.astype(np.int64)
            if name == "service_s" and array.size and array.min() < 0:
                raise InvalidInput("service_s must not be negative")
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        if self.time_windows is not None:
            windows = tuple((int(a), int(b)) for a, b in self.time_windows)
            if len(windows) != size:
                raise InvalidInput("time_windows must have one window per location")
            if any(a < 0 or a > b for a, b in windows):
                raise InvalidInput("time windows must satisfy 0 <= earliest <= latest")
            object.__setattr__(self, "time_windows", windows)
        for name in ("max_pickup_stops", "max_dropoff_stops"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidInput(f"{name} must be at least 1")
        if self.max_route_duration_s is not None and self.max_route_duration_s < 0:
            raise InvalidInput("max_route_duration_s must not be negative")

    @property
    def num_locations(self) -> int:
        """Number of locations (rows of the matrices)."""
        return int(self.distance_m.shape[0])


@dataclass(frozen=True)
class Route:
    """One used vehicle's visits in order, start and end depots excluded.

    `nodes` are locations; `requests[k]` is the request served at visit k (its pickup at the
    first occurrence, its delivery at the second); `arrival_s[k]` is the start of service.
    `distance_m` runs from the start to the end (to the last visit for open routes).
    """

    vehicle: int
    nodes: tuple[int, ...]
    requests: tuple[int, ...] = ()
    arrival_s: tuple[int, ...] = ()
    start_s: int = 0
    end_s: int = 0
    distance_m: int = 0


@dataclass(frozen=True)
class PickupDeliverySolution:
    """Routes, dropped requests (indices), cost in money (inf when not feasible) and status."""

    routes: tuple[Route, ...]
    dropped: tuple[int, ...]
    cost: float
    status: str
    wall_s: float = 0.0
    first_solution_s: float | None = None
    # With initial routes: True when the search started from them, False when the model
    # rejected them (it then started from scratch); None when none were given.
    warm_started: bool | None = None

    def is_feasible(self) -> bool:
        """True when every mandatory request is served."""
        return self.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)

    @property
    def num_vehicles(self) -> int:
        """Vehicles used."""
        return len(self.routes)

    @property
    def distance_m(self) -> int:
        """Metres driven by all used vehicles."""
        return sum(route.distance_m for route in self.routes)
