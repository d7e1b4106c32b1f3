"""Which county sets one coach can serve (the corridors of the LP bound, `optimizer.lp_bound`).

A coach serves its counties in some driving order; a passenger's ride must stay within the
detour limit. These relaxed tests (over the metric closure of the travel times) hold for every
legal coach, so the LP's patterns include every legal coach's county set (docs/plan-format.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# County sets `county_sets` lists at most (a listing for tests and checks; pricing lists none).
MAX_COUNTY_SETS = 400_000
# A passenger's ride may exceed the limit by one second (the plan checker's rounding allowance).
RIDE_ALLOWANCE_S = 1.0


def metric_closure(
    seconds: npt.ArrayLike, deadline: float | None = None
) -> npt.NDArray[np.float64]:
    """Shortest-path closure of a travel-time matrix (Floyd-Warshall): never above the matrix,
    and it obeys the triangle inequality even where the matrix does not (road times along
    km-shortest paths). With `deadline` (a `time.monotonic()` instant), `TimeoutError` once it
    has passed: on return waves of ~1,000 sites it took 20 s at load 12 (docs/benchmarks.md
    "lpinc")."""
    closure = np.array(seconds, dtype=np.float64)
    for k in range(closure.shape[0]):
        if deadline is not None and k % 32 == 0 and time.monotonic() > deadline:
            raise TimeoutError("time limit reached while closing the travel times")
        np.minimum(closure, closure[:, k : k + 1] + closure[k : k + 1, :], out=closure)
    return closure


@dataclass(frozen=True)
class Corridors:
    """What decides whether one coach can serve a set of counties (docs/plan-format.md).

    `reach[c]`: the least driving seconds from any boarding site to county c (metric closure);
    `allowed[c]`: the longest ride a passenger of c may have (ratio x the slowest own boarding
    option's direct time + grace + the checker's 1 s); `between[a, b]`: the closure's seconds
    from county a to county b; `stop_limit`: counties per coach.
    """

    reach: npt.NDArray[np.float64]
    allowed: npt.NDArray[np.float64]
    between: npt.NDArray[np.float64]
    stop_limit: int


def corridors(
    counties: Sequence[str],
    *,
    sites: Sequence[str],
    leg_s: npt.ArrayLike,
    boarding_sites: Collection[str],
    boarding_of: Mapping[str, Collection[str]],
    county_stop_limit: int,
    detour_ratio: float,
    detour_grace_s: float,
    closure: npt.NDArray[np.float64] | None = None,
) -> Corridors:
    """The corridor data of `counties` (keys into `sites`); `leg_s[i, j]` is the driving time
    from `sites[i]` to `sites[j]` in the passengers' direction (boarding points before counties;
    the transpose of the road matrix for return trips). `closure`: `metric_closure(leg_s)` when
    the caller has it (Floyd-Warshall is the cost here: 3 s of CPU at 800 sites)."""
    index = {key: i for i, key in enumerate(sites)}
    if closure is None:
        closure = metric_closure(leg_s)
    raw = np.asarray(leg_s, dtype=np.float64)
    boards = [index[b] for b in boarding_sites]
    at = [index[c] for c in counties]
    reach = closure[np.ix_(boards, at)].min(axis=0) if at else np.zeros(0)
    allowed = np.array(
        [
            detour_ratio * max(raw[index[b], index[c]] for b in boarding_of[c])
            + detour_grace_s
            + RIDE_ALLOWANCE_S
            for c in counties
        ],
        dtype=np.float64,
    )
    return Corridors(reach, allowed, closure[np.ix_(at, at)], county_stop_limit)


def county_sets(
    counties: Sequence[str],
    *,
    sites: Sequence[str],
    leg_s: npt.ArrayLike,
    boarding_sites: Collection[str],
    boarding_of: Mapping[str, Collection[str]],
    county_stop_limit: int,
    detour_ratio: float,
    detour_grace_s: float,
    limit: int = MAX_COUNTY_SETS,
    deadline: float = math.inf,
) -> list[tuple[int, ...]] | None:
    """Every set of at most `county_stop_limit` counties (indices into `counties`) that one coach
    can serve in some order with every passenger's ride within the detour limit, in a relaxed
    sense that any legal coach satisfies (docs/plan-format.md); None when there are more than
    `limit` or when time.monotonic() passes `deadline`.

    A passenger alighting at the j-th county c_j rides at least
    min_b T(b, c_1) + Σ_{i<j} T(c_i, c_{i+1}) over the metric closure T, and may ride at most
    ratio x max_b t(b, c_j) + grace over the county's own boarding points b. The LP's pricing
    does not list these sets (it extends labels, `_price`); this listing serves tests and
    small checks.
    """
    corridor = corridors(
        counties,
        sites=sites,
        leg_s=leg_s,
        boarding_sites=boarding_sites,
        boarding_of=boarding_of,
        county_stop_limit=county_stop_limit,
        detour_ratio=detour_ratio,
        detour_grace_s=detour_grace_s,
    )
    size = len(counties)
    if size == 0:
        return []
    found: set[tuple[int, ...]] = {(c,) for c in range(size)}
    chains: list[tuple[tuple[int, ...], int, float]]
    chains = [((c,), c, float(corridor.reach[c])) for c in range(size)]
    for _ in range(2, county_stop_limit + 1):
        grown: dict[tuple[tuple[int, ...], int], float] = {}
        for served, last, elapsed in chains:
            if time.monotonic() > deadline:
                return None
            arrival = elapsed + corridor.between[last]
            for following in np.nonzero(arrival <= corridor.allowed)[0].tolist():
                if following in served:
                    continue
                key = (tuple(sorted((*served, following))), following)
                if grown.get(key, math.inf) > arrival[following]:
                    grown[key] = float(arrival[following])
        chains = [(served, last, elapsed) for (served, last), elapsed in grown.items()]
        found.update(served for served, _ in grown)
        if len(found) > limit:
            return None
    return sorted(found, key=lambda s: (len(s), s))
