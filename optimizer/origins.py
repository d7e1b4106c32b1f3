"""Figures of a season over several origin counties, and the fleet's depots per operator.

A trip belongs to the origin county of its first pickup going home (of its last drop-off coming
back): that county's transport bureau files its charter sign. A trip whose riders board in more
than one origin county is a cross-origin trip: pooling across neighbouring origins.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from optimizer.errors import InvalidInput
from optimizer.model import Kpis, Scenario, Trip, VehicleType


def boarding_counties(trip: Trip, scenario: Scenario) -> list[str]:
    """The origin counties of `trip`'s gate-side stops (pickups going home, drop-offs coming
    back), in the order the coach serves them, each once."""
    companies = {c.company_id: c for c in scenario.companies}
    hubs = {h.hub_id: h for h in scenario.hubs}
    side = "pickup" if scenario.direction == "home" else "dropoff"
    counties: dict[str, None] = {}
    for stop in trip.stops:
        if stop.kind != side:
            continue
        if stop.hub_id is not None and stop.hub_id in hubs:
            counties[scenario.hub_county(hubs[stop.hub_id])] = None
        elif stop.company_id is not None and stop.company_id in companies:
            counties[scenario.company_county(companies[stop.company_id])] = None
    return list(counties)


def trip_origin(trip: Trip, scenario: Scenario) -> str:
    """The origin county a trip belongs to: its first pickup's going home, its last drop-off's
    coming back (the gate side nearest the coach's start or end); the season's origin when the
    trip has no gate-side stop of a known company or hub."""
    counties = boarding_counties(trip, scenario)
    if not counties:
        return scenario.origin
    return counties[0] if scenario.direction == "home" else counties[-1]


def with_origin_kpis(kpis: Kpis, scenario: Scenario, trips: Sequence[Trip]) -> Kpis:
    """`kpis` with the origin figures: origin counties of the season, trips per origin county
    (`trip_origin`) and trips that pool riders of several origin counties."""
    by_origin: Counter[str] = Counter()
    cross = 0
    for trip in trips:
        counties = boarding_counties(trip, scenario)
        by_origin[trip_origin(trip, scenario)] += 1
        cross += len(counties) > 1
    return dataclasses.replace(
        kpis,
        origins=len(scenario.origins),
        cross_origin_trips=cross,
        trips_by_origin=dict(sorted(by_origin.items())),
    )


def with_operator_depots(fleet: Sequence[VehicleType]) -> tuple[VehicleType, ...]:
    """The fleet with one depot per operator: a coach type without depot coordinates takes
    those of another type of its operator (the first listed that has them)."""
    depots: dict[str, tuple[float, float]] = {}
    for vehicle in fleet:
        if vehicle.depot_lon is not None and vehicle.depot_lat is not None:
            depots.setdefault(vehicle.operator, (vehicle.depot_lon, vehicle.depot_lat))
    result = []
    for vehicle in fleet:
        depot = depots.get(vehicle.operator)
        if vehicle.operator and depot is not None and vehicle.depot_lon is None:
            vehicle = dataclasses.replace(vehicle, depot_lon=depot[0], depot_lat=depot[1])
        result.append(vehicle)
    return tuple(result)


def origin_alone(scenario: Scenario, county: str) -> Scenario:
    """The part of a many-origin season one origin county would plan on its own: its companies,
    their workers, its hubs, and the whole fleet (the baseline pooling across origins is
    measured against; the fleet is left whole so that only pooling differs)."""
    if county not in scenario.origins:
        raise InvalidInput(f"{county!r} is not an origin county of season {scenario.name!r}")
    companies = tuple(c for c in scenario.companies if scenario.company_county(c) == county)
    ids = {c.company_id for c in companies}
    workers = tuple(w for w in scenario.workers if w.company_id in ids)
    kept = {w.worker_id for w in workers}
    return scenario.replace(
        name=f"{scenario.name}-{county}",
        origin=county,
        origins=(county,),
        companies=companies,
        workers=workers,
        hubs=tuple(h for h in scenario.hubs if scenario.hub_county(h) == county),
        problems=tuple(p for p in scenario.problems if p.worker_id in kept),
    )
