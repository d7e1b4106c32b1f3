"""Who pays what (optimizer/costs.py): shares add up to each trip's cost, the subsidy cap holds."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.costs import SubsidyRule, passenger_km, rmb, season_costs, split_trip, to_fen
from optimizer.model import Passenger, Stop, Trip

T0 = dt.datetime(2026, 2, 8, 8)


def trip(cost: float, riders: list[tuple[str, int, int, int]], kms: list[float]) -> Trip:
    """A trip over stops with `kms` from the previous stop; riders (company, board, alight,
    seats)."""
    stops = tuple(
        Stop("pickup" if i == 0 else "dropoff", 0.0, 0.0, T0, T0, km_from_previous=km)
        for i, km in enumerate([0.0, *kms])
    )
    passengers = tuple(
        Passenger(f"w{i}", c, i + 1, b, a, seat_count=s) for i, (c, b, a, s) in enumerate(riders)
    )
    return Trip("T1", "C53", 53, 2, T0.date(), stops, passengers, cost=cost)


def test_shares_follow_passenger_km() -> None:
    """A rides 1,000 km, B two passengers 500 km: equal passenger-km, equal halves."""
    t = trip(10_000.0, [("A", 0, 2, 1), ("B", 0, 1, 1), ("B", 0, 1, 1)], [500.0, 500.0])
    assert passenger_km(t) == {"A": (1, 1, 1000.0), "B": (2, 2, 1000.0)}
    assert [(s.company_id, s.share_fen) for s in split_trip(t)] == [("A", 500_000), ("B", 500_000)]


def test_a_childs_seat_counts_in_passenger_km() -> None:
    t = trip(300.0, [("A", 0, 1, 2), ("B", 0, 1, 1)], [100.0])
    assert [s.share_fen for s in split_trip(t)] == [20_000, 10_000]


@settings(max_examples=200, deadline=None)
@given(
    cost=st.floats(min_value=0, max_value=80_000, allow_nan=False).map(lambda c: round(c, 2)),
    riders=st.lists(
        st.tuples(
            st.sampled_from("ABCDEFG"), st.integers(0, 1), st.integers(2, 3), st.integers(1, 2)
        ),
        min_size=1,
        max_size=53,
    ),
    kms=st.lists(st.floats(min_value=0.1, max_value=900), min_size=3, max_size=3),
)
def test_shares_add_up_to_each_trips_cost_in_fen(
    cost: float, riders: list[tuple[str, int, int, int]], kms: list[float]
) -> None:
    """Whatever the riders and km, the companies' shares add up exactly to the trip's cost."""
    shares = split_trip(trip(cost, riders, kms))
    assert sum(s.share_fen for s in shares) == to_fen(cost)
    assert all(s.share_fen >= 0 for s in shares)


def test_the_subsidy_cap_holds() -> None:
    """Cixi 2023: half of the charter cost, at most 200,000 RMB per company."""
    rule = SubsidyRule.CIXI_2023
    assert rule.subsidy_fen(to_fen(100_000)) == to_fen(50_000)
    assert rule.subsidy_fen(to_fen(399_999.98)) == to_fen(199_999.99)
    assert rule.subsidy_fen(to_fen(1_000_000)) == to_fen(200_000)
    assert SubsidyRule(share=0.3, cap_per_company=None).subsidy_fen(to_fen(1_000_000)) == to_fen(
        300_000
    )


def test_season_statements_and_totals() -> None:
    """Each company's statement sums its shares; the season total is the trips' cost; a big
    company's subsidy stops at the cap."""
    trips = [
        trip(600_000.0, [("BIG", 0, 1, 1)], [800.0]),
        trip(9_000.0, [("BIG", 0, 1, 1), ("SMALL", 0, 1, 2)], [800.0]),
    ]
    trips[1] = Trip(**{**trips[1].__dict__, "trip_id": "T2"})
    costs = season_costs(trips)
    assert costs.total_cost_fen == to_fen(609_000)
    big, small = costs.companies
    assert big.cost_fen == to_fen(603_000) and small.cost_fen == to_fen(6_000)
    assert big.subsidy_fen == to_fen(200_000) and small.subsidy_fen == to_fen(3_000)
    assert big.payable_fen + small.payable_fen == to_fen(609_000 - 203_000)
    assert rmb(big.payable_fen) == "403000.00"


def test_plan_json_carries_the_costs_under_the_scenarios_rule() -> None:
    """plan.json's `costs` uses the scenario's [subsidy] rule; shares add up per trip."""
    from optimizer.model import Kpis, Plan
    from optimizer.write import plan_to_json

    trips = (trip(1234.57, [("A", 0, 1, 1), ("B", 0, 2, 1), ("C", 1, 2, 1)], [333.3, 111.1]),)
    kpis = Kpis(3, 3, 0, 1, 53, 0.06, 444.4, 0.0, 1234.57, 1, 0.0, 0.0)
    data = plan_to_json(
        Plan("s", "home", trips, (), kpis), subsidy=SubsidyRule(share=0.4, cap_per_company=100)
    )["costs"]
    assert data["total_cost_fen"] == 123_457
    assert sum(c["cost_fen"] for c in data["companies"]) == 123_457
    assert data["rule"] == {"share": 0.4, "cap_per_company": 100}
    assert all(c["subsidy_fen"] <= 10_000 for c in data["companies"])
