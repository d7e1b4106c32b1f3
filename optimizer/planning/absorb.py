"""Absorbing: a part-full coach whose passengers fit on other coaches is given up."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence

from optimizer.dates import Window
from optimizer.groups import (
    Unit,
)
from optimizer.planning.context import (
    ABSORB_BELOW,
    EJECT_MAX_SEATS,
    PROBE,
    Coach,
    CoachState,
    Context,
    Places,
    Work,
    dedupe,
)
from optimizer.planning.stage import Stage
from optimizer.planning.turns import same_side


class Absorb(Stage):
    """Part-full coaches given up, their passengers spread over other coaches."""

    def __init__(self, ctx: Context, work: Work, places: Places) -> None:
        super().__init__(ctx, work, places)
        self._pairs: dict[tuple[str, str, str], bool] = {}

    def absorb(self, coaches: list[Coach], deadline: float = math.inf) -> list[Coach]:
        """Coaches whose passengers all fit on other coaches, given up.

        Routing keeps each (boarding point, county) request on one coach and each date apart;
        here a part-full coach's passengers may be spread over several coaches with room, on
        its date or on another date of their windows, each receiving coach within the stop
        limits and with every ride (theirs and the others') within the detour. The emptiest
        coaches are tried first, in up to two passes, until `deadline` (time.monotonic()); a
        coach goes only when all its passengers find a seat, so nobody is left behind.
        """
        group = [c for c in coaches if c.vehicle is not None]
        kept = [c for c in coaches if c.vehicle is None]
        by_day: dict[dt.date, list[Coach]] = defaultdict(list)
        for coach in group:
            by_day[coach.day].append(coach)
        seats = {id(c): c.seats for c in group}
        gone: set[int] = set()
        removed = moved_days = 0
        for _ in range(2):
            before = removed
            # Ties keep the coaches' order (a stable sort), never their memory addresses.
            for victim in sorted(group, key=lambda c: (c.seats, c.day)):
                assert victim.vehicle is not None
                if time.monotonic() > deadline:
                    break
                if id(victim) in gone or seats[id(victim)] >= ABSORB_BELOW * victim.vehicle.seats:
                    continue
                first = min(u.window[0] for u, _, _ in victim.loads)
                last = max(u.window[1] for u, _, _ in victim.loads)
                mine = {far for _, _, far in victim.loads}
                others = [
                    c
                    for day, on_day in by_day.items()
                    if first <= day <= last
                    for c in on_day
                    if c is not victim
                    and id(c) not in gone
                    and same_side(self.work.turners.get(day), mine, {far for _, _, far in c.loads})
                ]
                moves = self._rehome(victim, others, seats)
                if moves is None:
                    continue
                for coach, (near, far, sequence, loads) in moves:
                    coach.near, coach.far, coach.sequence, coach.loads = near, far, sequence, loads
                    seats[id(coach)] = coach.seats
                    moved_days += coach.day != victim.day
                gone.add(id(victim))
                self.work.fleet.used[(victim.day, victim.vehicle.vehicle_type)] -= 1
                removed += 1
            if removed == before:
                break
        if removed:
            self.work.notes.append(
                f"{removed} part-full coach(es) shared out among other coaches "
                f"({moved_days} receiving coach(es) on another date of the windows)"
            )
        return kept + [c for c in group if id(c) not in gone]

    def _pair_ok(self, board: str, a: str, b: str) -> bool:
        """Whether one coach from `board` may serve counties `a` and `b` within the detour (a
        quick necessary test before the full check of a coach's stops)."""
        key = (board, a, b) if a < b else (board, b, a)
        known = self._pairs.get(key)
        if known is None:
            known = self._cover_ok([board], [a, b], {(board, a): 1, (board, b): 1})
            self._pairs[key] = known
        return known

    def _rehome(
        self, victim: Coach, others: Sequence[Coach], seats: Mapping[int, int]
    ) -> list[tuple[Coach, CoachState]] | None:
        """New stops and loads of the coaches that take `victim`'s passengers, or None when
        someone would find no seat.

        A group goes to a coach with room that can add its stops; failing that, to a coach that
        can once a small group of its own (one stop county) moves on to a third coach
        (an ejection chain of depth one).
        """
        state: dict[int, CoachState] = {}
        by_id = {id(c): c for c in others}
        # Among equally good receivers the earlier coach wins, whatever its memory address.
        position = {id(c): i for i, c in enumerate(others)}

        def current(coach: Coach) -> CoachState:
            if id(coach) in state:
                return state[id(coach)]
            return (
                list(coach.near),
                list(coach.far),
                coach.stops(self.ctx.home),
                list(coach.loads),
            )

        def room_of(coach: Coach, loads: Sequence[tuple[Unit, str, str]] | None = None) -> int:
            """Free seats: of `loads` when given, else of the coach as it stands now."""
            assert coach.vehicle is not None
            if loads is None:
                if id(coach) in state:
                    loads = state[id(coach)][3]
                else:
                    return coach.vehicle.seats - seats[id(coach)]
            return coach.vehicle.seats - sum(u.seats for u, _, _ in loads)

        def restop(
            near: Sequence[str], far: Sequence[str], loads: Sequence[tuple[Unit, str, str]]
        ) -> tuple[list[str], list[str], list[str]] | None:
            """Stops in driving order for `loads`, if within the limits and every ride legal."""
            used_near = dedupe([n for _, n, _ in loads] + list(near))
            used_far = dedupe([x for _, _, x in loads] + list(far))
            if len(used_near) > self.ctx.near_limit or len(used_far) > self.ctx.far_limit:
                return None
            stops = self._in_order(used_near, used_far)
            pairs = {(n, x) for _, n, x in loads}
            if not self.ride_ok(stops[2], [(PROBE, n, x) for n, x in pairs]):
                return None
            return stops

        def put(coach: Coach, b: str, f: str, pending: list[Unit]) -> bool:
            """Seat as many of `pending` as fit on `coach` (removed from `pending`)."""
            near, far, sequence, loads = current(coach)
            room = room_of(coach, loads)
            taking: list[Unit] = []
            for unit in list(pending):
                if unit.seats <= room:
                    taking.append(unit)
                    room -= unit.seats
                    pending.remove(unit)
            if not taking:
                return False
            new_loads = [*loads, *((u, b, f) for u in taking)]
            if any(n == b and x == f for _, n, x in loads):
                # Someone already rides from b to f on this coach: the same ride, legal.
                # (Both stops on the coach is not enough: a new pair of existing stops may ride
                # past other boardings and drop-offs beyond the detour limit.)
                state[id(coach)] = (near, far, sequence, new_loads)
                return True
            stops = restop(near, far, new_loads)
            if stops is None:
                pending.extend(taking)
                pending.sort(key=lambda u: -u.seats)
                return False
            state[id(coach)] = (*stops, new_loads)
            return True

        def place(
            b: str, f: str, window: Window, units: list[Unit], exclude: set[int], depth: int
        ) -> bool:
            pending = sorted(units, key=lambda u: -u.seats)
            while pending:
                options: list[tuple[tuple[int, bool, int, int], int]] = []
                blocked: list[int] = []
                for coach in others:
                    if id(coach) in exclude or not window[0] <= coach.day <= window[1]:
                        continue
                    room = room_of(coach)
                    if room < pending[-1].seats:
                        continue
                    near, far = (
                        (state[id(coach)][:2]) if id(coach) in state else (coach.near, coach.far)
                    )
                    if (
                        len(set(near) | {b}) > self.ctx.near_limit
                        or len(set(far) | {f}) > self.ctx.far_limit
                    ):
                        if b in near and f not in far:
                            blocked.append(id(coach))
                        continue
                    if f not in far and not all(self._pair_ok(b, f, g) for g in far):
                        continue
                    added = (b not in near) + (f not in far)
                    rank = (added, coach.day != victim.day, -room, position[id(coach)])
                    options.append((rank, id(coach)))
                if any(put(by_id[key], b, f, pending) for _, key in sorted(options)):
                    continue
                if depth > 0 and any(eject(by_id[key], b, f, pending, exclude) for key in blocked):
                    continue
                return False
            return True

        def eject(coach: Coach, b: str, f: str, pending: list[Unit], exclude: set[int]) -> bool:
            """Move one small stop county's group off `coach` so that `f` fits, then seat."""
            _, far, _, loads = current(coach)
            for g in sorted(far, key=lambda x: sum(u.seats for u, _, y in loads if y == x)):
                leaving = [(u, n, x) for u, n, x in loads if x == g]
                if sum(u.seats for u, _, _ in leaving) > EJECT_MAX_SEATS:
                    break
                staying = [item for item in loads if item[2] != g]
                if room_of(coach, staying) < pending[-1].seats:
                    continue
                stops = restop([], [], [*staying, (PROBE, b, f)])
                if stops is None:
                    continue
                snapshot = dict(state)
                state[id(coach)] = (*stops, staying)
                groups: dict[tuple[str, str, Window], list[Unit]] = defaultdict(list)
                for unit, n, x in leaving:
                    groups[(n, x, unit.window)].append(unit)
                inner = exclude | {id(coach)}
                if all(place(n, x, w, us, inner, 0) for (n, x, w), us in groups.items()) and put(
                    coach, b, f, pending
                ):
                    return True
                state.clear()
                state.update(snapshot)
            return False

        by_pair: dict[tuple[str, str, Window], list[Unit]] = defaultdict(list)
        for unit, board, alight in victim.loads:
            by_pair[(board, alight, unit.window)].append(unit)
        for (b, f, window), units in sorted(by_pair.items(), key=lambda item: -len(item[1])):
            if not place(b, f, window, units, set(), 1):
                return None
        return [(by_id[key], value) for key, value in state.items()]
