"""Re-timing before cancelling (optimizer/retime.py): a trip beyond the fleet moves later on its
date into a coach's free time, with the engine's own timetable; kept trips never move."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from optimizer.duties import TimetableEmptyDriveTimer, build_duties
from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import Company, Policy, Scenario, SolverParams, Trip, VehicleType
from optimizer.retime import retime_into_gaps, trip_shape
from optimizer.season import _retyped, depot_of
from optimizer.solve import solve
from tests.checker import check_trip_geometry, check_trip_timetable
from tests.optimizer.test_season import _workers

PROVIDER = GreatCircleProvider()
DAY0 = dt.date(2019, 1, 24)
ONE_COACH = (VehicleType("c53", 53, 1, 9.0, 800.0),)


@pytest.fixture(scope="module")
def two_days() -> tuple[Scenario, list[Trip]]:
    """Jianhu on day 0 (the coach is back the next afternoon), Yixing on day 1, both planned
    at 06:00 without a fleet limit."""
    day1 = DAY0 + dt.timedelta(1)
    scenario = Scenario(
        name="retime",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=DAY0,
        last_departure=day1,
        companies=(Company("C1", "甲厂", 121.25, 30.17),),
        workers=tuple(
            _workers("320925", range(50), DAY0, DAY0)
            + _workers("320282", range(50, 95), day1, day1)
        ),
        fleet=(VehicleType("c53", 53, 10, 9.0, 800.0),),
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    trips = sorted(solve(scenario, distances=PROVIDER).trips, key=lambda t: t.departure)
    assert [t.departure.hour for t in trips] == [6, 6], "the premise: both leave at 06:00"
    return scenario, trips


def _retime(scenario: Scenario, trips: list[Trip], keep: set[str]) -> tuple[list[Trip], int]:
    return retime_into_gaps(
        trips,
        (),
        ONE_COACH,
        depot=depot_of(scenario),
        timer=TimetableEmptyDriveTimer(PROVIDER, scenario.policy),
        policy=scenario.policy,
        provider=PROVIDER,
        keep=keep,
        retype=_retyped,
    )


def test_the_engine_reproduces_a_planned_trips_timetable(two_days) -> None:  # type: ignore[no-untyped-def]
    """The stops and legs read back from a planned trip give its own timetable again."""
    scenario, trips = two_days
    for trip in trips:
        assert trip_shape(trip, PROVIDER, scenario.policy) is not None, trip.trip_id


def test_the_trip_beyond_one_coach_moves_to_the_afternoon_its_coach_is_back(two_days) -> None:  # type: ignore[no-untyped-def]
    """The day-1 trip moves to the afternoon, keeps its date, stops and riders, obeys the rules
    (independent checker) and one coach then drives both."""
    scenario, trips = two_days
    moved, count = _retime(scenario, trips, set())
    assert count == 1
    first, second = moved
    assert first == trips[0]
    before = trips[1]
    assert second.departure_date == before.departure_date and second.departure.hour >= 12
    assert [s.name for s in second.stops if s.kind != "rest"] == [
        s.name for s in before.stops if s.kind != "rest"
    ]
    assert {p.worker_id for p in second.passengers} == {p.worker_id for p in before.passengers}
    for p in second.passengers:
        assert p.worker_id in second.stops[p.board_stop].board
        assert p.worker_id in second.stops[p.alight_stop].alight
    assert second.distance_km == before.distance_km
    assert check_trip_timetable(second, scenario.policy) == []
    assert check_trip_geometry(second, scenario.policy) == []
    duties = build_duties(
        moved,
        ONE_COACH,
        depot=depot_of(scenario),
        timer=TimetableEmptyDriveTimer(PROVIDER, scenario.policy),
        policy=scenario.policy,
    )
    assert duties.kpis.coaches == 1


def test_a_locked_trip_never_moves(two_days) -> None:  # type: ignore[no-untyped-def]
    """A locked (filed) trip beyond the fleet stays as it is, even with a coach back in time;
    so does the trip the chaining drops when the locked one is kept."""
    scenario, trips = two_days
    locked = [trips[0], dataclasses.replace(trips[1], locked=True)]
    moved, count = _retime(scenario, locked, set())
    assert count == 0 and moved == locked
    moved, count = _retime(scenario, trips, {trips[1].trip_id})
    assert count == 0 and moved == trips


FAR = "320925"  # Jianhu: a coach leaving at 06:00 is back the next afternoon


@pytest.fixture(scope="module")
def relay_days() -> tuple[Scenario, list[Trip]]:
    """Jianhu on three days, every trip planned at 06:00 without a fleet limit: one trip on
    day 0, two on day 1 (53 and 50 riders), one on day 2; each rider's window is one day."""
    day = [DAY0 + dt.timedelta(n) for n in range(3)]
    scenario = Scenario(
        name="relay",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=day[0],
        last_departure=day[2],
        companies=(Company("C1", "甲厂", 121.25, 30.17),),
        workers=tuple(
            _workers(FAR, range(50), day[0], day[0])
            + _workers(FAR, range(100, 153), day[1], day[1])
            + _workers(FAR, range(200, 250), day[1], day[1])
            + _workers(FAR, range(300, 350), day[2], day[2])
        ),
        fleet=(VehicleType("c53", 53, 10, 9.0, 800.0),),
        policy=Policy(),
        solver=SolverParams(time_limit_s=2.0),
    )
    trips = sorted(solve(scenario, distances=PROVIDER).trips, key=lambda t: t.departure)
    assert [(t.departure_date - day[0]).days for t in trips] == [0, 1, 1, 2]
    assert {t.departure.hour for t in trips} == {6}, "the premise: every trip leaves at 06:00"
    return scenario, trips


def test_a_coach_back_from_day_0_takes_day_1s_evening_trip_its_day_2_trip_handed_on(
    relay_days, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Two coaches, four far trips: the exact chaining gives one coach day 0 and day 2, the
    other one day-1 trip; the other day-1 trip is beyond the fleet. Re-timed only, it finds no
    gap (after day 0 it cannot reach day 2's 06:00 trip); with the relay, it goes into the
    evening of day 1 on the day-0 coach, and the day-2 trip to the evening of day 2 on the
    coach back from day 1. Every trip keeps its date and riders and obeys the rules, and two
    coaches then drive all four."""
    import optimizer.retime as retime

    scenario, trips = relay_days
    two = (VehicleType("c53", 53, 2, 9.0, 800.0),)
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)

    def run() -> tuple[list[Trip], int]:
        return retime_into_gaps(
            trips,
            (),
            two,
            depot=depot_of(scenario),
            timer=timer,
            policy=scenario.policy,
            provider=PROVIDER,
            retype=_retyped,
        )

    monkeypatch.setattr(retime, "RETIME_RELAY", False)
    assert run() == (trips, 0)
    monkeypatch.setattr(retime, "RETIME_RELAY", True)
    moved, count = run()
    assert count == 2  # the evening trip and the one handed on
    changed = [(b, a) for b, a in zip(trips, moved, strict=True) if a != b]
    assert len(changed) == 2
    for before, after in changed:
        assert after.departure_date == before.departure_date
        assert after.departure.hour >= 12
        assert {p.worker_id for p in after.passengers} == {p.worker_id for p in before.passengers}
        assert check_trip_timetable(after, scenario.policy) == []
        assert check_trip_geometry(after, scenario.policy) == []
    duties = build_duties(moved, two, depot=depot_of(scenario), timer=timer, policy=scenario.policy)
    assert duties.kpis.coaches == 2 and not duties.kpis.shortages
    assert sorted(t for d in duties.duties for t in d.trip_ids) == sorted(t.trip_id for t in trips)


def test_the_product_keeps_the_evening_trip_with_two_coaches(relay_days, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The whole product on the same season with two coaches: with the relay no trip is
    cancelled for want of a coach (without it, day 1's second trip is, and reschedule_into_chains
    does not save it), more workers are seated, and both plans obey every rule of the
    independent checker (the per-date count of the type included)."""
    import optimizer.retime as retime
    from optimizer.season import solve_within_fleet
    from tests.checker import assert_valid_plan

    scenario, _ = relay_days
    short = scenario.replace(fleet=(VehicleType("c53", 53, 2, 9.0, 800.0),))
    monkeypatch.setattr(retime, "RETIME_EVENINGS", False)  # the relay alone
    seated = {}
    for relay in (False, True):
        monkeypatch.setattr(retime, "RETIME_RELAY", relay)
        plan, _ = solve_within_fleet(short, distances=PROVIDER)
        assert_valid_plan(short, plan, provider=PROVIDER)
        cancelled = [u for u in plan.unserved if u.detail.startswith("no c53 coach free")]
        assert bool(cancelled) is not relay
        seated[relay] = plan.kpis.seated
    assert seated[True] > seated[False]


def _evenings(
    scenario: Scenario, trips: list[Trip], fleet: tuple[VehicleType, ...], keep: set[str]
):  # type: ignore[no-untyped-def]
    from optimizer.retime import evening_departures

    return evening_departures(
        trips,
        (),
        fleet,
        depot=depot_of(scenario),
        timer=TimetableEmptyDriveTimer(PROVIDER, scenario.policy),
        policy=scenario.policy,
        provider=PROVIDER,
        keep=keep,
    )


def test_the_chaining_chooses_evening_departures_so_two_coaches_drive_four_trips(
    relay_days, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Two coaches, four far trips all at 06:00: the exact chaining fits three. Offered each
    trip's evening departures too (relay off), it gives one day-1 trip to the day-0 coach and the
    day-2 trip to the day-1 coach, each brought forward to the first legal departure after its
    coach is back; the moved trips keep date and riders and obey the rules, and two coaches
    drive all four."""
    import optimizer.retime as retime

    scenario, trips = relay_days
    two = (VehicleType("c53", 53, 2, 9.0, 800.0),)
    monkeypatch.setattr(retime, "RETIME_RELAY", False)
    monkeypatch.setattr(retime, "RETIME_EVENINGS", False)
    assert _evenings(scenario, trips, two, set()) == (trips, 0)
    monkeypatch.setattr(retime, "RETIME_EVENINGS", True)
    moved, count = _evenings(scenario, trips, two, set())
    changed = [(b, a) for b, a in zip(trips, moved, strict=True) if a != b]
    assert count == len(changed) == 2
    for before, after in changed:
        assert after.departure_date == before.departure_date
        assert after.departure > before.departure and after.departure.hour >= 12
        assert {p.worker_id for p in after.passengers} == {p.worker_id for p in before.passengers}
        assert check_trip_timetable(after, scenario.policy) == []
        assert check_trip_geometry(after, scenario.policy) == []
    timer = TimetableEmptyDriveTimer(PROVIDER, scenario.policy)
    duties = build_duties(moved, two, depot=depot_of(scenario), timer=timer, policy=scenario.policy)
    assert duties.kpis.coaches == 2 and not duties.kpis.shortages


def test_kept_trips_never_move_to_the_evening(relay_days, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every trip kept (held, filed, a top-up's earlier trips): nothing moves."""
    import optimizer.retime as retime

    monkeypatch.setattr(retime, "RETIME_EVENINGS", True)
    scenario, trips = relay_days
    two = (VehicleType("c53", 53, 2, 9.0, 800.0),)
    assert _evenings(scenario, trips, two, {t.trip_id for t in trips}) == (trips, 0)


def test_the_product_with_evening_departures_alone_keeps_every_trip(
    relay_days, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The whole product with two coaches and the relay off: with the evening departures no
    trip is cancelled for want of a coach and more are seated than without; both plans obey
    every rule of the independent checker."""
    import optimizer.retime as retime
    from optimizer.season import solve_within_fleet
    from tests.checker import assert_valid_plan

    scenario, _ = relay_days
    short = scenario.replace(fleet=(VehicleType("c53", 53, 2, 9.0, 800.0),))
    monkeypatch.setattr(retime, "RETIME_RELAY", False)
    seated = {}
    for evenings in (False, True):
        monkeypatch.setattr(retime, "RETIME_EVENINGS", evenings)
        plan, _ = solve_within_fleet(short, distances=PROVIDER)
        assert_valid_plan(short, plan, provider=PROVIDER)
        cancelled = [u for u in plan.unserved if u.detail.startswith("no c53 coach free")]
        assert bool(cancelled) is not evenings
        seated[evenings] = plan.kpis.seated
    assert seated[True] > seated[False]
