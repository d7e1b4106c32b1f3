"""Where a short fleet's coach time goes, and why its unseated workers have no seat (issue 11).

`python -m benchmarks.coachtime DIR [--window START,END]` plans a season folder with the product
(`optimizer.season.solve_within_fleet`, the folder's own time limit, the road graph) and prints
one JSON line: the plan's figures, its coaches' hours inside the window (default: the whole
span of the duties) split into driving loaded, driving empty, the duties' rest after a drive,
waiting beyond that rest, and the hours before a coach's first leg and after its last, then the
fleet_exhausted workers by cause and the trips' stop use. It is a diagnostic, not a bound: it
reads one plan.

- `coach_hours`: per coach, each hour of the window falls in exactly one category, so the
  categories add up to coaches x window. The rest after a leg is the duties' layover rule
  (`optimizer.duties.layover_minutes`) on the leg's driving: a trip's own driving minutes, an
  empty drive's clock minutes (its driving is not kept in the duty; clock minutes are at least
  the driving, so a short empty drive with its rests may count a crew rest it did not need);
  on the origin side, a trip's last stop or an empty drive's next trip's first stop, as the
  duties read it for `fresh_crew_at_origin`).
- `unseated_causes`: for each fleet_exhausted worker, the first that holds of: no trip stops
  at their home county on a date of their window; such trips, none with a free seat; such
  trips with a seat, all at the gate-stop limit without their company's gate (return wave:
  `max_dropoff_stops`; homeward: `max_pickup_stops`); any other (detour, time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from optimizer.duties import layover_minutes, origin_side
from optimizer.model import Duty, Plan, Policy, Scenario, Trip, UnservedReason

CATEGORIES = (
    "loaded",
    "empty",
    "rest after loaded",
    "rest after empty",
    "wait",
    "before first leg",
    "after last leg",
    "no duty",
)


def _hours(start: dt.datetime, end: dt.datetime, window: tuple[dt.datetime, dt.datetime]) -> float:
    """Hours of [start, end) inside the window."""
    low, high = window
    return max(0.0, (min(end, high) - max(start, low)).total_seconds() / 3600)


def coach_hours(
    duties: Iterable[Duty],
    trips: Mapping[str, Trip],
    window: tuple[dt.datetime, dt.datetime],
    policy: Policy,
    coaches: int | None = None,
) -> dict[str, float]:
    """Hours of the window each category takes, summed over the duties (and `coaches` less the
    duties' count of coaches without a duty, "no duty"). See the module's docstring."""
    far_past, far_future = dt.datetime.min, dt.datetime.max
    found: dict[str, float] = dict.fromkeys(CATEGORIES, 0.0)
    count = 0
    for duty in duties:
        legs = sorted(duty.legs, key=lambda leg: leg.start)
        if not legs:
            continue
        count += 1
        found["before first leg"] += _hours(far_past, legs[0].start, window)
        found["after last leg"] += _hours(legs[-1].end, far_future, window)
        for leg in legs:
            found["loaded" if leg.kind == "trip" else "empty"] += _hours(leg.start, leg.end, window)
        for leg, following in itertools.pairwise(legs):
            if leg.kind == "trip" and leg.trip_id in trips:
                driving = trips[leg.trip_id].driving_minutes
                at_origin = origin_side(trips[leg.trip_id].stops[-1])
            else:
                driving = int((leg.end - leg.start).total_seconds() // 60)
                after = trips.get(following.trip_id) if following.kind == "trip" else None
                at_origin = after is not None and origin_side(after.stops[0])
            rest = layover_minutes(driving, policy, at_origin)
            rest_end = min(following.start, leg.end + dt.timedelta(minutes=rest))
            kind = "rest after loaded" if leg.kind == "trip" else "rest after empty"
            found[kind] += _hours(leg.end, rest_end, window)
            found["wait"] += _hours(rest_end, following.start, window)
    if coaches is not None and coaches > count:
        found["no duty"] += (coaches - count) * _hours(window[0], window[1], window)
    return found


def _gates(trip: Trip) -> set[str]:
    return {s.company_id for s in trip.stops if s.company_id} | {
        s.hub_id for s in trip.stops if s.hub_id
    }


def unseated_causes(plan: Plan, scenario: Scenario) -> Counter[str]:
    """The fleet_exhausted workers by cause (see the module's docstring)."""
    workers = {w.worker_id: w for w in scenario.workers}
    limit = (
        scenario.policy.max_dropoff_stops
        if scenario.direction == "return"
        else scenario.policy.max_pickup_stops
    )
    at: dict[tuple[str, dt.date], list[Trip]] = defaultdict(list)
    for trip in plan.trips:
        for county in {s.adcode for s in trip.stops if s.adcode}:
            at[(county, trip.departure_date)].append(trip)
    causes: Counter[str] = Counter()
    for unserved in plan.unserved:
        if unserved.reason is not UnservedReason.FLEET_EXHAUSTED:
            continue
        worker = workers.get(unserved.worker_id)
        if worker is None or worker.home_adcode is None:
            causes["other"] += 1
            continue
        days = (worker.latest - worker.earliest).days
        there = [
            t
            for k in range(days + 1)
            for t in at.get((worker.home_adcode, worker.earliest + dt.timedelta(days=k)), ())
        ]
        with_seat = [t for t in there if t.seats - t.seats_used >= worker.seats]
        if not there:
            causes["no trip at the county on a window date"] += 1
        elif not with_seat:
            causes["no free seat"] += 1
        elif all(len(_gates(t)) >= limit and worker.company_id not in _gates(t) for t in with_seat):
            causes["gate stops full"] += 1
        else:
            causes["other"] += 1
    return causes


def stop_use(trips: Sequence[Trip], policy: Policy, direction: str) -> dict[str, Any]:
    """Riders a trip, a county stop and an origin-side stop; trips at each stop limit; the share
    of trips leaving at the earliest departure hour."""
    if not trips:
        return {}
    county_limit = policy.max_pickup_stops if direction == "return" else policy.max_dropoff_stops
    gate_limit = policy.max_dropoff_stops if direction == "return" else policy.max_pickup_stops
    per_county: list[int] = []
    per_gate: list[int] = []
    at_county_limit = at_gate_limit = 0
    for trip in trips:
        counties = [s for s in trip.stops if s.adcode and (s.board or s.alight)]
        gates = [s for s in trip.stops if (s.company_id or s.hub_id) and (s.board or s.alight)]
        per_county += [len(s.board) + len(s.alight) for s in counties]
        per_gate += [len(s.board) + len(s.alight) for s in gates]
        at_county_limit += len({s.adcode for s in counties}) >= county_limit
        at_gate_limit += len(_gates(trip)) >= gate_limit
    earliest = sum(1 for t in trips if t.departure.hour == policy.earliest_departure_hour)
    return {
        "riders_a_trip": round(statistics.mean(t.seats_used for t in trips), 2),
        "riders_a_county_stop": round(statistics.mean(per_county), 2) if per_county else 0,
        "riders_an_origin_stop": round(statistics.mean(per_gate), 2) if per_gate else 0,
        "trips_at_county_stop_limit": at_county_limit,
        "trips_at_origin_stop_limit": at_gate_limit,
        "trips_at_earliest_hour": earliest,
    }


def measure(folder: Path, window: tuple[dt.datetime, dt.datetime] | None) -> dict[str, Any]:
    """Plan `folder` within its fleet and read where the coach time went."""
    from optimizer.read import read_scenario
    from optimizer.season import solve_within_fleet
    from optimizer.solve import default_distance_provider

    scenario = read_scenario(folder)
    started = time.perf_counter()
    plan, duties = solve_within_fleet(scenario, distances=default_distance_provider())
    plan_s = time.perf_counter() - started
    trips = {t.trip_id: t for t in plan.trips}
    legs = [leg for d in duties.duties for leg in d.legs]
    if window is None and legs:
        window = (min(leg.start for leg in legs), max(leg.end for leg in legs))
    coaches = sum(v.count for v in scenario.fleet)
    hours = coach_hours(duties.duties, trips, window, scenario.policy, coaches) if window else {}
    total = sum(hours.values()) or 1.0
    return {
        "scenario": scenario.name,
        "seated": plan.kpis.seated,
        "workers": plan.kpis.workers,
        "trips": plan.kpis.trips,
        "servable_bound": plan.kpis.fleet_servable_bound,
        "coaches": coaches,
        "window": [w.isoformat() for w in window] if window else None,
        "coach_hours": {k: round(v) for k, v in hours.items()},
        "coach_share": {k: round(v / total, 3) for k, v in hours.items()},
        "unseated_causes": dict(unseated_causes(plan, scenario)),
        "stops": stop_use(plan.trips, scenario.policy, scenario.direction),
        "trips_a_coach": dict(sorted(Counter(len(d.trip_ids) for d in duties.duties).items())),
        "plan_s": round(plan_s, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.coachtime DIR... [--window START,END]`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.coachtime", description=__doc__)
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument(
        "--window", help="START,END as ISO date-times (default: the duties' whole span)"
    )
    args = parser.parse_args(argv)
    window = None
    if args.window:
        parts = args.window.split(",")
        try:
            if len(parts) != 2:
                raise ValueError("two date-times are needed")
            start, end = (dt.datetime.fromisoformat(x.strip()) for x in parts)
        except ValueError as error:
            parser.error(f"--window {args.window!r}: START,END as ISO date-times ({error})")
        if end <= start:
            parser.error(f"--window {args.window!r}: END must be after START")
        window = (start, end)
    for folder in args.folders:
        if not folder.is_dir():
            parser.error(f"{folder}: no such scenario folder")
    for folder in args.folders:
        print(json.dumps(measure(folder, window), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
