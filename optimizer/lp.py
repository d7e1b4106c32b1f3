"""Linear programs on OR-Tools' GLOP (with `optimizer.routing`, the only modules that import
ortools).

`LinearProgram` / `solve_lp`: a small bounded maximisation given row by row (the fleet's date
spread in `optimizer.ledger`, the servable bound in `optimizer.servable`, the route-pattern
spread in `optimizer.patterns`). `CoveringLp`: a covering LP grown column by column, GLOP
restarting from its last basis (the column generation of `optimizer.lp_bound`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.linear_solver import pywraplp


@dataclass(frozen=True)
class LinearProgram:
    """maximise `objective . x` subject to `rows` (sparse: {var: coefficient} <= bound) and
    0 <= x <= `upper`. Solved by GLOP (OR-Tools' simplex), exact up to its tolerances."""

    objective: tuple[float, ...]
    upper: tuple[float, ...]
    rows: tuple[tuple[dict[int, float], float], ...]


class LpNotSolved(RuntimeError):
    """GLOP stopped before it proved an optimum (its time limit)."""


def solve_lp(
    program: LinearProgram, time_limit_s: float | None = None
) -> tuple[float, tuple[float, ...]]:
    """The optimum value and a solution of `program` (it is always feasible: x = 0); with
    `time_limit_s`, `LpNotSolved` when GLOP has not proved the optimum by then."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with every OR-Tools wheel
        raise RuntimeError("OR-Tools GLOP is not available")
    xs = [solver.NumVar(0.0, ub, f"x{i}") for i, ub in enumerate(program.upper)]
    for coefficients, bound in program.rows:
        row = solver.Constraint(-solver.infinity(), bound)
        for index, coefficient in coefficients.items():
            row.SetCoefficient(xs[index], coefficient)
    goal = solver.Objective()
    for x, weight in zip(xs, program.objective, strict=True):
        goal.SetCoefficient(x, weight)
    goal.SetMaximization()
    if time_limit_s is not None:
        solver.SetTimeLimit(max(1, math.ceil(time_limit_s * 1000)))
    status = solver.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        if time_limit_s is not None:
            raise LpNotSolved(f"GLOP ended with status {status} within {time_limit_s} s")
        raise RuntimeError(f"GLOP ended with status {status}")  # pragma: no cover - by shape
    return goal.Value(), tuple(x.solution_value() for x in xs)


# --------------------------------------------------------------------------- covering LP
class CoveringLp:
    """min Σ x_p subject to Σ_p a_rp x_p >= b_r for every row r, x >= 0, grown column by column
    and solved with GLOP (the linear-programming core of `optimizer.lp_bound`).

    Columns are added between solves; GLOP restarts from its last basis, so the re-solves of
    column generation are cheap.
    """

    def __init__(self, rhs: Sequence[float], *, presolve: bool = True) -> None:
        """`presolve` False turns GLOP's preprocessing off, which lets it keep its basis between
        solves (measured against the default in docs/benchmarks.md)."""
        solver = pywraplp.Solver.CreateSolver("GLOP")
        if solver is None:  # pragma: no cover - GLOP ships with every OR-Tools wheel
            raise RuntimeError("OR-Tools GLOP is not available")
        if not presolve and not solver.SetSolverSpecificParametersAsString(
            "use_preprocessing: false"
        ):  # pragma: no cover - a GLOP parameter since OR-Tools 6
            raise RuntimeError("GLOP refused use_preprocessing: false")
        self._solver = solver
        self._rows = [solver.Constraint(float(b), solver.infinity()) for b in rhs]
        self._objective = solver.Objective()
        self._objective.SetMinimization()
        self._columns: list[Any] = []

    @property
    def column_count(self) -> int:
        """Columns added so far."""
        return len(self._columns)

    def add_column(
        self, rows: Sequence[int], coefficients: Sequence[float], cost: float = 1.0
    ) -> int:
        """A new column x_p (cost 1, or `cost`) with `coefficients` in `rows`; returns its index."""
        variable = self._solver.NumVar(0.0, self._solver.infinity(), f"x{len(self._columns)}")
        for row, coefficient in zip(rows, coefficients, strict=True):
            self._rows[row].SetCoefficient(variable, float(coefficient))
        self._objective.SetCoefficient(variable, float(cost))
        self._columns.append(variable)
        return len(self._columns) - 1

    def set_cost(self, column: int, cost: float) -> None:
        """Change a column's cost (e.g. the artificial columns that box the duals in)."""
        self._objective.SetCoefficient(self._columns[column], float(cost))

    def solve(
        self, time_limit_s: float
    ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]] | None:
        """(objective, row duals, column values) at the optimum, or None when GLOP did not reach
        it within `time_limit_s` seconds (or the rows cannot be covered by the columns)."""
        self._solver.SetTimeLimit(max(1, int(time_limit_s * 1000)))
        status = self._solver.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            return None
        duals = np.array([row.dual_value() for row in self._rows], dtype=np.float64)
        values = np.array([v.solution_value() for v in self._columns], dtype=np.float64)
        return float(self._objective.Value()), duals, values


__all__ = ["CoveringLp", "LinearProgram", "LpNotSolved", "solve_lp"]
