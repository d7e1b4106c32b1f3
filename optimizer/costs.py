"""Who pays what: each trip's cost split over the companies on board, subsidies, statements.

**The split.** A trip's cost (`Trip.cost`, RMB) is shared among the companies whose workers ride
it, pro rata by passenger-km: a passenger's km are the road km from the stop where they board
to the stop where they alight (the sum of `km_from_previous` in between), times the seats they
take (a child's seat counts). A company's share is its passenger-km over the trip's.

**Rounding.** Money is counted in fen (0.01 RMB), as integers. The trip's cost is rounded to
fen once; each company gets the floor of its exact share, and the fen left over go one each to
the companies with the largest remainders (ties: company id), so the shares add up to the
trip's cost exactly (largest-remainder method). A trip with nobody on board (or no km) is
"unallocated" and listed as such.

**Subsidy.** `SubsidyRule(share, cap_per_company)`: each company gets `share` of its season
charter cost, rounded half up to fen, at most `cap_per_company` RMB (None: no cap). Cixi 2023:
50 % of the charter fee, at most 200,000 RMB per company (`SubsidyRule.CIXI_2023`).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from optimizer.model import SubsidyRule, Trip

__all__ = ["SubsidyRule", "rmb", "season_costs", "split_trip", "to_fen"]


def to_fen(rmb: float | Decimal) -> int:
    """RMB to whole fen, rounded half up."""
    return int((Decimal(str(rmb)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rmb(fen: int) -> str:
    """Fen as an RMB amount with two decimals: 123456 -> "1234.56"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@dataclass(frozen=True)
class TripShare:
    """One company's part of one trip."""

    trip_id: str
    company_id: str
    passengers: int
    seats: int
    passenger_km: float
    share_fen: int


@dataclass(frozen=True)
class CompanyStatement:
    """What one company owes for the season, its subsidy and what is left to pay."""

    company_id: str
    trips: tuple[TripShare, ...]
    passengers: int
    passenger_km: float
    cost_fen: int
    subsidy_fen: int

    @property
    def payable_fen(self) -> int:
        return self.cost_fen - self.subsidy_fen


@dataclass(frozen=True)
class SeasonCosts:
    """The season's money: every trip's shares, every company's statement, the totals."""

    rule: SubsidyRule
    shares: tuple[TripShare, ...]
    companies: tuple[CompanyStatement, ...]
    trip_cost_fen: dict[str, int]
    unallocated_trips: tuple[str, ...]

    @property
    def total_cost_fen(self) -> int:
        return sum(self.trip_cost_fen.values())

    @property
    def total_subsidy_fen(self) -> int:
        return sum(c.subsidy_fen for c in self.companies)

    @property
    def unallocated_fen(self) -> int:
        return sum(self.trip_cost_fen[t] for t in self.unallocated_trips)


def passenger_km(trip: Trip) -> dict[str, tuple[int, int, float]]:
    """Per company on board: (passengers, seats, passenger-km) of `trip`."""
    cumulative = [0.0]
    for stop in trip.stops[1:]:
        cumulative.append(cumulative[-1] + stop.km_from_previous)
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for p in trip.passengers:
        km = max(0.0, cumulative[p.alight_stop] - cumulative[p.board_stop])
        entry = totals[p.company_id]
        entry[0] += 1
        entry[1] += p.seat_count
        entry[2] += km * p.seat_count
    return {c: (int(v[0]), int(v[1]), v[2]) for c, v in totals.items()}


def split_trip(trip: Trip) -> list[TripShare]:
    """The trip's cost over its companies, pro rata by passenger-km, in fen adding up exactly
    to the trip's cost ([] when nobody rides any km: the cost is unallocated)."""
    total_fen = to_fen(trip.cost)
    usage = passenger_km(trip)
    # Passenger-km in metres (integers) so the split is exact arithmetic.
    weights = {c: round(v[2] * 1000) for c, v in usage.items()}
    whole = sum(weights.values())
    if whole <= 0:
        return []
    base = {c: total_fen * w // whole for c, w in weights.items()}
    remainders = sorted(weights, key=lambda c: (-(total_fen * weights[c] % whole), c))
    left = total_fen - sum(base.values())
    for company in remainders[:left]:
        base[company] += 1
    return [
        TripShare(trip.trip_id, c, usage[c][0], usage[c][1], usage[c][2], base[c])
        for c in sorted(usage)
    ]


def season_costs(trips: Iterable[Trip], rule: SubsidyRule | None = None) -> SeasonCosts:
    """Every trip split, every company's statement under `rule` (Cixi 2023 when None)."""
    rule = rule or SubsidyRule.CIXI_2023
    shares: list[TripShare] = []
    trip_cost: dict[str, int] = {}
    unallocated: list[str] = []
    for trip in sorted(trips, key=lambda t: (t.departure, t.trip_id)):
        trip_cost[trip.trip_id] = to_fen(trip.cost)
        split = split_trip(trip)
        if not split and trip_cost[trip.trip_id]:
            unallocated.append(trip.trip_id)
        shares.extend(split)
    by_company: dict[str, list[TripShare]] = defaultdict(list)
    for share in shares:
        by_company[share.company_id].append(share)
    companies = []
    for company_id in sorted(by_company):
        own = by_company[company_id]
        cost = sum(s.share_fen for s in own)
        companies.append(
            CompanyStatement(
                company_id=company_id,
                trips=tuple(own),
                passengers=sum(s.passengers for s in own),
                passenger_km=sum(s.passenger_km for s in own),
                cost_fen=cost,
                subsidy_fen=rule.subsidy_fen(cost),
            )
        )
    return SeasonCosts(rule, tuple(shares), tuple(companies), trip_cost, tuple(unallocated))


def costs_to_json(costs: SeasonCosts) -> dict[str, Any]:
    """The season's money as plain JSON values (plan.json's `costs`; amounts in fen and RMB)."""
    return {
        "method": "pro rata by passenger-km, largest remainder to fen",
        "rule": dataclasses.asdict(costs.rule),
        "total_cost_fen": costs.total_cost_fen,
        "total_subsidy_fen": costs.total_subsidy_fen,
        "total_payable_fen": costs.total_cost_fen - costs.total_subsidy_fen - costs.unallocated_fen,
        "unallocated_fen": costs.unallocated_fen,
        "unallocated_trips": list(costs.unallocated_trips),
        "companies": [
            {
                "company_id": c.company_id,
                "passengers": c.passengers,
                "passenger_km": round(c.passenger_km, 3),
                "cost_fen": c.cost_fen,
                "subsidy_fen": c.subsidy_fen,
                "payable_fen": c.payable_fen,
                "trips": [
                    {
                        "trip_id": s.trip_id,
                        "passengers": s.passengers,
                        "seats": s.seats,
                        "passenger_km": round(s.passenger_km, 3),
                        "share_fen": s.share_fen,
                    }
                    for s in c.trips
                ],
            }
            for c in costs.companies
        ],
    }


def statement_rows(statement: CompanyStatement, trips: Sequence[Trip]) -> list[dict[str, str]]:
    """One row per trip of a company's statement, as text (for XLSX and PDF)."""
    by_id = {t.trip_id: t for t in trips}
    rows = []
    for share in statement.trips:
        trip = by_id.get(share.trip_id)
        rows.append(
            {
                "trip_id": share.trip_id,
                "date": f"{trip.departure:%Y-%m-%d}" if trip else "",
                "passengers": str(share.passengers),
                "passenger_km": f"{share.passenger_km:,.1f}",
                "trip_cost": rmb(to_fen(trip.cost)) if trip else "",
                "share": rmb(share.share_fen),
            }
        )
    return rows
