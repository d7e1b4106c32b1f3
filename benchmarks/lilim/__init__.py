"""Li & Lim PDPTW instances: reader, conversion to the routing core, independent checker.

The 100-task family (lc1, lc2, lr1, lr2, lrc1, lrc2) and its best-known solutions (SINTEF TOP
tables) are in `data/` with their licence. Distances are Euclidean on the given coordinates,
not rounded, as the BKS tables assume; the classical objective is vehicles first, then distance.

The routing core works on integers, so coordinates are scaled by `SCALE`: distances are
rounded, travel times rounded *up*, so a schedule that is feasible in integers is feasible in
the real numbers too, and the checker re-verifies every route in floating point.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimizer.routing import (
    PickupDeliveryProblem,
    PickupDeliverySolution,
    Request,
    Vehicle,
)

DATA = Path(__file__).resolve().parent / "data"
SCALE = 1000
# Currency per vehicle; above any instance's total distance (< 3,000), so vehicles come first.
FIXED_COST = 10_000
SUBSET = ("lc101", "lc201", "lr101", "lr201", "lrc101", "lrc201")


@dataclass(frozen=True)
class Task:
    """One line of an instance: task 0 is the depot."""

    index: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float
    pickup: int  # for a delivery: its pickup task; else 0
    delivery: int  # for a pickup: its delivery task; else 0


@dataclass(frozen=True)
class Instance:
    """A Li & Lim instance as published."""

    name: str
    vehicles: int
    capacity: int
    tasks: tuple[Task, ...]

    def euclid(self, a: int, b: int) -> float:
        """Euclidean distance (= travel time) between tasks a and b."""
        ta, tb = self.tasks[a], self.tasks[b]
        return math.hypot(ta.x - tb.x, ta.y - tb.y)


@dataclass(frozen=True)
class BestKnown:
    """Best-known solution figures."""

    vehicles: int
    distance: float


def available() -> list[str]:
    """Names of the instances shipped in data/."""
    return sorted(path.stem for path in DATA.glob("*.txt"))


def read_instance(name: str, folder: Path = DATA) -> Instance:
    """Parse `<folder>/<name>.txt`."""
    lines = (folder / f"{name}.txt").read_text().split("\n")
    vehicles, capacity, _speed = lines[0].split()
    tasks = []
    for line in lines[1:]:
        fields = line.split()
        if not fields:
            continue
        index, x, y, demand, ready, due, service, pickup, delivery = fields
        tasks.append(
            Task(
                int(index),
                float(x),
                float(y),
                int(demand),
                float(ready),
                float(due),
                float(service),
                int(pickup),
                int(delivery),
            )
        )
    if [task.index for task in tasks] != list(range(len(tasks))):
        raise ValueError(f"{name}: tasks are not numbered 0..n-1")
    return Instance(name, int(vehicles), int(capacity), tuple(tasks))


def read_bks(folder: Path = DATA) -> dict[str, BestKnown]:
    """Best-known (vehicles, distance) per instance."""
    with (folder / "bks.csv").open() as handle:
        return {
            row["instance"]: BestKnown(int(row["vehicles"]), float(row["distance"]))
            for row in csv.DictReader(handle)
        }


def to_problem(instance: Instance) -> tuple[PickupDeliveryProblem, list[tuple[int, int]]]:
    """The routing-core problem and, per request, its (pickup task, delivery task)."""
    xy = np.array([(task.x, task.y) for task in instance.tasks])
    euclid = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) * SCALE
    distance = np.rint(euclid).astype(np.int64)
    duration = np.ceil(euclid - 1e-9).astype(np.int64)
    pairs = [(task.index, task.delivery) for task in instance.tasks if task.delivery > 0]
    requests = tuple(Request(p, d, instance.tasks[p].demand) for p, d in pairs)
    vehicles = tuple(
        Vehicle(capacity=instance.capacity, fixed_cost=FIXED_COST, cost_per_km=1.0, start=0, end=0)
        for _ in range(instance.vehicles)
    )
    problem = PickupDeliveryProblem(
        distance_m=distance,
        duration_s=duration,
        requests=requests,
        vehicles=vehicles,
        service_s=np.array([round(task.service * SCALE) for task in instance.tasks]),
        # Windows rounded inwards keep integer feasibility a sufficient condition.
        time_windows=tuple(
            (math.ceil(task.ready * SCALE), math.floor(task.due * SCALE)) for task in instance.tasks
        ),
    )
    return problem, pairs


@dataclass(frozen=True)
class Check:
    """An independent verdict on a solution, in the instance's own (real) units."""

    vehicles: int
    distance: float
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations


def check(instance: Instance, routes: list[list[int]], tolerance: float = 1e-6) -> Check:
    """Re-check routes given as task lists (depot excluded) against the published instance.

    Verifies: every task visited exactly once, each pickup before its delivery on the same
    route, load within capacity, every service start within its window, depot return in time.
    """
    violations: list[str] = []
    tasks = instance.tasks
    seen: dict[int, int] = {}
    distance = 0.0
    for number, route in enumerate(routes):
        clock, load, previous = tasks[0].ready, 0, 0
        for position, task_index in enumerate(route):
            if task_index <= 0 or task_index >= len(tasks):
                violations.append(f"route {number}: unknown task {task_index}")
                continue
            if task_index in seen:
                violations.append(f"task {task_index} visited twice")
            seen[task_index] = number
            task = tasks[task_index]
            step = instance.euclid(previous, task_index)
            distance += step
            clock = max(clock + tasks[previous].service + step, task.ready)
            if clock > task.due + tolerance:
                violations.append(f"route {number}: task {task_index} late ({clock:.3f})")
            load += task.demand
            if load > instance.capacity or load < 0:
                violations.append(f"route {number}: load {load} at task {task_index}")
            if task.pickup > 0 and task.pickup not in route[:position]:
                violations.append(f"route {number}: delivery {task_index} before its pickup")
            previous = task_index
        back = instance.euclid(previous, 0)
        distance += back
        if clock + tasks[previous].service + back > tasks[0].due + tolerance:
            violations.append(f"route {number}: back at the depot too late")
    missing = [task.index for task in tasks[1:] if task.index not in seen]
    if missing:
        violations.append(f"{len(missing)} tasks not served")
    return Check(sum(1 for route in routes if route), distance, tuple(violations))


def routes_as_tasks(
    solution: PickupDeliverySolution, pairs: list[tuple[int, int]]
) -> list[list[int]]:
    """The solution's routes as Li & Lim task numbers."""
    result = []
    for route in solution.routes:
        seen: set[int] = set()
        tasks = []
        for request in route.requests:
            pickup, delivery = pairs[request]
            tasks.append(delivery if request in seen else pickup)
            seen.add(request)
        result.append(tasks)
    return result
