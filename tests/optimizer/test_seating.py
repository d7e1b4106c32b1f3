"""Seat assignment: parties together, first off nearest the door, stable, never over capacity."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.errors import InvalidInput
from optimizer.model import Passenger, Stop, Trip
from optimizer.seating import assign_seats, seat_labels

T0 = dt.datetime(2019, 1, 25, 8)


def trip(passengers: list[Passenger], seats: int = 53, dropoffs: int = 3) -> Trip:
    stops = [Stop("pickup", 121.0, 30.0, T0, T0)]
    stops += [Stop("dropoff", 120.0 - k, 30.0, T0, T0) for k in range(dropoffs)]
    return Trip("t1", "53", seats, 1, T0.date(), tuple(stops), tuple(passengers))


def rider(worker_id: str, alight: int = 1, seats: int = 1, party: str = "") -> Passenger:
    return Passenger(worker_id, "c1", 0, 0, alight, seat_count=seats, party=party)


def seats_of(result: Trip) -> dict[str, list[int]]:
    return {p.worker_id: seat_labels(p) for p in result.passengers}


def test_first_off_sits_nearest_the_door() -> None:
    """Those alighting at the first drop-off get the lowest seat numbers."""
    result = assign_seats(
        trip([rider("a", alight=3), rider("b", alight=1), rider("c", alight=2)]), {}, {}
    )
    assert seats_of(result) == {"b": [1], "c": [2], "a": [3]}


def test_party_sits_together_in_consecutive_seats() -> None:
    """A party of three gets a block of three seats, whatever the input order."""
    riders = [rider("x", 1), rider("p2", 2), rider("y", 1), rider("p1", 2), rider("p3", 2)]
    parties = {"p1": "fam", "p2": "fam", "p3": "fam"}
    result = assign_seats(trip(riders), parties, {})
    family = sorted(s for w in ("p1", "p2", "p3") for s in seats_of(result)[w])
    assert family == list(range(family[0], family[0] + 3))
    assert {p.party for p in result.passengers if p.worker_id.startswith("p")} == {"fam"}


def test_party_alighting_at_different_stops_is_not_split() -> None:
    """A party sits together at the place of its first member to alight."""
    riders = [rider("a", 1), rider("m1", 1), rider("m2", 3), rider("b", 2)]
    result = assign_seats(trip(riders), {"m1": "f", "m2": "f"}, {})
    seats = seats_of(result)
    assert abs(seats["m1"][0] - seats["m2"][0]) == 1


def test_child_seat_is_next_to_the_adult() -> None:
    """A worker with 2 seats takes two consecutive seats; others start after them."""
    result = assign_seats(trip([rider("mum", 1), rider("solo", 2)]), {}, {"mum": 2})
    assert seats_of(result) == {"mum": [1, 2], "solo": [3]}
    assert result.seats_used == 3


def test_pair_starts_on_a_row_pair_when_a_single_can_fill() -> None:
    """After one single, a couple would start on seat 2; the next single takes it instead."""
    riders = [rider("s1", 1), rider("c1", 2), rider("c2", 2), rider("s2", 3)]
    result = assign_seats(trip(riders), {"c1": "couple", "c2": "couple"}, {})
    seats = seats_of(result)
    assert sorted(seats["c1"] + seats["c2"]) == [3, 4]
    assert {seats["s1"][0], seats["s2"][0]} == {1, 2}


def test_stable_across_input_order() -> None:
    """The same passengers in any order get the same seats."""
    riders = [rider(f"w{k:02d}", alight=1 + k % 3) for k in range(30)]
    parties = {"w03": "a", "w07": "a", "w11": "b", "w12": "b", "w13": "b"}
    first = assign_seats(trip(riders), parties, {"w20": 2})
    shuffled = riders[:]
    random.Random(4).shuffle(shuffled)
    again = assign_seats(trip(shuffled), parties, {"w20": 2})
    assert first == again


def test_never_exceeds_capacity() -> None:
    """More seats needed than the coach has is an error, not an overfull coach."""
    with pytest.raises(InvalidInput, match="need 6 seats on a 5-seat coach"):
        assign_seats(trip([rider(f"w{k}") for k in range(5)], seats=5), {}, {"w0": 2})


def test_exactly_full_coach() -> None:
    """A coach filled to the last seat uses every seat once."""
    result = assign_seats(trip([rider(f"w{k}", 1 + k % 3) for k in range(53)]), {}, {})
    assert sorted(p.seat for p in result.passengers) == list(range(1, 54))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(1, 2), st.sampled_from(["", "", "", "f", "g"])),
        min_size=0,
        max_size=40,
    )
)
def test_random_trips_respect_capacity_and_parties(people: list[tuple[int, int, str]]) -> None:
    """Seats are distinct, within capacity, and every party occupies one consecutive block."""
    riders = [rider(f"w{k:02d}", alight) for k, (alight, _, _) in enumerate(people)]
    seat_counts = {f"w{k:02d}": n for k, (_, n, _) in enumerate(people)}
    parties = {f"w{k:02d}": p for k, (_, _, p) in enumerate(people) if p}
    needed = sum(seat_counts.values())
    coach = trip(riders, seats=max(needed, 1) + 2)
    result = assign_seats(coach, parties, seat_counts)
    taken = sorted(s for p in result.passengers for s in seat_labels(p))
    assert taken == sorted(set(taken))
    assert all(1 <= s <= coach.seats for s in taken)
    assert len(taken) == needed
    for party in {"f", "g"}:
        block = sorted(s for p in result.passengers if p.party == party for s in seat_labels(p))
        if block:
            assert block == list(range(block[0], block[0] + len(block)))
    assert dataclasses.replace(result, passengers=()) == dataclasses.replace(coach, passengers=())
