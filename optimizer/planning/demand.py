"""Demand and dates: units, sites in play, and each unit's departure date."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from optimizer import patterns
from optimizer.geography.distance import (
    Location,
    reachable_places,
)
from optimizer.groups import (
    Site,
    Unit,
    assign_dates,
    build_units,
    county_site,
    estimate_coaches,
    gate_site,
    hub_site,
    nearest_hubs,
    stop_counties,
)
from optimizer.ledger import UNCERTAIN_SPREAD_NOTE, Spread, at_most_stops, spread_dates
from optimizer.model import (
    Scenario,
    Unserved,
    UnservedReason,
)
from optimizer.places import county_name, county_seats
from optimizer.planning.context import (
    Context,
    Geometry,
    Places,
    Work,
)
from optimizer.planning.parts import run_parts
from optimizer.planning.stage import Stage


def prepare(
    ctx: Context, work: Work
) -> tuple[list[Unit], dict[str, Location], tuple[float, float]]:
    """Parties and lone workers as units, with the county seats of their homes and the origin
    (lon, lat; a region season's: the mean of its origin seats). Workers on locked trips are
    left out; their coaches count against the fleet."""
    scenario = ctx.scenario
    known = {w.worker_id for w in scenario.workers}
    invalid = sorted(
        {
            p.worker_id
            for p in scenario.problems
            if p.table == "workers" and p.worker_id and p.worker_id not in known
        }
    )
    work.unserved.extend(
        Unserved(worker_id, UnservedReason.INVALID_ROW, _row_detail(scenario, worker_id))
        for worker_id in invalid
    )
    on_locked = {p.worker_id for trip in ctx.locked for p in trip.passengers}
    for trip in ctx.locked:
        work.fleet.used[(trip.departure_date, trip.vehicle_type)] += 1
    open_workers = [w for w in scenario.workers if w.worker_id not in on_locked]
    homes = {w.home_adcode for w in open_workers if w.home_adcode}
    origin_seat = county_seats([scenario.origin]).get(scenario.origin)
    # A region season is seen from the middle of its origin counties' seats (corridor bearings,
    # driving order), not from one of them at its edge.
    region = list(county_seats(scenario.origins).values())
    if len(scenario.origins) > 1 and region:
        origin_seat = Location(
            sum(p.lon for p in region) / len(region), sum(p.lat for p in region) / len(region)
        )
    seats = county_seats(homes)
    # A home no road or ferry links with the origin (Sansha's islands) is unserved as such
    # rather than stopping the plan when the travel matrix is built.
    main_seat = county_seats([scenario.origin]).get(scenario.origin)
    unreachable: set[str] = set()
    if main_seat is not None:
        unreachable = set(seats) - reachable_places(ctx.provider, main_seat, seats)
    seats = {code: seat for code, seat in seats.items() if code not in unreachable}
    largest = max((v.seats for v in work.fleet.types), default=0)
    units, unserved = build_units(scenario, open_workers, seats, max(largest, 1), unreachable)
    work.unserved.extend(unserved)
    if origin_seat is None:
        companies = scenario.companies
        lon = sum(c.lon for c in companies) / len(companies) if companies else 121.27
        lat = sum(c.lat for c in companies) / len(companies) if companies else 30.17
        origin = (lon, lat)
    else:
        origin = (origin_seat.lon, origin_seat.lat)
    if not work.fleet.types:
        work.drop(units, UnservedReason.NO_COACH_IN_WINDOW, "the fleet has no coaches")
        return [], seats, origin
    return units, seats, origin


def _row_detail(scenario: Scenario, worker_id: str) -> str:
    rows = [
        f"row {p.row} {p.column}: {p.reason}" for p in scenario.problems if p.worker_id == worker_id
    ]
    return "; ".join(rows)


def locate(
    ctx: Context,
    units: Sequence[Unit],
    seats: Mapping[str, Location],
    origin: tuple[float, float],
) -> Places:
    """Boarding and stop sites of the units and their travel matrix."""
    scenario = ctx.scenario
    companies = {c.company_id: c for c in scenario.companies}
    hub_of = nearest_hubs(
        companies.values(), scenario.hubs, ctx.policy.hub_radius_km, scenario.origin
    )
    seats_by_county: dict[str, int] = defaultdict(int)
    for unit in units:
        seats_by_county[unit.home] += unit.seats
    stop_of = stop_counties(seats_by_county, seats, ctx.policy.drop_radius_km)
    sites: dict[str, Site] = {}
    for unit in units:
        sites[unit.gate] = gate_site(companies[unit.company_id])
    hubs = {f"hub:{h.hub_id}": h for h in scenario.hubs}
    for key in set(hub_of.values()):
        sites[key] = hub_site(hubs[key])
    for county in set(stop_of.values()) | set(stop_of):
        sites[f"county:{county}"] = county_site(county, seats[county], county_name(county))
    return Places(seats, origin, hub_of, stop_of, Geometry(sites, ctx.provider, origin))


class Demand(Stage):
    """Departure dates: each unit's first choice, and other dates of its window (spilling)."""

    def place(self, units: list[Unit]) -> list[tuple[Unit, dt.date]]:
        """Each unit's departure date; units with none are unserved with their reason."""
        scenario = self.ctx.scenario
        # Dates with at least one coach; windows are cut to them.
        season = [
            scenario.first_departure + dt.timedelta(days=i)
            for i in range((scenario.last_departure - scenario.first_departure).days + 1)
        ]
        allowed = [d for d in season if self.work.fleet.largest(d) > 0]
        dates = self._choose_dates(units, allowed)
        placed: list[tuple[Unit, dt.date]] = []
        no_coach: list[Unit] = []
        too_far: list[Unit] = []
        for index, unit in enumerate(units):
            if index in self.work.spread_out:
                continue  # left out by the fleet spread, already unserved with its reason
            if index not in dates:
                no_coach.append(unit)
                continue
            if self.ctx.policy.max_trip_km is not None:
                far = f"county:{self.places.stop_of[unit.home]}"
                if self._direct_km(unit.gate, far) > self.ctx.policy.max_trip_km:
                    too_far.append(unit)
                    continue
            placed.append((unit, dates[index]))
        # Coaches exist on some date of the window but all are away or taken: fleet_exhausted.
        busy = [u for u in no_coach if self._fleet_busy_in(u.window, season)]
        idle = [u for u in no_coach if not self._fleet_busy_in(u.window, season)]
        self.work.drop(
            busy,
            UnservedReason.FLEET_EXHAUSTED,
            "every coach on every date in the window is away or taken",
        )
        self.work.drop(idle, UnservedReason.NO_COACH_IN_WINDOW, "no coach on any date in window")
        self.work.drop(
            too_far,
            UnservedReason.TOO_FAR,
            f"the direct trip exceeds max_trip_km = {self.ctx.policy.max_trip_km}",
        )
        return placed

    def _fleet_busy_in(self, window: tuple[dt.date, dt.date], season: Sequence[dt.date]) -> bool:
        """Whether some coach type exists on a date of `window` though none is free to depart."""
        return any(
            v.count > 0 and v.available_on(d)
            for d in season
            if window[0] <= d <= window[1]
            for v in self.work.fleet.types
        )

    def spill(self) -> list[tuple[Unit, dt.date]]:
        """Units that found no coach on their date, moved to another date of their window.

        Each goes to the date of its window, not tried before, with a coach large enough still
        free; among those, the date most of the spilled seats to the same stop county can take
        (so they pool again), then the nearest to the first choice. Units with no such date are
        dropped as fleet_exhausted.
        """
        spilled, self.work.spilled = self.work.spilled or [], []
        season = [
            self.ctx.scenario.first_departure + dt.timedelta(days=i)
            for i in range(
                (self.ctx.scenario.last_departure - self.ctx.scenario.first_departure).days + 1
            )
        ]
        options: list[list[dt.date]] = []
        for unit, day, _ in spilled:
            self.work.tried[id(unit)].add(day)
            options.append(
                [
                    d
                    for d in season
                    if unit.window[0] <= d <= unit.window[1]
                    and d not in self.work.tried[id(unit)]
                    and self.work.fleet.largest(d) >= unit.seats
                ]
            )
        demand: dict[tuple[str, dt.date], int] = defaultdict(int)
        for (unit, _, _), days in zip(spilled, options, strict=True):
            for d in days:
                demand[(self.places.stop_of[unit.home], d)] += unit.seats
        moved: list[tuple[Unit, dt.date]] = []
        for (unit, day, detail), days in zip(spilled, options, strict=True):
            if not days:
                self.work.drop([unit], UnservedReason.FLEET_EXHAUSTED, detail)
                continue
            stop = self.places.stop_of[unit.home]
            best = max(days, key=lambda d: (demand[(stop, d)], -abs((d - day).days)))
            moved.append((unit, best))
        return moved

    def _choose_dates(
        self, units: Sequence[Unit], allowed: Sequence[dt.date]
    ) -> dict[int, dt.date]:
        """Departure dates by the strategy that promises the fewest coaches: each county alone,
        counties of a province together, or the whole season together."""
        stops = set(self.places.stop_of.values())
        strategies: dict[str, dict[str, str] | None] = {
            "county": None,
            "province": {s: s[:2] for s in stops},
            "season": {s: "" for s in stops},
        }
        capacity = max((v.seats for v in self.work.fleet.types), default=1)
        # The strategies are independent parts; a unit travels without its worker ids (dates
        # need its seats, home, window and boarding point only), so the parts stay small.
        slim = tuple(dataclasses.replace(unit, worker_ids=()) for unit in units)
        provinces = {s: s[:2] for s in stops}
        boarding = BoardingPoint(dict(self.places.hub_of))
        parts = [
            (
                slim,
                dict(self.places.stop_of),
                tuple(allowed),
                corridor_of,
                boarding,
                provinces,
                capacity,
                self.ctx.far_limit,
            )
            for corridor_of in strategies.values()
        ]
        estimates = run_parts(self.ctx, date_strategy, parts)
        best: tuple[int, str, dict[int, dt.date]] | None = None
        for name, (estimate, dates) in zip(strategies, estimates, strict=True):
            if best is None or estimate < best[0]:
                best = (estimate, name, dates)
        assert best is not None
        self.work.notes.append(f"departure dates: {best[1]} strategy, about {best[0]} coaches")
        if self.ctx.availability is None or not best[2]:
            return best[2]
        found: list[patterns.PatternSpread] = []
        spread = spread_dates(
            units,
            best[2],
            self.places.stop_of,
            self.places.seats,
            allowed,
            self.ctx.availability,
            self.ctx.policy,
            self.ctx.home,
            self.ctx.far_limit,
            binding=self._pattern_spread(units, best[2], allowed, found),
        )
        if found and patterns.DEPARTURE_CAPS:
            # On top of the locked trips' coaches (already counted as used on their dates).
            for (day, vehicle_type), cap in found[0].departures.items():
                locked = self.work.fleet.used[(day, vehicle_type)]
                self.work.fleet.caps[(day, vehicle_type)] = cap + locked
        if found:
            placed = round(found[0].lp_seated)
            columns = found[0].columns
            kept = found[0].rounded_seats
            seconds = f"{found[0].seconds:.1f}"
            self.work.notes.append(
                f"fleet: route-pattern spread, {placed} seat(s) placed by its LP over {columns} "
                f"coach column(s), {kept} kept on whole units, {seconds} s"
            )
        if spread.uncertain:
            self.work.notes.append(UNCERTAIN_SPREAD_NOTE)
        if spread.binding:
            self.work.notes.append(
                f"fleet: departure dates spread over the coaches free, {spread.moved} seat(s) "
                f"moved to other dates of their windows, {len(spread.dropped)} unit(s) left out"
            )
        if spread.merged:
            self.work.notes.append(
                f"fleet: {spread.merged} county date(s) given up, their workers gathered onto "
                "another date of their county and window, so they share its stop"
            )
        self.work.spread_out = set(spread.dropped)
        self.work.tight = spread.full
        self.work.evening = spread.evening
        for index, detail in sorted(spread.dropped.items()):
            self.work.drop([units[index]], UnservedReason.FLEET_EXHAUSTED, detail)
        return spread.dates

    def _pattern_spread(
        self,
        units: Sequence[Unit],
        dates: Mapping[int, dt.date],
        allowed: Sequence[dt.date],
        found: list[patterns.PatternSpread],
    ) -> Callable[[], Spread | None] | None:
        """The route-pattern spread (`optimizer.patterns`) as `spread_dates`' binding hook,
        its result also put in `found`; None when switched off, when a stop may serve several
        counties, or without availability."""
        availability = self.ctx.availability
        stops = at_most_stops(self.ctx.scenario)
        if not patterns.ROUTE_PATTERN_SPREAD or stops is None or availability is None:
            return None

        def spread() -> Spread | None:
            budget = min(
                patterns.PATTERN_LP_SECONDS,
                patterns.PATTERN_LP_SHARE * self.ctx.scenario.solver.time_limit_s,
            )
            assert availability is not None
            started = time.monotonic()
            roads = patterns.road_times(self.ctx.scenario, self.ctx.provider)
            budget -= time.monotonic() - started
            result = patterns.pattern_spread(
                units,
                dates,
                self.places.stop_of,
                allowed,
                availability,
                self.ctx.policy,
                self.ctx.home,
                roads,
                stops,
                budget,
                boarding=BoardingPoint(dict(self.places.hub_of)),
                boarding_limit=self.ctx.near_limit,
            )
            if result is None:
                return None
            result = dataclasses.replace(result, seconds=time.monotonic() - started)
            found.append(result)
            return result.spread

        return spread


@dataclass(frozen=True)
class BoardingPoint:
    """Where a unit boards when pooled (`Stage.boarding` as a picklable value): its company's
    hub when near one, else its gate."""

    hub_of: Mapping[str, str]

    def __call__(self, unit: Unit) -> str:
        return self.hub_of.get(unit.company_id, unit.gate)


def date_strategy(
    units: Sequence[Unit],
    stop_of: Mapping[str, str],
    allowed: Sequence[dt.date],
    corridor_of: Mapping[str, str] | None,
    point_of: BoardingPoint,
    provinces: Mapping[str, str],
    capacity: int,
    stop_limit: int,
) -> tuple[int, dict[int, dt.date]]:
    """One departure-date strategy (a part): each unit's date and the coaches it promises."""
    dates = assign_dates(units, stop_of, allowed, corridor_of=corridor_of, point_of=point_of)
    return estimate_coaches(units, dates, stop_of, provinces, capacity, stop_limit), dates
