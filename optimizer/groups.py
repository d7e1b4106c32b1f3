"""Demand as the planner sees it: parties as atomic units, boarding points, stop sites, dates.

Workers are never solver nodes one by one: a party (or a lone worker) is a `Unit`, and units are
aggregated into groups that share a boarding point, a stop county and a departure date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from optimizer.dates import Window, choose_dates, clip_window
from optimizer.geography.distance import Location, great_circle_km
from optimizer.model import Company, Hub, Scenario, Unserved, UnservedReason, Worker


@dataclass(frozen=True)
class Site:
    """A place where a coach stops: a company gate, a hub, or a county seat (WGS-84)."""

    key: str
    lon: float
    lat: float
    company_id: str | None = None
    hub_id: str | None = None
    adcode: str | None = None
    name: str = ""

    @property
    def location(self) -> Location:
        """The site as a distance-provider location."""
        return Location(self.lon, self.lat, self.adcode)


def gate_site(company: Company) -> Site:
    """The boarding site at a company's gate."""
    return Site(
        f"company:{company.company_id}",
        company.lon,
        company.lat,
        company_id=company.company_id,
        name=company.name,
    )


def hub_site(hub: Hub) -> Site:
    """The boarding site at a hub."""
    return Site(f"hub:{hub.hub_id}", hub.lon, hub.lat, hub_id=hub.hub_id, name=hub.name)


def county_site(adcode: str, seat: Location, name: str = "") -> Site:
    """The stop at a county seat."""
    return Site(f"county:{adcode}", seat.lon, seat.lat, adcode=adcode, name=name or adcode)


@dataclass(frozen=True)
class Unit:
    """Workers who must ride together (a party, or one worker), placed as one.

    `gate` is the company's gate site key; `home` the home county adcode; `window` the allowed
    departure dates inside the season.
    """

    worker_ids: tuple[str, ...]
    seats: int
    company_id: str
    gate: str
    home: str
    window: Window
    party: str = ""


def build_units(
    scenario: Scenario,
    workers: Sequence[Worker],
    seats_known: Mapping[str, Location],
    largest_coach: int,
    unreachable: Collection[str] = (),
) -> tuple[list[Unit], list[Unserved]]:
    """Group `workers` into atomic units, and say why the others cannot be planned.

    `seats_known` holds the county seats the planner can reach; `unreachable` the counties
    whose seats are known but that no road or ferry links with the origin (`UNREACHABLE`);
    `largest_coach` is the seat count of the largest coach type (a party larger than that
    cannot ride together).
    """
    companies = {c.company_id: c for c in scenario.companies}
    unserved: list[Unserved] = []
    singles: list[Worker] = []
    parties: dict[str, list[Worker]] = defaultdict(list)
    for worker in workers:
        reason: UnservedReason | None = None
        detail = ""
        if worker.company_id not in companies:
            reason, detail = UnservedReason.UNKNOWN_COMPANY, f"company {worker.company_id!r}"
        elif worker.home_adcode is None:
            if worker.home_candidates:
                reason = UnservedReason.AMBIGUOUS_HOME
                detail = f"{worker.home!r} could be {', '.join(worker.home_candidates)}"
            else:
                reason = UnservedReason.UNKNOWN_HOME
                detail = f"{worker.home!r}: {worker.home_problem or 'matches no county'}"
        elif worker.home_adcode in unreachable:
            reason = UnservedReason.UNREACHABLE
            detail = f"no road or ferry reaches {worker.home_adcode} from the origin"
        elif worker.home_adcode not in seats_known:
            reason, detail = UnservedReason.UNKNOWN_HOME, f"no county seat for {worker.home_adcode}"
        elif (
            clip_window(
                (worker.earliest, worker.latest), scenario.first_departure, scenario.last_departure
            )
            is None
        ):
            reason = UnservedReason.NO_DATE_IN_WINDOW
            detail = (
                f"window {worker.earliest}..{worker.latest} misses the season "
                f"{scenario.first_departure}..{scenario.last_departure}"
            )
        if reason is not None:
            unserved.append(Unserved(worker.worker_id, reason, detail))
        elif worker.party:
            parties[worker.party].append(worker)
        else:
            singles.append(worker)

    units: list[Unit] = []
    for worker in singles:
        window = clip_window(
            (worker.earliest, worker.latest), scenario.first_departure, scenario.last_departure
        )
        assert window is not None and worker.home_adcode is not None
        units.append(_unit([worker], window, ""))
        if worker.seats > largest_coach:
            units.pop()
            unserved.append(
                Unserved(
                    worker.worker_id,
                    UnservedReason.PARTY_TOO_LARGE,
                    f"needs {worker.seats} seats, the largest coach has {largest_coach}",
                )
            )
    for party, members in sorted(parties.items()):
        start = max(m.earliest for m in members)
        end = min(m.latest for m in members)
        homes = {m.home_adcode for m in members}
        gates = {m.company_id for m in members}
        window = clip_window((start, end), scenario.first_departure, scenario.last_departure)
        problem = ""
        if len(homes) > 1:
            problem = f"party {party!r} members go to different counties {sorted(homes)}"  # type: ignore[type-var]
        elif len(gates) > 1:
            problem = f"party {party!r} members board at different companies {sorted(gates)}"
        elif window is None:
            problem = f"party {party!r} members' windows share no date in the season"
        if problem:
            unserved.extend(
                Unserved(m.worker_id, UnservedReason.PARTY_CONFLICT, problem) for m in members
            )
            continue
        assert window is not None
        seats = sum(m.seats for m in members)
        if seats > largest_coach:
            unserved.extend(
                Unserved(
                    m.worker_id,
                    UnservedReason.PARTY_TOO_LARGE,
                    f"party {party!r} needs {seats} seats, the largest coach has {largest_coach}",
                )
                for m in members
            )
            continue
        units.append(_unit(members, window, party))
    return units, unserved


def _unit(members: Sequence[Worker], window: Window, party: str) -> Unit:
    first = members[0]
    assert first.home_adcode is not None
    return Unit(
        worker_ids=tuple(m.worker_id for m in members),
        seats=sum(m.seats for m in members),
        company_id=first.company_id,
        gate=f"company:{first.company_id}",
        home=first.home_adcode,
        window=window,
        party=party,
    )


def nearest_hubs(
    companies: Iterable[Company], hubs: Sequence[Hub], radius_km: float, origin: str = ""
) -> dict[str, str]:
    """For each company that may board at a hub: the key of the nearest hub of its own origin
    county within `radius_km` (a blank county is `origin`, the season's main origin)."""
    result: dict[str, str] = {}
    if radius_km <= 0 or not hubs:
        return result
    for company in companies:
        if company.no_hub:
            continue
        county = company.county or origin
        own = [h for h in hubs if (h.county or origin) == county]
        if not own:
            continue
        best = min(own, key=lambda h: great_circle_km(company.lon, company.lat, h.lon, h.lat))
        if great_circle_km(company.lon, company.lat, best.lon, best.lat) <= radius_km:
            result[company.company_id] = f"hub:{best.hub_id}"
    return result


def stop_counties(
    seats_by_county: Mapping[str, int], seats: Mapping[str, Location], radius_km: float
) -> dict[str, str]:
    """The county whose seat each home county's workers alight at.

    With `radius_km` 0 every county is its own stop. Otherwise the busiest counties become stops
    first and a smaller county within `radius_km` (great-circle, seat to seat) of a stop joins
    the nearest one, so its workers take the last miles by local bus, as real programmes do.
    """
    result: dict[str, str] = {}
    if radius_km <= 0:
        return {county: county for county in seats_by_county}
    stops: list[str] = []
    for county in sorted(seats_by_county, key=lambda c: (-seats_by_county[c], c)):
        here = seats[county]
        near = [(great_circle_km(here.lon, here.lat, seats[s].lon, seats[s].lat), s) for s in stops]
        near = [pair for pair in near if pair[0] <= radius_km]
        if near:
            result[county] = min(near)[1]
        else:
            stops.append(county)
            result[county] = county
    return result


def assign_dates(
    units: Sequence[Unit],
    stop_of: Mapping[str, str],
    allowed: Iterable[dt.date],
    *,
    corridor_of: Mapping[str, str] | None = None,
    point_of: Callable[[Unit], str] | None = None,
) -> dict[int, dt.date]:
    """A departure date for each unit (by index), few per stop county.

    Per stop county, the fewest dates hitting every window (interval stabbing). Among the equally
    few choices, dates are placed first on the days of a minimum stabbing set of the county's
    whole corridor (`corridor_of` maps stop county to a corridor key; None: each county alone),
    then on the days most workers of the season can take, so that the remainders of different
    counties meet on the same day and pool. Units then take, among their county's dates, the
    corridor's days first, then the most popular one. `allowed` are the dates with a coach;
    windows are cut to them. With `point_of` (unit -> boarding point), a unit free to choose
    joins the date its boarding point already sends most seats to its county on, so each
    coach collects at fewer points.
    """
    allowed_set = set(allowed)
    popularity: dict[dt.date, int] = defaultdict(int)
    for unit in units:
        for day in _window_days(unit.window, allowed_set):
            popularity[day] += unit.seats
    by_stop: dict[str, list[int]] = defaultdict(list)
    for index, unit in enumerate(units):
        by_stop[stop_of[unit.home]].append(index)
    focus: dict[str, set[dt.date]] = {}
    if corridor_of is not None:
        by_corridor: dict[str, list[Window]] = defaultdict(list)
        for stop, indices in by_stop.items():
            for i in indices:
                window = _tight_window(units[i].window, allowed_set)
                if window is not None:
                    by_corridor[corridor_of[stop]].append(window)
        for corridor, windows in by_corridor.items():
            focus[corridor] = set(choose_dates(windows, preference=lambda d: popularity.get(d, 0)))
    result: dict[int, dt.date] = {}
    for stop, indices in by_stop.items():
        days_focus = focus.get(corridor_of[stop], set()) if corridor_of is not None else set()

        def preference(day: dt.date, days_focus: set[dt.date] = days_focus) -> float:
            return (day in days_focus) * 1e12 + popularity.get(day, 0)

        usable: list[tuple[int, Window]] = []
        for i in indices:
            tight = _tight_window(units[i].window, allowed_set)
            if tight is not None:
                usable.append((i, tight))
        if not usable:
            continue
        dates = choose_dates([w for _, w in usable], preference=preference)
        choices: list[tuple[int, list[dt.date]]] = []
        for index, window in usable:
            options = [d for d in dates if window[0] <= d <= window[1] and d in allowed_set]
            if not options:  # the stab hit a date without coaches: take the window's best day
                options = _window_days(window, allowed_set)
            choices.append((index, options))
        at_point: dict[tuple[str, dt.date], int] = defaultdict(int)
        # Units with one option first: the free ones then follow them.
        for index, options in sorted(choices, key=lambda item: (len(item[1]), item[0])):
            point = point_of(units[index]) if point_of is not None else ""
            day = max(options, key=lambda d: (at_point[(point, d)], preference(d), d))
            result[index] = day
            at_point[(point, day)] += units[index].seats
    return result


def estimate_coaches(
    units: Sequence[Unit],
    dates: Mapping[int, dt.date],
    stop_of: Mapping[str, str],
    corridor_of: Mapping[str, str],
    capacity: int,
    stop_limit: int,
) -> int:
    """A quick estimate of the coaches a date assignment needs: full coaches per (date, county),
    and per (date, corridor) the remainders packed by seats and by the stop limit."""
    seats: dict[tuple[dt.date, str], int] = defaultdict(int)
    for index, day in dates.items():
        seats[(day, stop_of[units[index].home])] += units[index].seats
    full = 0
    remainder_seats: dict[tuple[dt.date, str], int] = defaultdict(int)
    remainder_stops: dict[tuple[dt.date, str], int] = defaultdict(int)
    for (day, stop), total in seats.items():
        full += total // capacity
        if total % capacity:
            remainder_seats[(day, corridor_of[stop])] += total % capacity
            remainder_stops[(day, corridor_of[stop])] += 1
    pooled = sum(
        max(-(-remainder_seats[key] // capacity), -(-remainder_stops[key] // stop_limit))
        for key in remainder_seats
    )
    return full + pooled


def _window_days(window: Window, allowed: set[dt.date]) -> list[dt.date]:
    start, end = window
    return [
        start + dt.timedelta(days=i)
        for i in range((end - start).days + 1)
        if start + dt.timedelta(days=i) in allowed
    ]


def _tight_window(window: Window, allowed: set[dt.date]) -> Window | None:
    days = _window_days(window, allowed)
    return (days[0], days[-1]) if days else None


def consolidate_dates(
    units: Sequence[Unit],
    dates: Mapping[int, dt.date],
    stop_of: Mapping[str, str],
    allowed: Iterable[dt.date],
    cost: Mapping[str, Mapping[int, float]],
    load: Mapping[dt.date, float],
    capacity: Mapping[dt.date, float],
    coach_seats: int,
) -> tuple[dict[int, dt.date], int]:
    """`dates` with each stop county's units gathered onto fewer dates: (dates, dates saved).

    A short fleet pays per stop, not per seat: a county's 4 workers spread over 3 dates cost 3
    stops (3 thirds of a coach) where one date of their shared window costs one. Per stop
    county (fewest seats first), the units of one of its dates move, all together, to another
    date of the county that every one of their windows holds when the move saves a coach stop
    (ceil((a + b) / coach_seats) < ceil(a / coach_seats) + ceil(b / coach_seats)): the trips of
    that date keep their stop and gain riders, the other date's stop is gone, so the coaches
    the county keeps busy only fall. Failing that, two of its dates move together onto a new
    date in all their windows when the estimated load of every day stays within `capacity`
    (`cost[stop][k]`: coaches per seat on day d + k of a departure on d; `load`: the estimated
    coaches busy per day of `dates`). Units keep their windows; nobody is added or dropped."""
    allowed_set = set(allowed)
    result = dict(dates)
    busy = defaultdict(float, load)
    by_stop: dict[str, list[int]] = defaultdict(list)
    for index in sorted(result):
        by_stop[stop_of[units[index].home]].append(index)

    def stops(seats: int) -> int:
        return -(-seats // max(1, coach_seats))

    def fits(stop: str, moves: Sequence[tuple[int, dt.date]]) -> bool:
        delta: dict[dt.date, float] = defaultdict(float)
        for index, day in moves:
            seats = units[index].seats
            for k, w in cost.get(stop, {}).items():
                delta[result[index] + dt.timedelta(days=k)] -= seats * w
                delta[day + dt.timedelta(days=k)] += seats * w
        return all(
            busy[t] + change <= capacity.get(t, 0.0) + 1e-9
            for t, change in delta.items()
            if change > 1e-9
        )

    def apply(stop: str, moves: Sequence[tuple[int, dt.date]]) -> None:
        for index, day in moves:
            seats = units[index].seats
            for k, w in cost.get(stop, {}).items():
                busy[result[index] + dt.timedelta(days=k)] -= seats * w
                busy[day + dt.timedelta(days=k)] += seats * w
            result[index] = day

    def common(indices: Sequence[int]) -> list[dt.date]:
        start = max(units[i].window[0] for i in indices)
        end = min(units[i].window[1] for i in indices)
        return sorted(d for d in allowed_set if start <= d <= end)

    saved = 0
    for stop in sorted(by_stop):
        merged = True
        while merged:
            merged = False
            on: dict[dt.date, list[int]] = defaultdict(list)
            for index in by_stop[stop]:
                on[result[index]].append(index)
            if len(on) < 2:
                break
            seats = {d: sum(units[i].seats for i in members) for d, members in on.items()}
            order = sorted(on, key=lambda d: (seats[d], d))
            for day in order:
                shared = set(common(on[day]))
                targets = [
                    d
                    for d in sorted(on, key=lambda d: (-seats[d], d))
                    if d != day
                    and d in shared
                    and stops(seats[d] + seats[day]) < stops(seats[d]) + stops(seats[day])
                ]
                if targets:
                    apply(stop, [(i, targets[0]) for i in on[day]])
                    saved += 1
                    merged = True
                    break
                for other in order:
                    if other == day:
                        continue
                    both = [*on[day], *on[other]]
                    if stops(seats[day] + seats[other]) >= stops(seats[day]) + stops(seats[other]):
                        continue
                    options = [d for d in common(both) if d not in on]
                    options.sort(key=lambda d: (min(abs((d - day).days), abs((d - other).days)), d))
                    choice = next((d for d in options if fits(stop, [(i, d) for i in both])), None)
                    if choice is not None:
                        apply(stop, [(i, choice) for i in both])
                        saved += 1
                        merged = True
                        break
                if merged:
                    break
    return result, saved
