"""Moving a seated worker by hand (optimizer/adjust.py): seats, stops, dates, locks, the
detour limit, parties moving together, an emptied trip dropped, KPIs recounted."""

from __future__ import annotations

import dataclasses
import datetime as dt

from optimizer.adjust import Moved, MoveReason, MoveRefused, move_passenger
from optimizer.charter import SignRule
from optimizer.model import Crew, Kpis, Passenger, Plan, Policy, Stop, Trip, Worker

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
        plan, worker=worker, to_trip_id=to, policy=Policy(), direct_minutes=lambda a, b: minutes
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
        sign=rule,
    )
    assert isinstance(moved, Moved) and moved.to_trip == "T2"
