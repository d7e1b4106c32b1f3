"""The independent plan checker catches hand-made violations of every rule it claims to check."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import (
    Company,
    Hub,
    Kpis,
    Passenger,
    Plan,
    Policy,
    Scenario,
    Stop,
    Trip,
    Unserved,
    UnservedReason,
    VehicleType,
    Worker,
)
from tests.checker import (
    check_plan,
    check_trip_geometry,
    check_trip_timetable,
    haversine_km,
    window_overlap_s,
)

C1 = (121.262218, 30.172704)  # a gate in Cixi
C2 = (121.30, 30.20)
HUB = (121.28, 30.18)
YUYAO = (121.150163, 30.039421)  # 330281 county seat
YINZHOU = (121.542429, 29.819082)  # 330212 county seat
DAY = dt.date(2019, 1, 25)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def road_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return round(haversine_km(*a, *b) * 1.3, 3)


def worker(worker_id: str, company: str, home: str, party: str = "", seats: int = 1) -> Worker:
    return Worker(
        worker_id=worker_id,
        company_id=company,
        name=worker_id,
        id_number="",
        phone="",
        home=home,
        earliest=dt.date(2019, 1, 24),
        latest=dt.date(2019, 1, 26),
        party=party,
        seats=seats,
        home_adcode=home or None,
    )


SCENARIO = Scenario(
    name="tiny",
    direction="home",
    origin="330282",
    festival_date=dt.date(2019, 2, 5),
    first_departure=dt.date(2019, 1, 20),
    last_departure=dt.date(2019, 2, 4),
    companies=(Company("c1", "One", *C1), Company("c2", "Two", *C2)),
    workers=(
        worker("w1", "c1", "330281"),
        worker("w2", "c1", "330281", party="f1"),
        worker("w3", "c1", "330281", party="f1", seats=2),
        worker("w4", "c2", "330212"),
        worker("w5", "c2", ""),
    ),
    fleet=(VehicleType("53", 53, 2, 8.0, 1000.0), VehicleType("5", 5, 1, 3.0, 100.0)),
    hubs=(Hub("h1", "Town station", *HUB),),
)


def valid_trip() -> Trip:
    stops = (
        Stop("pickup", *C1, at(7, 40), at(8), 0.0, company_id="c1", board=("w1", "w2", "w3")),
        Stop("pickup", *C2, at(8, 10), at(8, 30), road_km(C1, C2), company_id="c2", board=("w4",)),
        Stop(
            "dropoff",
            *YUYAO,
            at(9, 10),
            at(9, 20),
            road_km(C2, YUYAO),
            adcode="330281",
            alight=("w1", "w2", "w3"),
        ),
        Stop(
            "dropoff",
            *YINZHOU,
            at(10, 20),
            at(10, 30),
            road_km(YUYAO, YINZHOU),
            adcode="330212",
            alight=("w4",),
        ),
    )
    passengers = (
        Passenger("w1", "c1", 1, 0, 2),
        Passenger("w2", "c1", 2, 0, 2, party="f1"),
        Passenger("w3", "c1", 3, 0, 2, seat_count=2, party="f1"),
        Passenger("w4", "c2", 5, 1, 3),
    )
    return Trip(
        trip_id="t1",
        vehicle_type="53",
        seats=53,
        drivers=1,
        departure_date=DAY,
        stops=stops,
        passengers=passengers,
        distance_km=sum(s.km_from_previous for s in stops),
        driving_minutes=110,
    )


def make_plan(*trips: Trip, unserved: tuple[Unserved, ...] | None = None) -> Plan:
    if unserved is None:
        unserved = (Unserved("w5", UnservedReason.UNKNOWN_HOME),)
    seated = sum(len(t.passengers) for t in trips)
    offered = sum(t.seats for t in trips)
    return Plan(
        scenario="tiny",
        direction="home",
        trips=trips,
        unserved=unserved,
        kpis=Kpis(
            workers=seated + len(unserved),
            seated=seated,
            unserved=len(unserved),
            trips=len(trips),
            seats_offered=offered,
            seat_utilization=sum(t.seats_used for t in trips) / offered if offered else 0.0,
            coach_km=sum(t.distance_km for t in trips),
            passenger_km=0.0,
            cost=0.0,
            lower_bound_trips=1 if trips else 0,
            lower_bound_coach_km=0.0,
            solve_seconds=0.0,
        ),
    )


def replace_stop(trip: Trip, index: int, **changes: object) -> Trip:
    stops = list(trip.stops)
    stops[index] = dataclasses.replace(stops[index], **changes)
    return dataclasses.replace(trip, stops=tuple(stops))


def replace_passenger(trip: Trip, worker_id: str, **changes: object) -> Trip:
    passengers = tuple(
        dataclasses.replace(p, **changes) if p.worker_id == worker_id else p
        for p in trip.passengers
    )
    return dataclasses.replace(trip, passengers=passengers)


def assert_caught(errors: list[str], *fragments: str) -> None:
    assert errors, "the checker found nothing"
    joined = "\n".join(errors)
    for fragment in fragments:
        assert fragment in joined, f"{fragment!r} not in:\n{joined}"


def test_valid_plan_passes() -> None:
    """The hand-made plan obeys every rule, with and without the detour check."""
    plan = make_plan(valid_trip())
    assert check_plan(SCENARIO, plan) == []
    assert check_plan(SCENARIO, plan, provider=GreatCircleProvider()) == []


def test_empty_plan_with_everyone_unserved_passes() -> None:
    """No trips and every worker unserved with a reason is a valid (if sad) plan."""
    unserved = tuple(
        Unserved(w.worker_id, UnservedReason.FLEET_EXHAUSTED) for w in SCENARIO.workers
    )
    assert check_plan(SCENARIO, make_plan(unserved=unserved)) == []


# -- accounting ---------------------------------------------------------------------------------


def test_worker_missing_from_the_plan() -> None:
    """A worker neither seated nor unserved is reported."""
    assert_caught(check_plan(SCENARIO, make_plan(valid_trip(), unserved=())), "w5: neither seated")


def test_worker_listed_twice() -> None:
    """Seated and unserved at once is reported."""
    unserved = (Unserved("w5", UnservedReason.UNKNOWN_HOME), Unserved("w1", UnservedReason.TOO_FAR))
    assert_caught(check_plan(SCENARIO, make_plan(valid_trip(), unserved=unserved)), "w1: appears 2")


def test_unserved_reason_outside_the_vocabulary() -> None:
    """Reasons come from UnservedReason only."""
    unserved = (Unserved("w5", "no idea"),)  # type: ignore[arg-type]
    assert_caught(
        check_plan(SCENARIO, make_plan(valid_trip(), unserved=unserved)), "unknown unserved reason"
    )


def test_stranger_on_board() -> None:
    """Nobody outside the scenario rides."""
    trip = valid_trip()
    trip = dataclasses.replace(trip, passengers=(*trip.passengers, Passenger("x9", "c1", 9, 0, 2)))
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "x9: not a worker", "board list")


# -- seats --------------------------------------------------------------------------------------


def test_seats_exceeded() -> None:
    """5 seats taken on a 5-seat coach is fine; on a smaller one it is caught at the stop."""
    trip = dataclasses.replace(valid_trip(), vehicle_type="5", seats=4)
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "5 seats taken on a 4-seat coach")


def test_shared_seat() -> None:
    """Two passengers on one seat (w3 takes 3 and 4, w4 moved onto 4)."""
    trip = replace_passenger(valid_trip(), "w4", seat=4)
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "share seat 4")


def test_seat_beyond_capacity() -> None:
    """Seat numbers run from 1 to the coach's seats."""
    trip = replace_passenger(valid_trip(), "w4", seat=54)
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "seats 54-54 outside 1-53")


def test_child_seat_not_counted() -> None:
    """A worker registered with 2 seats must take 2."""
    trip = replace_passenger(valid_trip(), "w3", seat_count=1)
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "takes 1 seats, registered 2")


# -- places -------------------------------------------------------------------------------------


def test_boarding_at_another_company_gate() -> None:
    """w4 (company c2) may not board at c1's gate."""
    trip = replace_passenger(valid_trip(), "w4", board_stop=0)
    trip = replace_stop(trip, 0, board=("w1", "w2", "w3", "w4"))
    trip = replace_stop(trip, 1, board=())
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "gate of c1, not c2")


def hub_trip() -> Trip:
    trip = replace_stop(valid_trip(), 1, lon=HUB[0], lat=HUB[1], company_id=None, hub_id="h1")
    return replace_stop(trip, 2, km_from_previous=road_km(HUB, YUYAO))


def test_hub_boarding_needs_the_radius_policy() -> None:
    """A hub is allowed only within hub_radius_km of the gate, and not for no_hub companies."""
    trip = hub_trip()
    trip = dataclasses.replace(trip, distance_km=sum(s.km_from_previous for s in trip.stops))
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "beyond hub_radius_km")
    near = SCENARIO.replace(policy=Policy(hub_radius_km=5))
    assert check_plan(near, make_plan(trip)) == []
    companies = (SCENARIO.companies[0], dataclasses.replace(SCENARIO.companies[1], no_hub=True))
    opted_out = near.replace(companies=companies)
    assert_caught(check_plan(opted_out, make_plan(trip)), "opted out of hubs")


def test_alighting_outside_the_home_county() -> None:
    """w4 (home 鄞州) may not alight in 余姚 unless drop_radius_km reaches 鄞州's seat."""
    trip = replace_passenger(valid_trip(), "w4", alight_stop=2)
    trip = replace_stop(trip, 2, alight=("w1", "w2", "w3", "w4"))
    trip = dataclasses.replace(trip, stops=trip.stops[:3])
    trip = dataclasses.replace(trip, distance_km=sum(s.km_from_previous for s in trip.stops))
    trip = dataclasses.replace(trip, driving_minutes=50)
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "not in home county 330212")
    wide = SCENARIO.replace(policy=Policy(drop_radius_km=50))
    assert check_plan(wide, make_plan(trip)) == []
    narrow = SCENARIO.replace(policy=Policy(drop_radius_km=20))
    assert_caught(check_plan(narrow, make_plan(trip)), "nor within drop_radius_km 20")


def test_return_direction_mirrors_places() -> None:
    """In the return direction the home county is where one boards; the plan above fails."""
    back = SCENARIO.replace(direction="return")
    assert_caught(check_plan(back, make_plan(valid_trip())), "not in home county")


def test_alight_before_boarding_and_wrong_stop_kind() -> None:
    """Pickups come before drop-offs for each passenger, at stops of the right kind."""
    trip = replace_passenger(valid_trip(), "w1", board_stop=2, alight_stop=0)
    errors = check_plan(SCENARIO, make_plan(trip))
    assert_caught(
        errors, "w1: alights (stop 0) before boarding (stop 2)", "boards at stop 2 of kind dropoff"
    )


# -- dates, parties, limits ---------------------------------------------------------------------


def test_departure_outside_window_and_season() -> None:
    """The date must be in each worker's window and in the season."""
    late = dt.date(2019, 2, 6)
    shift = dt.timedelta(days=12)
    stops = tuple(
        dataclasses.replace(s, arrive=s.arrive + shift, depart=s.depart + shift)
        for s in valid_trip().stops
    )
    trip = dataclasses.replace(valid_trip(), departure_date=late, stops=stops)
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "outside the window", "outside the season")


def test_departure_date_must_match_the_first_stop() -> None:
    """departure_date is the date the coach leaves."""
    trip = dataclasses.replace(valid_trip(), departure_date=dt.date(2019, 1, 24))
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "but departure_date is 2019-01-24")


def test_a_trip_longer_than_one_charter_run() -> None:
    """A charter run (单个运次) lasts at most 15 days: a last stop 16 days after the first is
    caught (with the other rules the stretched times break), 14 days is not."""

    def stretched(days: int) -> list[str]:
        stops = list(valid_trip().stops)
        last = stops[-1]
        later = dt.timedelta(days=days)
        stops[-1] = dataclasses.replace(
            last, arrive=last.arrive + later, depart=last.depart + later
        )
        return check_plan(
            SCENARIO, make_plan(dataclasses.replace(valid_trip(), stops=tuple(stops)))
        )

    assert_caught(stretched(16), "trip t1: runs from", "longer than one charter run may (15 days)")
    assert not any("charter run" in e for e in stretched(14))


def test_departure_hour_outside_policy() -> None:
    """Departures before earliest_departure_hour are caught."""
    policy = Policy(earliest_departure_hour=9)
    assert_caught(
        check_plan(SCENARIO.replace(policy=policy), make_plan(valid_trip())), "outside 09:00-22:00"
    )


def test_party_left_behind_or_split() -> None:
    """Party members ride together: not one unserved, not on two trips."""
    trip = valid_trip()
    without_w3 = dataclasses.replace(trip, passengers=trip.passengers[:2] + trip.passengers[3:])
    without_w3 = replace_stop(without_w3, 0, board=("w1", "w2"))
    without_w3 = replace_stop(without_w3, 2, alight=("w1", "w2"))
    unserved = (
        Unserved("w5", UnservedReason.UNKNOWN_HOME),
        Unserved("w3", UnservedReason.FLEET_EXHAUSTED),
    )
    assert_caught(
        check_plan(SCENARIO, make_plan(without_w3, unserved=unserved)),
        "party f1: ['w3'] left behind",
    )

    stops = (
        Stop("pickup", *C1, at(7, 40), at(8), 0.0, company_id="c1", board=("w3",)),
        Stop(
            "dropoff",
            *YUYAO,
            at(8, 40),
            at(8, 50),
            road_km(C1, YUYAO),
            adcode="330281",
            alight=("w3",),
        ),
    )
    other = Trip(
        "t2",
        "53",
        53,
        1,
        DAY,
        stops,
        (Passenger("w3", "c1", 1, 0, 1, seat_count=2),),
        road_km(C1, YUYAO),
    )
    assert_caught(
        check_plan(SCENARIO, make_plan(without_w3, other)),
        "party f1: split over trips ['t1', 't2']",
    )


def test_stop_limits() -> None:
    """At most max_pickup_stops pickups and max_dropoff_stops drop-offs."""
    policy = Policy(max_pickup_stops=1, max_dropoff_stops=1)
    errors = check_plan(SCENARIO.replace(policy=policy), make_plan(valid_trip()))
    assert_caught(errors, "2 pickup stops exceed max_pickup_stops 1", "2 drop-off stops exceed")


def test_board_list_must_match_passengers() -> None:
    """A stop's board list names exactly who boards there."""
    trip = replace_stop(valid_trip(), 1, board=())
    assert_caught(check_plan(SCENARIO, make_plan(trip)), "stop 1: board list [] does not match")


def empty_copy(trip: Trip, trip_id: str, **changes: object) -> Trip:
    stops = tuple(dataclasses.replace(stop, board=(), alight=()) for stop in trip.stops)
    return dataclasses.replace(trip, trip_id=trip_id, passengers=(), stops=stops, **changes)


def test_phantom_stop() -> None:
    """A service stop where nobody boards or alights (a route revisiting a gate) is caught."""
    trip = valid_trip()
    extra = dataclasses.replace(
        trip.stops[0], kind="dropoff", board=(), arrive=at(8, 40), depart=at(8, 40)
    )
    stops = (*trip.stops[:2], extra, *trip.stops[2:])
    passengers = tuple(
        dataclasses.replace(p, alight_stop=p.alight_stop + 1) for p in trip.passengers
    )
    trip = dataclasses.replace(trip, stops=stops, passengers=passengers)
    assert_caught(
        check_plan(SCENARIO, make_plan(trip)), "stop 2: a dropoff stop where nobody boards"
    )


def test_fleet_count_per_date() -> None:
    """Only `count` coaches of a type leave on one date; the type must exist with its seats."""
    trip = valid_trip()
    two = check_plan(SCENARIO, make_plan(trip, empty_copy(trip, "t2")))  # 2 of type 53 exist
    assert [e for e in two if "fleet" in e or "seats but" in e] == []
    assert_caught(
        check_plan(SCENARIO, make_plan(trip, empty_copy(trip, "t2"), empty_copy(trip, "t3"))),
        "3 53 trips on 2019-01-25, fleet has 2",
    )
    assert_caught(
        check_plan(SCENARIO, make_plan(trip, empty_copy(trip, "t2", seats=50))),
        "50 seats but a 53 has 53",
    )
    assert_caught(
        check_plan(SCENARIO, make_plan(empty_copy(trip, "t1", vehicle_type="99"))),
        "vehicle type 99 is not in the fleet",
    )
    assert_caught(check_plan(SCENARIO, make_plan(trip, trip)), "trip_id used 2 times")


def test_kpis_must_match_the_trips() -> None:
    """Headline figures agree with the trips."""
    plan = make_plan(valid_trip())
    wrong = plan.replace(
        kpis=dataclasses.replace(plan.kpis, trips=2, seated=3, coach_km=1.0, seats_offered=50)
    )
    assert_caught(
        check_plan(SCENARIO, wrong),
        "kpis.trips is 2",
        "kpis.seated is 3",
        "kpis.seats_offered is 50",
        "kpis.coach_km is 1.0",
    )


def test_detour_limit_with_a_provider() -> None:
    """w4 rides via 余姚; with no detour allowance that is caught."""
    strict = SCENARIO.replace(policy=Policy(detour_ratio=1.0, detour_grace_minutes=0))
    errors = check_plan(strict, make_plan(valid_trip()), provider=GreatCircleProvider())
    assert_caught(errors, "worker w4: ride")


# -- one trip's timetable -----------------------------------------------------------------------

POLICY = Policy()
EAST, WEST = (121.0, 30.0), (100.0, 30.0)


def line_trip(
    schedule: list[tuple[str, dt.datetime, dt.datetime, float]], drivers: int = 1
) -> Trip:
    """A trip driving due west: (kind, arrive, depart, km_from_previous) per stop."""
    stops, driven = [], 0.0
    for kind, arrive, depart, km in schedule:
        driven += km
        # Place each stop at the great-circle km driven / 1.3 from the start, due west.
        lon = EAST[0] - (driven / 1.3) / (111.32 * 0.866)
        stops.append(Stop(kind, lon, EAST[1], arrive, depart, km))  # type: ignore[arg-type]
    return Trip("t", "53", 53, drivers, arrive.date(), tuple(stops), distance_km=driven)


def test_day_limit_without_rest() -> None:
    """4 h 10 min of driving by day with no 20 min rest breaks the day limit."""
    trip = line_trip([("pickup", at(7, 40), at(8), 0), ("dropoff", at(12, 10), at(12, 20), 330)])
    assert_caught(check_trip_timetable(trip, POLICY), "continuous driving 250 min", "day limit 240")


def test_short_stop_is_not_a_rest() -> None:
    """Two 2 h 30 min stretches split by a 10 min stop are one 5 h stretch."""
    trip = line_trip(
        [
            ("pickup", at(7, 40), at(8), 0),
            ("dropoff", at(10, 30), at(10, 40), 200),
            ("dropoff", at(13, 10), at(13, 20), 200),
        ]
    )
    assert_caught(check_trip_timetable(trip, POLICY), "continuous driving 300 min")
    rested = line_trip(
        [
            ("pickup", at(7, 40), at(8), 0),
            ("dropoff", at(10, 30), at(10, 50), 200),
            ("dropoff", at(13, 20), at(13, 30), 200),
        ]
    )
    assert check_trip_timetable(rested, POLICY) == []


def test_night_limit() -> None:
    """2 h 10 min touching 22:00-06:00 breaks the night limit, even if it starts by day."""
    trip = line_trip([("pickup", at(20, 30), at(21), 0), ("dropoff", at(23, 10), at(23, 20), 140)])
    assert_caught(check_trip_timetable(trip, POLICY), "night limit 120")
    ends_at_nightfall = line_trip(
        [("pickup", at(18, 30), at(19), 0), ("dropoff", at(22), at(22, 10), 200)]
    )
    assert check_trip_timetable(ends_at_nightfall, POLICY) == []


def test_driving_in_the_park_window() -> None:
    """Driving at 03:00 is caught, however short."""
    night = DAY + dt.timedelta(days=1)
    trip = line_trip(
        [
            ("pickup", at(1, 40, night), at(1, 55, night), 0),
            ("dropoff", at(2, 5, night), at(2, 30, night), 10),
        ]
    )
    assert_caught(check_trip_timetable(trip, POLICY), "drives 5 min between 02:00 and 05:00")


def test_rest_stop_too_short() -> None:
    """A stop of kind rest must last the minimum rest."""
    trip = line_trip(
        [
            ("pickup", at(7, 40), at(8), 0),
            ("rest", at(11), at(11, 15), 240),
            ("dropoff", at(12), at(12, 10), 60),
        ]
    )
    assert_caught(check_trip_timetable(trip, POLICY), "rest of 15 min is shorter")


def test_driver_hours_in_24_h() -> None:
    """9 h of driving in a day is too much for 1 driver, fine for 2 (also needed above 400 km)."""
    schedule = [("pickup", at(5, 40), at(6), 0.0)]
    clock = at(6)
    for _ in range(3):
        schedule.append(
            (
                "rest",
                clock + dt.timedelta(hours=3),
                clock + dt.timedelta(hours=3, minutes=30),
                240.0,
            )
        )
        clock += dt.timedelta(hours=3, minutes=30)
    schedule[-1] = ("dropoff", schedule[-1][1], schedule[-1][2], 240.0)
    one = line_trip(schedule, drivers=1)
    assert_caught(
        check_trip_timetable(one, POLICY), "540 min of driving in the 24 h", "needs 2 drivers"
    )
    assert check_trip_timetable(line_trip(schedule, drivers=2), POLICY) == []
    assert_caught(
        check_trip_timetable(line_trip(schedule, drivers=4), POLICY), "exceed max_drivers 3"
    )


def test_times_must_run_forward() -> None:
    """A stop cannot depart before it arrives, nor arrive before the previous one leaves."""
    trip = line_trip([("pickup", at(8), at(7), 0), ("dropoff", at(6), at(9), 10)])
    assert_caught(check_trip_timetable(trip, POLICY), "departs", "arrives before stop 0 departs")


def test_km_below_great_circle_and_too_fast() -> None:
    """Road km under the great circle, and 200 km in one hour, are caught."""
    trip = line_trip([("pickup", at(7, 40), at(8), 0), ("dropoff", at(9), at(9, 10), 200)])
    assert_caught(check_trip_geometry(trip, POLICY), "faster than 100 km/h")
    shrunk = replace_stop(trip, 1, km_from_previous=50.0)
    assert_caught(check_trip_geometry(shrunk, POLICY), "less than the great-circle")


def test_night_speed() -> None:
    """90 km in an hour is legal by day but faster than 80 % of the limit at night."""
    night = DAY + dt.timedelta(days=1)
    day_trip = line_trip([("pickup", at(9), at(9), 0), ("dropoff", at(10), at(10), 90)])
    assert check_trip_geometry(day_trip, POLICY) == []
    night_trip = line_trip(
        [
            ("pickup", at(0, 0, night), at(0, 0, night), 0),
            ("dropoff", at(1, 0, night), at(1, 0, night), 90),
        ]
    )
    assert_caught(check_trip_geometry(night_trip, POLICY), "80 km/h at night")


def test_distance_must_add_up() -> None:
    """distance_km is the sum of km_from_previous."""
    trip = dataclasses.replace(
        line_trip([("pickup", at(7, 40), at(8), 0), ("dropoff", at(9), at(9, 10), 70)]),
        distance_km=500,
    )
    assert_caught(
        check_trip_geometry(trip, POLICY), "distance_km 500.0 but its stops add up to 70.0"
    )


@pytest.mark.parametrize(
    ("start", "end", "expected_h"),
    [((21, 0), (23, 0), 1), ((5, 0), (7, 0), 1), ((22, 0), (30, 0), 8), ((6, 0), (22, 0), 0)],
)
def test_window_overlap(start: tuple[int, int], end: tuple[int, int], expected_h: float) -> None:
    """Overlap with the 22:00-06:00 night window, across midnight (hour 30 is 06:00 next day)."""
    a = at(0) + dt.timedelta(hours=start[0], minutes=start[1])
    b = at(0) + dt.timedelta(hours=end[0], minutes=end[1])
    assert window_overlap_s(a, b, 22, 6) == expected_h * 3600


def test_checker_is_independent_of_the_engine() -> None:
    """The checker shares no code with the timetable engine or the planner it checks."""
    import ast
    from pathlib import Path

    source = Path(__file__).with_name("checker.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not imported & {
        "optimizer.timetable",
        "optimizer.solve",
        "optimizer.routing",
        "optimizer.charter",
        "optimizer.region",
        "optimizer.geography.gazetteer",
    }
