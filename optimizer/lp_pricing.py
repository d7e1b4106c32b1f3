"""Pricing of the LP bound (`optimizer.lp_bound`): the largest dual value of any coach pattern,
by extending labels (chains of counties in driving order) with pruning, and the best columns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.lp_corridors import Corridors
from optimizer.lp_curves import (
    _best_stops,
    _combined_value,
    _CountyCurve,
    _fill,
    _PickupLimit,
    _seat_curve,
    _site_curves,
    _stops_ceiling,
)

# A column enters the master when its priced value exceeds 1 by this much.
PRICE_TOLERANCE = 1e-7
# Columns added per pricing round at most.
COLUMNS_PER_ROUND = 400
# With pickup rows: sets of counties priced exactly per round only to give the master a column.
SPARE_SETS = 100
# With pickup rows and `stop_early`: once this many sets were priced exactly and enough improving
# columns were found, a round stops without the exact maximum (it proves nothing that round).
EXACT_SETS_PER_ROUND = 300

# Labels extended at once while pricing (rows x candidate counties).
LABELS_PER_STEP = 2_000_000


class _Enough(Exception):
    """Pricing has found enough improving columns and stops before the maximum is known."""


# Sets priced exactly at once (vectorised), in decreasing order of their upper bound.
PRICE_CHUNK = 4096
# Sets whose county curves are combined at once with pickup rows (sets x seats x seats floats).
CURVE_CHUNK = 256

Column = tuple[int, tuple[int, ...], dict[int, int]]


@dataclass
class _Labels:
    """Chains of counties one coach can serve in this order, with what bounds their value.

    `served` holds each chain's counties (sorted), `last` the county it ends at, `elapsed` the
    least seconds of driving so far, `value` its exact value (or an upper bound of it), and
    `seat_sum`, `visit_sum`, `top_price` the sums of its counties' own seat values and visit duals
    and the highest seat price among them.
    """

    served: npt.NDArray[np.int64]
    last: npt.NDArray[np.int64]
    elapsed: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    seat_sum: npt.NDArray[np.float64]
    visit_sum: npt.NDArray[np.float64]
    top_price: npt.NDArray[np.float64]

    def take(self, keep: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> _Labels:
        return _Labels(*(getattr(self, f.name)[keep] for f in dataclasses.fields(self)))


def _price(
    duals: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.float64],
    visit_row: int,
    corridor: Corridors,
    days: Sequence[dt.date],
    capacity_by_date: Mapping[dt.date, int],
    eligible: Mapping[tuple[int, int], npt.NDArray[np.int64]],
    deadline: float,
    per_coach: float = 0.0,
    limits: _PickupLimit | None = None,
    stop_early: bool = False,
    worth_completing: Callable[[float, float], bool] | None = None,
) -> tuple[float, list[Column], int, bool] | None:
    """The largest dual value of any pattern, the best columns, the sets priced exactly, and
    whether that value is exact; None at the deadline. `duals` are the group rows' then the
    visit rows'; `per_coach` the dual of the row every pattern is in (the known bound's), added
    to every value.

    The largest value is exact, unless `stop_early` stopped the round once it had enough
    improving columns: then it is `pricing_ceiling`'s over-estimate (never below the exact
    maximum, so still good for a Farley bound). With `worth_completing`, a round that could
    stop early goes on while `worth_completing(best value found, over-estimate)` says the exact
    maximum could still pay (e.g. raise the proven integer bound).

    The best loading of a set on a date takes the date's capacity in seats at the highest dual
    prices among its counties' eligible groups (seats weigh alike, so greedy is exact). Counties
    of no positive value never raise a set's value and compatible sets are closed under removal,
    so only counties of positive value are extended, by labels along corridor order: a chain
    grows by a county it reaches within that county's ride limit. A set's value is at most
    min(Σ own seat values, C x its highest seat price) + Σ visit duals, and at most its chain's
    value plus the added county's own value; a label whose bound, plus the best values the
    remaining stops could add, does not beat the best set found is dropped, so the maximum is
    exact without listing every set.

    With pickup rows (`limits`), a county's own seat value is its `_CountyCurve` at C_d (fixed-
    site seats from at most `limits.limit` sites), a set's exact value the max-plus convolution of
    its counties' curves (`_combined_value`); the label bounds keep the unlimited seat prices
    (never below the limited values), so the pruning stays exact.
    """
    group_duals = duals[:visit_row]
    county_duals = duals[visit_row:]
    count = len(county_duals)
    # A pattern improves the master when its value, with the per-coach dual, exceeds 1.
    threshold = 1.0 - per_coach + PRICE_TOLERANCE
    by_day: dict[int, list[tuple[int, npt.NDArray[np.int64]]]] = defaultdict(list)
    for (di, ci), rows in eligible.items():
        by_day[di].append((ci, rows))
    most = 0.0
    evaluated = 0
    found = _Found(threshold)
    # With pickup rows, the sets' values under the limit across the whole coach, and their curves.
    coach_curve: dict[tuple[int, tuple[int, ...]], _CountyCurve] = {}
    coach_sets = 0
    site_values: dict[int, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
    # Sets priced exactly only for a column (they cannot raise the maximum), per round at most.
    spare = SPARE_SETS

    def enough(priced: int) -> bool:
        """Whether a round may stop here (`stop_early`): `priced` sets priced exactly, enough
        improving columns found, and completing it could not raise the proven bound."""
        return (
            stop_early
            and priced >= EXACT_SETS_PER_ROUND
            and found.size >= COLUMNS_PER_ROUND
            and (
                worth_completing is None
                or not worth_completing(most + per_coach, max(ceiling, most) + per_coach)
            )
        )

    def settle(
        di: int,
        capacity: int,
        members: npt.NDArray[np.int64],
        bounds: npt.NDArray[np.float64],
        visit: npt.NDArray[np.float64],
        improving: bool = False,
    ) -> bool:
        """Price `members` (sets of counties) under the limit across the whole coach, best upper
        bound (`bounds`: the limit per county) first, those that can beat `most` (or, when
        `improving`, the threshold: every improving column); False at the deadline."""
        nonlocal most, coach_sets
        assert limits is not None
        # A second bound: the choosing seats' values plus the best `limit` sites' values, each
        # summed over the set's counties (a coach's seats split into those parts).
        flexible_value, site_value = site_values[di]
        summed = site_value[members].sum(axis=1)
        if summed.shape[1] > limits.limit:
            summed = np.partition(summed, summed.shape[1] - limits.limit, axis=1)
        top = summed[:, -limits.limit :].sum(axis=1)
        bounds = np.minimum(
            bounds, flexible_value[members].sum(axis=1) + top + visit[members].sum(axis=1)
        )
        nonlocal spare
        for k in np.argsort(-bounds, kind="stable").tolist():
            if bounds[k] <= (min(most, threshold) if improving else most) + 1e-12:
                # A set that cannot beat the best may still improve the master: a few more.
                if spare <= 0 or bounds[k] <= threshold + 1e-12:
                    break
                spare -= 1
            if time.monotonic() > deadline:
                return False
            served = members[k]
            rows = np.concatenate(
                [eligible[(di, c)] for c in served.tolist() if (di, c) in eligible]
            )
            whole = _best_stops(group_duals[rows], rows, sizes, limits, capacity)
            value = float(whole.curve[capacity] + visit[served].sum())
            coach_sets += 1
            if value > threshold:
                coach_curve[(di, tuple(served.tolist()))] = whole
            most = max(most, value)
            found.add(di, served[None, :], np.array([value]))
            if enough(coach_sets):
                raise _Enough
        return True

    partial = False
    # An over-estimate of the largest value (`pricing_ceiling`), found with the county values.
    ceiling = 0.0
    try:
        # Every county alone first (on every date), so the best single value prunes the labels.
        priced_days = []
        for di, day in enumerate(days):
            capacity = capacity_by_date[day]
            # marginal[c, k]: the (k+1)-th best seat price of county c's groups on this date.
            marginal = np.zeros((count, capacity))
            usable = np.zeros(count, dtype=bool)
            curves = np.zeros((count, capacity + 1)) if limits is not None else None
            # With pickup rows: each county's best value from the seats that may choose, and from
            # each fixed site alone (what `settle`'s cheap bound adds up).
            # Hub stops count as sites too (after the gates): a seat of a hub's company is one of
            # that hub's seats, so the bound may count it twice, never too little.
            gates_count = int(limits.site.max()) + 1 if limits is not None else 0
            hub_count = limits.hub_count if limits is not None else 0
            flexible_value = np.zeros(count)
            site_value = np.zeros((count, max(1, gates_count + hub_count)))
            for ci, rows in by_day.get(di, []):
                usable[ci] = True
                if limits is not None and curves is not None:
                    curves[ci] = _stops_ceiling(group_duals[rows], rows, sizes, limits, capacity)
                    site = limits.site[rows]
                    prices = group_duals[rows]
                    flexible_value[ci] = _seat_curve(
                        prices[site < 0], sizes[rows][site < 0], capacity
                    )[capacity]
                    fixed = np.nonzero(site >= 0)[0]
                    numbers, values = _site_curves(
                        prices[fixed], sizes[rows][fixed], site[fixed], capacity
                    )
                    site_value[ci, numbers] = values[:, capacity]
                    if limits.hubs is not None:
                        hubs = limits.hubs[rows]
                        for bit in range(hub_count):
                            mine = (hubs >> bit & 1) == 1
                            if mine.any():
                                site_value[ci, gates_count + bit] = _seat_curve(
                                    prices[mine], sizes[rows][mine], capacity
                                )[capacity]
                prices = group_duals[rows]
                keep = prices > 0
                if keep.any():
                    order = np.argsort(-prices[keep], kind="stable")
                    seats = np.minimum(sizes[rows][keep][order].astype(np.int64), capacity)
                    per_seat = np.repeat(prices[keep][order], seats)[:capacity]
                    marginal[ci, : len(per_seat)] = per_seat
            seat_value = marginal.sum(axis=1) if curves is None else curves[:, capacity]
            filled = (marginal > 0).sum(axis=1)
            # A coach serves a county on a date only if some of its groups may depart then.
            visit = np.where(usable, county_duals, 0.0)
            own = seat_value + visit
            candidates = np.nonzero(usable & (own > 0))[0]
            if not len(candidates):
                continue
            ceiling = max(
                ceiling, _day_ceiling(own, visit, marginal, candidates, corridor.stop_limit)
            )
            site_values[di] = (flexible_value, site_value)
            priced_days.append(
                (di, capacity, marginal, seat_value, filled, visit, own, candidates, curves)
            )
        for di, capacity, _, _, _, visit, own, candidates, _ in priced_days:
            evaluated += len(candidates)
            if limits is None:
                most = max(most, float(own[candidates].max()))
                found.add(di, candidates[:, None], own[candidates])
            elif not settle(
                di, capacity, candidates[:, None], own[candidates], visit, not stop_early
            ):
                return None  # with hubs `own` is a ceiling: each county alone priced exactly
        priced_days.sort(key=lambda p: -float(p[6][p[7]].max()))
        for (
            di,
            capacity,
            marginal,
            seat_value,
            filled,
            visit,
            own,
            candidates,
            curves,
        ) in priced_days:
            if corridor.stop_limit < 2:
                break
            position = np.full(count, -1, dtype=np.int64)
            position[candidates] = np.arange(len(candidates))
            own_sorted = np.sort(own[candidates])[::-1]
            labels = _Labels(
                candidates[:, None],
                candidates,
                corridor.reach[candidates],
                own[candidates],
                seat_value[candidates],
                visit[candidates],
                marginal[candidates, 0],
            )
            allowed = corridor.allowed[candidates]
            for length in range(2, corridor.stop_limit + 1):
                # What counties after this one could still add, at most.
                later = float(own_sorted[: corridor.stop_limit - length].sum())
                grown = _extend(
                    labels,
                    candidates,
                    position,
                    corridor,
                    allowed,
                    own,
                    seat_value,
                    visit,
                    marginal,
                    capacity,
                    later,
                    most,
                    deadline,
                )
                if grown is None:
                    return None
                if not len(grown.last):
                    break
                # Price exactly, best bound first, the distinct sets whose bound beats the best.
                sets, inverse = np.unique(grown.served, axis=0, return_inverse=True)
                inverse = inverse.reshape(-1)
                bound = np.full(len(sets), -np.inf)
                np.maximum.at(bound, inverse, grown.value)
                exact = bound.copy()
                # Sets whose counties' positive seats fit in one coach are worth their sum: exact.
                fits = (filled[sets].sum(axis=1) <= capacity) & (bound > most + 1e-12)
                if fits.any():
                    members = sets[fits]
                    values = seat_value[members].sum(axis=1) + visit[members].sum(axis=1)
                    exact[fits] = values
                    evaluated += len(values)
                    if limits is None:
                        most = max(most, float(values.max()))
                        found.add(di, members, values)
                        if enough(evaluated):
                            raise _Enough
                    elif not settle(di, capacity, members, values, visit):
                        return None
                pending = np.where(fits, -np.inf, bound)
                order = np.argsort(-pending, kind="stable")
                for start in range(0, len(order), PRICE_CHUNK):
                    if time.monotonic() > deadline:
                        return None
                    chunk = order[start : start + PRICE_CHUNK]
                    chunk = chunk[pending[chunk] > most + 1e-12]
                    if not len(chunk):
                        break
                    members = sets[chunk]
                    if curves is not None:
                        seat_part = np.concatenate(
                            [
                                _combined_value(curves[members[k : k + CURVE_CHUNK]])
                                for k in range(0, len(members), CURVE_CHUNK)
                            ]
                        )
                    else:
                        prices = marginal[members].reshape(len(chunk), -1)
                        if prices.shape[1] > capacity:
                            prices = np.partition(prices, prices.shape[1] - capacity, axis=1)
                            prices = prices[:, -capacity:]
                        seat_part = prices.sum(axis=1)
                    values = seat_part + visit[members].sum(axis=1)
                    exact[chunk] = values
                    evaluated += len(chunk)
                    if limits is None:
                        most = max(most, float(values.max()))
                        found.add(di, members, values)
                        if enough(evaluated):
                            raise _Enough
                    elif not settle(di, capacity, members, values, visit):
                        return None
                grown.value = np.minimum(grown.value, exact[inverse])
                # Only labels that could still lead to a better set are extended.
                labels = grown.take(grown.value + later > most + 1e-12)
                if not len(labels.last):
                    break
    except _Enough:
        # Enough improving columns: the maximum is not known this round, only its over-estimate.
        partial = True
    columns: list[Column] = []
    for di, served in found.best():
        parts = [eligible[(di, c)] for c in served if (di, c) in eligible]
        capacity = capacity_by_date[days[di]]
        loading: dict[int, int] = {}
        if limits is not None:
            # Every improving set was priced exactly (`settle`), which kept its curve.
            if (di, served) not in coach_curve:
                continue
            loading = coach_curve[(di, served)].loading(capacity)
        else:
            rows = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            _, loading = _fill(group_duals[rows], rows, sizes, capacity)
        columns.append((di, served, loading))
    value = (max(ceiling, most) if partial else most) + per_coach
    return value, columns, evaluated + coach_sets, not partial


def _day_ceiling(
    own: npt.NDArray[np.float64],
    visit: npt.NDArray[np.float64],
    marginal: npt.NDArray[np.float64],
    candidates: npt.NDArray[np.int64],
    stop_limit: int,
) -> float:
    """An upper bound on the value of any pattern on one date: the corridor test and the
    sharing of one coach's seats are left out. A set S of at most `stop_limit` counties is worth
    its loading plus Σ_S visit duals; the loading's seats from county c are one loading of c
    alone (so worth at most c's own seat value) and are at most C of the date's best seat
    prices. So the value is at most min(Σ of the `stop_limit` largest `own`, the C largest seat
    prices of the date + Σ of the `stop_limit` largest visit duals). `own` = seat value + visit
    per county (never negative), `marginal[c]` county c's C best seat prices (unlimited), only
    `candidates` (the counties of positive value that may be served) count."""
    if not len(candidates):
        return 0.0
    take = min(stop_limit, len(candidates))
    own_top = np.partition(own[candidates], len(candidates) - take)[-take:].sum()
    visit_top = np.partition(visit[candidates], len(candidates) - take)[-take:].sum()
    prices = marginal[candidates].reshape(-1)
    capacity = marginal.shape[1]
    if len(prices) > capacity:
        prices = np.partition(prices, len(prices) - capacity)[-capacity:]
    return float(min(own_top, prices.sum() + visit_top))


class _Found:
    """The best improving columns seen while pricing (value above `threshold`), kept to about
    `COLUMNS_PER_ROUND` by date and county set."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.values: list[npt.NDArray[np.float64]] = []
        self.days: list[npt.NDArray[np.int64]] = []
        self.sets: list[tuple[int, ...]] = []
        self.size = 0

    def add(self, day: int, sets: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> None:
        good = values > self.threshold
        if not good.any():
            return
        values = values[good]
        if len(values) > COLUMNS_PER_ROUND:
            values_kept = np.argpartition(-values, COLUMNS_PER_ROUND)[:COLUMNS_PER_ROUND]
            values, rows = values[values_kept], sets[good][values_kept]
        else:
            rows = sets[good]
        self.values.append(values)
        self.days.append(np.full(len(values), day, dtype=np.int64))
        self.sets.extend(tuple(row) for row in rows.tolist())
        self.size += len(values)

    def best(self) -> list[tuple[int, tuple[int, ...]]]:
        """The best distinct (date, county set) pairs, best first."""
        if not self.size:
            return []
        values = np.concatenate(self.values)
        days = np.concatenate(self.days)
        chosen: dict[tuple[int, tuple[int, ...]], None] = {}
        for k in np.argsort(-values, kind="stable").tolist():
            chosen.setdefault((int(days[k]), self.sets[k]), None)
            if len(chosen) >= COLUMNS_PER_ROUND:
                break
        return list(chosen)


def _extend(
    labels: _Labels,
    candidates: npt.NDArray[np.int64],
    position: npt.NDArray[np.int64],
    corridor: Corridors,
    allowed: npt.NDArray[np.float64],
    own: npt.NDArray[np.float64],
    seat_value: npt.NDArray[np.float64],
    visit: npt.NDArray[np.float64],
    marginal: npt.NDArray[np.float64],
    capacity: int,
    later: float,
    most: float,
    deadline: float,
) -> _Labels | None:
    """Every label grown by one candidate county it reaches in time, with an upper bound on the
    value of the grown set, keeping those whose bound plus `later` beats `most`; one label per
    (set, last county), the one with the least driving so far. None at the deadline."""
    step = max(1, LABELS_PER_STEP // max(1, len(candidates)))
    parts: list[_Labels] = []
    for start in range(0, len(labels.last), step):
        if time.monotonic() > deadline:
            return None
        block = labels.take(np.arange(start, min(start + step, len(labels.last))))
        arrival = block.elapsed[:, None] + corridor.between[np.ix_(block.last, candidates)]
        ok = arrival <= allowed[None, :]
        rows = np.arange(len(block.last))
        for column in range(block.served.shape[1]):
            ok[rows, position[block.served[:, column]]] = False
        top_price = np.maximum(block.top_price[:, None], marginal[candidates, 0][None, :])
        seat_sum = block.seat_sum[:, None] + seat_value[candidates][None, :]
        visit_sum = block.visit_sum[:, None] + visit[candidates][None, :]
        bound = np.minimum(
            block.value[:, None] + own[candidates][None, :],
            np.minimum(seat_sum, capacity * top_price) + visit_sum,
        )
        ok &= bound + later > most + 1e-12
        state, following = np.nonzero(ok)
        parts.append(
            _Labels(
                np.sort(np.column_stack([block.served[state], candidates[following]]), axis=1),
                candidates[following],
                arrival[state, following],
                bound[state, following],
                seat_sum[state, following],
                visit_sum[state, following],
                top_price[state, following],
            )
        )
    if not parts:
        return labels.take(np.zeros(0, dtype=np.int64))
    grown = _Labels(
        *(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(_Labels))
    )
    if not len(grown.last):
        return grown
    # One label per (set, last county): the least driving so far extends furthest.
    keys = np.column_stack([grown.served, grown.last])
    order = np.lexsort((grown.elapsed, *keys.T[::-1]))
    keys = keys[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]).any(axis=1)
    return grown.take(order[first])
