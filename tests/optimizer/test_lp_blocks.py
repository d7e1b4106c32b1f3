"""The LP bound summed over blocks (`optimizer.lp_blocks`): never above the optimum of small
seasons, never below the LP or counting bound of the whole; an invalid split is caught."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import time
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import Phase, given, settings

from optimizer import lp_blocks
from optimizer.lp_blocks import Block, by_blocks, date_runs, partner_components, split_blocks
from optimizer.lp_bound import LpBound, LpDemand, corridors, lp_lower_bound, metric_closure
from tests.optimizer.test_lp_bound import (
    Season,
    counting_bound,
    lp_bound,
    optimum,
    seasons,
)

DAY0 = dt.date(2019, 1, 24)


def _demands(season: Season) -> list[LpDemand]:
    return [
        LpDemand(
            g.seats,
            season.site(season.gates + g.county),
            season.window(g),
            (season.site(g.gate),),
        )
        for g in season.groups
    ]


def block_bound(season: Season, split: Callable[..., list[Block]] = split_blocks) -> LpBound:
    """The LP bound of `season` summed over the blocks `split` gives (the pickup rows on, as in
    `plan_lp_bound`), each block's LP run to convergence."""
    demands = _demands(season)
    size = season.gates + season.counties
    sites = [season.site(i) for i in range(size)]
    leg = np.array(season.seconds, dtype=np.float64)
    closure = metric_closure(leg)
    capacity = {season.day(i): q for i, q in enumerate(season.capacity)}
    boarding_of: dict[str, set[str]] = {}
    for demand in demands:
        boarding_of.setdefault(demand.county, set()).update(demand.boarding)
    corridor = corridors(
        sorted(boarding_of),
        sites=sites,
        leg_s=leg,
        boarding_sites={b for d in demands for b in d.boarding},
        boarding_of=boarding_of,
        county_stop_limit=season.county_stops,
        detour_ratio=season.ratio,
        detour_grace_s=season.grace_s,
        closure=closure,
    )
    blocks = split(
        demands,
        (),
        capacity=capacity,
        corridor=corridor,
        county_stop_limit=season.county_stops,
        boarding_stop_limit=season.pickup_stops,
    )

    def solve(members: Sequence[LpDemand], warm: Any, counting: int, box: float) -> LpBound:
        return lp_lower_bound(
            members,
            capacity_by_date=capacity,
            county_stop_limit=season.county_stops,
            sites=sites,
            leg_s=leg,
            detour_ratio=season.ratio,
            detour_grace_s=season.grace_s,
            time_limit_s=30,
            until_converged=True,
            known_bound=counting,
            boarding_stop_limit=season.pickup_stops,
            warm_start=warm,
            closure=closure,
        )

    return by_blocks(blocks, solve, 0, time.monotonic(), 600.0)


def check(season: Season, bound: Callable[[Season], LpBound]) -> None:
    """The property: the summed bound stays at or under the exact optimum."""
    summed = bound(season)
    assert summed.trips <= optimum(season), summed.trips


@settings(max_examples=40, deadline=None)
@given(seasons())
def test_summed_block_bound_never_exceeds_the_optimum_nor_falls_below_the_whole(
    season: Season,
) -> None:
    summed = block_bound(season)
    best = optimum(season)
    assert summed.trips <= best, (summed.trips, best)
    # Never weaker than the LP of the whole with its pickup rows, nor the counting bound.
    whole = lp_bound(season, pickup=season.pickup_stops, known=counting_bound(season))
    assert summed.trips >= whole.trips, (summed.trips, whole.trips)
    assert summed.trips >= counting_bound(season)


def _one_county_per_component(demands: Sequence[LpDemand], warm: Any, **kwargs: Any) -> list[Block]:
    """Invalid: every county its own component, as if no two counties could share a coach."""
    corridor = kwargs.pop("corridor")
    alone = dataclasses.replace(corridor, stop_limit=1)
    return split_blocks(demands, warm, corridor=alone, **kwargs)


def _one_day_per_run(demands: Sequence[LpDemand], warm: Any, **kwargs: Any) -> list[Block]:
    """Invalid: the date runs joined by each window's first day only (the LPs keep the whole
    windows), so groups that may share a later date fall into different blocks."""
    real = lp_blocks.date_runs

    def first_days(windows: Sequence[tuple[dt.date, dt.date]], dates: Any) -> list[int]:
        return real([(w[0], w[0]) for w in windows], dates)

    with mock.patch.object(lp_blocks, "date_runs", first_days):
        return split_blocks(demands, warm, **kwargs)


@pytest.mark.parametrize(
    "split",
    [
        pytest.param(_one_county_per_component, id="every-county-alone"),
        pytest.param(_one_day_per_run, id="first-day-of-window"),
    ],
)
def test_an_invalid_split_is_caught(split: Callable[..., list[Block]]) -> None:
    """The same property fails for a split that puts counties one coach can serve together into
    different blocks, or groups whose windows share a date: the test has teeth."""

    @settings(max_examples=400, deadline=None, database=None, phases=[Phase.generate])
    @given(seasons())
    def property_of_invalid(season: Season) -> None:
        check(season, functools.partial(block_bound, split=split))

    with pytest.raises(AssertionError):
        property_of_invalid()


def test_partner_components_join_only_what_one_coach_can_serve() -> None:
    """Three counties: 0 and 1 side by side, 2 far the other way; a trip joining 1 and 2 (filed
    under an older policy) joins their components."""
    far = 1e9
    corridor = lp_blocks.Corridors(
        reach=np.array([100.0, 100.0, 100.0]),
        allowed=np.array([200.0, 200.0, 200.0]),
        between=np.array([[0.0, 50.0, far], [50.0, 0.0, far], [far, far, 0.0]]),
        stop_limit=2,
    )
    labels = partner_components(corridor)
    assert labels[0] == labels[1] != labels[2]
    joined = partner_components(corridor, [(1, 2)])
    assert joined[0] == joined[1] == joined[2]
    assert len(set(partner_components(dataclasses.replace(corridor, stop_limit=1)))) == 3


def test_date_runs_join_windows_sharing_a_departure_date() -> None:
    day = [DAY0 + dt.timedelta(days=i) for i in range(6)]
    windows = [(day[0], day[1]), (day[1], day[2]), (day[3], day[3]), (day[4], day[5])]
    # Day 4 has no coach: the last window departs on day 5 only, apart from the third.
    runs = date_runs(windows, [day[0], day[1], day[2], day[3], day[5]])
    assert runs[0] == runs[1] and len({runs[0], runs[2], runs[3]}) == 3
