"""Coaches and crews: the pure rules of an assignment (optimizer/crews.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from optimizer.charter import SignRule
from optimizer.crews import crew_problems, normalize_crew, overlaps, sign_data
from optimizer.identity import id_check_char
from optimizer.model import Crew, Driver, Passenger, Stop, Trip

CIXI, YUYAO = "330282", "330281"


def licence(serial: int) -> str:
    first17 = f"33028219800101{serial:03d}"
    return first17 + id_check_char(first17)


def trip(trip_id: str, start_hour: int, hours: int, *, drivers: int = 2, seated: int = 40) -> Trip:
    depart = dt.datetime(2026, 2, 8, start_hour)
    arrive = depart + dt.timedelta(hours=hours)
    stops = (
        Stop("pickup", 121.2, 30.2, depart, depart, name="桥头镇"),
        Stop("rest", 118.0, 30.0, arrive, arrive, name="休息"),
        Stop("dropoff", 115.3, 33.1, arrive, arrive, adcode="341221", name="临泉县汽车站"),
    )
    passengers = tuple(Passenger(f"w{i}", "C1", i + 1, 0, 2) for i in range(seated))
    return Trip(trip_id, "C53", 53, drivers, depart.date(), stops, passengers)


def crew(plate: str = "浙B12345", drivers: int = 2, seats: int = 53, first: int = 1) -> Crew:
    return normalize_crew(
        Crew(
            plate=plate,
            coach_type="C53",
            coach_seats=seats,
            operator="宁波客运",
            drivers=tuple(
                Driver(f"司机{n}", licence(first + n), f"1390000{first + n:04d}")
                for n in range(drivers)
            ),
            escort_name="车长",
            escort_phone="13800000000",
        )
    )


def codes(problems: list) -> list[str]:  # type: ignore[type-arg]
    return [p.code for p in problems]


def test_a_complete_crew_is_accepted() -> None:
    assert crew_problems(trip("T1", 8, 10), crew()) == []


def test_a_crew_short_of_the_timetable_is_refused() -> None:
    """A two-driver trip with one driver is refused, naming both numbers."""
    [problem] = crew_problems(trip("T1", 8, 10, drivers=2), crew(drivers=1))
    assert problem.code == "crew_short" and problem.values == {"needed": 2, "given": 1}


def test_a_coach_too_small_or_a_smaller_type_is_refused() -> None:
    assert codes(crew_problems(trip("T1", 8, 10, seated=40), crew(seats=35))) == [
        "crew_coach_too_small"
    ]
    smaller = dataclasses.replace(crew(seats=45), coach_type="C45")
    assert codes(crew_problems(trip("T1", 8, 10, seated=40), smaller)) == [
        "crew_coach_type_smaller"
    ]
    larger = dataclasses.replace(crew(seats=57), coach_type="C57")
    assert crew_problems(trip("T1", 8, 10), larger, type_seats={"C57": 57}) == []


def test_bad_plate_licence_and_phone_are_named_by_field() -> None:
    bad = dataclasses.replace(
        crew(),
        plate="AB12345",
        drivers=(Driver("甲", "123", "12345"), Driver("", licence(9), "13900000001")),
        escort_phone="",
    )
    found = {(p.field, p.code) for p in crew_problems(trip("T1", 8, 10), bad)}
    assert found == {
        ("plate", "crew_plate_invalid"),
        ("drivers[1].licence", "crew_licence_invalid"),
        ("drivers[1].phone", "crew_phone_invalid"),
        ("drivers[2].name", "crew_name_required"),
        ("escort_phone", "crew_phone_invalid"),
    }


def test_plates_are_normalised() -> None:
    assert crew(plate="浙b·123 45").plate == "浙B12345"


def test_a_plate_or_driver_on_two_overlapping_trips_is_refused() -> None:
    """The same plate on trips 08-18 and 12-20 clash; on 08-18 and 18-23 they do not."""
    first, clash, after = trip("T1", 8, 10), trip("T2", 12, 8), trip("T3", 18, 5)
    problems = overlaps([(first, crew()), (clash, crew(first=1))])
    assert {(p.trip_id, p.code) for p in problems} == {
        ("T2", "crew_plate_double_booked"),
        ("T2", "crew_driver_double_booked"),
    }
    assert overlaps([(first, crew()), (after, crew())]) == []
    assert overlaps([(first, crew()), (clash, crew(plate="浙B54321", first=10))]) == []


def test_the_charter_sign_says_unassigned_until_assigned() -> None:
    unassigned = sign_data(trip("T1", 8, 10), stops=["桥头镇", "临泉县汽车站"])
    assert unassigned["plate"] == "未分配" and unassigned["operator"] == "未分配"
    assigned = sign_data(
        dataclasses.replace(trip("T1", 8, 10), crew=crew()), stops=["桥头镇", "临泉县汽车站"]
    )
    assert assigned["plate"] == "浙B12345" and assigned["operator"] == "宁波客运"
    assert assigned["origin"] == "桥头镇" and assigned["destination"] == "临泉县汽车站"


def test_a_coach_of_an_operator_registered_at_neither_end_is_refused() -> None:
    """Charter sign: a coach of an operator registered in 余姚 may not drive 慈溪 -> 临泉; the
    problem names the trip, both counties and the operator. An operator registered at one end
    may, and one the fleet does not list is held to the season's default place."""
    rule = SignRule(
        ends={"T1": (CIXI, "341221")},
        operators={"余姚公运": frozenset({YUYAO}), "宁波客运": frozenset({CIXI, YUYAO})},
        unlisted=frozenset({CIXI}),
    )
    yuyao = dataclasses.replace(crew(), operator="余姚公运")
    [problem] = crew_problems(trip("T1", 8, 10), yuyao, sign=rule)
    assert (problem.field, problem.value, problem.code) == (
        "operator",
        "余姚公运",
        "crew_charter_sign",
    )
    assert problem.values == {
        "trip": "T1",
        "start": "慈溪市",
        "end": "临泉县",
        "operator": "余姚公运",
    }
    assert crew_problems(trip("T1", 8, 10), crew(), sign=rule) == []
    unlisted = dataclasses.replace(crew(), operator="别处客运")
    assert crew_problems(trip("T1", 8, 10), unlisted, sign=rule) == []
    elsewhere = dataclasses.replace(rule, unlisted=frozenset({YUYAO}))
    assert codes(crew_problems(trip("T1", 8, 10), unlisted, sign=elsewhere)) == [
        "crew_charter_sign"
    ]
    assert crew_problems(trip("T1", 8, 10), yuyao) == []  # no rule given: not checked
