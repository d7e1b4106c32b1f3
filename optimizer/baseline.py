"""Reference plans made the way organisers plan by hand, to compare the optimizer against.

Two baselines, both counting coaches only (no routing, no timetable):

- `hand_planning_trips`: each company charters its own coaches per home county and departure date
  (what an employer does alone): coaches = Σ over (company, county, date) of ⌈seats / capacity⌉.
- `plain_county_date_trips`: the service centre pools every company, but runs one coach group per
  home county and date, never mixing counties on a coach: coaches = Σ over (county, date) of
  ⌈seats / capacity⌉. Cixi's hand-made 2019 season (612 trips, 33.8 people per coach) was of
  this kind.

Both put each worker on the first day of their window (`earliest`): a hand planner books the date
asked for and does not consolidate dates across the window; that is one of the optimizer's levers.
Workers whose home county is unknown (`home_adcode` is None), whose window is empty or misses the
season's departure dates are not planned and are counted in `unplanned`. Parties are not checked:
a group's seats are summed, so the counts are a slight lower estimate of a real hand plan.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from optimizer.errors import InvalidInput
from optimizer.model import Scenario, VehicleType, Worker

# How a baseline groups workers: (worker, departure date) -> group key.
_GroupKey = Callable[[Worker, dt.date], Hashable]


@dataclass(frozen=True)
class BaselineFigures:
    """Headline figures of a baseline plan.

    `trips` coaches carry `people` workers (rows) taking `seats` seats; `seats_offered` counts the
    full coaches at `capacity` seats and each group's last coach as the smallest fleet type that
    holds the remainder. `groups` is the number of (company,) county, date groups.
    """

    method: str
    trips: int
    people: int
    seats: int
    seats_offered: int
    groups: int
    capacity: int
    unplanned: int

    @property
    def people_per_coach(self) -> float:
        """Workers per coach (the figure Cixi reports: 20,710 / 612 = 33.8 in 2019)."""
        return self.people / self.trips if self.trips else 0.0

    @property
    def seat_utilization(self) -> float:
        """Seats taken over seats offered, 0 to 1."""
        return self.seats / self.seats_offered if self.seats_offered else 0.0

    @property
    def seat_bound_trips(self) -> int:
        """Fewest coaches the seats alone allow: ⌈seats / capacity⌉."""
        return math.ceil(self.seats / self.capacity) if self.seats else 0


def hand_planning_trips(scenario: Scenario, capacity: int | None = None) -> BaselineFigures:
    """Coaches needed when each company charters alone per home county and departure date.

    `capacity` is the seats per coach (default: the largest coach type of the fleet).
    """
    return _count(
        scenario,
        capacity,
        method="hand_planning",
        key=lambda worker, day: (worker.company_id, worker.home_adcode, day),
    )


def plain_county_date_trips(scenario: Scenario, capacity: int | None = None) -> BaselineFigures:
    """Coaches needed with one coach group per home county and date, companies pooled.

    `capacity` is the seats per coach (default: the largest coach type of the fleet).
    """
    return _count(
        scenario,
        capacity,
        method="plain_county_date",
        key=lambda worker, day: (worker.home_adcode, day),
    )


def _count(
    scenario: Scenario,
    capacity: int | None,
    *,
    method: str,
    key: _GroupKey,
) -> BaselineFigures:
    seats_per_coach = _capacity(scenario.fleet, capacity)
    sizes = sorted({v.seats for v in scenario.fleet} | {seats_per_coach})
    seats_by_group: dict[Hashable, int] = defaultdict(int)
    people = 0
    unplanned = 0
    for worker in scenario.workers:
        day = _departure_day(worker, scenario)
        if worker.home_adcode is None or day is None:
            unplanned += 1
            continue
        seats_by_group[key(worker, day)] += worker.seats
        people += 1
    trips = 0
    offered = 0
    for seats in seats_by_group.values():
        full, remainder = divmod(seats, seats_per_coach)
        trips += full + (1 if remainder else 0)
        offered += full * seats_per_coach
        if remainder:
            offered += min(s for s in sizes if s >= remainder)
    return BaselineFigures(
        method=method,
        trips=trips,
        people=people,
        seats=sum(seats_by_group.values()),
        seats_offered=offered,
        groups=len(seats_by_group),
        capacity=seats_per_coach,
        unplanned=unplanned,
    )


def _capacity(fleet: Iterable[VehicleType], capacity: int | None) -> int:
    if capacity is not None:
        if capacity < 1:
            raise InvalidInput("capacity must be at least 1 seat")
        return capacity
    seats = [v.seats for v in fleet if v.count > 0]
    if not seats:
        raise InvalidInput("the fleet has no coaches: give a capacity")
    return max(seats)


def _departure_day(worker: Worker, scenario: Scenario) -> dt.date | None:
    """The first date of the worker's window inside the season, or None if there is none."""
    first = max(worker.earliest, scenario.first_departure)
    last = min(worker.latest, scenario.last_departure)
    return first if first <= last else None
