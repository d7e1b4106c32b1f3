"""Hand-planning baselines: coaches counted per (company,) county and date."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from optimizer.baseline import hand_planning_trips, plain_county_date_trips
from optimizer.errors import InvalidInput
from optimizer.model import Company, Scenario, VehicleType, Worker

DAY = dt.date(2019, 1, 28)
FLEET = (
    VehicleType("coach-53", 53, 10, 7.5, 1500.0),
    VehicleType("coach-45", 45, 10, 6.8, 1300.0),
    VehicleType("coach-35", 35, 10, 6.0, 1100.0),
)


def workers(
    count: int,
    company: str,
    county: str | None,
    *,
    earliest: dt.date = DAY,
    latest: dt.date | None = None,
    seats: int = 1,
    prefix: str = "",
) -> list[Worker]:
    """`count` workers of one company going to one county with the same window."""
    return [
        Worker(
            worker_id=f"{prefix}{company}-{county}-{earliest:%m%d}-{i}",
            company_id=company,
            name="王伟",
            id_number="",
            phone="",
            home=county or "?",
            earliest=earliest,
            latest=latest or earliest,
            seats=seats,
            home_adcode=county,
        )
        for i in range(count)
    ]


def scenario(people: list[Worker], fleet: tuple[VehicleType, ...] = FLEET) -> Scenario:
    return Scenario(
        name="baseline",
        direction="home",
        origin="330282",
        festival_date=dt.date(2019, 2, 5),
        first_departure=dt.date(2019, 1, 22),
        last_departure=dt.date(2019, 2, 4),
        companies=(Company("A", "A", 121.2, 30.2), Company("B", "B", 121.3, 30.2)),
        workers=tuple(people),
        fleet=fleet,
    )


def test_plain_pools_companies_of_one_county_and_date() -> None:
    """Two companies with 20 each to one county on one date share a coach in the plain plan."""
    season = scenario(workers(20, "A", "341221") + workers(20, "B", "341221"))
    plain = plain_county_date_trips(season)
    hand = hand_planning_trips(season)
    assert (plain.trips, plain.groups) == (1, 1)
    assert (hand.trips, hand.groups) == (2, 2)
    assert plain.people == hand.people == 40
    assert plain.people_per_coach == 40.0
    assert hand.people_per_coach == 20.0


def test_counties_and_dates_are_never_mixed() -> None:
    """Another county or another date is another coach group."""
    season = scenario(
        workers(10, "A", "341221")
        + workers(10, "A", "411525")
        + workers(10, "A", "341221", earliest=DAY + dt.timedelta(days=1))
    )
    assert plain_county_date_trips(season).trips == 3
    assert hand_planning_trips(season).trips == 3


def test_coaches_are_the_ceiling_of_seats_over_capacity() -> None:
    """A group needs ⌈seats / capacity⌉ coaches; extra seats (children) count."""
    season = scenario(workers(100, "A", "341221") + workers(3, "B", "341221", seats=2))
    plain = plain_county_date_trips(season)
    assert plain.seats == 106
    assert plain.trips == math.ceil(106 / 53) == 2
    assert plain_county_date_trips(season, capacity=45).trips == 3
    assert plain.seat_bound_trips == 2


def test_departure_is_the_first_day_of_the_window() -> None:
    """Workers with different windows that start the same day ride together."""
    season = scenario(
        workers(20, "A", "341221", latest=DAY + dt.timedelta(days=3))
        + workers(20, "B", "341221", prefix="x")
    )
    assert plain_county_date_trips(season).groups == 1


def test_last_coach_is_the_smallest_that_fits() -> None:
    """Seats offered: full coaches at capacity, the remainder on the smallest fitting type."""
    season = scenario(workers(60, "A", "341221") + workers(30, "B", "411525"))
    plain = plain_county_date_trips(season)
    # 60 seats: 53 + a 35-seat coach for 7; 30 seats: a 35-seat coach.
    assert plain.seats_offered == 53 + 35 + 35
    assert plain.seat_utilization == pytest.approx(90 / 123)


def test_unknown_homes_and_empty_windows_are_not_planned() -> None:
    """Workers without a county or with no date inside the season are counted as unplanned."""
    season = scenario(
        workers(5, "A", None)
        + workers(4, "A", "341221", earliest=dt.date(2019, 2, 10))
        + workers(3, "B", "341221", earliest=DAY, latest=DAY - dt.timedelta(days=1))
        + workers(2, "B", "341221", earliest=dt.date(2019, 1, 20), latest=dt.date(2019, 1, 23))
    )
    plain = plain_county_date_trips(season)
    assert plain.unplanned == 12
    assert plain.people == 2
    assert plain.trips == 1


def test_capacity_defaults_to_the_largest_available_coach() -> None:
    """Without a capacity the largest coach type with coaches available is used."""
    fleet = (VehicleType("big", 57, 0, 8.0, 1.0), VehicleType("mid", 45, 3, 7.0, 1.0))
    season = scenario(workers(50, "A", "341221"), fleet=fleet)
    assert plain_county_date_trips(season).capacity == 45
    assert plain_county_date_trips(season).trips == 2


def test_empty_fleet_needs_a_capacity() -> None:
    """With no coaches the capacity must be given."""
    season = scenario(workers(5, "A", "341221"), fleet=())
    with pytest.raises(InvalidInput, match="fleet has no coaches"):
        plain_county_date_trips(season)
    assert plain_county_date_trips(season, capacity=53).trips == 1
    with pytest.raises(InvalidInput, match="capacity must be at least 1"):
        hand_planning_trips(season, capacity=0)


def test_empty_season_has_no_trips() -> None:
    """No workers, no coaches."""
    plain = plain_county_date_trips(scenario([]))
    assert (plain.trips, plain.people_per_coach, plain.seat_utilization) == (0, 0.0, 0.0)
