"""The helpers every planning stage shares: driving orders, ride checks and dwell times."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence

from optimizer.geography.distance import (
    Location,
    great_circle_km,
)
from optimizer.groups import (
    Unit,
)
from optimizer.planning.context import (
    PROBE,
    Coach,
    Context,
    Places,
    Work,
)


class Stage:
    """What every stage sees: the run's context, the sites in play, and the shared work state.

    Stages keep no planning state of their own (only caches of pure geometry); what they
    change is `work` (the fleet counters, the unserved list, notes), passed in explicitly.
    """

    def __init__(self, ctx: Context, work: Work, places: Places) -> None:
        self.ctx = ctx
        self.work = work
        self.places = places
        self.lines: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}

    def _direct_km(self, near: str, far: str) -> float:
        return self.places.geo.km(near, far) if self.ctx.home else self.places.geo.km(far, near)

    def _direct_s(self, near: str, far: str) -> int:
        return (
            self.places.geo.seconds(near, far)
            if self.ctx.home
            else self.places.geo.seconds(far, near)
        )

    def boarding(self, unit: Unit) -> str:
        """Where the unit boards when pooled: its hub when near one, else its gate."""
        return self.places.hub_of.get(unit.company_id, unit.gate)

    def _capacity(self, day: dt.date) -> int:
        return self.work.fleet.largest(day)

    def _pair_km(self, a: str, b: str) -> float:
        return self.places.geo.km(a, b)

    def _order_near(self, near: Sequence[str], far: str) -> list[str]:
        """Boarding sites in the order that drives least (going home: last one nearest the road
        out; coming back: first one nearest the arriving road)."""
        if len(near) <= 1:
            return list(near)
        best: tuple[float, list[str]] | None = None
        for order in itertools.permutations(near):
            path = [*order, far] if self.ctx.home else [far, *order]
            km = sum(self.places.geo.km(a, b) for a, b in itertools.pairwise(path))
            if best is None or km < best[0]:
                best = (km, list(order))
        assert best is not None
        return best[1]

    def _coach_km(self, coaches: Sequence[Coach]) -> float:
        return sum(
            self.places.geo.km(a, b)
            for coach in coaches
            for a, b in itertools.pairwise(coach.stops(self.ctx.home))
        )

    def _cover_ok(
        self, near: Sequence[str], far: Sequence[str], seats: Mapping[tuple[str, str], int]
    ) -> bool:
        """Whether a coach over these points and counties keeps every ride within the detour."""
        used_near = [b for b in near if any(seats.get((b, f)) for f in far)]
        _, _, sequence = self._in_order(used_near, far)
        loads = [(PROBE, b, f) for b in used_near for f in far if seats.get((b, f))]
        return self.ride_ok(sequence, loads)

    def _in_order(
        self, near: Sequence[str], far: Sequence[str]
    ) -> tuple[list[str], list[str], list[str]]:
        """Boarding points and counties in driving order, and the coach's whole stop sequence
        (boarding points first going home, counties first coming back)."""
        ordered_far = self._order_far(list(far))
        order = self._order_near(list(near), ordered_far[0])
        sequence = [*order, *ordered_far] if self.ctx.home else [*reversed(ordered_far), *order]
        return order, ordered_far, sequence

    def _order_far(self, far: list[str]) -> list[str]:
        """Counties in driving order going home: nearest the origin first (reversed coming
        back); the shortest order for three stops at most."""
        if len(far) <= 1:
            return list(far)
        best: tuple[float, list[str]] | None = None
        for order in itertools.permutations(far):
            km = self._origin_km(order[0]) + sum(
                self.places.geo.km(a, b) for a, b in itertools.pairwise(order)
            )
            if best is None or km < best[0]:
                best = (km, list(order))
        assert best is not None
        return best[1]

    def _origin_km(self, key: str) -> float:
        site = self.places.geo.sites[key]
        return great_circle_km(self.places.origin[0], self.places.origin[1], site.lon, site.lat)

    def ride_ok(self, sequence: Sequence[str], loads: Sequence[tuple[Unit, str, str]]) -> bool:
        """Every passenger's ride (legs and dwell between their stops) within the detour limit."""
        position = {key: i for i, key in enumerate(sequence)}
        dwell = [self._dwell_s(key) for key in sequence]
        legs = [self.places.geo.seconds(a, b) for a, b in itertools.pairwise(sequence)]
        for _unit, near, far in loads:
            start, end = (near, far) if self.ctx.home else (far, near)
            a, b = position[start], position[end]
            ride = sum(legs[a:b]) + sum(dwell[a + 1 : b])
            direct = self.places.geo.seconds(start, end)
            allowed = (
                direct * self.ctx.policy.detour_ratio + self.ctx.policy.detour_grace_minutes * 60
            )
            if ride > allowed:
                return False
        return True

    def _line(self, a: str, b: str) -> tuple[tuple[float, float], ...]:
        """The road line between two sites, so rests are placed on the road (cached: many
        coaches drive the same pair)."""
        line = self.lines.get((a, b))
        if line is None:
            start, end = self.places.geo.sites[a], self.places.geo.sites[b]
            line = tuple(
                self.ctx.provider.route_line(
                    Location(start.lon, start.lat, start.adcode),
                    Location(end.lon, end.lat, end.adcode),
                )
            )
            self.lines[(a, b)] = line
        return line

    def _dwell_s(self, key: str) -> int:
        near_side = not key.startswith("county:")
        boarding = near_side == self.ctx.home
        return (
            self.ctx.policy.boarding_minutes if boarding else self.ctx.policy.alighting_minutes
        ) * 60
