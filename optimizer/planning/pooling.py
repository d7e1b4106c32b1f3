"""Pooling: the remainders of each date, several counties per coach."""

from __future__ import annotations

import concurrent.futures
import ctypes
import ctypes.util
import dataclasses
import datetime as dt
import gc
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from optimizer.groups import (
    Unit,
)
from optimizer.lp_bound import LpDemand, lp_lower_bound, rounded_patterns
from optimizer.model import (
    UnservedReason,
    VehicleType,
)
from optimizer.planning.context import (
    COACH_WEIGHT,
    COVER_PARTNERS,
    COVER_SEEDS,
    DROP_PENALTY,
    KEEP_FILL,
    MAX_PART_REQUESTS,
    POOL_FILL,
    POOL_FLOOR,
    POOL_STEP,
    PROBE,
    WHOLE_DATE_REQUESTS,
    WHOLE_DATE_WITH_DIRECT,
    Chunk,
    Coach,
    Part,
    cut_chunks,
    dedupe,
    pack,
)
from optimizer.planning.stage import Stage
from optimizer.planning.turns import turn_groups
from optimizer.routing import (
    PickupDeliveryProblem,
    PickupDeliverySolution,
    Request,
    RoutingParams,
    Vehicle,
    solve_pickup_delivery,
)

# With `SolverParams.lp_seeds`: share of the pooling budget the LP over the remainders may use
# (its time is taken from the routing parts' budget), and the least summed value of a (date,
# county set) pattern for it to become a seed coach (x >= 0.5 rounds to one coach).
LP_SEEDS_SHARE = 0.2
SEED_MIN_VALUE = 0.5
# A date's LP counts as converged when its proven value is within this share of the master's.
SEED_GAP = 0.02

# A seed: the stop counties one coach should serve together, and how many such coaches.
Seed = tuple[tuple[str, ...], int]
# Share of a part's routing time the router may spend building its own first solution when the
# greedy's coaches can take over: after it, the rest of the time improves the greedy instead.
FIRST_SOLUTION_SHARE = 0.5
# The greedy's coaches as a model of their own (the part's requests cut along the coaches) and
# as its routes: what the router improves when it finds no solution of its own in time.
Rescue = tuple[PickupDeliveryProblem, dict[int, list[int]]]
# A routing part as submitted: the model, its search, and the greedy's coaches to fall back on.
Job = tuple[PickupDeliveryProblem, RoutingParams, Rescue | None]


class Pooling(Stage):
    """Several counties per coach: greedy covers, then OR-Tools on each date or corridor."""

    def pool(
        self, remainders: Sequence[Coach], time_budget_s: float, direct: Sequence[Coach] = ()
    ) -> list[Coach]:
        """Several counties per coach: the remainders of each date, routed as one model per
        date or by corridor on busy dates. `direct` are the date's full coaches: on a date
        small enough (WHOLE_DATE_WITH_DIRECT requests in all) the router may re-cut them too.
        Returns the pooled coaches and the direct ones, whichever the router kept."""
        direct_by_day: dict[dt.date, list[Coach]] = defaultdict(list)
        for coach in direct:
            direct_by_day[coach.day].append(coach)
        chunks_by_day = self.chunks_by_day(remainders)
        seeds: dict[dt.date, list[Seed]] = {}
        if self.ctx.scenario.solver.lp_seeds and chunks_by_day:
            clock = time.monotonic()
            seeds = self.lp_seeds(chunks_by_day, LP_SEEDS_SHARE * time_budget_s)
            time_budget_s = max(0.2, time_budget_s - (time.monotonic() - clock))
        seeded_days: list[dt.date] = []
        coaches: list[Coach] = []
        parts: list[Part] = []
        baselines: list[list[Coach]] = []
        if direct_by_day:
            # Dates without remainders keep their direct coaches as they are.
            for day in [d for d in direct_by_day if d not in chunks_by_day]:
                coaches.extend(direct_by_day.pop(day))
        # Per whole-date part: the units its greedy baseline could not seat (set aside for
        # other dates or dropped), withdrawn when the router seats the whole date.
        whole: dict[int, list[tuple[Unit, dt.date, str]]] = {}
        groups, split = turn_groups(
            chunks_by_day,
            self.work.tight,
            self.ctx.availability,
            self.places.seats,
            self.ctx.policy,
            self.ctx.home,
        )
        self.work.turners.update(split)
        if split:
            self.work.notes.append(
                f"fleet: {len(split)} date(s) before a date whose coaches are all needed pooled "
                f"in two groups, the {len(set().union(*split.values()))} county(ies) whose "
                "coach is back by that date's evening apart from the others"
            )
        for day, chunks in groups:
            day_seeds = seeds.get(day, ()) if day not in split else ()
            # A date split by `turn_groups` keeps its direct coaches as they are.
            full = [] if day in split else direct_by_day.get(day, [])
            full_chunks = self._chunks_of(full) if full else []
            if day not in split and len(chunks) + len(full_chunks) <= WHOLE_DATE_WITH_DIRECT:
                direct_by_day.pop(day, None)
            else:
                full, full_chunks = [], []
            if len(chunks) <= WHOLE_DATE_REQUESTS:
                # One model for the whole date's remainders: bigger pools than any corridor
                # split. The complete greedy (covers, then one county per coach) is the
                # baseline the router must beat, with at most the coaches the greedy took.
                covered, left = self._cover_seeded(day, chunks, day_seeds, seeded_days)
                chunks = chunks + full_chunks
                mark = len(self.work.spilled) if self.work.spilled is not None else 0
                unseated_before = len(self.work.unserved)
                baseline = full + covered + self._fallback(day, left)
                if len(self.work.unserved) != unseated_before or not chunks:
                    coaches.extend(baseline)
                    continue
                if not baseline:
                    continue
                whole[len(parts)] = (
                    list(self.work.spilled[mark:]) if self.work.spilled is not None else []
                )
                parts.append(Part(day, tuple(chunks)))
                baselines.append(baseline)
                continue
            covered, left = self._cover_seeded(day, chunks, day_seeds, seeded_days)
            weak = []
            for coach in covered:
                assert coach.vehicle is not None
                if coach.seats >= KEEP_FILL * coach.vehicle.seats:
                    coaches.append(coach)
                else:
                    weak.append(coach)
            for group in self._coach_corridors(weak):
                parts.append(Part(day, tuple(self._chunks_of(group))))
                baselines.append(group)
            for chunk_group in self._corridors(left):
                parts.append(Part(day, tuple(chunk_group)))
                baselines.append([])
        if seeds:
            self.work.notes.append(
                f"LP seeds: the seeded cover promised fewer coaches on {len(seeded_days)} of "
                f"{len(seeds)} date(s)"
            )
        total = sum(len(p.chunks) for p in parts) or 1
        jobs: list[Job] = []
        vehicles_of: list[list[VehicleType]] = []
        cut_parts: list[Part | None] = []
        reserved: dict[tuple[dt.date, str], int] = defaultdict(int)
        for part, baseline in zip(parts, baselines, strict=True):
            if baseline:
                # The router may use exactly the coaches the greedy took (they stay counted as
                # used until it is decided), so no other part's fleet is touched.
                vehicles = [c.vehicle for c in baseline if c.vehicle is not None]
            else:
                vehicles = self._vehicles_for(part, reserved)
            vehicles_of.append(vehicles)
            share = time_budget_s * len(part.chunks) / total * self.ctx.scenario.solver.workers
            # Small parts converge fast; their unused share is not worth waiting for.
            limit = max(0.2, min(share, time_budget_s, 0.5 + 0.1 * len(part.chunks)))
            params = RoutingParams(
                time_limit_s=limit, solution_limit=self.ctx.scenario.solver.part_solution_limit
            )
            rescue: Rescue | None = None
            cut_part = None
            if baseline:
                cut_part = Part(part.day, tuple(self._baseline_chunks(baseline, part.chunks)))
                rescue = (
                    self._problem(cut_part, vehicles),
                    self._initial_routes(cut_part, baseline),
                )
            cut_parts.append(cut_part)
            jobs.append((self._problem(part, vehicles), params, rescue))
        solutions = self._run(jobs)
        warm = [s.warm_started for s in solutions if s.warm_started is not None]
        if warm.count(True):
            self.work.notes.append(
                f"routing improved the greedy's coaches on {warm.count(True)} part(s) where it "
                "found no solution of its own in time"
            )
        if warm.count(False):
            self.work.notes.append(
                f"routing: the model did not accept the greedy's coaches on {warm.count(False)} "
                "part(s)"
            )
        dropped: dict[dt.date, list[Chunk]] = defaultdict(list)
        improved = 0
        for index, (part, baseline, vehicles, solution) in enumerate(
            zip(parts, baselines, vehicles_of, solutions, strict=True)
        ):
            cut_part = cut_parts[index]
            if solution.warm_started is not None and cut_part is not None:
                part = cut_part  # the rescue's requests: the part cut along the greedy's coaches
            routed, left_out = self._coaches_from(part, vehicles, solution)
            if index in whole:
                set_aside = whole[index]
                keep = bool(left_out) or (not set_aside and not self._better(routed, baseline))
                if not keep and set_aside and self.work.spilled is not None:
                    gone = {id(entry) for entry in set_aside}
                    self.work.spilled = [e for e in self.work.spilled if id(e) not in gone]
                for coach in routed if keep else baseline:
                    assert coach.vehicle is not None
                    self.work.fleet.used[(part.day, coach.vehicle.vehicle_type)] -= 1
                if keep:
                    coaches.extend(baseline)
                    continue
                improved += len(baseline) - len(routed)
                coaches.extend(routed)
                continue
            if baseline:
                keep = bool(left_out) or not self._better(routed, baseline)
                for coach in routed if keep else baseline:  # give back the other's coaches
                    assert coach.vehicle is not None
                    self.work.fleet.used[(part.day, coach.vehicle.vehicle_type)] -= 1
                if keep:
                    coaches.extend(baseline)
                    continue
                improved += len(baseline) - len(routed)
            coaches.extend(routed)
            dropped[part.day].extend(left_out)
        if improved:
            self.work.notes.append(f"routing saved {improved} coach(es) over the greedy pooling")
        for kept in direct_by_day.values():
            coaches.extend(kept)
        # Only now, with every routed coach counted against the fleet, place what is left.
        for day, chunks in sorted(dropped.items()):
            coaches.extend(self._fallback(day, chunks))
        return coaches

    def chunks_by_day(self, remainders: Sequence[Coach]) -> dict[dt.date, list[Chunk]]:
        """The remainders as routing requests: per date, (boarding point, county) chunks of at
        most one coach each."""
        chunks_by_day: dict[dt.date, list[Chunk]] = defaultdict(list)
        for remainder in remainders:
            capacity = max(self._capacity(remainder.day), 1)
            by_pair: dict[tuple[str, str], list[Unit]] = defaultdict(list)
            for unit, near, far in remainder.loads:
                by_pair[(near, far)].append(unit)
            for (near, far), units in sorted(by_pair.items()):
                chunks_by_day[remainder.day].extend(cut_chunks(near, far, units, capacity))
        return chunks_by_day

    def _better(self, routed: Sequence[Coach], baseline: Sequence[Coach]) -> bool:
        """Fewer coaches, or as many with fewer km."""
        if len(routed) != len(baseline):
            return len(routed) < len(baseline)
        return self._coach_km(routed) < self._coach_km(baseline)

    def _chunks_of(self, coaches: Sequence[Coach]) -> list[Chunk]:
        by_pair: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for coach in coaches:
            for unit, near, far in coach.loads:
                by_pair[(near, far)].append(unit)
        chunks = []
        for (near, far), units in sorted(by_pair.items()):
            chunks.extend(cut_chunks(near, far, units, self.work.fleet.largest_type()))
        return chunks

    def _baseline_chunks(self, baseline: Sequence[Coach], chunks: Sequence[Chunk]) -> list[Chunk]:
        """A part's requests cut along its greedy coaches, so that the greedy's solution is one
        the router can start from: per coach, one chunk per (boarding point, county) pair it
        carries (the cover splits a pair's units between coaches, routing requests cannot be
        split), in coach order; then the units of `chunks` that no coach carries."""
        on_board: set[tuple[str, ...]] = set()
        cut: list[Chunk] = []
        for coach in baseline:
            by_pair: dict[tuple[str, str], list[Unit]] = defaultdict(list)
            for unit, near, far in coach.loads:
                by_pair[(near, far)].append(unit)
                on_board.add(unit.worker_ids)
            for (near, far), units in sorted(by_pair.items()):
                cut.append(Chunk(near, far, tuple(units)))
        waiting: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for chunk in chunks:
            for unit in chunk.units:
                if unit.worker_ids not in on_board:
                    waiting[(chunk.near, chunk.far)].append(unit)
        capacity = max(self.work.fleet.largest_type(), 1)
        for (near, far), units in sorted(waiting.items()):
            cut.extend(cut_chunks(near, far, units, capacity))
        return cut

    def _initial_routes(self, part: Part, baseline: Sequence[Coach]) -> dict[int, list[int]]:
        """The greedy's coaches as routes of the part's model (vehicle k is `baseline[k]`, the
        part's chunks cut by `_baseline_chunks`): each coach's boarding points, then its
        counties, in its driving order, shaped "going home" like the model."""
        routes: dict[int, list[int]] = {}
        index = 0
        for vehicle, coach in enumerate(baseline):
            pairs = {(near, far) for _, near, far in coach.loads}
            mine = {pair: index + k for k, pair in enumerate(sorted(pairs))}
            index += len(mine)
            stops = coach.stops(self.ctx.home)
            if not self.ctx.home:
                stops.reverse()
            route: list[int] = []
            for key in stops:
                side = 0 if not key.startswith("county:") else 1
                route.extend(r for pair, r in sorted(mine.items()) if pair[side] == key)
            routes[vehicle] = route
        return routes

    def _coach_corridors(self, coaches: Sequence[Coach]) -> list[list[Coach]]:
        """Coaches grouped by the bearing of their first county, at most MAX_PART_REQUESTS
        (near, far) pairs per group."""
        ordered = sorted(coaches, key=lambda c: (self.places.geo.bearing(c.far[0]), c.far, c.near))
        groups: list[list[Coach]] = []
        size = 0
        for coach in ordered:
            pairs = len({(near, far) for _, near, far in coach.loads})
            if not groups or size + pairs > MAX_PART_REQUESTS:
                groups.append([])
                size = 0
            groups[-1].append(coach)
            size += pairs
        return groups

    def _cover_seeded(
        self, day: dt.date, chunks: Sequence[Chunk], seeds: Sequence[Seed], kept: list[dt.date]
    ) -> tuple[list[Coach], list[Chunk]]:
        """`_cover` with the date's seeds and without; the seeded one is kept (and its date
        added to `kept`) only when it promises fewer coaches: its coaches plus the seats it
        leaves over the largest coach, rounded up. The fleet counters follow the cover kept."""
        if not seeds:
            return self._cover(day, chunks)
        used = self.work.fleet.used
        before = dict(used)
        plain = self._cover(day, chunks)
        after_plain = dict(used)
        used.clear()
        used.update(before)
        seeded = self._cover(day, chunks, seeds)
        if self._promise(*seeded) < self._promise(*plain):
            kept.append(day)
            return seeded
        used.clear()
        used.update(after_plain)
        return plain

    def _promise(self, coaches: Sequence[Coach], left: Sequence[Chunk]) -> int:
        seats = sum(chunk.seats for chunk in left)
        return len(coaches) + math.ceil(seats / max(1, self.work.fleet.largest_type()))

    def _cover(
        self, day: dt.date, chunks: Sequence[Chunk], seeds: Sequence[Seed] = ()
    ) -> tuple[list[Coach], list[Chunk]]:
        """Nearly full coaches across counties, chosen greedily before routing the rest.

        Each coach is a choice of at most the pickup limit of boarding points and the drop-off
        limit of counties; it carries what waits at those points for those counties (units may
        be split between coaches, unlike routing requests). The coach covering the most seats
        is taken while it is at least POOL_FILL full and every ride stays within the detour.
        `seeds` (the LP's rounded patterns, `lp_seeds`) are built first, whatever their fill.
        """
        waiting: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for chunk in chunks:
            waiting[(chunk.near, chunk.far)].extend(chunk.units)
        coaches = self._seeded(day, waiting, seeds)
        fill = POOL_FILL
        while True:
            capacity = self._capacity(day)
            if capacity == 0:
                break
            seats: dict[tuple[str, str], int] = {
                pair: sum(u.seats for u in units) for pair, units in waiting.items() if units
            }
            if not seats:
                break
            best = self._best_cover(seats, capacity, fill)
            if best is None:
                fill = round(fill - POOL_STEP, 6)
                if fill < POOL_FLOOR - 1e-9:
                    break
                continue
            near, far = best
            built = None
            # The final check of every ride; on failure, fewer counties, then one point.
            for near_try, far_try in [(near, far[:k]) for k in range(len(far), 0, -1)] + [
                (near[:1], far[:1])
            ]:
                built = self._cover_coach(waiting, near_try, far_try, capacity)
                if built is not None:
                    break
            if built is None:
                break
            coach = self._take_cover(day, waiting, built)
            if coach is None:
                break
            coaches.append(coach)
        left: list[Chunk] = []
        capacity = max(self._capacity(day), 1)
        for (near_key, far_key), units in sorted(waiting.items()):
            left.extend(cut_chunks(near_key, far_key, units, capacity))
        return coaches, left

    def _take_cover(
        self,
        day: dt.date,
        waiting: dict[tuple[str, str], list[Unit]],
        built: tuple[
            list[tuple[str, str]], list[tuple[Unit, str, str]], list[str], list[str], list[str]
        ],
    ) -> Coach | None:
        """The coach `_cover_coach` built, on a coach of the fleet, its units no longer waiting;
        None when no coach of the date fits its load."""
        pairs, loads, order, used_far, sequence = built
        taken_ids = {u.worker_ids for u, _, _ in loads}
        vehicle = self.work.fleet.take(day, sum(u.seats for u, _, _ in loads), 0.0)
        if vehicle is None:
            return None
        for b, f in pairs:
            waiting[(b, f)] = [u for u in waiting[(b, f)] if u.worker_ids not in taken_ids]
        return Coach(day, order, used_far, loads, vehicle, sequence=sequence)

    def _seeded(
        self, day: dt.date, waiting: dict[tuple[str, str], list[Unit]], seeds: Sequence[Seed]
    ) -> list[Coach]:
        """One coach per seed (as many as its count): its counties, boarding at the points where
        most of their seats wait (at most the pickup limit), when every ride is legal; a seed
        whose coach breaks a ride limit is left to the greedy."""
        coaches: list[Coach] = []
        for counties, count in seeds:
            wanted = set(counties)
            for _ in range(count):
                capacity = self._capacity(day)
                if capacity == 0:
                    return coaches
                by_near: dict[str, int] = defaultdict(int)
                for (b, f), units in waiting.items():
                    if f in wanted and units:
                        by_near[b] += sum(u.seats for u in units)
                near = sorted(by_near, key=lambda b: (-by_near[b], b))[: self.ctx.near_limit]
                far = [f for f in counties if any(waiting.get((b, f)) for b in near)]
                if not far:
                    break
                built = self._cover_coach(waiting, near, far, capacity)
                # The LP's corridors leave out dwell times: when a ride breaks its limit, the
                # seed's largest legal part (one county fewer) is tried instead.
                smaller = itertools.combinations(far, len(far) - 1) if built is None else ()
                for fewer in (list(f) for f in smaller if f):
                    trial = self._cover_coach(waiting, near, fewer, capacity)
                    if trial is not None and (built is None or _seats(trial) > _seats(built)):
                        built = trial
                coach = None if built is None else self._take_cover(day, waiting, built)
                if coach is None:
                    break
                coaches.append(coach)
        return coaches

    def lp_seeds(
        self, chunks_by_day: Mapping[dt.date, Sequence[Chunk]], box_s: float
    ) -> dict[dt.date, list[Seed]]:
        """The counties the LP relaxation over each date's remainders puts on one coach.

        Each chunk is a demand of its date only (dates are chosen already) at its boarding
        point; the largest coach still free is the date's capacity. One LP per date
        (`optimizer.lp_bound.lp_lower_bound`, run towards convergence), the smallest dates
        first, each with its share of `box_s` by requests (what a date leaves unused passes on).
        Only a date whose LP converged (its proven value within SEED_GAP of the master's) gives
        seeds: an unconverged master is mostly its first one-county columns. Its patterns are
        rounded: x >= SEED_MIN_VALUE makes round(x) coaches (`rounded_patterns`)."""
        deadline = time.monotonic() + box_s
        geo = self.places.geo
        seeds: dict[dt.date, list[Seed]] = {}
        days = sorted(chunks_by_day, key=lambda d: (len(chunks_by_day[d]), d))
        waiting = sum(len(chunks_by_day[d]) for d in days)
        tried = 0
        for day in days:
            chunks = chunks_by_day[day]
            share = (deadline - time.monotonic()) * len(chunks) / max(1, waiting)
            waiting -= len(chunks)
            capacity = self._capacity(day)
            if capacity <= 0 or not chunks or share <= 0.01:
                continue
            tried += 1
            sites = sorted({c.near for c in chunks} | {c.far for c in chunks})
            index = [geo.index[k] for k in sites]
            matrix = geo.duration_s[np.ix_(index, index)]
            lp = lp_lower_bound(
                [LpDemand(c.seats, c.far, (day, day), (c.near,)) for c in chunks],
                capacity_by_date={day: capacity},
                county_stop_limit=self.ctx.far_limit,
                sites=sites,
                leg_s=matrix if self.ctx.home else matrix.T,
                detour_ratio=self.ctx.policy.detour_ratio,
                detour_grace_s=self.ctx.policy.detour_grace_minutes * 60.0,
                time_limit_s=share,
                until_converged=True,
            )
            near_optimal = lp.iterations > 0 and lp.lp_value - lp.value <= SEED_GAP * lp.lp_value
            if not (lp.converged or near_optimal):
                continue
            rounded = rounded_patterns(lp.patterns, SEED_MIN_VALUE)
            seeds[day] = [(counties, count) for _, counties, count in rounded]
        self.work.notes.append(
            f"LP seeds: {sum(n for s in seeds.values() for _, n in s)} coach(es) on "
            f"{len(seeds)} of {tried} date(s) whose LP converged"
        )
        return seeds

    def _cover_coach(
        self,
        waiting: Mapping[tuple[str, str], list[Unit]],
        near: Sequence[str],
        far: Sequence[str],
        capacity: int,
    ) -> (
        tuple[list[tuple[str, str]], list[tuple[Unit, str, str]], list[str], list[str], list[str]]
        | None
    ):
        """What a coach over `near` x `far` carries and its stop order, if every ride is legal."""
        pairs = [(b, f) for b in near for f in far if waiting.get((b, f))]
        pool = [(u, b, f) for b, f in pairs for u in waiting[(b, f)]]
        taken, _ = pack([u for u, _, _ in pool], capacity)
        if not taken:  # only units larger than any coach still free on this date
            return None
        taken_ids = {u.worker_ids for u in taken}
        loads = [item for item in pool if item[0].worker_ids in taken_ids]
        order, used_far, sequence = self._in_order(
            dedupe(b for _, b, _ in loads), dedupe(f for _, _, f in loads)
        )
        if not self.ride_ok(sequence, loads):
            return None
        return pairs, loads, order, used_far, sequence

    def _best_cover(
        self, seats: Mapping[tuple[str, str], int], capacity: int, fill: float
    ) -> tuple[list[str], list[str]] | None:
        by_far: dict[str, dict[str, int]] = defaultdict(dict)
        by_near: dict[str, int] = defaultdict(int)
        for (b, f), n in seats.items():
            by_far[f][b] = n
            by_near[b] += n
        busiest = sorted(by_near, key=lambda b: (-by_near[b], b))[: self.ctx.near_limit]
        best: tuple[int, list[str], list[str]] | None = None
        seeds = sorted(by_far, key=lambda f: (-sum(by_far[f].values()), f))[:COVER_SEEDS]
        for seed in seeds:
            own = sorted(by_far[seed], key=lambda b: (-by_far[seed][b], b))[: self.ctx.near_limit]
            if not self._cover_ok(own, [seed], seats):
                own = own[:1]
            neighbours = sorted(
                (f for f in by_far if f != seed), key=lambda f: (self.places.geo.km(seed, f), f)
            )[:COVER_PARTNERS]
            for near in (own, busiest):
                far = [seed]
                total = sum(by_far[seed].get(b, 0) for b in near)
                if total == 0 or (near is busiest and not self._cover_ok(near, far, seats)):
                    continue
                partners = sorted(
                    neighbours,
                    key=lambda f: (-sum(by_far[f].get(b, 0) for b in near), f),
                )
                for partner in partners:
                    if len(far) >= self.ctx.far_limit or total >= capacity:
                        break
                    extra = sum(by_far[partner].get(b, 0) for b in near)
                    if extra == 0:
                        break
                    if self._cover_ok(near, [*far, partner], seats):
                        far.append(partner)
                        total += extra
                covered = min(total, capacity)
                if best is None or covered > best[0]:
                    best = (covered, list(near), far)
            if best is not None and best[0] >= capacity:
                break
        if best is None or best[0] < fill * capacity:
            return None
        return best[1], best[2]

    def _corridors(self, chunks: Sequence[Chunk]) -> list[list[Chunk]]:
        """Chunks of one date split into corridors (bearing sectors) of bounded size."""
        if len(chunks) <= MAX_PART_REQUESTS:
            return [list(chunks)]
        ordered = sorted(chunks, key=lambda c: (self.places.geo.bearing(c.far), c.far, c.near))
        bearings = [self.places.geo.bearing(c.far) for c in ordered]
        # Start the circle at its widest gap so no corridor straddles it.
        gaps = [
            (bearings[(i + 1) % len(bearings)] - bearings[i]) % 360.0 for i in range(len(ordered))
        ]
        start = (max(range(len(gaps)), key=lambda i: gaps[i]) + 1) % len(ordered)
        ordered = ordered[start:] + ordered[:start]
        bearings = bearings[start:] + bearings[:start]
        count = math.ceil(len(ordered) / MAX_PART_REQUESTS)
        size = len(ordered) / count
        cuts = [0]
        for k in range(1, count):
            ideal = round(k * size)
            low, high = max(cuts[-1] + 1, ideal - int(size * 0.25)), min(len(ordered) - 1, ideal)
            candidates = [
                i for i in range(low, high + 1) if ordered[i].far != ordered[i - 1].far
            ] or [ideal]
            cut = max(
                candidates, key=lambda i: ((bearings[i] - bearings[i - 1]) % 360.0, -abs(i - ideal))
            )
            cuts.append(cut)
        cuts.append(len(ordered))
        return [ordered[a:b] for a, b in itertools.pairwise(cuts) if b > a]

    def _vehicles_for(
        self, part: Part, reserved: dict[tuple[dt.date, str], int]
    ) -> list[VehicleType]:
        """Coaches offered to one part: plenty for its requests, within what the fleet has left
        on that date after the parts before it (`reserved` is updated)."""
        offered: list[VehicleType] = []
        for vehicle in sorted(self.work.fleet.types, key=lambda v: -v.seats):
            key = (part.day, vehicle.vehicle_type)
            free = max(0, self.work.fleet.left(part.day, vehicle) - reserved[key])
            # A part rarely needs more coaches than a third of its requests; the rest of the
            # fleet stays free for the other corridors of the date and for the fallback.
            count = min(free, len(part.chunks) // 3 + 3)
            reserved[key] += count
            offered.extend([vehicle] * count)
        return offered

    def _problem(self, part: Part, vehicles: Sequence[VehicleType]) -> PickupDeliveryProblem:
        """The part as a pickup-and-delivery model, always shaped "going home": picked up at the
        gates' side, delivered in the counties. Coming back is solved on the transposed matrices
        and the routes reversed, so one model shape serves both directions.

        Pickups get a time window that closes soon after the first one, so a coach cannot
        deliver in a county and come back for a second load (each coach is one trip).
        """
        keys = sorted({c.near for c in part.chunks} | {c.far for c in part.chunks})
        local = {key: i + 1 for i, key in enumerate(keys)}  # location 0: where coaches appear
        index = [self.places.geo.index[k] for k in keys]
        size = len(keys) + 1
        distance = np.zeros((size, size), dtype=np.int64)
        duration = np.zeros((size, size), dtype=np.int64)
        distance[1:, 1:] = self.places.geo.distance_m[np.ix_(index, index)]
        duration[1:, 1:] = self.places.geo.duration_s[np.ix_(index, index)]
        if not self.ctx.home:
            distance, duration = distance.T.copy(), duration.T.copy()
        service = np.zeros(size, dtype=np.int64)
        near_locations = [local[k] for k in keys if not k.startswith("county:")]
        for key in keys:
            service[local[key]] = self._dwell_s(key)
        gather = int(duration[np.ix_(near_locations, near_locations)].max(initial=0))
        gather = (gather + int(service[near_locations].max(initial=0))) * self.ctx.near_limit + 60
        horizon = 14 * 86_400
        windows = [(0, horizon)] * size
        for location in near_locations:
            windows[location] = (0, gather)
        requests = []
        for chunk in part.chunks:
            direct = self._direct_s(chunk.near, chunk.far)
            ride = int(
                direct * self.ctx.policy.detour_ratio + self.ctx.policy.detour_grace_minutes * 60
            )
            requests.append(
                Request(
                    local[chunk.near], local[chunk.far], chunk.seats, DROP_PENALTY, max_ride_s=ride
                )
            )
        fleet = tuple(
            Vehicle(
                capacity=v.seats,
                fixed_cost=COACH_WEIGHT + round(v.fixed_cost),
                cost_per_km=v.cost_per_km,
                start=0,
                end=None,
            )
            for v in vehicles
        )
        return PickupDeliveryProblem(
            distance_m=distance,
            duration_s=duration,
            requests=tuple(requests),
            vehicles=fleet,
            service_s=service,
            time_windows=tuple(windows),
            max_pickup_stops=self.ctx.near_limit,
            max_dropoff_stops=self.ctx.far_limit,
            # Dwell per stop, as the ride rule counts it (`Stage.ride_ok`), however many
            # requests board or alight there: the greedy's coaches are then routes of the model.
            service_per_stop=True,
        )

    def _run(self, jobs: Sequence[Job]) -> list[PickupDeliverySolution]:
        workers = self.ctx.scenario.solver.workers
        results: list[PickupDeliverySolution] = []
        if self.ctx.executor is not None and jobs:
            return self._collect(self.ctx.executor, jobs)
        if workers > 1 and len(jobs) > 1:
            with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
                return self._collect(pool, jobs)
        for done, job in enumerate(jobs, start=1):
            results.append(solve_part(*job))
            self.ctx.report(0.3 + 0.4 * done / len(jobs), f"pooled part {done}/{len(jobs)}")
        return results

    def _collect(
        self,
        executor: concurrent.futures.Executor,
        jobs: Sequence[Job],
    ) -> list[PickupDeliverySolution]:
        """Every part submitted at once, results in submission order (so the plan does not
        depend on which part finishes first)."""
        futures = [executor.submit(solve_part, *job) for job in jobs]
        results: list[PickupDeliverySolution] = []
        try:
            for done, future in enumerate(futures, start=1):
                results.append(future.result())
                self.ctx.report(0.3 + 0.4 * done / len(jobs), f"pooled part {done}/{len(jobs)}")
        finally:
            for future in futures:  # a cancelled job stops queued parts from starting
                future.cancel()
        return results

    def _coaches_from(
        self, part: Part, vehicles: Sequence[VehicleType], solution: PickupDeliverySolution
    ) -> tuple[list[Coach], list[Chunk]]:
        """Coaches of the routes, and the chunks the router left out."""
        coaches: list[Coach] = []
        rejected: list[int] = []
        for route in solution.routes:
            vehicle = vehicles[route.vehicle]
            served = sorted(set(route.requests))
            loads = [
                (u, part.chunks[r].near, part.chunks[r].far)
                for r in served
                for u in part.chunks[r].units
            ]
            sequence: list[str] = []
            keys = {r: (part.chunks[r].near, part.chunks[r].far) for r in served}
            seen: dict[int, int] = defaultdict(int)
            for r in route.requests:
                key = keys[r][seen[r]]
                seen[r] += 1
                if not sequence or sequence[-1] != key:
                    sequence.append(key)
            near = [k for k in sequence if not k.startswith("county:")]
            far = [k for k in sequence if k.startswith("county:")]
            if sequence[: len(near)] != near:  # a second load after a delivery: not one trip
                rejected.extend(served)
                continue
            # The router may come back to a boarding point (or county) it already visited,
            # for another request there; one visit serves them all. Keeping a boarding point's
            # last visit and a county's first never lengthens a ride (triangle inequality), and
            # leaves no stop where nobody boards or alights.
            near = dedupe(reversed(near))[::-1]
            far = dedupe(far)
            sequence = [*near, *far]
            if not self.ctx.home:
                sequence.reverse()
            coach = Coach(part.day, near, far, loads, vehicle)
            coach.sequence = sequence
            self.work.fleet.used[(part.day, vehicle.vehicle_type)] += 1
            coaches.append(coach)
        return coaches, [part.chunks[r] for r in [*solution.dropped, *rejected]]

    def _fallback(self, day: dt.date, chunks: Sequence[Chunk]) -> list[Coach]:
        """Coaches for chunks the router left out: one stop county each, always legal."""
        coaches: list[Coach] = []
        by_far: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            by_far[chunk.far].append(chunk)
        for far, group in sorted(by_far.items()):
            pending = sorted(group, key=lambda c: -c.seats)
            while pending:
                capacity = self._capacity(day)
                if capacity == 0:
                    units = [u for c in pending for u in c.units]
                    self.work.drop(
                        units,
                        UnservedReason.FLEET_EXHAUSTED,
                        f"every coach on {day.isoformat()} is taken",
                        day,
                    )
                    break
                chosen: list[Chunk] = []
                load = 0
                for chunk in list(pending):
                    near_count = len({c.near for c in chosen} | {chunk.near})
                    if load + chunk.seats <= capacity and near_count <= self.ctx.near_limit:
                        chosen.append(chunk)
                        load += chunk.seats
                        pending.remove(chunk)
                if not chosen:  # the next chunk is larger than any coach still free
                    chunk = pending.pop(0)
                    self.work.drop(
                        chunk.units,
                        UnservedReason.FLEET_EXHAUSTED,
                        f"no coach large enough left on {day.isoformat()}",
                        day,
                    )
                    continue
                near = self._order_near(dedupe([c.near for c in chosen]), far)
                probe = [(PROBE, c.near, far) for c in chosen]
                sequence = [*near, far] if self.ctx.home else [far, *near]
                if len(near) > 1 and not self.ride_ok(sequence, probe):
                    pending.extend(chosen[1:])  # one boarding point: always within the detour
                    chosen = chosen[:1]
                    load = chosen[0].seats
                    near = [chosen[0].near]
                vehicle = self.work.fleet.take(day, load, self._direct_km(near[0], far))
                if vehicle is None:  # only smaller coaches left: give back the tail
                    pending.extend(chosen[1:])
                    chosen = chosen[:1]
                    load = chosen[0].seats
                    near = [chosen[0].near]
                    vehicle = self.work.fleet.take(day, load, self._direct_km(near[0], far))
                    if vehicle is None:
                        self.work.drop(
                            chosen[0].units,
                            UnservedReason.FLEET_EXHAUSTED,
                            f"no coach large enough left on {day.isoformat()}",
                            day,
                        )
                        continue
                loads = [(u, c.near, c.far) for c in chosen for u in c.units]
                coaches.append(Coach(day, near, [far], loads, vehicle))
        return coaches


def _seats(built: tuple[object, list[tuple[Unit, str, str]], object, object, object]) -> int:
    """Seats a built cover coach carries."""
    return sum(unit.seats for unit, _, _ in built[1])


def solve_part(
    problem: PickupDeliveryProblem, params: RoutingParams, rescue: Rescue | None = None
) -> PickupDeliverySolution:
    """Solve one decomposed part (top-level so a process pool can run it).

    With a `rescue` (the greedy's coaches as a model and its routes) and a time-limited search,
    the router gets FIRST_SOLUTION_SHARE of the time to build a solution of its own; when it
    has none by then (a loaded machine) or its solution leaves requests out, the rest of the
    time improves the greedy's coaches,
    and the result (`warm_started` set) refers to the rescue's requests. A search limited by
    solutions instead of time is left as it is, so its plans stay reproducible."""
    if rescue is None or params.solution_limit is not None:
        solution = solve_pickup_delivery(problem, params)
    else:
        started = time.perf_counter()
        solution = solve_pickup_delivery(
            problem,
            dataclasses.replace(
                params, first_solution_limit_s=FIRST_SOLUTION_SHARE * params.time_limit_s
            ),
        )
        # Cut short while building, OR-Tools returns every request unserved; a solution that
        # leaves any out would lose to the greedy's coaches anyway.
        if solution.dropped or not solution.is_feasible():
            left = params.time_limit_s - (time.perf_counter() - started)
            cut, routes = rescue
            solution = solve_pickup_delivery(
                cut, dataclasses.replace(params, time_limit_s=max(left, 0.1)), routes
            )
    _release_memory()
    return solution


def _release_memory() -> None:
    """Hand the freed OR-Tools model back to the system: glibc keeps freed heap otherwise, and
    one model per date would add up to gigabytes over a season."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
