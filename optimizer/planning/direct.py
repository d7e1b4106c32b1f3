"""Direct coaches: full coaches from one gate, one hub, or a few boarding points to one county."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence

from optimizer.groups import (
    Unit,
)
from optimizer.planning.context import (
    DIRECT_FILL,
    Coach,
    pack,
)
from optimizer.planning.stage import Stage


class Direct(Stage):
    """Full coaches from one county's own demand."""

    def direct(self, placed: Sequence[tuple[Unit, dt.date]]) -> tuple[list[Coach], list[Coach]]:
        """Full coaches from one county's own demand; returns (coaches, remainders by stop).

        Remainders come back as pseudo-coaches without a vehicle: one per (date, stop county),
        their loads still to be pooled.
        """
        by_stop: dict[tuple[dt.date, str], list[Unit]] = defaultdict(list)
        for unit, day in placed:
            by_stop[(day, f"county:{self.places.stop_of[unit.home]}")].append(unit)
        coaches: list[Coach] = []
        remainders: list[Coach] = []
        for (day, far), units in sorted(by_stop.items()):
            left = self._fill_from_points(day, far, units, lambda u: u.gate, coaches)
            left = self._fill_absorbing(day, far, left, coaches)
            if left:
                remainders.append(Coach(day, [], [far], [(u, self.boarding(u), far) for u in left]))
        return coaches, remainders

    def _accept(self, day: dt.date, near: list[str], far: str, units: list[Unit]) -> Coach | None:
        """A coach for `units` if it is full enough and a fitting coach is left on `day`."""
        seats = sum(u.seats for u in units)
        capacity = self._capacity(day)
        if capacity == 0:
            return None
        fitting = [
            v.seats
            for v in self.work.fleet.types
            if v.seats >= seats and self.work.fleet.left(day, v)
        ]
        if not fitting or seats < DIRECT_FILL * min(fitting):
            return None
        km = self._direct_km(near[0], far)
        vehicle = self.work.fleet.take(day, seats, km)
        if vehicle is None:
            return None
        return Coach(day, list(near), [far], [], vehicle)

    def _fill_from_points(
        self,
        day: dt.date,
        far: str,
        units: list[Unit],
        point: Callable[[Unit], str],
        coaches: list[Coach],
    ) -> list[Unit]:
        by_point: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_point[point(unit)].append(unit)
        left: list[Unit] = []
        for key, group in sorted(by_point.items()):
            rest = group
            while True:
                capacity = self._capacity(day)
                if capacity == 0 or sum(u.seats for u in rest) < DIRECT_FILL * capacity:
                    break
                taken, remaining = pack(rest, capacity)
                coach = self._accept(day, [key], far, taken)
                if coach is None:
                    break
                coach.loads = [(u, key, far) for u in taken]
                coaches.append(coach)
                rest = remaining
            left.extend(rest)
        return left

    def _fill_absorbing(
        self, day: dt.date, far: str, units: list[Unit], coaches: list[Coach]
    ) -> list[Unit]:
        """Full coaches to one county that sweep up the small boarding points.

        Each coach takes the smallest boarding points whole (up to the pickup limit less one)
        and fills up at the busiest point. What is left therefore sits at one busy boarding
        point (usually a hub), where the remainders of other counties sit too, so that pooling
        across counties needs few pickup stops.
        """
        by_point: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_point[self.boarding(unit)].append(unit)
        while by_point:
            capacity = self._capacity(day)
            sizes = {k: sum(u.seats for u in g) for k, g in by_point.items()}
            if capacity == 0 or sum(sizes.values()) < DIRECT_FILL * capacity:
                break
            anchor = max(sizes, key=lambda k: (sizes[k], k.startswith("hub:"), k))
            smallest = sorted((k for k in sizes if k != anchor), key=lambda k: (sizes[k], k))
            largest = sorted((k for k in sizes if k != anchor), key=lambda k: (-sizes[k], k))
            chosen: list[str] = []
            # As many small points as still leave a full coach with the busiest ones.
            for count in range(min(self.ctx.near_limit - 1, len(smallest)), -1, -1):
                small = smallest[:count]
                candidate = list(small)
                for key in [anchor, *largest]:
                    if len(candidate) >= self.ctx.near_limit:
                        break
                    if key not in candidate:
                        candidate.append(key)
                if sum(sizes[k] for k in candidate) >= DIRECT_FILL * capacity:
                    chosen = candidate
                    break
            if not chosen:
                break
            taken: list[tuple[Unit, str]] = []
            room = capacity
            for key in chosen:  # small points whole first, then the fillers
                on, _ = pack(by_point[key], room)
                taken.extend((u, key) for u in on)
                room -= sum(u.seats for u in on)
            near = [k for k in chosen if any(key == k for _, key in taken)]
            order = self._order_near(near, far)
            loads = [(u, k, far) for u, k in taken]
            sequence = [*order, far] if self.ctx.home else [far, *order]
            if not near or not self.ride_ok(sequence, loads):
                break
            coach = self._accept(day, order, far, [u for u, _ in taken])
            if coach is None:
                break
            coach.loads = loads
            coaches.append(coach)
            taken_ids = {u.worker_ids for u, _ in taken}
            for key in near:
                by_point[key] = [u for u in by_point[key] if u.worker_ids not in taken_ids]
                if not by_point[key]:
                    del by_point[key]
        return [u for group in by_point.values() for u in group]
