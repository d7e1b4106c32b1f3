"""The import direction of the product card: api -> maps, scenarios -> optimizer, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "optimizer": {
        "api",
        "maps",
        "scenarios",
        "fastapi",
        "folium",
        "sqlalchemy",
        "pydantic",
        "starlette",
        "branca",
        "reportlab",
        "openpyxl",
        "typer",
        "rich",
    },
    "maps": {"api", "scenarios", "fastapi", "sqlalchemy"},
    "scenarios": {"api", "maps", "fastapi", "sqlalchemy", "folium"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_flow_one_way(package: str) -> None:
    """No module of a package imports a package it must not depend on."""
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert offenders == []


# The optimizer's OR-Tools back end: routing and min-cost flow, and GLOP's linear programs.
ORTOOLS_MODULES = {"optimizer/routing.py", "optimizer/lp.py"}


def test_ortools_confined_to_the_backend_modules() -> None:
    """OR-Tools is imported by the back-end modules only, so the solver can be swapped."""
    users = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "optimizer").rglob("*.py")
        if "ortools" in imported_roots(p)
    }
    assert users <= ORTOOLS_MODULES, users
