"""Late registrations on a published plan: incremental placement against re-planning.

A seeded draw of `late` workers is held out of the scenario; the rest is planned and taken as
the published plan. Then, side by side in one run on the same machine:

- incremental: `optimizer.incremental.place_late` (free seats on the published trips first,
  every one locked: coach, crew, times, stops and passengers stay as printed; new trips for the
  rest), median of `runs`;
- locked re-plan: what the service's re-plan does, `solve` over every worker with the published
  trips locked, median of `runs`;
- full re-plan: `solve` of the whole scenario from scratch (once: it takes its time limit).
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def section_incremental(
    quick: bool, *, late: int = 100, runs: int = 3, time_limit: float | None = None
) -> dict[str, Any]:
    """Measure incremental placement of `late` registrations against re-planning."""
    from optimizer.incremental import place_late
    from optimizer.read import read_scenario
    from optimizer.solve import default_distance_provider, solve

    name = "small" if quick else "cixi-2019"
    late = 10 if quick else late
    runs = 1 if quick else runs
    limit = time_limit or (5.0 if quick else 120.0)
    scenario = read_scenario(ROOT / "scenarios" / name)
    scenario = scenario.replace(solver=dataclasses.replace(scenario.solver, time_limit_s=limit))
    provider = default_distance_provider()
    pool = [w for w in scenario.workers if w.home_adcode and not w.party]
    held = random.Random(2026).sample(pool, late)
    held_ids = {w.worker_id for w in held}
    base = scenario.replace(
        workers=tuple(w for w in scenario.workers if w.worker_id not in held_ids)
    )
    started = time.monotonic()
    published = solve(base, distances=provider)
    publish_s = time.monotonic() - started
    printed = tuple(dataclasses.replace(t, locked=True) for t in published.trips)
    quick_scenario = scenario.replace(
        solver=dataclasses.replace(scenario.solver, time_limit_s=min(limit, 20.0))
    )
    incremental_s, free_s, last = [], [], None
    for _ in range(runs):
        last = place_late(printed, held, quick_scenario, provider)
        incremental_s.append(last.seconds)
        free_s.append(last.free_seat_seconds)
    assert last is not None
    unchanged = _unchanged(printed, last.trips)
    locked = printed
    replan_s, replan = [], None
    for _ in range(runs):
        started = time.monotonic()
        replan = solve(scenario, distances=provider, locked=locked)
        replan_s.append(time.monotonic() - started)
    assert replan is not None
    started = time.monotonic()
    scratch = solve(scenario, distances=provider)
    scratch_s = time.monotonic() - started
    return {
        "scenario": name,
        "workers": len(scenario.workers),
        "late": late,
        "runs": runs,
        "time_limit_s": limit,
        "published_trips": len(published.trips),
        "published_s": round(publish_s, 1),
        "locked_trips": len(printed),
        "locked_unchanged": unchanged,
        "incremental_s": [round(s, 2) for s in incremental_s],
        "incremental_median_s": round(statistics.median(incremental_s), 2),
        "free_seats_s": [round(s, 3) for s in free_s],
        "free_seats_median_s": round(statistics.median(free_s), 3),
        "into_free_seats": len(last.into_free_seats),
        "into_new_trips": len(last.into_new_trips),
        "new_trips": len(last.trips) - len(published.trips),
        "unserved": len(last.unserved),
        "locked_replan_s": [round(s, 2) for s in replan_s],
        "locked_replan_median_s": round(statistics.median(replan_s), 2),
        "locked_replan_new_trips": len(replan.trips) - len(published.trips),
        "full_replan_s": round(scratch_s, 1),
        "full_replan_trips": len(scratch.trips),
        "full_replan_kept_trips": len(_shapes(published.trips) & _shapes(scratch.trips)),
    }


def _unchanged(printed: Any, after: Any) -> bool:
    """Every printed trip keeps coach, crew, route, timetable and the seats already given."""

    def bare(trip: Any) -> Any:
        stops = tuple(dataclasses.replace(s, board=(), alight=()) for s in trip.stops)
        return dataclasses.replace(trip, stops=stops, passengers=())

    now = {t.trip_id: t for t in after}
    return all(
        t.trip_id in now
        and bare(now[t.trip_id]) == bare(t)
        and set(t.passengers) <= set(now[t.trip_id].passengers)
        for t in printed
    )


def _shapes(trips: Any) -> set[tuple[Any, ...]]:
    """Trips as what a passenger sees: date, stops and who sits where (ids aside)."""
    return {
        (
            t.departure,
            tuple((s.kind, s.adcode, s.company_id, s.arrive) for s in t.stops),
            tuple(sorted((p.worker_id, p.seat) for p in t.passengers)),
        )
        for t in trips
    }


def render_incremental(r: dict[str, Any]) -> list[str]:
    """The report lines of the section."""
    ratio = r["locked_replan_median_s"] / max(r["incremental_median_s"], 1e-9)
    full = r["full_replan_s"] / max(r["incremental_median_s"], 1e-9)
    return [
        f"## Late registrations on a published plan ({r['scenario']})",
        "",
        f"- {r['late']} late registrations on a published plan of {r['published_trips']} trips "
        f"({r['workers']:,} workers; all {r['locked_trips']} trips locked; coach, crew, times, "
        f"stops and seats given unchanged: {r['locked_unchanged']})",
        f"- incremental placement: free seats of the published (locked) trips in a median "
        f"{r['free_seats_median_s']} s of {r['runs']} ({r['free_seats_s']}): "
        f"{r['into_free_seats']} seated; with new trips for the rest (solve, published trips "
        f"locked) a median {r['incremental_median_s']} s ({r['incremental_s']}): "
        f"{r['into_new_trips']} on {r['new_trips']} new trips, {r['unserved']} unserved",
        f"- re-plan with the published trips locked: median {r['locked_replan_median_s']} s "
        f"({r['locked_replan_s']}), {r['locked_replan_new_trips']} new trips "
        f"({ratio:.1f}x the incremental time)",
        f"- full re-plan from scratch: {r['full_replan_s']} s, {r['full_replan_trips']} trips "
        f"({full:.0f}x the incremental time), {r['full_replan_kept_trips']} of the "
        f"{r['published_trips']} published trips unchanged (same stops, times and seats)",
        "",
    ]
