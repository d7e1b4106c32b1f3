"""The whole-trips integer program of a return wave (benchmarks.retbound, issue 11): its proven
bound is never below what coaches can seat on small return seasons solved exhaustively, and an
unsound variant of it (loaded drives three times as long as the roads allow) is caught by the
same check."""

from __future__ import annotations

import random

import pytest

import benchmarks.retbound
from benchmarks.retbound import trip_model
from optimizer.model import Scenario
from optimizer.routing import solve_integer_program, solve_lp
from optimizer.servable import earliest_back
from tests.optimizer.test_ledger import PROVIDER
from tests.optimizer.test_servable import _exact, _random_season


def _return_seasons(count: int) -> list[tuple[Scenario, int]]:
    rng = random.Random(11)
    found: list[tuple[Scenario, int]] = []
    while len(found) < count:
        scenario, coaches = _random_season(rng)
        if scenario.direction == "return":
            found.append((scenario, coaches))
    return found


def test_the_whole_trips_bound_is_never_below_small_return_seasons_solved_exhaustively(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Six random return seasons (one county, 1-2 coaches of 20 seats, 3-4 days): SCIP proves
    the model's optimum, which lies between the exhaustive optimum and the model's LP; with the
    loaded drives tripled the bound falls below the exhaustive optimum on some season."""
    caught = 0
    for scenario, coaches in _return_seasons(6):
        exact = _exact(scenario, 20, coaches)
        model = trip_model(scenario, PROVIDER, slot_hours=1)
        result = solve_integer_program(model.program, model.integer, 60.0)
        lp, _ = solve_lp(model.program)
        assert result.optimal
        assert exact <= result.bound + 1e-6 <= lp + 1e-6
        assert result.bound <= len(scenario.workers)
        with monkeypatch.context() as patch:
            patch.setattr(
                benchmarks.retbound,
                "earliest_back",
                lambda start, drive, policy: earliest_back(start, 3 * drive, policy),
            )
            tripled = trip_model(scenario, PROVIDER, slot_hours=1)
            unsound = solve_integer_program(tripled.program, tripled.integer, 60.0)
        caught += unsound.bound < exact - 1e-6
    assert caught > 0
