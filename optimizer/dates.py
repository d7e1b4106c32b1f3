"""Departure dates: windows as closed date intervals, and choosing few dates that hit them all.

Choosing departure dates is a main lever of the planner: every distinct date a county is served on
costs at least one coach. The minimum number of dates that hit ("stab") every window is found by the
classic greedy (sort by end, stab at the first unstabbed end); among the equally good choices the
planner prefers dates that many other workers can also take, so remainders meet on the same day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

Window = tuple[dt.date, dt.date]


def clip_window(window: Window, first: dt.date, last: dt.date) -> Window | None:
    """`window` cut to the season [first, last], or None when they do not overlap."""
    start, end = max(window[0], first), min(window[1], last)
    return (start, end) if start <= end else None


def min_stabbing_count(windows: Iterable[Window]) -> int:
    """The fewest dates such that every window contains at least one of them."""
    count = 0
    stab: dt.date | None = None
    for start, end in sorted(windows, key=lambda w: w[1]):
        if stab is None or start > stab:
            stab = end
            count += 1
    return count


def choose_dates(
    windows: Sequence[Window], preference: Callable[[dt.date], float] | None = None
) -> list[dt.date]:
    """A minimum set of dates stabbing every window, each chosen where `preference` is highest.

    The greedy stabs the window that ends first; every date in [latest start among the windows it
    can reach, that end] stabs exactly the same windows, so any of them keeps the count minimal.
    Ties in `preference` go to the later date (more time to gather sign-ups).
    """
    remaining = sorted(windows, key=lambda w: (w[1], w[0]))
    chosen: list[dt.date] = []
    while remaining:
        end = remaining[0][1]
        reachable = [w for w in remaining if w[0] <= end]
        start = max(w[0] for w in reachable)
        day = end
        if preference is not None:
            best = (preference(end), end)
            current = start
            while current <= end:
                key = (preference(current), current)
                if key > best:
                    best = key
                current += dt.timedelta(days=1)
            day = best[1]
        chosen.append(day)
        remaining = [w for w in remaining if not (w[0] <= day <= w[1])]
    return sorted(chosen)


def days(window: Window) -> list[dt.date]:
    """Every date of a closed window, in order."""
    start, end = window
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def disjoint_interval_best(
    starts: Sequence[dt.date], ends: Sequence[dt.date], weight: Callable[[dt.date, dt.date], int]
) -> int:
    """The largest Σ weight(I) over pairwise disjoint date intervals I = [start, end] with start
    in `starts` and end in `ends` (both sorted): weighted interval scheduling by dynamic
    programming over the end dates."""
    # best[end] = the largest sum over disjoint intervals ending on or before `end`.
    best: dict[dt.date, int] = {}
    previous = 0
    for end in ends:
        value = previous
        for start in starts:
            if start > end:
                break
            before = max((v for e, v in best.items() if e < start), default=0)
            value = max(value, before + weight(start, end))
        best[end] = value
        previous = value
    return previous
