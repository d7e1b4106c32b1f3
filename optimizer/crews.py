"""Coaches and crews: the rules an operator's assignment to a trip must keep (pure, no I/O).

An assignment (`Crew`) names the physical coach (plate, type, approved seats), its operator, the
drivers and the coach captain or escort. It is refused, with one `CrewProblem` per fault, when:

- fewer drivers than the trip's timetable needs (`Trip.drivers`: two above 400 km or at night,
  see docs/timetable-rules.md), or more than the policy allows;
- the coach has fewer approved seats than the trip's passengers take, or than the coach type
  the trip was planned for when the type differs (a larger coach is fine, a smaller one is not);
- a plate is not a mainland plate, a licence number is not an 18-character licence (a mainland
  driving licence number is its holder's ID number), a phone is not a mainland mobile;
- the same plate, or the same driver, is on two trips whose times overlap;
- the coach's operator may not drive the trip under the charter-sign rule (optimizer/charter.py:
  neither end of the route lies where the operator is registered), when a rule is given.

Problems carry a stable `code` and the values a message needs; the service words them through
its message catalogue.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from optimizer.charter import SignRule, sign_breach
from optimizer.identity import id_number_problem, normalize_phone, phone_problem
from optimizer.model import Crew, Driver, Trip

# Province abbreviation, issuing-office letter, then 5 characters (6 for new-energy plates).
_PLATE = re.compile(
    r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-HJ-NP-Z0-9]{5,6}$"
)
UNASSIGNED = "未分配"


@dataclass(frozen=True)
class CrewProblem:
    """One fault of an assignment: the field (e.g. `drivers[1].phone`), the value, a stable
    code and the values its message names."""

    trip_id: str
    field: str
    value: str
    code: str
    values: Mapping[str, object] = dataclasses.field(default_factory=dict)


def normalize_plate(plate: str) -> str:
    """A plate without spaces, dots or dashes, upper case: "浙B·12345" -> "浙B12345"."""
    return re.sub(r"[\s·.\-]", "", plate).upper()


def normalize_crew(crew: Crew) -> Crew:
    """The crew with plate, licences and phones in their canonical form."""
    return dataclasses.replace(
        crew,
        plate=normalize_plate(crew.plate),
        coach_type=crew.coach_type.strip(),
        operator=crew.operator.strip(),
        drivers=tuple(
            Driver(
                name=d.name.strip(),
                licence=d.licence.strip().upper(),
                phone=normalize_phone(d.phone),
            )
            for d in crew.drivers
        ),
        escort_name=crew.escort_name.strip(),
        escort_phone=normalize_phone(crew.escort_phone) if crew.escort_phone.strip() else "",
    )


def crew_problems(
    trip: Trip,
    crew: Crew,
    *,
    type_seats: Mapping[str, int] | None = None,
    max_drivers: int = 3,
    sign: SignRule | None = None,
) -> list[CrewProblem]:
    """Everything wrong with assigning `crew` to `trip` on its own (overlaps: `overlaps`).

    `type_seats` maps the season's coach types to their seats, to check a coach of another type
    than planned; `sign` is the season's charter-sign rule for `trip` (`charter.sign_rule`), to
    check the crew's operator (None: not checked); `crew` should be normalised first
    (`normalize_crew`).
    """
    problems: list[CrewProblem] = []

    def add(where: str, value: object, code: str, **values: object) -> None:
        problems.append(CrewProblem(trip.trip_id, where, str(value), code, values))

    if not _PLATE.match(crew.plate):
        add("plate", crew.plate, "crew_plate_invalid")
    if not crew.operator:
        add("operator", crew.operator, "crew_operator_required")
    elif sign is not None:
        breach = sign_breach(dataclasses.replace(trip, crew=crew), sign)
        if breach is not None:
            add(
                "operator",
                crew.operator,
                "crew_charter_sign",
                trip=breach.trip_id,
                start=breach.start,
                end=breach.end,
                operator=breach.operator,
            )
    if len(crew.drivers) < trip.drivers:
        add(
            "drivers", len(crew.drivers), "crew_short", needed=trip.drivers, given=len(crew.drivers)
        )
    if len(crew.drivers) > max_drivers:
        add("drivers", len(crew.drivers), "crew_too_many", limit=max_drivers)
    if crew.coach_seats < trip.seats_used:
        add(
            "coach_seats",
            crew.coach_seats,
            "crew_coach_too_small",
            seats=crew.coach_seats,
            needed=trip.seats_used,
        )
    elif crew.coach_type != trip.vehicle_type and crew.coach_seats < trip.seats:
        add(
            "coach_type",
            crew.coach_type,
            "crew_coach_type_smaller",
            planned=trip.vehicle_type,
            seats=trip.seats,
        )
    listed = (type_seats or {}).get(crew.coach_type)
    if listed is not None and listed != crew.coach_seats:
        add(
            "coach_seats",
            crew.coach_seats,
            "crew_seats_differ_from_type",
            coach_type=crew.coach_type,
            seats=listed,
        )
    seen: set[str] = set()
    for index, driver in enumerate(crew.drivers):
        where = f"drivers[{index + 1}]"
        if not driver.name:
            add(f"{where}.name", "", "crew_name_required")
        if id_number_problem(driver.licence) is not None:
            add(f"{where}.licence", driver.licence, "crew_licence_invalid")
        elif driver.licence in seen:
            add(f"{where}.licence", driver.licence, "crew_driver_twice")
        seen.add(driver.licence)
        if phone_problem(driver.phone) is not None:
            add(f"{where}.phone", driver.phone, "crew_phone_invalid")
    if not crew.escort_name:
        add("escort_name", "", "crew_escort_required")
    if phone_problem(crew.escort_phone) is not None:
        add("escort_phone", crew.escort_phone, "crew_phone_invalid")
    return problems


def overlaps(assigned: Iterable[tuple[Trip, Crew]]) -> list[CrewProblem]:
    """A plate or a driver (by licence) on two trips whose times overlap, one problem per pair
    (reported on the later trip). Trips touching end to start do not overlap."""
    by_plate: dict[str, list[Trip]] = defaultdict(list)
    by_driver: dict[str, list[Trip]] = defaultdict(list)
    for trip, crew in assigned:
        by_plate[crew.plate].append(trip)
        for driver in crew.drivers:
            by_driver[driver.licence].append(trip)
    problems: list[CrewProblem] = []
    for key, trips, code, where in [
        *((k, v, "crew_plate_double_booked", "plate") for k, v in by_plate.items()),
        *((k, v, "crew_driver_double_booked", "drivers") for k, v in by_driver.items()),
    ]:
        for earlier, later in _overlapping(trips):
            problems.append(
                CrewProblem(later.trip_id, where, key, code, {"other_trip": earlier.trip_id})
            )
    return problems


def _overlapping(trips: Sequence[Trip]) -> list[tuple[Trip, Trip]]:
    ordered = sorted(trips, key=lambda t: (t.departure, t.trip_id))
    pairs = []
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if second.departure >= first.arrival:
                break
            pairs.append((first, second))
    return pairs


def sign_data(trip: Trip, *, stops: Sequence[str], fleet_operator: str = "") -> dict[str, str]:
    """The charter sign (包车客运标志牌) of `trip`: origin, destination, main stops, plate,
    operator and validity. `stops` are the names of the trip's gates and drop-offs in order;
    `fleet_operator` the operator the fleet lists for the trip's coach type (used until a crew
    is assigned). Unassigned fields read 未分配, never a blank that looks filled."""
    served = list(dict.fromkeys(stops))
    crew = trip.crew
    return {
        "origin": served[0] if served else "",
        "destination": served[-1] if served else "",
        "main_stops": "、".join(served[1:-1]) if len(served) > 2 else "无",
        "plate": crew.plate if crew else UNASSIGNED,
        "operator": crew.operator if crew else (fleet_operator or UNASSIGNED),
        "validity": f"{trip.departure:%Y-%m-%d} 至 {trip.arrival:%Y-%m-%d}",
    }
