"""The timetable rule engine: rests, night, park, crew; output passes the independent checker."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.errors import InvalidInput
from optimizer.geography.distance import great_circle_km
from optimizer.model import Policy, Trip
from optimizer.timetable import (
    Leg,
    ServiceStop,
    Timetable,
    build_timetable,
    crew_size,
    departure_candidates,
    plan_timetable,
)
from tests.checker import check_trip_geometry, check_trip_timetable, window_overlap_s

POLICY = Policy()
CIXI = (121.262218, 30.172704)
LINQUAN = (115.257559, 33.041550)  # 临泉, Anhui
WEINING = (104.250854, 26.877317)  # 威宁, Guizhou
DAY = dt.date(2019, 1, 25)


def toward_guizhou(road_km: float, detour: float = 1.3) -> tuple[float, float]:
    """A point on the way to Weining whose great-circle km from Cixi is road_km / detour."""
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        lon = CIXI[0] + (WEINING[0] - CIXI[0]) * mid
        lat = CIXI[1] + (WEINING[1] - CIXI[1]) * mid
        if great_circle_km(*CIXI, lon, lat) < road_km / detour:
            low = mid
        else:
            high = mid
    return (lon, lat)


def gate(lon: float = CIXI[0], lat: float = CIXI[1], dwell_min: int = 20) -> ServiceStop:
    return ServiceStop("pickup", lon, lat, dwell_min * 60, company_id="c1", board=("w1",))


def county(lon: float, lat: float, dwell_min: int = 10, adcode: str = "x") -> ServiceStop:
    return ServiceStop("dropoff", lon, lat, dwell_min * 60, adcode=adcode, alight=("w1",))


def leg(km: float, speed_kmh: float = 80.0) -> Leg:
    return Leg(distance_m=round(km * 1000), duration_s=round(km / speed_kmh * 3600))


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def as_trip(table: Timetable) -> Trip:
    return Trip(
        trip_id="t",
        vehicle_type="53",
        seats=53,
        drivers=table.drivers,
        departure_date=table.departure.date(),
        stops=table.stops,
        distance_km=table.distance_km,
        driving_minutes=table.driving_minutes,
    )


def violations(table: Timetable, policy: Policy = POLICY) -> list[str]:
    trip = as_trip(table)
    return check_trip_timetable(trip, policy) + check_trip_geometry(trip, policy)


def driving_stretches(table: Timetable, policy: Policy = POLICY) -> list[float]:
    """Minutes of each driving stretch between rests (stops of at least min_rest)."""
    stretches, current = [], 0.0
    for before, stop in zip(table.stops, table.stops[1:], strict=False):
        current += (stop.arrive - before.depart).total_seconds() / 60
        if (stop.depart - stop.arrive).total_seconds() >= policy.min_rest_minutes * 60:
            stretches.append(current)
            current = 0.0
    return [*stretches, current]


def test_day_trip_of_400_km_has_one_driver_and_one_rest() -> None:
    """400 km by day (5 h): one driver (not above 400 km), one 20 min rest after 4 h."""
    table = build_timetable([gate(), county(*toward_guizhou(400))], [leg(400)], at(8), POLICY)
    assert table.drivers == 1
    assert table.driving_minutes == 300
    rests = table.rests
    assert len(rests) == 1
    assert rests[0].arrive == at(12) and rests[0].depart == at(12, 20)
    assert rests[0].km_from_previous == pytest.approx(320)
    assert table.stops[-1].km_from_previous == pytest.approx(80)
    assert table.arrival == at(13, 20)
    assert table.stops[0].arrive == at(7, 40)  # boarding starts dwell_s before departure
    assert violations(table) == []


def test_above_400_km_needs_two_drivers() -> None:
    """401 km needs 2 drivers even though one could drive it in 8 h."""
    table = build_timetable([gate(), county(*toward_guizhou(401))], [leg(401)], at(8), POLICY)
    assert table.drivers == 2
    assert violations(table) == []


def test_overnight_1000_km_parks_from_two_to_five_with_two_drivers() -> None:
    """1,000 km leaving at 18:00: night stretches of 2 h, a park spanning 02:00-05:00, 2 drivers."""
    table = build_timetable([gate(), county(*toward_guizhou(1000))], [leg(1000)], at(18), POLICY)
    assert table.drivers == 2
    parks = [s for s in table.rests if s.note.startswith("park")]
    assert len(parks) == 1
    assert parks[0].arrive <= at(2, day=DAY + dt.timedelta(days=1))
    assert parks[0].depart == at(5, day=DAY + dt.timedelta(days=1))
    for before, stop in zip(table.stops, table.stops[1:], strict=False):
        assert window_overlap_s(before.depart, stop.arrive, 2, 5) == 0
    assert max(driving_stretches(table)) <= 240
    assert sum(s.km_from_previous for s in table.stops) == pytest.approx(1000)
    assert violations(table) == []


def test_night_driving_is_slower() -> None:
    """160 km at 80 km/h is 2 h by day but 2 h 30 min at night (80 % speed)."""
    by_day = build_timetable([gate(), county(*toward_guizhou(160))], [leg(160)], at(8), POLICY)
    by_night = build_timetable([gate(), county(*toward_guizhou(160))], [leg(160)], at(22), POLICY)
    assert by_day.driving_minutes == 120
    assert by_night.driving_minutes == 150
    # 2 h 30 min at night exceeds the 2 h night limit: one rest.
    assert len(by_night.rests) == 1
    assert violations(by_night) == []


def test_night_start_trip_keeps_night_stretches_to_two_hours() -> None:
    """Leaving at 21:30, every stretch touching the night is at most 2 h."""
    table = build_timetable([gate(), county(*toward_guizhou(700))], [leg(700)], at(21, 30), POLICY)
    assert driving_stretches(table)[0] <= 120
    assert violations(table) == []


def test_day_stretch_stops_at_nightfall_when_over_the_night_limit() -> None:
    """A stretch begun at 19:00 may run 3 h by day but then rests at 22:00, not later."""
    table = build_timetable([gate(), county(*toward_guizhou(600))], [leg(600)], at(19), POLICY)
    assert table.rests[0].arrive == at(22)
    assert violations(table) == []


def test_short_stop_does_not_reset_the_clock_but_long_one_does() -> None:
    """A 10 min drop-off is not a rest; a 20 min one is."""
    middle, end = toward_guizhou(240), toward_guizhou(480)
    short = build_timetable(
        [gate(), county(*middle, dwell_min=10), county(*end)],
        [leg(240), leg(240)],
        at(8),
        POLICY,
    )
    assert len(short.rests) == 1
    assert violations(short) == []
    long = build_timetable(
        [gate(), county(*middle, dwell_min=20), county(*end)],
        [leg(240), leg(240)],
        at(8),
        POLICY,
    )
    assert long.rests == ()
    assert violations(long) == []


def test_cixi_to_guizhou_needs_three_drivers() -> None:
    """~2,000 road km (25 h at day speed) within a day and a half needs a crew of 3."""
    table = build_timetable([gate(), county(*toward_guizhou(2000))], [leg(2000)], at(8), POLICY)
    assert table.drivers == 3
    assert table.extra_rest_minutes == 0
    assert any(s.note.startswith("park") for s in table.rests)
    assert violations(table) == []


def test_cixi_to_guizhou_with_two_drivers_rests_longer_and_says_so() -> None:
    """With max_drivers 2 the coach takes a long rest instead of breaking the 8 h/24 h rule."""
    policy = Policy(max_drivers=2)
    table = build_timetable([gate(), county(*toward_guizhou(2000))], [leg(2000)], at(8), policy)
    three = build_timetable([gate(), county(*toward_guizhou(2000))], [leg(2000)], at(8), POLICY)
    assert table.drivers == 2
    assert table.extra_rest_minutes > 0
    assert any("crew" in note for note in table.notes)
    assert any("crew out of driving hours" in s.note for s in table.rests)
    assert table.arrival > three.arrival
    assert table.legal
    assert violations(table, policy) == []


def test_single_driver_limited_to_eight_hours_a_day() -> None:
    """One driver, 380 km of slow roads (9.5 h driving): a long rest keeps 8 h in any 24 h."""
    policy = Policy(max_drivers=1)
    table = build_timetable(
        [gate(), county(*toward_guizhou(380))], [leg(380, speed_kmh=40)], at(6), policy
    )
    assert table.drivers == 1
    assert table.extra_rest_minutes > 0
    assert violations(table, policy) == []


def test_two_driver_rule_beyond_max_drivers_is_reported_illegal() -> None:
    """A 500 km trip with max_drivers 1 cannot be legal; the timetable says so."""
    policy = Policy(max_drivers=1)
    table = build_timetable([gate(), county(*toward_guizhou(500))], [leg(500)], at(8), policy)
    assert not table.legal
    assert "needs 2 drivers" in table.notes[0]


def test_imposed_crew_is_used() -> None:
    """`drivers=` overrides the crew choice."""
    table = build_timetable(
        [gate(), county(*toward_guizhou(100))], [leg(100)], at(8), POLICY, drivers=2
    )
    assert table.drivers == 2


def test_rests_lie_on_the_leg_and_split_its_km() -> None:
    """A rest sits on the straight (great-circle) line at the share of the km driven."""
    end = toward_guizhou(1000)
    table = build_timetable([gate(), county(*end)], [leg(1000)], at(8), POLICY)
    total_gc = great_circle_km(*CIXI, *end)
    driven = 0.0
    for stop in table.stops[1:-1]:
        driven += stop.km_from_previous
        from_gate = great_circle_km(*CIXI, stop.lon, stop.lat)
        assert from_gate == pytest.approx(total_gc * driven / 1000, abs=0.5)
    assert sum(s.km_from_previous for s in table.stops) == pytest.approx(1000)


def test_rests_follow_the_road_line() -> None:
    """With a road polyline, the rest lies on it (here at its corner after 320 km of 400)."""
    corner = (118.0, 30.172704)
    line = (CIXI, corner, LINQUAN)
    first = great_circle_km(*CIXI, *corner)
    second = great_circle_km(*corner, *LINQUAN)
    road = Leg(
        distance_m=round((first + second) * 1000),
        duration_s=round((first + second) / 80 * 3600),
        line=line,
    )
    table = build_timetable([gate(), county(*LINQUAN)], [road], at(8), POLICY)
    rest = table.rests[0]
    share = rest.km_from_previous / (first + second)
    along = share * (first + second)
    if along <= first:
        assert great_circle_km(*CIXI, rest.lon, rest.lat) == pytest.approx(along, rel=0.01)
    else:
        assert great_circle_km(*corner, rest.lon, rest.lat) == pytest.approx(
            along - first, rel=0.01
        )
    assert violations(table) == []


def test_departure_in_park_window_waits_at_the_gate() -> None:
    """Asked to leave at 03:00, the coach parks at the gate until 05:00 (a rest stop with 0 km)."""
    table = build_timetable([gate(), county(*toward_guizhou(100))], [leg(100)], at(3), POLICY)
    park = table.stops[1]
    assert park.kind == "rest" and park.km_from_previous == 0
    assert (park.lon, park.lat) == CIXI
    assert park.depart == at(5)
    assert violations(table) == []


def test_drop_off_reached_in_the_park_window_waits_there() -> None:
    """Arriving at a drop-off at 01:50, the coach parks there before driving on."""
    middle = (120.5, 30.5)
    first_km = great_circle_km(*CIXI, *middle) * 1.3
    table = build_timetable(
        [gate(), county(*middle), county(*LINQUAN)],
        [leg(first_km), leg(great_circle_km(*middle, *LINQUAN) * 1.3)],
        at(1, 50) - dt.timedelta(seconds=round(first_km / 80 * 3600 / 0.8)),
        POLICY,
    )
    assert violations(table) == []
    assert any(s.note.startswith("park") for s in table.rests)


def test_single_stop_trip() -> None:
    """A trip of one stop and no legs is its dwell."""
    table = build_timetable([gate()], [], at(8), POLICY)
    assert table.stops[0].arrive == at(7, 40) and table.arrival == at(7, 40)
    assert table.distance_km == 0 and table.drivers == 1


def test_legs_must_match_stops() -> None:
    """Legs are the gaps between stops."""
    with pytest.raises(InvalidInput, match="needs 1 legs, not 2"):
        build_timetable([gate(), county(*toward_guizhou(10))], [leg(10), leg(10)], at(8), POLICY)
    with pytest.raises(InvalidInput, match="at least one stop"):
        build_timetable([], [], at(8), POLICY)
    with pytest.raises(InvalidInput, match="must take driving time"):
        Leg(distance_m=100, duration_s=0)


def test_crew_size() -> None:
    """2 above 400 km; more when a day's driving exceeds 8 h per driver."""
    assert crew_size(400, 300, 320, POLICY) == 1
    assert crew_size(401, 300, 320, POLICY) == 2
    assert crew_size(300, 600, 700, POLICY) == 2  # 10 h of driving in one day
    assert crew_size(2000, 1500, 1400, POLICY) == 4  # 25 h inside 24 h: more than max_drivers
    assert crew_size(2000, 1500, 2000, POLICY) == 2  # over two days, 12.5 h a day
    with pytest.raises(InvalidInput, match="must not be negative"):
        crew_size(-1, 0, 0, POLICY)


def test_departure_candidates_cover_the_policy_hours() -> None:
    """Every 30 min from earliest to latest departure hour, both included."""
    times = departure_candidates(DAY, POLICY)
    assert times[0] == at(6) and times[-1] == at(22)
    assert len(times) == 33


def test_plan_timetable_picks_a_legal_departure_deterministically() -> None:
    """plan_timetable departs within the hours, prefers fewest drivers then earliest arrival."""
    stops, legs = [gate(), county(*toward_guizhou(2000))], [leg(2000)]
    first = plan_timetable(stops, legs, DAY, POLICY)
    again = plan_timetable(stops, legs, DAY, POLICY)
    assert first == again
    assert at(6) <= first.departure <= at(22)
    assert violations(first) == []
    for departure in departure_candidates(DAY, POLICY):
        other = build_timetable(stops, legs, departure, POLICY)
        assert (other.drivers, other.arrival) >= (first.drivers, first.arrival)


def test_plan_timetable_with_two_drivers_prefers_less_extra_rest() -> None:
    """With a crew of 2 to Guizhou, the departure needing the least extra rest wins."""
    policy = Policy(max_drivers=2)
    stops, legs = [gate(), county(*toward_guizhou(2000))], [leg(2000)]
    best = plan_timetable(stops, legs, DAY, policy)
    for departure in departure_candidates(DAY, policy)[::4]:
        other = build_timetable(stops, legs, departure, policy)
        assert other.extra_rest_minutes >= best.extra_rest_minutes
    assert violations(best, policy) == []


# -- property: whatever the legs and departure, the checker finds nothing ----------------------

points = st.tuples(st.floats(100.0, 122.0), st.floats(22.0, 40.0))


@st.composite
def trips(draw: st.DrawFn) -> tuple[list[ServiceStop], list[Leg], dt.datetime, Policy]:
    count = draw(st.integers(1, 5))
    places = [draw(points) for _ in range(count)]
    stops = []
    for index, (lon, lat) in enumerate(places):
        dwell = draw(st.sampled_from([0, 5, 10, 20, 30])) * 60
        kind = "pickup" if index == 0 or (draw(st.booleans()) and index < 2) else "dropoff"
        stops.append(ServiceStop(kind, lon, lat, dwell))
    legs = []
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(places):
        straight = great_circle_km(lon1, lat1, lon2, lat2)
        detour = draw(st.floats(1.0, 1.6))
        speed = draw(st.floats(30.0, 100.0))
        km = straight * detour + 0.2
        legs.append(
            Leg(distance_m=round(km * 1000) + 1, duration_s=max(1, round(km / speed * 3600)) + 60)
        )
    departure = dt.datetime(2019, 1, 20) + dt.timedelta(minutes=draw(st.integers(0, 48 * 60)))
    if draw(st.booleans()):
        policy = Policy(
            max_drivers=draw(st.integers(2, 4)),
            min_rest_minutes=draw(st.sampled_from([15, 20, 30])),
            night_speed_factor=draw(st.sampled_from([0.8, 1.0])),
        )
    else:  # any rule values at all, windows included: engine and checker must still agree
        policy = Policy(
            night_start_hour=draw(st.integers(0, 23)),
            night_end_hour=draw(st.integers(0, 23)),
            park_start_hour=draw(st.integers(0, 23)),
            park_end_hour=draw(st.integers(0, 23)),
            day_max_continuous_driving_minutes=draw(st.integers(30, 300)),
            night_max_continuous_driving_minutes=draw(st.integers(30, 300)),
            min_rest_minutes=draw(st.integers(5, 60)),
            max_driving_per_driver_24h_minutes=draw(st.integers(120, 720)),
            max_driving_per_driver_7d_minutes=draw(st.integers(600, 3000)),
            night_speed_factor=draw(st.floats(0.5, 1.0)),
            max_drivers=draw(st.integers(1, 4)),
        )
    return stops, legs, departure, policy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trips())
def test_every_timetable_passes_the_checker(case: tuple) -> None:
    """For random legs and departures at any hour, the engine's timetable has no violation."""
    stops, legs, departure, policy = case
    table = build_timetable(stops, legs, departure, policy)
    errors = violations(table, policy)
    if not table.legal:  # only when the 2-driver rule exceeds max_drivers, and it says so
        assert policy.max_drivers < 2 and table.distance_km > policy.two_driver_km
        errors = [e for e in errors if "needs 2 drivers" not in e]
    assert errors == []
    assert table.distance_km == pytest.approx(sum(leg.distance_m for leg in legs) / 1000)
    assert sum(s.km_from_previous for s in table.stops) == pytest.approx(
        table.distance_km, abs=0.01
    )
    service = [s for s in table.stops if s.kind != "rest"]
    assert [(s.lon, s.lat) for s in service] == [(s.lon, s.lat) for s in stops]
    assert table.departure == departure.replace(microsecond=0)


def test_checker_rejects_timetables_built_under_looser_rules() -> None:
    """The checker is not lenient: an engine with looser rule values is caught on every rule."""
    loose = Policy(
        day_max_continuous_driving_minutes=300,
        night_max_continuous_driving_minutes=300,
        park_start_hour=0,
        park_end_hour=0,
        night_speed_factor=1.0,
        max_driving_per_driver_24h_minutes=900,
    )
    stops, legs = [gate(), county(*toward_guizhou(1000))], [leg(1000, speed_kmh=100)]
    table = build_timetable(stops, legs, at(18), loose, drivers=1)
    errors = "\n".join(violations(table))
    for rule in ("night limit", "02:00 and 05:00", "faster than", "24 h", "needs 2 drivers"):
        assert rule in errors


def test_plan_timetable_same_on_any_day_and_keeps_who_boards() -> None:
    """The cached answer shifted to another day equals a fresh build, passengers included."""
    stops, legs = [gate(), county(*toward_guizhou(700), adcode="341221")], [leg(700)]
    first = plan_timetable(stops, legs, DAY, POLICY)
    later = plan_timetable(stops, legs, DAY + dt.timedelta(days=3), POLICY)
    assert later.departure - first.departure == dt.timedelta(days=3)
    assert first.stops[0].board == ("w1",) and first.stops[0].company_id == "c1"
    assert first.stops[-1].alight == ("w1",) and first.stops[-1].adcode == "341221"
    assert build_timetable(stops, legs, later.departure, POLICY) == later
