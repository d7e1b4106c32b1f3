"""Benchmark children: each measured run in a fresh process, a few at a time."""

from __future__ import annotations

import json
import resource
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.model import Plan

ROOT = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    """The peak memory (max RSS, MB) of this process or of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(max(own, children), 1)


def plan_figures(plan: Plan) -> dict[str, Any]:
    """The figures every season child reports of a plan: workers, seated, unserved (and by
    reason), trips against their proven bound, seat use."""
    kpis = plan.kpis
    return {
        "workers": kpis.workers,
        "seated": kpis.seated,
        "unserved": kpis.unserved,
        "unserved_by_reason": dict(Counter(str(u.reason) for u in plan.unserved)),
        "trips": kpis.trips,
        "lower_bound_trips": kpis.lower_bound_trips,
        "trips_over_bound": round(kpis.trips / kpis.lower_bound_trips, 3)
        if kpis.lower_bound_trips
        else None,
        "seat_utilization": kpis.seat_utilization,
    }


def run_children(jobs: list[list[str]], parallel: int) -> None:
    """Run the commands of `jobs` in order, at most `parallel` at once, from the project root, and
    print each child's last output line (its JSON result) as it finishes, or a failure line."""
    pending = list(jobs)
    running: list[subprocess.Popen[str]] = []
    while pending or running:
        while pending and len(running) < parallel:
            running.append(
                subprocess.Popen(pending.pop(0), cwd=ROOT, stdout=subprocess.PIPE, text=True)
            )
        time.sleep(1.0)
        for child in [c for c in running if c.poll() is not None]:
            running.remove(child)
            assert child.stdout is not None
            lines = child.stdout.read().strip().splitlines()
            print(lines[-1] if lines else json.dumps({"failed": child.args}), flush=True)
