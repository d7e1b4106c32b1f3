"""County curves of the LP bound's pricing (`optimizer.lp_bound`): the best dual value of at most
k seats of a county's groups on a date, under the pickup rows (fixed-site seats from at most a
limit of boarding stops, gates or hubs), and their max-plus combination across a coach's counties.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class _PickupLimit:
    """The pickup rows: `site[row]` numbers the own boarding site (gate) of a group (-1: it may
    choose freely), `hubs[row]` is the bit mask of the hubs it may also board at; a pattern has at
    most `limit` boarding stops, gates or hubs, and carries a group's seats only when its gate or
    one of its hubs is among them."""

    site: npt.NDArray[np.int64]
    limit: int
    hubs: npt.NDArray[np.int64] | None = None

    @property
    def hub_count(self) -> int:
        if self.hubs is None or not len(self.hubs):
            return 0
        return int(np.bitwise_or.reduce(self.hubs)).bit_length()


def _seat_curve(
    prices: npt.NDArray[np.float64], seats: npt.NDArray[np.float64], capacity: int
) -> npt.NDArray[np.float64]:
    """curve[k]: the best value of at most k seats (k = 0..capacity) at `prices` per seat
    (positive prices only; greedy, exact for seats of equal weight)."""
    keep = prices > 0
    order = np.argsort(-prices[keep], kind="stable")
    counts = np.minimum(seats[keep][order], capacity).astype(np.int64)
    per_seat = np.repeat(prices[keep][order], counts)[:capacity]
    curve = np.zeros(capacity + 1)
    curve[1 : len(per_seat) + 1] = np.cumsum(per_seat)
    curve[len(per_seat) + 1 :] = curve[len(per_seat)]
    return curve


def _max_plus(
    first: npt.NDArray[np.float64], second: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """out[..., k] = max over j <= k of first[..., k - j] + second[..., j], and the best j: the
    best value of at most k seats shared between two curves (the last axis)."""
    shift, invalid = _shifts(first.shape[-1])
    table = first[..., shift] + second[..., None, :]
    table[..., invalid] = -np.inf
    return table.max(axis=-1), table.argmax(axis=-1)


def _max_plus_few(
    first: npt.NDArray[np.float64], second: npt.NDArray[np.float64], upto: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """`_max_plus(first, second)` where `first` never falls along its last axis and `second` is
    flat beyond index `upto`: only j <= upto can be best (the smallest such j on ties, as there).
    """
    if upto >= 16:
        return _max_plus(first, second[None, :] if first.ndim > 1 else second)
    out = first + second[0]
    best = np.zeros(out.shape, dtype=np.int64)
    for j in range(1, upto + 1):
        shifted = first[..., :-j] + second[j]
        better = shifted > out[..., j:]
        out[..., j:] = np.where(better, shifted, out[..., j:])
        best[..., j:] = np.where(better, j, best[..., j:])
    return out, best


@functools.cache
def _shifts(size: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """shift[k, j] = k - j (clipped at 0) and where j > k, for `_max_plus`."""
    k = np.arange(size)
    shift = k[:, None] - k[None, :]
    return np.clip(shift, 0, None), shift < 0


@dataclass
class _CountyCurve:
    """One county's best values on one date under the pickup rows: `curve[k]` is the best value
    of at most k seats with fixed-site seats from at most `limit` sites; `loading(k)` rebuilds
    the loading (row -> seats) behind curve[k]."""

    curve: npt.NDArray[np.float64]
    rows: npt.NDArray[np.int64]
    prices: npt.NDArray[np.float64]
    sizes: npt.NDArray[np.float64]
    # The sites in the order the dynamic programme took them, and per site and gate count the
    # seats taken from it (-1: not taken) at each budget.
    sites: list[npt.NDArray[np.int64]]
    choices: list[npt.NDArray[np.int64]]
    flexible: npt.NDArray[np.int64]

    def loading(self, budget: int) -> dict[int, int]:
        """Rows and seats of a loading worth curve[budget]."""
        taken: dict[int, int] = {}
        left = budget
        gates = len(self.choices[0]) - 1 if self.choices else 0
        for members, choice in zip(reversed(self.sites), reversed(self.choices), strict=True):
            seats = int(choice[gates, left]) if gates > 0 else -1
            if seats > 0:
                taken.update(self._greedy(members, seats))
                left -= seats
                gates -= 1
        taken.update(self._greedy(self.flexible, left))
        return taken

    def _greedy(self, members: npt.NDArray[np.int64], seats: int) -> dict[int, int]:
        order = members[np.argsort(-self.prices[members], kind="stable")]
        taken: dict[int, int] = {}
        for k in order.tolist():
            if seats <= 0 or self.prices[k] <= 0:
                break
            take = min(seats, int(self.sizes[k]))
            taken[int(self.rows[k])] = take
            seats -= take
        return taken


def _site_curves(
    prices: npt.NDArray[np.float64],
    seats: npt.NDArray[np.float64],
    site: npt.NDArray[np.int64],
    capacity: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The distinct sites of the rows of positive price, and per site `_seat_curve` of its rows
    (shape sites x capacity + 1), all at once."""
    keep = np.nonzero(prices > 0)[0]
    sites, number = np.unique(site[keep], return_inverse=True)
    number = number.reshape(-1)
    order = np.lexsort((-prices[keep], number))
    counts = np.minimum(seats[keep][order], capacity).astype(np.int64)
    per_seat = np.repeat(prices[keep][order], counts)
    owner = np.repeat(number[order], counts)
    # Each seat's position among its site's seats (they are contiguous, best first).
    starts = np.zeros(len(sites) + 1, dtype=np.int64)
    np.add.at(starts, number[order] + 1, counts)
    starts = np.cumsum(starts)
    position = np.arange(len(per_seat)) - starts[owner]
    inside = position < capacity
    marginal = np.zeros((len(sites), capacity))
    marginal[owner[inside], position[inside]] = per_seat[inside]
    curves = np.zeros((len(sites), capacity + 1))
    curves[:, 1:] = np.cumsum(marginal, axis=1)
    return sites, curves


def _undominated(curves: npt.NDArray[np.float64], limit: int) -> list[int]:
    """The sites (rows of `curves`, each a site's best value per seat count) that fewer than
    `limit` others dominate (curve at least as high everywhere; among equal curves the first
    dominates). A solution with at most `limit` sites that uses a site dominated by `limit`
    others leaves one of those unused and may swap to it without losing value, so the dynamic
    programme over the kept sites has the same optimum."""
    at_least = (curves[:, None, :] >= curves[None, :, :]).all(axis=2)
    index = np.arange(len(curves))
    dominates = at_least & (~at_least.T | (index[:, None] < index[None, :]))
    np.fill_diagonal(dominates, False)
    return np.nonzero(dominates.sum(axis=0) < limit)[0].tolist()


def _county_curve(
    prices: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.float64],
    site: npt.NDArray[np.int64],
    capacity: int,
    limit: int,
) -> _CountyCurve:
    """The county's `_CountyCurve` for groups `rows` at `prices` per seat; `site[i]` is row i's
    fixed boarding site (-1: it may choose). Exact: sites by a dynamic programme over (sites
    used, seats), each site's and the choosing seats' own values greedy."""
    seat_count = sizes[rows]
    positive = prices > 0
    local = np.arange(len(rows))
    flexible = local[positive & (site < 0)]
    fixed_sites = np.unique(site[positive & (site >= 0)])
    if len(fixed_sites) <= limit:  # every site fits: the plain greedy over all rows
        everything = local[positive]
        return _CountyCurve(
            _seat_curve(prices[everything], seat_count[everything], capacity),
            rows, prices, seat_count, [], [], everything,
        )  # fmt: skip
    curve = _seat_curve(prices[flexible], seat_count[flexible], capacity)
    fixed = np.nonzero(site >= 0)[0]
    fixed_sites, own_curves = _site_curves(prices[fixed], seat_count[fixed], site[fixed], capacity)
    kept = _undominated(own_curves, limit)
    members = [local[positive & (site == fixed_sites[i])] for i in kept]
    # best[t, k]: the best value of at most k seats with at most t sites among those seen so far.
    best = np.repeat(curve[None, :], limit + 1, axis=0)
    choices: list[npt.NDArray[np.int64]] = []
    for i, group in zip(kept, members, strict=True):
        own = own_curves[i]
        # Beyond its seats a site's curve is flat and `best` never falls: only those j count.
        value, seats = _max_plus_few(best[:-1], own, min(capacity, int(seat_count[group].sum())))
        better = value > best[1:] + 1e-12
        choice = np.full((limit + 1, capacity + 1), -1, dtype=np.int64)
        choice[1:] = np.where(better, seats, -1)
        best[1:] = np.where(better, value, best[1:])
        choices.append(choice)
    return _CountyCurve(best[limit], rows, prices, seat_count, members, choices, flexible)


def _hub_mask(
    prices: npt.NDArray[np.float64], rows: npt.NDArray[np.int64], limits: _PickupLimit
) -> int:
    """The hubs (bit mask) some group of `rows` of positive price may board at."""
    if limits.hubs is None:
        return 0
    positive = prices > 0
    return int(np.bitwise_or.reduce(limits.hubs[rows][positive])) if positive.any() else 0


def _best_stops(
    prices: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.float64],
    limits: _PickupLimit,
    capacity: int,
) -> _CountyCurve:
    """A `_CountyCurve` whose value at `capacity` (and only there) is the best value of at most
    `capacity` seats of groups `rows` at `prices` per seat with at most `limits.limit` boarding
    stops, gates or hubs; its loading at `capacity` meets that limit.

    Exact: every choice of stops is a set H of hubs (of those some positive group may use) and
    some gates; for each H of at most `limit` hubs the groups that may board at a hub of H ride
    freely and the others come from at most limit - |H| gates (`_county_curve`, exact). An H whose
    upper bound (its free seats' value plus the best limit - |H| gates' values) cannot beat the
    best value found is skipped."""
    site = limits.site[rows]
    mask = _hub_mask(prices, rows, limits)
    if not mask or limits.hubs is None:
        return _county_curve(prices, rows, sizes, site, capacity, limits.limit)
    hubs = limits.hubs[rows]
    seat_count = sizes[rows]
    positive = prices > 0
    fixed = np.nonzero(site >= 0)[0]
    numbers, curves = _site_curves(prices[fixed], seat_count[fixed], site[fixed], capacity)
    gate_value = dict(zip(numbers.tolist(), curves[:, capacity].tolist(), strict=True))
    bits = [1 << b for b in range(mask.bit_length()) if mask >> b & 1]
    plans: list[tuple[float, int, npt.NDArray[np.int64]]] = []
    for count in range(min(limits.limit, len(bits)) + 1):
        for chosen in itertools.combinations(bits, count):
            covered = (hubs & sum(chosen)) != 0
            free = positive & ((site < 0) | covered)
            left = sorted(
                (gate_value[n] for n in np.unique(site[positive & ~free]).tolist()), reverse=True
            )
            ceiling = _seat_curve(prices[free], seat_count[free], capacity)[capacity]
            ceiling += sum(left[: limits.limit - count])
            plans.append((float(ceiling), count, np.where(covered, -1, site)))
    plans.sort(key=lambda plan: -plan[0])
    best: _CountyCurve | None = None
    for ceiling, count, own in plans:
        if best is not None and ceiling <= best.curve[capacity] + 1e-12:
            break
        curve = _county_curve(prices, rows, sizes, own, capacity, limits.limit - count)
        if best is None or curve.curve[capacity] > best.curve[capacity]:
            best = curve
    assert best is not None
    return best


def _stops_ceiling(
    prices: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.float64],
    limits: _PickupLimit,
    capacity: int,
) -> npt.NDArray[np.float64]:
    """curve[k]: at least the best value of at most k seats of groups `rows` with at most
    `limits.limit` boarding stops (exact without hubs). A hub is priced as a "super gate" whose
    seats are those of every group that may board there, so a group may count at its gate and
    at its hub: any loading under the limit is one of this programme's (each seat assigned to
    one stop of the coach), so the curve is never below the exact one."""
    site = limits.site[rows]
    mask = _hub_mask(prices, rows, limits)
    if not mask or limits.hubs is None:
        return _county_curve(prices, rows, sizes, site, capacity, limits.limit).curve
    hubs = limits.hubs[rows]
    base = int(limits.site.max()) + 1
    parts_prices, parts_rows, parts_site = [prices], [rows], [site]
    for bit in range(mask.bit_length()):
        mine = (hubs >> bit & 1) == 1
        if mine.any():
            parts_prices.append(prices[mine])
            parts_rows.append(rows[mine])
            parts_site.append(np.full(int(mine.sum()), base + bit, dtype=np.int64))
    return _county_curve(
        np.concatenate(parts_prices),
        np.concatenate(parts_rows),
        sizes,
        np.concatenate(parts_site),
        capacity,
        limits.limit,
    ).curve


def _combined_value(curves: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """For curves of shape (sets, counties, capacity + 1): each set's best value of at most
    `capacity` seats shared among its counties (max-plus convolution of the curves)."""
    total = curves[:, 0]
    for i in range(1, curves.shape[1]):
        if i == curves.shape[1] - 1:
            return np.asarray((total + curves[:, i, ::-1]).max(axis=1))
        total, _ = _max_plus(total, curves[:, i])
    return np.asarray(total[:, -1])


def _fill(
    prices: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.float64],
    capacity: int,
) -> tuple[float, dict[int, int]]:
    """The best loading of `capacity` seats from `rows` at `prices` per seat (greedy, exact for
    seats of equal weight) and its value."""
    order = np.argsort(-prices, kind="stable")
    value = 0.0
    left = capacity
    loading: dict[int, int] = {}
    for k in order.tolist():
        if left <= 0 or prices[k] <= 0:
            break
        take = min(left, int(sizes[rows[k]]))
        loading[int(rows[k])] = take
        value += take * float(prices[k])
        left -= take
    return value, loading
