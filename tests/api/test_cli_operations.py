"""`chunyun crews export/import` and `chunyun statements` on the service's database: the same
sheet and all-or-nothing row report as POST /plans/{id}/crews, the same statements as the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app
from api.core.config import get_settings
from tests.api.conftest import Service, make_id_number, open_season, worker_row


@pytest.fixture(scope="module")
def plan_id(service: Service) -> int:
    """A published plan of two companies."""
    open_season(service, "cli-ops-2026", companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔")])
    rows = [worker_row(n, company_id="ALPHA" if n % 2 else "BETA") for n in range(1, 41)]
    service.call("POST", "/api/workers?season=cli-ops-2026", "dispatcher", json=rows)
    plan_id = int(service.run_plan("cli-ops-2026")["id"])
    assert service.call("POST", f"/api/plans/{plan_id}/publish", "dispatcher").is_success
    return plan_id


@pytest.fixture
def published(
    plan_id: int, service: Service, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """The published plan, and the CLI pointed at the service's database, no locale set."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", service.settings.database_url)
    get_settings.cache_clear()
    try:
        yield {"id": plan_id, "season": "cli-ops-2026"}
    finally:
        get_settings.cache_clear()


def _fill(path: Path, bad_row: int | None = None) -> int:
    """Fill every trip's row of the exported sheet with a valid coach and crew (one bad phone
    on `bad_row`); returns the number of trips."""
    book = load_workbook(path)
    sheet = book.active
    column = {c.value: i for i, c in enumerate(sheet[1])}
    trip_rows = list(sheet.iter_rows(min_row=2))
    for n, row in enumerate(trip_rows):
        values = {
            "车牌号": f"浙B7{n:04d}",
            "车型": "C53",
            "核定座位": "53",
            "经营者": "宁波长运包车公司",
            "驾驶员1姓名": f"甲{n}",
            "驾驶员1驾驶证号": make_id_number(600 + 2 * n, region="330282"),
            "驾驶员1手机号": f"1370000{2 * n:04d}",
            "驾驶员2姓名": f"乙{n}",
            "驾驶员2驾驶证号": make_id_number(601 + 2 * n, region="330282"),
            "驾驶员2手机号": "12345" if n == bad_row else f"1370000{2 * n + 1:04d}",
            "随车人员": "王车长",
            "随车人员手机号": "13912345678",
        }
        for key, value in values.items():
            row[column[key]].value = value
            row[column[key]].data_type = "s"
    book.save(path)
    return len(trip_rows)


def test_crews_export_then_import_all_or_nothing(
    service: Service, published: dict[str, Any], tmp_path: Path
) -> None:
    """The exported sheet lists every trip; a sheet with a bad row saves nothing and the CLI
    names row, column, value and reason (in Chinese by default); the corrected sheet assigns."""
    runner = CliRunner()
    sheet = tmp_path / "crews.xlsx"
    exported = runner.invoke(app, ["crews", "export", published["season"], str(sheet)])
    assert exported.exit_code == 0, exported.output
    trips = service.call("GET", f"/api/plans/{published['id']}/trips", "dispatcher").json()
    assert _fill(sheet, bad_row=1) == len(trips) >= 2

    refused = runner.invoke(
        app, ["crews", "import", str(published["id"]), str(sheet), "--user", "dispatcher"]
    )
    assert refused.exit_code == 1
    assert "drivers[2].phone" in refused.output and "12345" in refused.output
    assert "不是" in refused.output and "3" in refused.output  # row 3, the reason in Chinese
    after = service.call("GET", f"/api/plans/{published['id']}/trips", "dispatcher").json()
    assert all(t["crew"] is None for t in after), "a refused sheet saved something"

    _fill(sheet)
    accepted = runner.invoke(
        app,
        ["--lang", "en", "crews", "import", published["season"], str(sheet), "--user",
         "dispatcher"],
    )  # fmt: skip
    assert accepted.exit_code == 0, accepted.output
    assert f"{len(trips)} trip(s) assigned" in accepted.output
    after = service.call("GET", f"/api/plans/{published['id']}/trips", "dispatcher").json()
    assert sorted(t["crew"]["plate"] for t in after) == [f"浙B7{n:04d}" for n in range(len(trips))]
    again = tmp_path / "again.xlsx"
    assert runner.invoke(app, ["crews", "export", str(published["id"]), str(again)]).exit_code == 0
    column = {c.value: i for i, c in enumerate(load_workbook(again).active[1])}
    plates = [r[column["车牌号"]].value for r in load_workbook(again).active.iter_rows(min_row=2)]
    assert sorted(plates) == sorted(t["crew"]["plate"] for t in after)


def test_crews_import_needs_a_dispatcher_account(
    service: Service, published: dict[str, Any], tmp_path: Path
) -> None:
    sheet = tmp_path / "crews.xlsx"
    CliRunner().invoke(app, ["crews", "export", published["season"], str(sheet)])
    result = CliRunner().invoke(
        app, ["--lang", "en", "crews", "import", published["season"], str(sheet), "--user", "x"]
    )
    assert result.exit_code == 1 and "no user 'x'" in result.output


def test_statements_per_company_and_the_season_total(
    service: Service, published: dict[str, Any], tmp_path: Path
) -> None:
    """An XLSX and a PDF per company, the same figures as GET /plans/{id}/costs."""
    result = CliRunner().invoke(
        app, ["--lang", "en", "statements", published["season"], str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    costs = service.call("GET", f"/api/plans/{published['id']}/costs", "dispatcher").json()
    companies = [c["company_id"] for c in costs["companies"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"statement-plan-{published['id']}-{c}.{suffix}"
        for c in companies
        for suffix in ("xlsx", "pdf")
    )
    assert all(p.stat().st_size > 0 for p in tmp_path.iterdir())
    total = costs["total_cost_fen"]
    assert "season total" in result.output and f"{total // 100}.{total % 100:02d}" in result.output
    for company in costs["companies"]:
        payable = company["payable_fen"]
        assert f"{payable // 100}.{payable % 100:02d}" in result.output
    chinese = CliRunner().invoke(
        app, ["statements", published["season"], str(tmp_path / "one"), "--company", "BETA"]
    )
    assert chinese.exit_code == 0, chinese.output
    assert "贝塔" in chinese.output and len(list((tmp_path / "one").iterdir())) == 2
    missing = CliRunner().invoke(
        app, ["--lang", "en", "statements", published["season"], str(tmp_path), "--company", "NOPE"]
    )
    assert missing.exit_code == 1 and "nobody of company NOPE" in missing.output
