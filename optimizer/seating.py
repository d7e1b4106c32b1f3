"""Seat assignment on one coach: parties together, first off nearest the door, stable numbers.

Seats are numbered from the front door (seat 1) backwards, in rows of pairs (1-2, 3-4, ...), the
usual layout of Chinese coaches. The assignment is a pure function of the trip's passengers and
stops, never of their order in memory, so re-rendering a plan prints the same seats.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from optimizer.errors import InvalidInput
from optimizer.model import Passenger, Trip


@dataclass(frozen=True)
class _Unit:
    """People who must sit side by side: a party, or one worker (with a child's seat, maybe)."""

    key: str
    alight_stop: int
    members: tuple[Passenger, ...]
    seats: int


def _units(trip: Trip, parties: Mapping[str, str], seat_counts: Mapping[str, int]) -> list[_Unit]:
    grouped: dict[str, list[Passenger]] = {}
    for passenger in trip.passengers:
        party = parties.get(passenger.worker_id, passenger.party)
        seats = seat_counts.get(passenger.worker_id, passenger.seat_count)
        if seats < 1:
            raise InvalidInput(f"worker {passenger.worker_id}: seat count must be at least 1")
        member = dataclasses.replace(passenger, party=party, seat_count=seats)
        # "p:" and "w:" keep a party named like a worker id apart from that worker.
        key = f"p:{party}" if party else f"w:{passenger.worker_id}"
        grouped.setdefault(key, []).append(member)
    units = []
    for key, members in grouped.items():
        members.sort(key=lambda p: (p.alight_stop, p.worker_id))
        units.append(
            _Unit(
                key=key,
                alight_stop=min(p.alight_stop for p in members),
                members=tuple(members),
                seats=sum(p.seat_count for p in members),
            )
        )
    # First off sits nearest the door; ties by key for stability.
    units.sort(key=lambda u: (u.alight_stop, u.key))
    return units


def assign_seats(trip: Trip, parties: Mapping[str, str], seat_counts: Mapping[str, int]) -> Trip:
    """The trip with every `Passenger.seat` filled (first seat of each passenger, from 1).

    `parties` maps worker_id to party (empty or missing: travels alone; default the passenger's
    own `party`), `seat_counts` worker_id to seats taken (default the passenger's `seat_count`).
    Each party gets a block of consecutive seats; a party of two or more starts at the front
    seat of a pair when a single traveller is left to fill the seat before it; passengers
    alighting earlier sit further forward as far as that allows. Deterministic. Raises
    InvalidInput when the passengers need more seats than the coach has.
    """
    units = _units(trip, parties, seat_counts)
    needed = sum(unit.seats for unit in units)
    if needed > trip.seats:
        raise InvalidInput(
            f"trip {trip.trip_id}: passengers need {needed} seats on a {trip.seats}-seat coach"
        )
    seated: list[Passenger] = []
    next_seat = 1
    waiting = list(units)
    while waiting:
        unit = waiting.pop(0)
        if unit.seats >= 2 and next_seat % 2 == 0:
            # Keep a party in one pair/row: let the next single traveller take the odd seat out.
            single = next((u for u in waiting if u.seats == 1), None)
            if single is not None:
                waiting.remove(single)
                waiting.insert(0, unit)
                unit = single
        for member in unit.members:
            seated.append(dataclasses.replace(member, seat=next_seat))
            next_seat += member.seat_count
    seated.sort(key=lambda p: p.seat)
    return dataclasses.replace(trip, passengers=tuple(seated))


def seat_labels(passenger: Passenger) -> list[int]:
    """Every seat number a passenger occupies (a child's seat is the one after the adult's)."""
    return list(range(passenger.seat, passenger.seat + passenger.seat_count))
