"""Coach duties: chaining trips into the work of physical coaches."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from optimizer.duties import EmptyDrive, build_duties, layover_minutes, overlap_bound
from optimizer.geography.distance import Location, great_circle_km
from optimizer.model import Policy, Stop, Trip, VehicleType

CIXI = Location(121.27, 30.17, "330282")
LINQUAN = Location(115.26, 33.06, "341221")
WEINING = Location(104.28, 26.86, "520526")
POLICY = Policy()


def straight_timer(origin: Location, destination: Location, depart: dt.datetime) -> EmptyDrive:
    """An empty drive at 60 km/h on 1.3 x great-circle km: simple and clearly slower than legal."""
    km = 1.3 * great_circle_km(origin.lon, origin.lat, destination.lon, destination.lat)
    minutes = round(km)
    return EmptyDrive(depart, depart + dt.timedelta(minutes=minutes), km, minutes, 1)


def make_trip(
    trip_id: str,
    start: Location,
    end: Location,
    depart: dt.datetime,
    hours: float,
    vehicle: str = "53",
) -> Trip:
    arrive = depart + dt.timedelta(hours=hours)
    km = 1.3 * great_circle_km(start.lon, start.lat, end.lon, end.lat)
    stops = (
        Stop("pickup", start.lon, start.lat, depart, depart, adcode=start.adcode),
        Stop("dropoff", end.lon, end.lat, arrive, arrive, km_from_previous=km, adcode=end.adcode),
    )
    return Trip(
        trip_id,
        vehicle,
        53,
        2,
        depart.date(),
        stops,
        distance_km=km,
        driving_minutes=round(hours * 60 * 0.8),
    )


def fleet(count: int = 10) -> list[VehicleType]:
    return [VehicleType("53", 53, count, 8.0, 1500.0)]


def check_duties(trips: list[Trip], result, timer=straight_timer) -> None:  # type: ignore[no-untyped-def]
    """Every trip in exactly one duty; a coach's trips never overlap, with a legal gap between."""
    by_id = {t.trip_id: t for t in trips}
    seen = [tid for duty in result.duties for tid in duty.trip_ids]
    assert sorted(seen) == sorted(by_id)
    for duty in result.duties:
        chain = [by_id[tid] for tid in duty.trip_ids]
        for before, after in itertools.pairwise(chain):
            ready = before.arrival + dt.timedelta(
                minutes=layover_minutes(before.driving_minutes, POLICY)
            )
            end = Location(before.stops[-1].lon, before.stops[-1].lat, before.stops[-1].adcode)
            start = Location(after.stops[0].lon, after.stops[0].lat, after.stops[0].adcode)
            drive = timer(end, start, ready)
            assert drive.arrive <= after.departure, (duty.coach_id, before.trip_id, after.trip_id)
        for leg_a, leg_b in itertools.pairwise(duty.legs):
            assert leg_a.end <= leg_b.start
    assert result.kpis.coaches == len(result.duties)


def test_short_trips_on_different_days_share_one_coach() -> None:
    """A coach back from Anhui the next day takes the second Anhui trip two days later."""
    day = dt.datetime(2019, 1, 28, 8)
    trips = [
        make_trip("A", CIXI, LINQUAN, day, 10),
        make_trip("B", CIXI, LINQUAN, day + dt.timedelta(days=2), 10),
    ]
    result = build_duties(trips, fleet(), depot=CIXI, timer=straight_timer, policy=POLICY)
    check_duties(trips, result)
    assert result.kpis.coaches == 1
    assert result.duties[0].trip_ids == ("A", "B")
    # Out to the gate is 0 km here; back from Linquan twice.
    assert result.kpis.deadhead_km > 0


def test_overlapping_trips_need_their_own_coaches() -> None:
    """Trips running at the same time cannot share a coach; the count meets the overlap bound."""
    day = dt.datetime(2019, 1, 28, 8)
    trips = [make_trip(f"T{i}", CIXI, WEINING, day + dt.timedelta(hours=i), 26) for i in range(3)]
    result = build_duties(trips, fleet(), depot=CIXI, timer=straight_timer, policy=POLICY)
    check_duties(trips, result)
    assert result.kpis.coaches == 3 == overlap_bound(trips)


def test_backhaul_links_an_outbound_trip_with_a_return_wave_trip() -> None:
    """A coach that took workers to Weining brings others back: no empty drive between."""
    day = dt.datetime(2019, 1, 30, 8)
    home = make_trip("H1", CIXI, WEINING, day, 26)
    back = make_trip("R1", WEINING, CIXI, day + dt.timedelta(days=12), 26)
    result = build_duties([home, back], fleet(), depot=CIXI, timer=straight_timer, policy=POLICY)
    check_duties([home, back], result)
    assert result.kpis.coaches == 1
    assert result.kpis.deadhead_km == pytest.approx(0.0, abs=0.1)


def test_fleet_shortage_is_reported_not_hidden() -> None:
    """Needing more coaches of a type than the fleet has is listed as a shortage."""
    day = dt.datetime(2019, 1, 28, 8)
    trips = [make_trip(f"T{i}", CIXI, WEINING, day, 26) for i in range(3)]
    result = build_duties(trips, fleet(count=2), depot=CIXI, timer=straight_timer, policy=POLICY)
    assert result.kpis.coaches == 3
    assert any("need 3 coaches" in s and "has 2" in s for s in result.kpis.shortages)


def _can_follow(a: Trip, b: Trip) -> bool:
    ready = a.arrival + dt.timedelta(minutes=layover_minutes(a.driving_minutes, POLICY))
    end = Location(a.stops[-1].lon, a.stops[-1].lat, a.stops[-1].adcode)
    start = Location(b.stops[0].lon, b.stops[0].lat, b.stops[0].adcode)
    drive = straight_timer(end, start, ready)
    extra = layover_minutes(drive.driving_minutes, POLICY) if drive.distance_km else 0
    return ready <= b.departure and drive.arrive + dt.timedelta(minutes=extra) <= b.departure


def _deadhead_km(chain: list[Trip], depot: Location) -> float:
    """Out from the depot to the first pickup, between trips, and home after the last."""
    places = [depot]
    for trip in chain:
        places += [
            Location(trip.stops[0].lon, trip.stops[0].lat),
            Location(trip.stops[-1].lon, trip.stops[-1].lat),
        ]
    places.append(depot)
    return sum(
        1.3 * great_circle_km(a.lon, a.lat, b.lon, b.lat)
        for a, b in zip(places[0::2], places[1::2], strict=True)
    )


def brute_force_best_cover(trips: list[Trip], depot: Location) -> tuple[int, float]:
    """Fewest chains covering `trips` where i may precede j when the coach gets there in time,
    and among those the fewest deadhead km, by trying every grouping."""
    best = (len(trips) + 1, 0.0)
    for labels in itertools.product(range(len(trips)), repeat=len(trips)):
        groups: dict[int, list[Trip]] = {}
        for trip, label in zip(trips, labels, strict=True):
            groups.setdefault(label, []).append(trip)
        if len(groups) > best[0]:
            continue
        chains = [sorted(g, key=lambda t: t.departure) for g in groups.values()]
        if all(_can_follow(a, b) for c in chains for a, b in itertools.pairwise(c)):
            best = min(best, (len(chains), sum(_deadhead_km(c, depot) for c in chains)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_chaining_uses_the_fewest_coaches_then_the_fewest_deadhead_km(seed: int) -> None:
    """On small random seasons the min-cost flow matches an exhaustive search of chainings:
    first on the number of coaches, then on the empty km of those coaches."""
    rng = random.Random(seed)
    places = [CIXI, LINQUAN, WEINING]
    trips = []
    for i in range(6):
        start, end = rng.sample(places, 2)
        depart = dt.datetime(2019, 1, 25, 6) + dt.timedelta(hours=rng.randrange(0, 24 * 8, 3))
        hours = 1.3 * great_circle_km(start.lon, start.lat, end.lon, end.lat) / 70
        trips.append(make_trip(f"T{i}", start, end, depart, hours))
    result = build_duties(trips, fleet(), depot=CIXI, timer=straight_timer, policy=POLICY)
    check_duties(trips, result)
    coaches, deadhead = brute_force_best_cover(trips, CIXI)
    assert result.kpis.coaches == coaches
    assert result.kpis.deadhead_km == pytest.approx(deadhead, abs=0.1)
    assert result.kpis.coaches >= overlap_bound(trips)


def test_coach_days_count_days_away_not_days_idle_at_the_depot() -> None:
    """A coach back home between two Anhui trips a week apart is busy only on driving days."""
    day = dt.datetime(2019, 1, 20, 8)
    trips = [
        make_trip("A", CIXI, LINQUAN, day, 10),
        make_trip("B", CIXI, LINQUAN, day + dt.timedelta(days=7), 10),
    ]
    result = build_duties(trips, fleet(), depot=CIXI, timer=straight_timer, policy=POLICY)
    assert result.kpis.coaches == 1
    # Each trip: out on day 0, arrive in the evening, crew rest overnight, drive back on day 1.
    assert result.duties[0].days_busy == 4


def test_coach_days_count_waiting_away_for_a_backhaul() -> None:
    """A coach waiting in Weining for the return wave is away, so those days count."""
    day = dt.datetime(2019, 1, 30, 8)
    home = make_trip("H1", CIXI, WEINING, day, 26)
    back = make_trip("R1", WEINING, CIXI, day + dt.timedelta(days=12), 26)
    result = build_duties([home, back], fleet(), depot=CIXI, timer=straight_timer, policy=POLICY)
    assert result.duties[0].days_busy == 14


@pytest.mark.parametrize("seed", range(4))
def test_trips_beyond_fleet_keeps_the_most_trips_a_short_fleet_can_drive(seed: int) -> None:
    """With fewer coaches than the trips need, the trips kept are as many as any subset that
    fits (checked by trying every subset), the kept trips fit, and `keep` trips stay."""
    from optimizer.duties import trips_beyond_fleet

    rng = random.Random(100 + seed)
    places = [CIXI, LINQUAN, WEINING]
    trips = []
    for i in range(7):
        start, end = rng.sample(places, 2)
        depart = dt.datetime(2019, 1, 25, 6) + dt.timedelta(hours=rng.randrange(0, 24 * 6, 3))
        hours = 1.3 * great_circle_km(start.lon, start.lat, end.lon, end.lat) / 70
        trips.append(make_trip(f"T{i}", start, end, depart, hours))
    need = build_duties(trips, fleet(), depot=CIXI, timer=straight_timer, policy=POLICY)
    coaches = max(1, need.kpis.coaches - 1)

    def fits(subset: list[Trip]) -> bool:
        result = build_duties(subset, fleet(), depot=CIXI, timer=straight_timer, policy=POLICY)
        return result.kpis.coaches <= coaches

    def most(must: str | None) -> int:
        return max(
            len(subset)
            for size in range(len(trips) + 1)
            for subset in itertools.combinations(trips, size)
            if (must is None or must in {t.trip_id for t in subset}) and fits(list(subset))
        )

    for keep in (set(), {"T6"}):
        dropped = trips_beyond_fleet(
            trips, fleet(coaches), depot=CIXI, timer=straight_timer, policy=POLICY, keep=keep
        )
        kept = [t for t in trips if t.trip_id not in dropped]
        assert not keep & dropped
        assert fits(kept)
        assert len(kept) == most(next(iter(keep), None))
    assert (
        trips_beyond_fleet(
            trips, fleet(need.kpis.coaches), depot=CIXI, timer=straight_timer, policy=POLICY
        )
        == set()
    )
