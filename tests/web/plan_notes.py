"""Real notes of a plan the optimizer makes: the bundled small season with one coach of each
type, so the fleet is short and the plan carries its `fleet:` notes too."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

from optimizer.geography.distance import GreatCircleProvider
from optimizer.read import read_scenario
from optimizer.season import solve_within_fleet

SMALL = Path(__file__).parents[2] / "scenarios" / "small"


@cache
def short_fleet_notes() -> tuple[str, ...]:
    """The notes of scenarios/small planned with one coach per type (a 3 s time limit)."""
    scenario = read_scenario(SMALL)
    short = scenario.replace(
        fleet=tuple(dataclasses.replace(v, count=1) for v in scenario.fleet),
        solver=dataclasses.replace(scenario.solver, time_limit_s=3.0),
    )
    plan, _ = solve_within_fleet(short, distances=GreatCircleProvider())
    return plan.notes
