"""Far counties of a dispersed short-fleet season (issue 11): a far county's few workers go on
the date its partner counties (those one coach may visit with it) go, so their stops share a
coach."""

from __future__ import annotations

import datetime as dt

from optimizer.geography.distance import Location
from optimizer.groups import Unit, far_partners, gather_partners

DAY = dt.date(2026, 2, 1)
ORIGIN = Location(121.25, 30.17)  # Cixi
# Weining and Hezhang (Guizhou, neighbours) and Shuangcheng (Heilongjiang, the other way).
SEATS = {
    "520526": Location(104.28, 26.86),
    "520527": Location(104.72, 27.12),
    "230113": Location(126.31, 45.38),
}


def _day(k: int) -> dt.date:
    return DAY + dt.timedelta(k)


def _unit(n: int, county: str, start: int, end: int, seats: int = 1) -> Unit:
    return Unit((f"W{n}",), seats, "C1", "company:C1", county, (_day(start), _day(end)))


ALLOWED = [_day(k) for k in range(5)]
COST = {c: {0: 0.1, 1: 0.1, 2: 0.1} for c in SEATS}
STOP_OF = {c: c for c in SEATS}


def test_far_partners_are_the_counties_one_coach_can_visit_within_the_detour() -> None:
    """Weining and Hezhang lie on one road out of Cixi (a detour of a few per cent): partners;
    Shuangcheng lies the other way (a detour far over 1.3 times): nobody's partner."""
    partners = far_partners(SEATS, SEATS, ORIGIN, 1.3)
    assert partners["520526"] == ["520527"] and partners["520527"] == ["520526"]
    assert partners["230113"] == []
    assert far_partners(SEATS, SEATS, ORIGIN, 1.0)["520526"] == []


def test_a_far_county_moves_to_the_date_its_partner_goes_when_every_window_holds_it() -> None:
    """Hezhang's two workers (windows 0-3) go to day 2, where Weining's five go; Weining, whose
    windows hold day 2 only, stays; Shuangcheng without partners stays; nobody leaves a window."""
    units = [
        *(_unit(i, "520526", 2, 2) for i in range(5)),
        _unit(5, "520527", 0, 3),
        _unit(6, "520527", 0, 2),
        _unit(7, "230113", 0, 4),
    ]
    dates = {i: _day(2) for i in range(5)} | {5: _day(0), 6: _day(0), 7: _day(1)}
    partners = far_partners(SEATS, SEATS, ORIGIN, 1.3)
    result, moved = gather_partners(units, dates, STOP_OF, ALLOWED, partners, COST, {}, {})
    assert moved == 0  # no capacity given: nothing may move
    roomy = {d: 10.0 for d in [*ALLOWED, _day(5), _day(6)]}
    result, moved = gather_partners(units, dates, STOP_OF, ALLOWED, partners, COST, {}, roomy)
    assert moved == 1
    assert result == {i: _day(2) for i in range(7)} | {7: _day(1)}
    for index, day in result.items():
        assert units[index].window[0] <= day <= units[index].window[1]


def test_a_move_that_would_overfill_a_day_is_not_made() -> None:
    """Day 2's coaches are all taken (its load at capacity): Hezhang stays on day 0."""
    units = [_unit(0, "520526", 2, 2, seats=5), _unit(1, "520527", 0, 3, seats=2)]
    dates = {0: _day(2), 1: _day(0)}
    partners = far_partners(SEATS, SEATS, ORIGIN, 1.3)
    load = {_day(2): 0.5, _day(3): 0.5, _day(4): 0.5, _day(0): 0.2, _day(1): 0.2}
    capacity = {d: 0.5 for d in [*ALLOWED, _day(5)]}
    result, moved = gather_partners(units, dates, STOP_OF, ALLOWED, partners, COST, load, capacity)
    assert moved == 0 and result == dates


def test_a_far_county_goes_where_its_partners_board_at_its_own_point() -> None:
    """Weining's workers board at a hub on day 1 and at a gate on day 3; Hezhang's two (gate,
    windows 0-3) go to day 3, where they board with Weining's at the gate, although day 1 has
    more of Weining's seats."""
    units = [
        *(_unit(i, "520526", 1, 1) for i in range(6)),
        Unit(("W6",), 2, "C2", "company:C2", "520526", (_day(3), _day(3))),
        Unit(("W7",), 2, "C2", "company:C2", "520527", (_day(0), _day(3))),
    ]
    dates = {i: _day(1) for i in range(6)} | {6: _day(3), 7: _day(0)}

    def point_of(unit: Unit) -> str:
        return "hub:H1" if unit.company_id == "C1" else unit.gate

    partners = far_partners(SEATS, SEATS, ORIGIN, 1.3)
    roomy = {d: 10.0 for d in [*ALLOWED, _day(5), _day(6)]}
    result, moved = gather_partners(
        units, dates, STOP_OF, ALLOWED, partners, COST, {}, roomy, point_of
    )
    assert moved == 1 and result[7] == _day(3)
    result, moved = gather_partners(units, dates, STOP_OF, ALLOWED, partners, COST, {}, roomy)
    assert moved == 1 and result[7] == _day(1)  # one boarding point for all: the most seats
