"""Blocks of the LP bound: demand that no coach can carry together (issue 16, `lpdecomp`).

A coach departs on one date and serves a corridor-compatible set of counties, and compatible
sets are closed under removal, so every two of its counties are compatible as a pair. Counties
in different connected components of that *partner graph*, or groups whose windows share no
date, never ride one coach. The demand therefore splits into *blocks* (a partner component and a
maximal run of overlapping windows), every coach of a legal plan carries the riders of exactly one
block, and the plan's coaches are the sum of its blocks' coaches. A bound proven for each block
alone, rounded up there, sums to a bound on the whole plan: Σ_b ⌈bound_b⌉ can be well above
⌈Σ_b bound_b⌉ when there are many blocks, and each block's LP is a much smaller master
(proof in docs/plan-format.md, "LP bound", "Blocks").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from optimizer.bounds import SeatedDemand, lower_bounds
from optimizer.dates import Window
from optimizer.lp_corridors import Corridors

if TYPE_CHECKING:
    from optimizer.lp_bound import GroupKey, LpBound, LpDemand

    Warm = Sequence[tuple[dt.date, Mapping[GroupKey, int]]]

# A block's LP gets no box shorter than this (seconds): it would not finish its first master.
MIN_BLOCK_S = 0.05
# The bound's note when it is a sum over blocks (in the message catalogue).
BLOCKS_NOTE = "summed over {blocks} blocks of counties and dates that no coach joins"


@dataclass(frozen=True)
class Block:
    """Demand one coach may carry together, the plan's coaches that carry it (warm columns) and
    the counting bound (`optimizer.bounds`) of those seats alone."""

    demands: tuple[LpDemand, ...]
    warm: tuple[tuple[dt.date, Mapping[GroupKey, int]], ...]
    counting: int

    @property
    def seats(self) -> int:
        return sum(d.seats for d in self.demands)


def partner_components(corridor: Corridors, together: Iterable[Sequence[int]] = ()) -> list[int]:
    """A component label per county (indices of the corridor's counties): counties joined when
    one coach could serve the two of them in some order (`corridor`'s relaxed test), and the
    counties of each set in `together` (e.g. trips filed under an older policy) joined too."""
    reach, allowed, between = corridor.reach, corridor.allowed, corridor.between
    size = len(reach)
    parent = list(range(size))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    if corridor.stop_limit >= 2 and size:
        # a then b: a's passengers ride at least reach(a), b's reach(a) + T(a, b).
        first = (reach <= allowed)[:, None]
        pair = first & (reach[:, None] + between <= allowed[None, :])
        for a, b in zip(*np.nonzero(pair | pair.T), strict=True):
            if a < b:
                join(int(a), int(b))
    for counties in together:
        for a, b in itertools.pairwise(counties):
            join(a, b)
    return [find(i) for i in range(size)]


def date_runs(windows: Sequence[Window], dates: Sequence[dt.date]) -> list[int]:
    """A run label per window: windows joined when they share a date of `dates` (the dates a
    coach may depart), transitively. Windows holding none of `dates` get their own label."""
    days = sorted(set(dates))
    spans = []
    for i, (first, last) in enumerate(windows):
        inside = [d for d in days if first <= d <= last]
        spans.append((inside[0], inside[-1], i) if inside else None)
    label = list(range(len(windows)))
    current_end: dt.date | None = None
    current = -1
    for first, last, i in sorted(s for s in spans if s is not None):
        if current_end is None or first > current_end:
            current, current_end = i, last
        else:
            current_end = max(current_end, last)
        label[i] = current
    return label


def blocks(
    counties: Sequence[str],
    windows: Sequence[Window],
    component_of: Mapping[str, int],
    dates: Sequence[dt.date],
) -> list[list[int]]:
    """The demand indices of each block: same partner component, windows joined by shared
    dates. `counties[i]` and `windows[i]` describe demand i."""
    by_component: dict[int, list[int]] = defaultdict(list)
    for i, county in enumerate(counties):
        by_component[component_of[county]].append(i)
    found: list[list[int]] = []
    for members in by_component.values():
        runs = date_runs([windows[i] for i in members], dates)
        by_run: dict[int, list[int]] = defaultdict(list)
        for i, run in zip(members, runs, strict=True):
            by_run[run].append(i)
        found.extend(by_run.values())
    found.sort(key=lambda members: (len(members), members))
    return found


def block_counting(
    demands: Sequence[SeatedDemand],
    *,
    largest_coach: int,
    county_stop_limit: int,
    boarding_stop_limit: int,
) -> int:
    """The counting bound of one block's seats (`optimizer.bounds.lower_bounds`, counties fixed:
    the LP bound runs only without a drop radius)."""
    if not demands:
        return 0
    return lower_bounds(
        demands,
        largest_coach=largest_coach,
        county_stop_limit=county_stop_limit,
        boarding_stop_limit=boarding_stop_limit,
        county_stops_fixed=True,
    ).trips


def split_blocks(
    demands: Sequence[LpDemand],
    warm: Warm,
    *,
    capacity: Mapping[dt.date, int],
    corridor: Corridors,
    county_stop_limit: int,
    boarding_stop_limit: int,
) -> list[Block]:
    """`demands` split into blocks (`corridor` over the sorted demand counties), each with the
    warm columns that carry it and its counting bound. Blocks that one warm column (a locked
    trip filed under an older policy, say) joins are one block. Demand with no departure date
    in `capacity` is left out (no coach carries it: a relaxation, as in `lp_lower_bound`)."""
    counties = sorted({d.county for d in demands})
    index = {c: i for i, c in enumerate(counties)}
    together = [sorted({index[g[0]] for g in loading if g[0] in index}) for _, loading in warm]
    labels = partner_components(corridor, together)
    dates = [d for d, q in capacity.items() if q > 0]
    carried = [
        i for i, d in enumerate(demands) if any(d.window[0] <= x <= d.window[1] for x in dates)
    ]
    found = blocks(
        [demands[i].county for i in carried],
        [demands[i].window for i in carried],
        {c: labels[index[c]] for c in counties},
        dates,
    )
    # Join the blocks that one warm column touches.
    block_of = {
        (demands[carried[i]].county, demands[carried[i]].window): b
        for b, m in enumerate(found)
        for i in m
    }
    parent = list(range(len(found)))

    def find(b: int) -> int:
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    warm_block: list[int | None] = []
    for _, loading in warm:
        touched = sorted({find(block_of[g[:2]]) for g in loading if g[:2] in block_of})
        for other in touched[1:]:
            parent[find(other)] = find(touched[0])
        warm_block.append(touched[0] if touched else None)
    members: dict[int, list[LpDemand]] = defaultdict(list)
    for b, m in enumerate(found):
        members[find(b)].extend(demands[carried[i]] for i in m)
    columns: dict[int, list[tuple[dt.date, Mapping[GroupKey, int]]]] = defaultdict(list)
    for column, home in zip(warm, warm_block, strict=True):
        if home is not None:
            columns[find(home)].append(column)
    largest = max(capacity.values(), default=0)
    result = [
        Block(
            tuple(group),
            tuple(columns[b]),
            block_counting(
                [
                    SeatedDemand(
                        d.seats,
                        d.county,
                        d.window,
                        d.boarding[0] if len(set(d.boarding)) == 1 else None,
                        0.0,
                    )
                    for d in group
                ],
                largest_coach=max(largest, 1),
                county_stop_limit=county_stop_limit,
                boarding_stop_limit=boarding_stop_limit,
            ),
        )
        for b, group in members.items()
    ]
    result.sort(key=lambda block: (block.seats, block.demands[0].county))
    return result


def by_blocks(
    split: Sequence[Block],
    solve: Callable[[Sequence[LpDemand], Warm, int, float], LpBound],
    known_bound: int,
    started: float,
    time_limit_s: float,
) -> LpBound:
    """The LP bound summed over blocks: each block's LP (`solve(demands, warm, counting, box)`)
    from its own counting bound, smallest block first, each given the box left in proportion to
    its seats; a block the box does not reach counts its counting bound. The sum of the blocks'
    integer bounds is proven (each coach carries one block's riders); `known_bound`, proven for
    the whole, stands when it is higher."""
    from optimizer.lp_bound import LpBound

    deadline = started + time_limit_s
    seats_left = sum(block.seats for block in split)
    results: list[LpBound] = []
    trips = value = lp_value = 0.0
    for block in split:
        left = deadline - time.monotonic()
        box = left * block.seats / max(1, seats_left)
        seats_left -= block.seats
        bound = (
            solve(block.demands, block.warm, block.counting, box) if box >= MIN_BLOCK_S else None
        )
        if bound is None or bound.trips < block.counting:
            trips += block.counting
            value += block.counting
            lp_value += bound.lp_value if bound is not None and bound.lp_value else block.counting
        else:
            trips += bound.trips
            value += bound.value
            lp_value += bound.lp_value
        if bound is not None:
            results.append(bound)
    solved = [r for r in results if r.iterations > 0]
    summed = LpBound(
        trips=max(known_bound, int(trips)),
        value=max(float(known_bound), value),
        lp_value=lp_value,
        converged=len(solved) == len(split) and all(r.converged for r in solved),
        iterations=sum(r.iterations for r in results),
        columns=sum(r.columns for r in results),
        county_sets=sum(r.county_sets for r in results),
        seconds=time.monotonic() - started,
        note=BLOCKS_NOTE.format(blocks=len(split)),
        patterns=tuple(p for r in results for p in r.patterns),
        solver_seconds=sum(r.solver_seconds for r in results),
        pricing_seconds=sum(r.pricing_seconds for r in results),
        seats=sum(r.seats for r in results),
        limited_seats=sum(r.limited_seats for r in results),
        hub_seats=sum(r.hub_seats for r in results),
    )
    return dataclasses.replace(
        summed, blocks=len(split), block_counting=sum(b.counting for b in split)
    )
