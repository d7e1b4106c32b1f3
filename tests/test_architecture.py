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


def test_ortools_confined_to_one_backend_module() -> None:
    """OR-Tools is imported by one optimizer module only, so the solver can be swapped."""
    users = [p for p in (ROOT / "optimizer").rglob("*.py") if "ortools" in imported_roots(p)]
    assert len(users) <= 1, users
