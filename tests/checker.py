"""An independent plan checker, run on every solver test.

It re-implements every rule from the Policy values and the plan's own stop times; it deliberately
imports nothing from optimizer.timetable (nor the planner), so a bug in the rule engine is caught
here rather than copied. docs/timetable-rules.md states how each rule is read; keep both in step.

Driving time is read from the plan alone: a leg's driving is `next.arrive - previous.depart`,
because every rest, the 02:00-05:00 park included, is an explicit stop.

Entry points: `check_plan(scenario, plan)` for a whole plan; `check_trip_timetable(trip, policy)`
and `check_trip_geometry(trip, policy)` for one trip's timetable and kilometres.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from optimizer.geography.distance import DistanceProvider, Location
from optimizer.model import (
    Duty,
    Plan,
    Policy,
    Scenario,
    Stop,
    Trip,
    UnservedReason,
    Worker,
)

EARTH_RADIUS_KM = 6371.0088
# Tolerances: road km may not undercut the great circle by more than this (rounding of coordinates
# and metres), and stop-time sums may drift by rounding to whole seconds/minutes.
GREAT_CIRCLE_TOLERANCE = 0.005
GREAT_CIRCLE_SLACK_KM = 0.1
KM_SUM_SLACK_KM = 0.1
SPEED_SLACK = 0.01
SPEED_SLACK_S = 60
PLACE_SLACK_KM = 0.5
# A duty may start or end with a trip (no empty drive) when the trip's first or last stop lies in
# the depot's own area: empty drives inside one county are timed as none (optimizer.duties).
DEPOT_AREA_KM = 30.0
# 道路旅客运输及客运站管理规定 (包车客运): a single charter run (单个运次) lasts at most 15 days.
CHARTER_RUN_MAX = dt.timedelta(days=15)
# Municipalities are their own prefecture-level city: every district and county shares it.
MUNICIPALITY_PREFIXES = frozenset({"11", "12", "31", "50"})
DATA_REASONS = {
    UnservedReason.INVALID_ROW,
    UnservedReason.UNKNOWN_HOME,
    UnservedReason.AMBIGUOUS_HOME,
    UnservedReason.UNKNOWN_COMPANY,
}
GEOGRAPHY_DATA = Path(__file__).resolve().parents[1] / "optimizer" / "geography" / "data"
COUNTIES_CSV = GEOGRAPHY_DATA / "counties.csv"


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle km (own implementation, so the checker shares no code with the engine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@functools.cache
def shipped_county_seats() -> dict[str, tuple[float, float]]:
    """adcode -> (lon, lat) of the county seat, from the shipped gazetteer."""
    if not COUNTIES_CSV.exists():
        return {}
    with COUNTIES_CSV.open(encoding="utf-8") as handle:
        return {
            row["adcode"]: (float(row["lon"]), float(row["lat"]))
            for row in csv.DictReader(handle)
            if row["lon"] and row["lat"]
        }


def _csv_rows(name: str) -> list[dict[str, str]]:
    path = GEOGRAPHY_DATA / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def place_names() -> dict[str, list[frozenset[str]]]:
    """Every spelling of a county, prefecture or province (full name, short name, code) -> the
    county sets it may mean, read from the shipped county, prefecture and province tables."""
    table: dict[str, list[frozenset[str]]] = defaultdict(list)

    def add(names: Iterable[str], counties: Iterable[str]) -> None:
        meaning = frozenset(counties)
        for name in names:
            if name and meaning and meaning not in table[name]:
                table[name].append(meaning)

    counties = _csv_rows("counties.csv")
    by_prefecture: dict[str, set[str]] = defaultdict(set)
    by_province: dict[str, set[str]] = defaultdict(set)
    for row in counties:
        by_prefecture[row["prefecture_adcode"]].add(row["adcode"])
        by_province[row["province_adcode"]].add(row["adcode"])
    for row in _csv_rows("provinces.csv"):
        add((row["name"], row["short_name"], row["adcode"]), by_province[row["adcode"]])
    for row in _csv_rows("prefectures.csv"):
        add((row["name"], row["short_name"], row["adcode"]), by_prefecture[row["adcode"]])
    for row in counties:
        add((row["name"], row["short_name"], row["adcode"]), (row["adcode"],))
    return dict(table)


def registered_counties(registered: str) -> set[str] | None:
    """The counties a fleet row's `registered` value names: county, prefecture or province
    names or codes, several separated by commas; None when a part names no place or more than
    one (the planner refuses such a fleet)."""
    counties: set[str] = set()
    for part in registered.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        meanings = place_names().get(part, [])
        if len(meanings) != 1:
            return None
        counties |= meanings[0]
    return counties or None


def prefecture_counties(county: str) -> set[str]:
    """The counties of the prefecture-level city holding `county`, by GB/T 2260 code: the same
    first four digits; a municipality's first two; a county under the province (xx90xx) alone."""
    if county[2:4] == "90":
        return {county}
    prefix = county[:2] if county[:2] in MUNICIPALITY_PREFIXES else county[:4]
    return {c for c in shipped_county_seats() if c.startswith(prefix)} | {county}


# -- clock windows -------------------------------------------------------------------------------


def window_overlap_s(start: dt.datetime, end: dt.datetime, from_hour: int, to_hour: int) -> float:
    """Seconds of [start, end) that fall in the daily window [from_hour, to_hour) (wrapping past
    midnight when from_hour > to_hour; empty when equal)."""
    if end <= start or from_hour == to_hour:
        return 0.0
    total = 0.0
    day = start.date() - dt.timedelta(days=1)
    while day <= end.date():
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=start.tzinfo)
        opens = midnight + dt.timedelta(hours=from_hour)
        closes = midnight + dt.timedelta(hours=to_hour)
        if to_hour < from_hour:
            closes += dt.timedelta(days=1)
        overlap = (min(end, closes) - max(start, opens)).total_seconds()
        total += max(0.0, overlap)
        day += dt.timedelta(days=1)
    return total


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def _legs(trip: Trip) -> Iterator[tuple[int, dt.datetime, dt.datetime]]:
    """(index of the stop driven to, leave previous stop, reach this stop)."""
    for index in range(1, len(trip.stops)):
        yield index, trip.stops[index - 1].depart, trip.stops[index].arrive


# -- one trip: timetable -------------------------------------------------------------------------


def check_trip_timetable(trip: Trip, policy: Policy) -> list[str]:
    """Timetable rules of one trip, from its stop times and `drivers` alone."""
    name = f"trip {trip.trip_id}"
    errors: list[str] = []
    if not trip.stops:
        return [f"{name}: has no stops"]
    for index, stop in enumerate(trip.stops):
        if stop.depart < stop.arrive:
            errors.append(
                f"{name} stop {index}: departs {stop.depart} before it arrives {stop.arrive}"
            )
        if index and stop.arrive < trip.stops[index - 1].depart:
            errors.append(f"{name} stop {index}: arrives before stop {index - 1} departs")
        if (
            stop.kind == "rest"
            and (stop.depart - stop.arrive).total_seconds() < policy.min_rest_minutes * 60
        ):
            errors.append(
                f"{name} stop {index}: rest of "
                f"{_minutes((stop.depart - stop.arrive).total_seconds())} is shorter than "
                f"the minimum rest {policy.min_rest_minutes} min"
            )
    if errors:
        return errors  # the rules below assume ordered times

    min_rest_s = policy.min_rest_minutes * 60
    # No driving in the park window.
    for index, leave, reach in _legs(trip):
        parked = window_overlap_s(leave, reach, policy.park_start_hour, policy.park_end_hour)
        if parked > 0:
            errors.append(
                f"{name} leg to stop {index}: drives {_minutes(parked)} between "
                f"{policy.park_start_hour:02d}:00 and {policy.park_end_hour:02d}:00 (must park)"
            )

    # Continuous driving: a stretch runs from one rest (a stop of at least min_rest) to the next.
    stretch_s = 0.0
    stretch_night = False
    stretch_from = 0
    for index, leave, reach in _legs(trip):
        driving = (reach - leave).total_seconds()
        stretch_s += driving
        if window_overlap_s(leave, reach, policy.night_start_hour, policy.night_end_hour) > 0:
            stretch_night = True
        stop = trip.stops[index]
        is_rest = (stop.depart - stop.arrive).total_seconds() >= min_rest_s
        if is_rest or index == len(trip.stops) - 1:
            limit = (
                policy.night_max_continuous_driving_minutes
                if stretch_night
                else policy.day_max_continuous_driving_minutes
            )
            if stretch_s > limit * 60:
                kind = "night" if stretch_night else "day"
                errors.append(
                    f"{name}: continuous driving {_minutes(stretch_s)} from stop {stretch_from} to "
                    f"stop {index} exceeds the {kind} limit {limit} min without a "
                    f"{policy.min_rest_minutes} min rest"
                )
            stretch_s, stretch_night, stretch_from = 0.0, False, index

    # Crew: the rule minimum and the hours. Without driver assignments in the plan, the check is on
    # the crew's total: in any window, driving <= drivers x per-driver limit (exact for 1 driver).
    if trip.drivers < 1:
        errors.append(f"{name}: has {trip.drivers} drivers")
        return errors
    if trip.drivers > policy.max_drivers:
        errors.append(f"{name}: {trip.drivers} drivers exceed max_drivers {policy.max_drivers}")
    km = sum(stop.km_from_previous for stop in trip.stops)
    if max(km, trip.distance_km) > policy.two_driver_km and trip.drivers < 2:
        errors.append(
            f"{name}: {max(km, trip.distance_km):.0f} km is above {policy.two_driver_km:.0f} km "
            f"and needs 2 drivers, has {trip.drivers}"
        )
    intervals = [(leave, reach) for _, leave, reach in _legs(trip) if reach > leave]
    for window, per_driver, label in (
        (dt.timedelta(hours=24), policy.max_driving_per_driver_24h_minutes, "24 h"),
        (dt.timedelta(days=7), policy.max_driving_per_driver_7d_minutes, "7 days"),
    ):
        allowed_s = trip.drivers * per_driver * 60
        for start, _ in intervals:
            end = start + window
            driven = sum(
                max(0.0, (min(b, end) - max(a, start)).total_seconds()) for a, b in intervals
            )
            if driven > allowed_s:
                errors.append(
                    f"{name}: {_minutes(driven)} of driving in the {label} from {start} exceeds "
                    f"{trip.drivers} driver(s) x {per_driver} min"
                )
                break
    total_driving = sum((b - a).total_seconds() for a, b in intervals)
    if trip.driving_minutes and abs(trip.driving_minutes - total_driving / 60) > 1:
        errors.append(
            f"{name}: driving_minutes {trip.driving_minutes} but its stop times drive "
            f"{_minutes(total_driving)}"
        )
    return errors


# -- one trip: kilometres ------------------------------------------------------------------------


def check_trip_geometry(trip: Trip, policy: Policy) -> list[str]:
    """Kilometres of one trip: not below the great circle, summing to the trip's distance, and
    not faster than the speed limit (80 % of it at night)."""
    name = f"trip {trip.trip_id}"
    errors: list[str] = []
    if not trip.stops:
        return errors
    if trip.stops[0].km_from_previous != 0:
        errors.append(
            f"{name} stop 0: km_from_previous must be 0, is {trip.stops[0].km_from_previous}"
        )
    for index, leave, reach in _legs(trip):
        before, stop = trip.stops[index - 1], trip.stops[index]
        km = stop.km_from_previous
        if km < 0:
            errors.append(f"{name} stop {index}: negative km_from_previous {km}")
            continue
        straight = haversine_km(before.lon, before.lat, stop.lon, stop.lat)
        if km < straight * (1 - GREAT_CIRCLE_TOLERANCE) - GREAT_CIRCLE_SLACK_KM:
            errors.append(
                f"{name} stop {index}: {km:.1f} road km from stop {index - 1} is less than the "
                f"great-circle {straight:.1f} km"
            )
        driving_s = max(0.0, (reach - leave).total_seconds())
        night_s = window_overlap_s(leave, reach, policy.night_start_hour, policy.night_end_hour)
        reachable_km = (
            policy.max_speed_kmh
            * ((driving_s - night_s) + night_s * policy.night_speed_factor + SPEED_SLACK_S)
            / 3600
            * (1 + SPEED_SLACK)
        )
        if km > reachable_km:
            errors.append(
                f"{name} stop {index}: {km:.1f} km in {_minutes(driving_s)} "
                f"({_minutes(night_s)} at night) is faster than {policy.max_speed_kmh:.0f} km/h "
                f"by day and {policy.max_speed_kmh * policy.night_speed_factor:.0f} km/h at night"
            )
    km_sum = sum(stop.km_from_previous for stop in trip.stops)
    if abs(km_sum - trip.distance_km) > KM_SUM_SLACK_KM + 0.001 * km_sum:
        errors.append(
            f"{name}: distance_km {trip.distance_km:.1f} but its stops add up to {km_sum:.1f}"
        )
    if policy.max_trip_km is not None and trip.distance_km > policy.max_trip_km:
        errors.append(
            f"{name}: {trip.distance_km:.0f} km exceeds max_trip_km {policy.max_trip_km:.0f}"
        )
    return errors


# -- the whole plan ------------------------------------------------------------------------------


def _near(lon1: float, lat1: float, lon2: float, lat2: float, km: float) -> bool:
    return haversine_km(lon1, lat1, lon2, lat2) <= km + PLACE_SLACK_KM


class _PlanChecker:
    def __init__(
        self,
        scenario: Scenario,
        plan: Plan,
        provider: DistanceProvider | None,
        county_seat: Callable[[str], tuple[float, float] | None],
    ) -> None:
        self.scenario = scenario
        self.plan = plan
        self.policy = scenario.policy
        self.provider = provider
        self.county_seat = county_seat
        self.workers = {w.worker_id: w for w in scenario.workers}
        self.companies = {c.company_id: c for c in scenario.companies}
        self.hubs = {h.hub_id: h for h in scenario.hubs}
        self.fleet = {v.vehicle_type: v for v in scenario.fleet}
        self.errors: list[str] = []

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def run(self) -> list[str]:
        self.check_accounting()
        ids = Counter(trip.trip_id for trip in self.plan.trips)
        for trip_id, count in sorted(ids.items()):
            if count > 1:
                self.fail(f"trip {trip_id}: trip_id used {count} times")
        for trip in self.plan.trips:
            self.errors.extend(check_trip_timetable(trip, self.policy))
            self.errors.extend(check_trip_geometry(trip, self.policy))
            self.check_trip(trip)
            if self.provider is not None:
                self.check_detour(trip)
        self.check_fleet()
        self.check_coaches()
        self.check_parties()
        self.check_kpis()
        return self.errors

    # every worker exactly once
    def check_accounting(self) -> None:
        seen: Counter[str] = Counter()
        for trip in self.plan.trips:
            for passenger in trip.passengers:
                seen[passenger.worker_id] += 1
        for unserved in self.plan.unserved:
            seen[unserved.worker_id] += 1
            if not isinstance(unserved.reason, UnservedReason):
                try:
                    UnservedReason(unserved.reason)
                except ValueError:
                    self.fail(
                        f"worker {unserved.worker_id}: unknown unserved reason {unserved.reason!r}"
                    )
            if (
                unserved.worker_id not in self.workers
                and unserved.reason != UnservedReason.INVALID_ROW
            ):
                self.fail(f"worker {unserved.worker_id}: unserved but not in the scenario")
        for worker_id in self.workers:
            if seen[worker_id] == 0:
                self.fail(f"worker {worker_id}: neither seated nor unserved")
        for worker_id, count in sorted(seen.items()):
            if count > 1:
                self.fail(f"worker {worker_id}: appears {count} times (seated or unserved)")

    def check_trip(self, trip: Trip) -> None:
        name = f"trip {trip.trip_id}"
        policy = self.policy
        stops = trip.stops
        if not stops:
            return
        pickups = sum(1 for s in stops if s.kind == "pickup")
        dropoffs = sum(1 for s in stops if s.kind == "dropoff")
        if trip.arrival - trip.departure > CHARTER_RUN_MAX:
            self.fail(
                f"{name}: runs from {trip.departure} to {trip.arrival}, longer than "
                f"one charter run may ({CHARTER_RUN_MAX.days} days)"
            )
        if pickups > policy.max_pickup_stops:
            self.fail(
                f"{name}: {pickups} pickup stops exceed max_pickup_stops {policy.max_pickup_stops}"
            )
        if dropoffs > policy.max_dropoff_stops:
            self.fail(
                f"{name}: {dropoffs} drop-off stops exceed max_dropoff_stops "
                f"{policy.max_dropoff_stops}"
            )
        if trip.departure.date() != trip.departure_date:
            self.fail(
                f"{name}: departs {trip.departure} but departure_date is {trip.departure_date}"
            )
        earliest = dt.time(policy.earliest_departure_hour)
        latest = dt.time(policy.latest_departure_hour)
        if not earliest <= trip.departure.time() <= latest:
            self.fail(
                f"{name}: departs at {trip.departure.time()}, outside "
                f"{earliest:%H:%M}-{latest:%H:%M}"
            )
        if not self.scenario.first_departure <= trip.departure_date <= self.scenario.last_departure:
            self.fail(f"{name}: departure date {trip.departure_date} is outside the season")

        boards: dict[int, set[str]] = defaultdict(set)
        alights: dict[int, set[str]] = defaultdict(set)
        occupied: list[tuple[int, int, str]] = []
        for passenger in trip.passengers:
            who = f"{name} worker {passenger.worker_id}"
            if not (
                0 <= passenger.board_stop < len(stops) and 0 <= passenger.alight_stop < len(stops)
            ):
                self.fail(f"{who}: board/alight stop index out of range")
                continue
            if passenger.board_stop >= passenger.alight_stop:
                self.fail(
                    f"{who}: alights (stop {passenger.alight_stop}) before boarding "
                    f"(stop {passenger.board_stop})"
                )
            boards[passenger.board_stop].add(passenger.worker_id)
            alights[passenger.alight_stop].add(passenger.worker_id)
            if passenger.seat_count < 1:
                self.fail(f"{who}: seat_count {passenger.seat_count}")
            first, last = passenger.seat, passenger.seat + passenger.seat_count - 1
            if first < 1 or last > trip.seats:
                self.fail(f"{who}: seats {first}-{last} outside 1-{trip.seats}")
            occupied.append((first, last, passenger.worker_id))
            worker = self.workers.get(passenger.worker_id)
            if worker is None:
                self.fail(f"{who}: not a worker of the scenario")
                continue
            if passenger.seat_count != worker.seats:
                self.fail(f"{who}: takes {passenger.seat_count} seats, registered {worker.seats}")
            if passenger.company_id != worker.company_id:
                self.fail(f"{who}: company {passenger.company_id}, registered {worker.company_id}")
            if not worker.earliest <= trip.departure_date <= worker.latest:
                self.fail(
                    f"{who}: departs {trip.departure_date}, outside the window "
                    f"{worker.earliest}-{worker.latest}"
                )
            self.check_places(trip, passenger.board_stop, passenger.alight_stop, worker, who)

        occupied.sort()
        for (_, last, who), (first, _, other) in itertools.pairwise(occupied):
            if first <= last:
                self.fail(f"{name}: workers {who} and {other} share seat {first}")

        load = 0
        for index, stop in enumerate(stops):
            if stop.kind != "rest" and not stop.board and not stop.alight:
                self.fail(f"{name} stop {index}: a {stop.kind} stop where nobody boards or alights")
            if set(stop.board) != boards.get(index, set()):
                self.fail(
                    f"{name} stop {index}: board list {sorted(stop.board)} does not match "
                    f"its passengers {sorted(boards.get(index, set()))}"
                )
            if set(stop.alight) != alights.get(index, set()):
                self.fail(
                    f"{name} stop {index}: alight list {sorted(stop.alight)} does not match "
                    f"its passengers {sorted(alights.get(index, set()))}"
                )
            for passenger in trip.passengers:
                if passenger.alight_stop == index:
                    load -= passenger.seat_count
                if passenger.board_stop == index:
                    load += passenger.seat_count
            if load > trip.seats:
                self.fail(f"{name} stop {index}: {load} seats taken on a {trip.seats}-seat coach")

    def _at_gate_or_hub(self, index: int, trip: Trip, worker: Worker) -> str | None:
        stop = trip.stops[index]
        company = self.companies.get(worker.company_id)
        if company is None:
            return f"company {worker.company_id} unknown"
        if stop.hub_id is None:
            if stop.company_id != worker.company_id:
                return f"stop {index} is the gate of {stop.company_id}, not {worker.company_id}"
            if not _near(stop.lon, stop.lat, company.lon, company.lat, 0):
                return f"stop {index} is not at the gate of {company.company_id}"
            return None
        hub = self.hubs.get(stop.hub_id)
        if hub is None:
            return f"stop {index} is at unknown hub {stop.hub_id}"
        if company.no_hub:
            return f"stop {index} is hub {hub.hub_id} but {company.company_id} opted out of hubs"
        # Many origins: a company boards only at hubs of its own origin county (blank: the
        # season's main origin).
        hub_county = hub.county or self.scenario.origin
        company_county = company.county or self.scenario.origin
        if hub_county != company_county:
            return (
                f"stop {index}: hub {hub.hub_id} lies in origin county {hub_county}, "
                f"{company.company_id} in {company_county}"
            )
        if self.policy.hub_radius_km <= 0 or not _near(
            company.lon, company.lat, hub.lon, hub.lat, self.policy.hub_radius_km
        ):
            return (
                f"stop {index}: hub {hub.hub_id} is beyond hub_radius_km "
                f"{self.policy.hub_radius_km} of the gate"
            )
        if not _near(stop.lon, stop.lat, hub.lon, hub.lat, 0):
            return f"stop {index} is not at hub {hub.hub_id}"
        return None

    def _in_home_county(self, index: int, trip: Trip, worker: Worker) -> str | None:
        stop = trip.stops[index]
        if worker.home_adcode is None:
            return "has no resolved home county"
        if stop.adcode == worker.home_adcode:
            return None
        radius = self.policy.drop_radius_km
        seat = self.county_seat(worker.home_adcode)
        if radius > 0 and seat is not None and _near(stop.lon, stop.lat, seat[0], seat[1], radius):
            return None
        return f"stop {index} ({stop.adcode}) is not in home county {worker.home_adcode}" + (
            f" nor within drop_radius_km {radius} of its seat" if radius > 0 else ""
        )

    def check_places(self, trip: Trip, board: int, alight: int, worker: Worker, who: str) -> None:
        stops = trip.stops
        if stops[board].kind != "pickup":
            self.fail(f"{who}: boards at stop {board} of kind {stops[board].kind}")
        if stops[alight].kind != "dropoff":
            self.fail(f"{who}: alights at stop {alight} of kind {stops[alight].kind}")
        if self.scenario.direction == "home":
            problems = [
                self._at_gate_or_hub(board, trip, worker),
                self._in_home_county(alight, trip, worker),
            ]
        else:
            problems = [
                self._in_home_county(board, trip, worker),
                self._at_gate_or_hub(alight, trip, worker),
            ]
        for problem in problems:
            if problem:
                self.fail(f"{who}: {problem}")

    def check_detour(self, trip: Trip) -> None:
        """Ride time on day-speed road time: the legs between service stops the passenger rides
        plus dwell at intermediate service stops, against the direct road time x detour_ratio +
        grace. Rests and night pace are excluded: a direct coach would need them too."""
        assert self.provider is not None
        service = [i for i, stop in enumerate(trip.stops) if stop.kind != "rest"]
        if len(service) < 2:
            return
        locations = [
            Location(trip.stops[i].lon, trip.stops[i].lat, trip.stops[i].adcode) for i in service
        ]
        duration = self.provider.matrix(locations).duration_s
        position = {stop_index: k for k, stop_index in enumerate(service)}
        policy = self.policy
        for passenger in trip.passengers:
            if passenger.board_stop not in position or passenger.alight_stop not in position:
                continue
            a, b = position[passenger.board_stop], position[passenger.alight_stop]
            if a >= b:
                continue
            ride = float(sum(int(duration[k, k + 1]) for k in range(a, b)))
            ride += sum(
                (trip.stops[service[k]].depart - trip.stops[service[k]].arrive).total_seconds()
                for k in range(a + 1, b)
            )
            direct = int(duration[a, b])
            allowed = direct * policy.detour_ratio + policy.detour_grace_minutes * 60
            if ride > allowed + 1:
                self.fail(
                    f"trip {trip.trip_id} worker {passenger.worker_id}: ride {_minutes(ride)} "
                    f"exceeds direct {_minutes(direct)} x {policy.detour_ratio} + "
                    f"{policy.detour_grace_minutes} min"
                )

    def check_fleet(self) -> None:
        used: Counter[tuple[str, dt.date]] = Counter()
        for trip in self.plan.trips:
            vehicle = self.fleet.get(trip.vehicle_type)
            if vehicle is None:
                self.fail(
                    f"trip {trip.trip_id}: vehicle type {trip.vehicle_type} is not in the fleet"
                )
                continue
            if trip.seats != vehicle.seats:
                self.fail(
                    f"trip {trip.trip_id}: {trip.seats} seats but a {trip.vehicle_type} "
                    f"has {vehicle.seats}"
                )
            if not vehicle.available_on(trip.departure_date):
                self.fail(
                    f"trip {trip.trip_id}: {trip.vehicle_type} not available on "
                    f"{trip.departure_date}"
                )
            used[(trip.vehicle_type, trip.departure_date)] += 1
        for (vehicle_type, day), count in sorted(used.items()):
            if count > self.fleet[vehicle_type].count:
                self.fail(
                    f"{count} {vehicle_type} trips on {day}, fleet has "
                    f"{self.fleet[vehicle_type].count}"
                )

    def check_coaches(self) -> None:
        """Coach availability, from the plan's duties (when it has them): every trip on exactly
        one physical coach of its own type, a coach never on two things at once and standing
        its turnaround (or crew rest after a long drive, unless a fresh crew takes it at a gate
        or hub: `fresh_crew_at_origin`) between trips, and no type with more coaches in use than
        the fleet has. Since a duty is one coach, the coaches away at any instant never exceed
        the fleet. Without duties, the charter sign still holds for each
        trip's own coach type."""
        trips = {t.trip_id: t for t in self.plan.trips}
        if not self.plan.coaches:
            for trip in self.plan.trips:
                self.check_charter_sign("a coach", trip.vehicle_type, [trip.trip_id], trips)
            return
        on: Counter[str] = Counter()
        per_type: Counter[str] = Counter()
        for duty in self.plan.coaches:
            per_type[duty.vehicle_type] += 1
            for before, after in itertools.pairwise(duty.legs):
                if after.start < before.end:
                    self.fail(f"coach {duty.coach_id}: a leg starts before the previous ends")
            mine = [trips[t] for t in duty.trip_ids if t in trips]
            for trip in mine:
                on[trip.trip_id] += 1
                if trip.vehicle_type != duty.vehicle_type:
                    self.fail(
                        f"coach {duty.coach_id} ({duty.vehicle_type}) drives trip "
                        f"{trip.trip_id} of type {trip.vehicle_type}"
                    )
            for first, second in itertools.pairwise(mine):
                rest = self.policy.turnaround_minutes
                fresh = self.policy.fresh_crew_at_origin and self.at_origin(first.stops[-1])
                if (
                    first.driving_minutes > self.policy.crew_rest_after_driving_minutes
                    and not fresh
                ):
                    rest = max(rest, self.policy.crew_rest_minutes)
                if second.departure < first.arrival + dt.timedelta(minutes=rest):
                    self.fail(
                        f"coach {duty.coach_id}: trip {second.trip_id} leaves "
                        f"{second.departure} before the coach is back and rested from "
                        f"{first.trip_id} ({first.arrival} + {rest} min)"
                    )
        for trip_id in trips:
            if on[trip_id] != 1:
                self.fail(f"trip {trip_id}: on {on[trip_id]} coaches, not one")
        for duty in self.plan.coaches:
            self.check_depot(duty)
            self.check_charter_sign(
                f"coach {duty.coach_id}", duty.vehicle_type, duty.trip_ids, trips
            )
        for vehicle_type, count in sorted(per_type.items()):
            fleet = self.fleet.get(vehicle_type)
            if fleet is not None and count > fleet.count:
                self.fail(f"{count} {vehicle_type} coaches in use, the fleet has {fleet.count}")

    def at_origin(self, stop: Stop) -> bool:
        """Whether `stop` lies at a company gate or hub of the scenario (by its coordinates, not
        by the ids the plan gives it): where a fresh crew may take a coach
        (`Policy.fresh_crew_at_origin`); anywhere else the crew stays and rests."""
        places = [(c.lon, c.lat) for c in self.companies.values()]
        places += [(h.lon, h.lat) for h in self.hubs.values()]
        return any(haversine_km(stop.lon, stop.lat, *p) <= PLACE_SLACK_KM for p in places)

    def _registration(self, vehicle_type: str) -> set[str] | None:
        """The counties where the coach type's operator is registered (docs/timetable-rules.md,
        charter sign): the `registered` place of any of its operator's rows (a county, or a
        prefecture or province standing for its counties, by name or code: `registered_counties`),
        else the prefecture-level city (设区的市) of the origin county whose seat lies nearest its
        depot, else of the season's main origin. Read from the shipped geography tables, not
        from optimizer.charter or optimizer.region."""
        spec = self.fleet.get(vehicle_type)
        if spec is None:
            return None
        rows = [v for v in self.fleet.values() if v.operator == spec.operator] or [spec]
        named = next((v.registered for v in rows if v.registered), "")
        if named:
            counties = registered_counties(named)
            unknown = (
                f"{spec.operator or vehicle_type}: registered at {named!r}, which names no "
                "single county, prefecture or province"
            )
            if counties is None and unknown not in self.errors:
                self.fail(unknown)
            return counties
        depot = self._depot(vehicle_type)
        seats = {o: self.county_seat(o) for o in self.scenario.origins}
        located = {o: s for o, s in seats.items() if s is not None}
        if depot is None or not located:
            return prefecture_counties(self.scenario.origin)
        return prefecture_counties(min(located, key=lambda o: haversine_km(*depot, *located[o])))

    def _end_county(self, stop: Stop) -> str | None:
        if stop.hub_id is not None and stop.hub_id in self.hubs:
            return self.hubs[stop.hub_id].county or self.scenario.origin
        if stop.company_id is not None and stop.company_id in self.companies:
            return self.companies[stop.company_id].county or self.scenario.origin
        return stop.adcode

    def check_charter_sign(
        self, coach: str, vehicle_type: str, trip_ids: Iterable[str], trips: Mapping[str, Trip]
    ) -> None:
        """The charter sign: one end of each trip the coach drives (its first or last service
        stop) lies in the coach operator's registration place."""
        place = self._registration(vehicle_type)
        if place is None:
            return
        for trip_id in trip_ids:
            trip = trips.get(trip_id)
            service = [s for s in trip.stops if s.kind != "rest"] if trip else []
            if not service:
                continue
            ends = {self._end_county(service[0]), self._end_county(service[-1])}
            if not ends & place:
                self.fail(
                    f"{coach} ({vehicle_type}) drives trip {trip_id} from "
                    f"{self._end_county(service[0])} to {self._end_county(service[-1])}: neither "
                    f"end lies in its operator's registration place {sorted(place)}"
                )

    def _depot(self, vehicle_type: str) -> tuple[float, float] | None:
        """The coach type's depot: its own, else (a region season) its operator's, one depot
        per operator, else the seat of the season's main origin."""
        spec = self.fleet.get(vehicle_type)
        if spec is None:
            return None
        candidates = [spec]
        if len(self.scenario.origins) > 1 and spec.operator:
            candidates += [v for v in self.fleet.values() if v.operator == spec.operator]
        for vehicle in candidates:
            if vehicle.depot_lon is not None and vehicle.depot_lat is not None:
                return (vehicle.depot_lon, vehicle.depot_lat)
        return self.county_seat(self.scenario.origin)

    def check_depot(self, duty: Duty) -> None:
        """A coach leaves from and returns to its operator's depot: an empty drive starts at the
        depot (or the first trip starts in the depot's own area) and the last leg ends there;
        the duty's empty km are the sum of its empty drives."""
        depot = self._depot(duty.vehicle_type)
        if depot is None or not duty.legs:
            return
        first, last = duty.legs[0], duty.legs[-1]
        for label, lon, lat, kind in (
            ("starts", first.from_lon, first.from_lat, first.kind),
            ("ends", last.to_lon, last.to_lat, last.kind),
        ):
            reach = PLACE_SLACK_KM if kind == "deadhead" else DEPOT_AREA_KM
            if not _near(lon, lat, depot[0], depot[1], reach):
                self.fail(
                    f"coach {duty.coach_id} ({duty.vehicle_type}) {label} "
                    f"{haversine_km(lon, lat, *depot):.1f} km from its depot"
                )
        empty = sum(leg.distance_km for leg in duty.legs if leg.kind == "deadhead")
        if abs(empty - duty.deadhead_km) > KM_SUM_SLACK_KM:
            self.fail(
                f"coach {duty.coach_id}: empty km {duty.deadhead_km} but its empty drives sum "
                f"to {empty:.1f}"
            )

    def check_parties(self) -> None:
        trip_of = {p.worker_id: t.trip_id for t in self.plan.trips for p in t.passengers}
        reason_of = {u.worker_id: u.reason for u in self.plan.unserved}
        parties: dict[str, list[Worker]] = defaultdict(list)
        for worker in self.scenario.workers:
            if worker.party:
                parties[worker.party].append(worker)
        for party, members in sorted(parties.items()):
            trips = {trip_of[m.worker_id] for m in members if m.worker_id in trip_of}
            if len(trips) > 1:
                self.fail(f"party {party}: split over trips {sorted(trips)}")
            if trips:
                left = [
                    m.worker_id
                    for m in members
                    if m.worker_id not in trip_of and reason_of.get(m.worker_id) not in DATA_REASONS
                ]
                if left:
                    self.fail(
                        f"party {party}: {sorted(left)} left behind while the rest ride "
                        f"{sorted(trips)[0]}"
                    )

    def check_kpis(self) -> None:
        kpis = self.plan.kpis
        trips = self.plan.trips
        seated = sum(len(t.passengers) for t in trips)
        expect = {
            "trips": len(trips),
            "seated": seated,
            "unserved": len(self.plan.unserved),
            "seats_offered": sum(t.seats for t in trips),
        }
        for field_name, value in expect.items():
            if getattr(kpis, field_name) != value:
                self.fail(
                    f"kpis.{field_name} is {getattr(kpis, field_name)}, the trips say {value}"
                )
        if kpis.workers != kpis.seated + kpis.unserved:
            self.fail(
                f"kpis.workers {kpis.workers} is not seated + unserved "
                f"{kpis.seated + kpis.unserved}"
            )
        coach_km = sum(t.distance_km for t in trips)
        if abs(kpis.coach_km - coach_km) > 1 + 0.001 * coach_km:
            self.fail(f"kpis.coach_km is {kpis.coach_km:.1f}, the trips say {coach_km:.1f}")
        if kpis.unserved == 0 and kpis.lower_bound_trips > kpis.trips:
            self.fail(
                f"kpis: {kpis.trips} trips below the claimed lower bound {kpis.lower_bound_trips}"
            )


def check_plan(
    scenario: Scenario,
    plan: Plan,
    *,
    provider: DistanceProvider | None = None,
    county_seats: Mapping[str, tuple[float, float]] | None = None,
) -> list[str]:
    """Every rule a plan must obey; [] when valid. Each message names the trip, stop or worker and
    the rule. With `provider`, also each passenger's detour; `county_seats` (adcode -> lon, lat,
    default: the shipped gazetteer) places home counties for `drop_radius_km`."""

    def county_seat(adcode: str) -> tuple[float, float] | None:
        seats = county_seats if county_seats is not None else shipped_county_seats()
        return seats.get(adcode)

    return _PlanChecker(scenario, plan, provider, county_seat).run()


def assert_valid_plan(
    scenario: Scenario, plan: Plan, *, provider: DistanceProvider | None = None
) -> None:
    """Fail the test with every violation listed."""
    errors = check_plan(scenario, plan, provider=provider)
    assert not errors, "plan violates rules:\n" + "\n".join(errors[:50])
