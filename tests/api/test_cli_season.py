"""`chunyun season export/import` on the service's database: a season written as a scenario
folder and stored again under another name means the same season; a name taken is refused."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.core.config import get_settings
from tests.api.conftest import Service, open_season, worker_row

SEASON = "cli-season-2026"


@pytest.fixture
def database(service: Service, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    """The CLI pointed at the service's database, no locale set (Chinese)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", service.settings.database_url)
    get_settings.cache_clear()
    try:
        yield service
    finally:
        get_settings.cache_clear()


def test_a_season_exported_and_imported_under_another_name_is_the_same(
    database: Service, tmp_path: Path
) -> None:
    """Export writes the folder (the operator's registration place kept in fleet.csv); import
    stores it as a new season with the same companies, fleet and workers; importing onto a
    season name already taken changes nothing and says so, in Chinese or English."""
    service = database
    open_season(service, SEASON, companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔")])
    coach = {
        "vehicle_type": "N53",
        "seats": 53,
        "count": 3,
        "cost_per_km": 8.0,
        "fixed_cost": 1500,
        "operator": "宁波公运",
        "registered": "宁波市",
    }
    assert service.call("POST", f"/api/fleet?season={SEASON}", "dispatcher", json=coach).is_success
    rows = [worker_row(n, company_id="ALPHA" if n % 2 else "BETA") for n in range(1, 13)]
    response = service.call("POST", f"/api/workers?season={SEASON}", "dispatcher", json=rows)
    assert response.is_success, response.text

    runner = CliRunner()
    folder = tmp_path / "exported"
    exported = runner.invoke(
        app, ["--lang", "en", "season", "export", SEASON, "--out", str(folder)]
    )
    assert exported.exit_code == 0, exported.output
    assert "2 companies, 12 workers written to" in exported.output
    with (folder / "fleet.csv").open(encoding="utf-8") as handle:
        fleet = {row["vehicle_type"]: row for row in csv.DictReader(handle)}
    assert fleet["N53"]["registered"] == "宁波市" and set(fleet) == {"C53", "C35", "N53"}

    copy = "cli-season-copy"
    imported = runner.invoke(app, ["season", "import", str(folder), "--name", copy])
    assert imported.exit_code == 0, imported.output
    assert f"季度 {copy} 已存储" in imported.output and "12 名员工" in imported.output

    def listing(path: str, season: str) -> list[dict[str, object]]:
        answer = service.call("GET", f"/api/{path}?season={season}", "dispatcher")
        assert answer.is_success, answer.text
        result: list[dict[str, object]] = answer.json()
        return result

    assert len(listing("workers", copy)) == 12
    assert {c["company_id"] for c in listing("companies", copy)} == {"ALPHA", "BETA"}
    copied = {v["vehicle_type"]: v for v in listing("fleet", copy)}
    assert copied["N53"]["registered"] == "宁波市" and copied["N53"]["count"] == 3

    again = runner.invoke(app, ["season", "import", str(folder), "--name", copy])
    assert again.exit_code == 1 and "已存在" in again.output
    english = runner.invoke(app, ["--lang", "en", "season", "import", str(folder), "--name", copy])
    assert english.exit_code == 1 and f"season {copy!r} already exists" in english.output
    assert len(listing("workers", copy)) == 12
