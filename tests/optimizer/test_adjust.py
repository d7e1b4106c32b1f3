"""Moving a seated worker by hand (optimizer/adjust.py): seats, stops, dates, locks, the
detour limit, parties moving together, an emptied trip dropped, a stop nobody uses any more
removed and the source trip re-timed, KPIs recounted."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from optimizer.adjust import Moved, MoveReason, MoveRefused, move_passenger
from optimizer.charter import SignRule
from optimizer.geography.distance import GreatCircleProvider, Location, TravelMatrix
from optimizer.model import (
    Company,
    Crew,
    Kpis,
    Passenger,
    Plan,
    Policy,
    Scenario,
    Stop,
    Trip,
    VehicleType,
    Worker,
)
from optimizer.retime import road_legs
from optimizer.timetable import ServiceStop, build_timetable
from tests.checker import assert_valid_plan, shipped_county_seats

GATE = dict(kind="pickup", lon=121.24, lat=30.17, company_id="A", name="A gate")


def _trip(
    trip_id: str,
    day: int,
    riders: list[tuple[str, int, str]],
    *,
    seats: int = 4,
    county: str = "341221",
    hours: float = 9.0,
) -> Trip:
    depart = dt.datetime(2026, 2, day, 8, 0)
    arrive = depart + dt.timedelta(hours=hours)
    stops = (
        Stop(arrive=depart, depart=depart, board=tuple(r[0] for r in riders), **GATE),  # type: ignore[arg-type]
        Stop(
            kind="dropoff",
            lon=115.26,
            lat=33.06,
            arrive=arrive,
            depart=arrive,
            adcode=county,
            alight=tuple(r[0] for r in riders),
        ),
    )
    passengers, seat = [], 1
    for worker_id, count, party in riders:
        passengers.append(Passenger(worker_id, "A", seat, 0, 1, count, party))
        seat += count
    return Trip(trip_id, "C", seats, 1, depart.date(), stops, tuple(passengers), 700.0, 540, 100.0)


def _plan(*trips: Trip) -> Plan:
    kpis = Kpis(0, 0, 0, len(trips), 0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0)
    return Plan("s", "home", tuple(trips), (), kpis)


def _worker(worker_id: str, first: int = 5, last: int = 14) -> Worker:
    return Worker(
        worker_id=worker_id,
        company_id="A",
        name="x",
        id_number="",
        phone="",
        home="341221",
        home_adcode="341221",
        earliest=dt.date(2026, 2, first),
        latest=dt.date(2026, 2, last),
    )


def _move(plan: Plan, worker: Worker, to: str, minutes: float = 500.0) -> Moved | MoveRefused:
    return move_passenger(
        plan,
        worker=worker,
        to_trip_id=to,
        policy=Policy(),
        direct_minutes=lambda a, b: minutes,
        distances=ROAD,
    )


def test_a_worker_moves_to_a_trip_of_another_date_and_the_empty_trip_is_dropped() -> None:
    plan = _plan(_trip("T1", 6, [("w1", 1, "")]), _trip("T2", 7, [("w2", 1, "")]))
    moved = _move(plan, _worker("w1"), "T2")
    assert isinstance(moved, Moved)
    assert moved.dropped and [t.trip_id for t in moved.plan.trips] == ["T2"]
    target = moved.plan.trips[0]
    assert {p.worker_id: p.seat for p in target.passengers} == {"w2": 1, "w1": 2}
    assert "w1" in target.stops[0].board and "w1" in target.stops[1].alight
    assert moved.plan.kpis.trips == 1 and moved.plan.kpis.seats_offered == 4


def test_the_party_moves_together_and_needs_the_seats() -> None:
    plan = _plan(
        _trip("T1", 6, [("w1", 1, "P"), ("w3", 2, "P"), ("w4", 1, "")]),
        _trip("T2", 6, [("w2", 1, "")]),
    )
    moved = _move(plan, _worker("w1"), "T2")
    assert isinstance(moved, Moved)
    assert moved.worker_ids == ("w1", "w3") and not moved.dropped
    source = next(t for t in moved.plan.trips if t.trip_id == "T1")
    assert [p.worker_id for p in source.passengers] == ["w4"]
    assert "w1" not in source.stops[0].board
    full = _plan(_trip("T1", 6, [("w1", 1, "P"), ("w3", 2, "P")]), _trip("T2", 6, [("w2", 2, "")]))
    refused = _move(full, _worker("w1"), "T2")
    assert isinstance(refused, MoveRefused) and refused.reason is MoveReason.NO_SEATS


def test_refusals_name_their_reason() -> None:
    plan = _plan(
        _trip("T1", 6, [("w1", 1, "")]),
        _trip("T2", 9, [("w2", 1, "")]),
        _trip("T3", 6, [("w3", 1, "")], county="411525"),
        dataclasses.replace(_trip("T4", 6, [("w4", 1, "")]), locked=True),
        _trip("T5", 6, [("w5", 1, "")], hours=30),
    )
    cases = {
        "T2": (MoveReason.OUTSIDE_WINDOW, _worker("w1", 5, 8)),
        "T3": (MoveReason.NO_ALIGHTING_STOP, _worker("w1")),
        "T4": (MoveReason.LOCKED, _worker("w1")),
        "T5": (MoveReason.RIDE_TOO_LONG, _worker("w1")),
        "T1": (MoveReason.SAME_TRIP, _worker("w1")),
        "T9": (MoveReason.NO_TRIP, _worker("w1")),
    }
    for to, (reason, worker) in cases.items():
        refused = _move(plan, worker, to)
        assert isinstance(refused, MoveRefused) and refused.reason is reason, to
    nobody = _move(plan, _worker("w0"), "T2")
    assert isinstance(nobody, MoveRefused) and nobody.reason is MoveReason.NOT_SEATED


def test_a_move_onto_a_trip_its_coach_may_not_drive_is_refused() -> None:
    """Charter sign: a trip whose coach type's operator is registered at neither end (the fleet's
    registration changed after planning) takes nobody more; the refusal names the trip, both
    counties and the operator. A crew's operator, when assigned, is the one checked."""
    plan = _plan(_trip("T1", 6, [("w1", 1, "")]), _trip("T2", 7, [("w2", 1, "")]))
    rule = SignRule(
        places={"C": frozenset({"330281"})},
        ends={"T1": ("330282", "341221"), "T2": ("330282", "341221")},
        operators={"余姚公运": frozenset({"330281"}), "慈溪公运": frozenset({"330282"})},
        type_operators={"C": "余姚公运"},
    )
    refused = move_passenger(
        plan,
        worker=_worker("w1"),
        to_trip_id="T2",
        policy=Policy(),
        direct_minutes=lambda a, b: 500.0,
        distances=ROAD,
        sign=rule,
    )
    assert isinstance(refused, MoveRefused) and refused.reason is MoveReason.CHARTER_SIGN
    assert dict(refused.values) == {
        "trip": "T2",
        "operator": "余姚公运",
        "start": "慈溪市",
        "end": "临泉县",
    }
    crewed = dataclasses.replace(
        plan.trips[1], crew=Crew("浙B12345", "C", 4, "慈溪公运", (), "车长", "13800000000")
    )
    moved = move_passenger(
        plan.replace(trips=(plan.trips[0], crewed)),
        worker=_worker("w1"),
        to_trip_id="T2",
        policy=Policy(),
        direct_minutes=lambda a, b: 500.0,
        distances=ROAD,
        sign=rule,
    )
    assert isinstance(moved, Moved) and moved.to_trip == "T2"


# --- the source trip loses a stop nobody uses any more --------------------------------------------

ROAD = GreatCircleProvider()
COACH = VehicleType("C", 4, 5, 9.0, 800.0)
GATES = (Company("A", "甲厂", 121.24, 30.17), Company("B", "乙厂", 121.36, 30.22))
LINQUAN = "341221"


def _timed_trip(trip_id: str, riders: dict[str, str], *, distances: Any = ROAD) -> Trip:
    """A home trip on 6 Feb leaving at 07:00, with the engine's own timetable: a pickup at each
    gate of `riders` (worker -> company, gates in GATES order) and one drop-off at Linquan's
    county seat."""
    lon, lat = shipped_county_seats()[LINQUAN]
    service = [
        ServiceStop(
            "pickup",
            gate.lon,
            gate.lat,
            20 * 60,
            company_id=gate.company_id,
            name=gate.name,
            board=tuple(sorted(w for w, c in riders.items() if c == gate.company_id)),
        )
        for gate in GATES
        if gate.company_id in riders.values()
    ]
    service.append(
        ServiceStop(
            "dropoff",
            lon,
            lat,
            10 * 60,
            adcode=LINQUAN,
            name="临泉县",
            alight=tuple(sorted(riders)),
        )
    )
    table = build_timetable(
        service, road_legs(service, distances), dt.datetime(2026, 2, 6, 7), Policy()
    )
    board = {w: i for i, s in enumerate(table.stops) for w in s.board}
    passengers = tuple(
        Passenger(w, riders[w], seat, board[w], len(table.stops) - 1)
        for seat, w in enumerate(sorted(riders), start=1)
    )
    return Trip(
        trip_id,
        COACH.vehicle_type,
        COACH.seats,
        table.drivers,
        dt.date(2026, 2, 6),
        table.stops,
        passengers,
        table.distance_km,
        table.driving_minutes,
        round(COACH.fixed_cost + COACH.cost_per_km * table.distance_km, 2),
    )


def _two_gates() -> tuple[Scenario, Plan]:
    """T1 picks up w2, w3 at gate A and w1 alone at gate B; T2 picks up w4 at gate B."""
    workers = tuple(
        dataclasses.replace(_worker(w), company_id=c, home_adcode=LINQUAN)
        for w, c in (("w1", "B"), ("w2", "A"), ("w3", "A"), ("w4", "B"))
    )
    scenario = Scenario(
        name="s",
        direction="home",
        origin="330282",
        festival_date=dt.date(2026, 2, 17),
        first_departure=dt.date(2026, 2, 5),
        last_departure=dt.date(2026, 2, 14),
        companies=GATES,
        workers=workers,
        fleet=(COACH,),
    )
    trips = (
        _timed_trip("T1", {"w1": "B", "w2": "A", "w3": "A"}),
        _timed_trip("T2", {"w4": "B"}),
    )
    return scenario, _recount_plan(Plan("s", "home", trips, (), _plan().kpis))


def _recount_plan(plan: Plan) -> Plan:
    kpis = dataclasses.replace(
        plan.kpis,
        workers=4,
        seated=4,
        trips=len(plan.trips),
        seats_offered=sum(t.seats for t in plan.trips),
        coach_km=sum(t.distance_km for t in plan.trips),
        cost=sum(t.cost for t in plan.trips),
    )
    return plan.replace(kpis=kpis)


def _road_minutes(a: Stop, b: Stop) -> float:
    matrix = ROAD.matrix([Location(a.lon, a.lat, a.adcode), Location(b.lon, b.lat, b.adcode)])
    return float(matrix.duration_s[0][1]) / 60


def test_the_source_trip_loses_the_stop_its_last_rider_there_left_and_is_re_timed() -> None:
    """w1 was the only one boarding at gate B on T1: after w1 moves to T2, T1 no longer stops
    at gate B, and its timetable, km, crew and cost are the engine's for gate A -> Linquan
    leaving gate A when it did; the plan passes the independent checker before and after."""
    scenario, plan = _two_gates()
    assert_valid_plan(scenario, plan, provider=ROAD)
    moved = move_passenger(
        plan,
        worker=scenario.workers[0],
        to_trip_id="T2",
        policy=Policy(),
        direct_minutes=_road_minutes,
        distances=ROAD,
        fleet=(COACH,),
    )
    assert isinstance(moved, Moved) and not moved.dropped
    assert moved.removed_stops == ("乙厂",)
    assert_valid_plan(scenario, moved.plan, provider=ROAD)
    source = next(t for t in moved.plan.trips if t.trip_id == "T1")
    before = plan.trips[0]
    assert [s.company_id for s in source.stops if s.kind == "pickup"] == ["A"]
    alone = _timed_trip("T1", {"w2": "A", "w3": "A"})
    assert source.stops == alone.stops and source.departure == before.departure
    assert (source.distance_km, source.driving_minutes, source.drivers, source.cost) == (
        alone.distance_km,
        alone.driving_minutes,
        alone.drivers,
        alone.cost,
    )
    assert source.distance_km < before.distance_km and source.arrival < before.arrival
    assert [(p.worker_id, p.board_stop, p.alight_stop) for p in source.passengers] == [
        ("w2", 0, len(source.stops) - 1),
        ("w3", 0, len(source.stops) - 1),
    ]
    assert moved.plan.kpis.coach_km == pytest.approx(
        plan.kpis.coach_km - before.distance_km + source.distance_km
    )
    assert moved.plan.kpis.cost == pytest.approx(plan.kpis.cost - before.cost + source.cost)


class _DetourAfterB:
    """Great-circle roads, but gate A -> Linquan without passing gate B is five times as long
    (a road that only makes sense through B)."""

    name = "detour"

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        matrix = ROAD.matrix(locations)
        if [loc.lon for loc in locations][:1] == [GATES[0].lon] and locations[-1].adcode:
            return TravelMatrix(matrix.distance_m * 5, matrix.duration_s * 5)
        return matrix

    def route_line(self, origin: Location, destination: Location) -> list[tuple[float, float]]:
        return ROAD.route_line(origin, destination)


def test_a_move_is_refused_when_the_re_timed_source_trip_would_break_a_rule() -> None:
    """When the road without gate B makes w2's and w3's ride exceed the detour limit, the move
    is refused (SOURCE_UNTIMED, naming the trip and the stop) and nothing changes."""
    scenario, plan = _two_gates()
    refused = move_passenger(
        plan,
        worker=scenario.workers[0],
        to_trip_id="T2",
        policy=Policy(),
        direct_minutes=_road_minutes,
        distances=_DetourAfterB(),
        fleet=(COACH,),
    )
    assert isinstance(refused, MoveRefused) and refused.reason is MoveReason.SOURCE_UNTIMED
    assert dict(refused.values) == {"trip": "T1", "stop": "乙厂"}
