"""A fresh crew at the origin (`Policy.fresh_crew_at_origin`, issue 11): off by default; on, a
coach back on the origin side after a long drive stands only the turnaround, while at the far end
its crew still rests, in the duties, the checker and the servable bound alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from optimizer.duties import build_duties, layover_minutes, with_crew_note
from optimizer.geography.distance import Location
from optimizer.model import Duty, DutyLeg, Policy, Stop, Trip
from optimizer.servable import Turn, hold_of, servable_bound
from tests.checker import check_plan
from tests.optimizer.test_duties import CIXI, LINQUAN, fleet, straight_timer
from tests.optimizer.test_ledger import PROVIDER
from tests.optimizer.test_servable import _exact, _random_season
from tests.test_checker import C1, SCENARIO, YUYAO, make_plan

ON = Policy(fresh_crew_at_origin=True)
DAY = dt.datetime(2019, 1, 28, 8)


def _trip(trip_id: str, start: Location, end: Location, depart: dt.datetime, home: bool) -> Trip:
    """A 10 h trip (8 h of driving) from the gate at `start` to a county, or back (`home`
    False): the gate's stop carries its company, the county's its code."""
    arrive = depart + dt.timedelta(hours=10)
    gate = {"company_id": "c1"}
    county = {"adcode": (end if home else start).adcode}
    first = Stop("pickup", start.lon, start.lat, depart, depart, **(gate if home else county))
    last = Stop("dropoff", end.lon, end.lat, arrive, arrive, 800.0, **(county if home else gate))
    return Trip(trip_id, "53", 53, 2, depart.date(), (first, last), (), 800.0, 480)


GATE = Location(CIXI.lon, CIXI.lat)


def _coaches(trips: list[Trip], policy: Policy) -> int:
    result = build_duties(trips, fleet(), depot=CIXI, timer=straight_timer, policy=policy)
    return result.kpis.coaches


def test_the_layover_is_the_turnaround_only_on_the_origin_side_and_only_when_on() -> None:
    """After 8 h of driving: the 8 h crew rest, unless the setting is on and the coach is back
    on the origin side (then the 1 h turnaround)."""
    assert layover_minutes(480, Policy(), True) == 480
    assert layover_minutes(480, ON, False) == 480
    assert layover_minutes(480, ON, True) == 60
    assert layover_minutes(120, ON, False) == 60


def test_a_coach_back_at_the_gate_takes_a_homeward_trip_after_the_turnaround() -> None:
    """A return trip ends at the gate at 18:00 and a homeward trip leaves it at 19:30: one coach
    with a fresh crew, two without; the plan note counts that coach."""
    back = _trip("R1", LINQUAN, GATE, DAY, home=False)
    out = _trip("H1", GATE, LINQUAN, DAY + dt.timedelta(hours=11, minutes=30), home=True)
    assert _coaches([back, out], Policy()) == 2
    result = build_duties([back, out], fleet(), depot=CIXI, timer=straight_timer, policy=ON)
    assert result.kpis.coaches == 1
    assert result.duties[0].trip_ids == ("R1", "H1")
    assert result.fresh_crews == frozenset({result.duties[0].coach_id})
    plan = with_crew_note(make_plan().replace(coaches=result.duties), result)
    assert plan.notes[-1].startswith("crews: 1 coach(es) changed crews on the origin side")
    # New duties replace the note, never add a second one.
    assert with_crew_note(plan, result).notes == plan.notes


def test_at_the_far_end_the_crew_still_rests() -> None:
    """A homeward trip ends in Linquan at 18:00 and a return trip leaves Linquan at 19:30: two
    coaches even with a fresh crew at the origin (none waits in a home county)."""
    out = _trip("H1", GATE, LINQUAN, DAY, home=True)
    back = _trip("R1", LINQUAN, GATE, DAY + dt.timedelta(hours=11, minutes=30), home=False)
    assert _coaches([out, back], ON) == 2
    rested = dataclasses.replace(back, stops=tuple(_shift(s, 7) for s in back.stops))
    assert _coaches([out, rested], ON) == 1


def _shift(stop: Stop, hours: int) -> Stop:
    return dataclasses.replace(
        stop,
        arrive=stop.arrive + dt.timedelta(hours=hours),
        depart=stop.depart + dt.timedelta(hours=hours),
    )


def _pair(end: tuple[float, float], gap: dt.timedelta) -> tuple[Trip, Trip]:
    """Two trips of one coach: the first (5 h of driving) ends at `end`, the second leaves
    there `gap` later."""
    start = dt.datetime(2019, 1, 25, 6)
    arrive = start + dt.timedelta(hours=6)
    first = Trip(
        "t1",
        "53",
        53,
        1,
        start.date(),
        (
            Stop("pickup", *end, start, start),
            Stop("dropoff", *end, arrive, arrive),
        ),
        driving_minutes=300,
    )
    leave = arrive + gap
    second = dataclasses.replace(
        first,
        trip_id="t2",
        stops=(Stop("pickup", *end, leave, leave), Stop("dropoff", *end, leave, leave)),
    )
    return first, second


def _rest_errors(end: tuple[float, float], policy: Policy) -> list[str]:
    first, second = _pair(end, dt.timedelta(hours=1))
    legs = tuple(
        DutyLeg("trip", t.departure, t.arrival, *end, *end, 0.0, t.trip_id) for t in (first, second)
    )
    duty = Duty("53-001", "53", "", ("t1", "t2"), legs, 0.0, 0.0, 1)
    plan = make_plan(first, second).replace(coaches=(duty,))
    errors = check_plan(SCENARIO.replace(policy=policy), plan)
    return [e for e in errors if "back and rested" in e]


def test_the_checker_accepts_the_turnaround_only_at_a_gate_with_the_setting_on() -> None:
    """A 1 h stand after 5 h of driving: accepted at a company gate with the setting on;
    rejected there with it off, and rejected in a home county (Yuyao) even with it on."""
    assert _rest_errors(C1, ON) == []
    assert _rest_errors(C1, Policy()) != []
    assert _rest_errors(YUYAO, ON) != []


def test_the_servable_holds_shorten_by_the_rest_less_the_turnaround() -> None:
    """A 27 h turn (Weining): with the setting on, the homeward hold (far rest kept, origin
    layover the turnaround) and the return wave's time after its departure are 7 h shorter;
    the return wave's time before it (the empty drive out and its far-end rest) is unchanged."""
    turn = Turn(27.0, 27.0)
    for home in (True, False):
        off, on = hold_of(turn, home, Policy()), hold_of(turn, home, ON)
        assert on.before == off.before
        assert on.after_earliest == off.after_earliest - 7.0
        assert on.length == off.length - 7.0


def test_the_servable_bound_with_a_fresh_crew_is_never_below_what_coaches_can_seat() -> None:
    """Six random tight seasons (the servable property test's) with the setting on: the bound
    is at least the exhaustive optimum under the shorter origin layover (on some season above
    the optimum without the setting, so the check is not idle), and never below the bound
    without the setting (the holds only shorten)."""
    rng = random.Random(11)
    seats_more = 0
    for _ in range(6):
        scenario, coaches = _random_season(rng)
        on = scenario.replace(policy=ON)
        exact = _exact(on, 20, coaches)
        bound = servable_bound(on, distances=PROVIDER)
        assert exact <= bound, (scenario.direction, exact, bound)
        assert servable_bound(scenario, distances=PROVIDER) <= bound
        seats_more += exact > _exact(scenario, 20, coaches)
    assert seats_more > 0


def test_the_crew_note_is_in_the_catalogue_in_chinese_and_english() -> None:
    """The dispatcher reads the note in Chinese (default) or English, with the count kept."""
    from api.i18n import translate_plan_note

    note = "crews: 3 coach(es) changed crews on the origin side (fresh_crew_at_origin): " + (
        "book their spare drivers"
    )
    assert translate_plan_note("en", note) == note
    chinese = translate_plan_note("zh_CN", note)
    assert chinese != note and "3" in chinese and "备班驾驶员" in chinese
