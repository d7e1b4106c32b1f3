"""A bad `[policy]` or `[solver]` value out of range, refused by name in the user's language:
by the catalogue, by `chunyun plan` and `fleet-size`, and by the season routes (422)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.i18n import ENGLISH, translate_detail
from tests.api.conftest import SEASON, Service

TINY = Path(__file__).parents[2] / "scenarios" / "tiny"

# (table, key, TOML value, the English refusal, the Chinese one): each kind of range error.
CASES: list[tuple[str, str, str, str, str]] = [
    (
        "policy",
        "max_drivers",
        "0",
        "[policy] max_drivers = 0 must be at least 1",
        "[policy] max_drivers = 0：不能小于 1",
    ),
    (
        "policy",
        "min_load",
        "-2",
        "[policy] min_load = -2 must not be negative",
        "[policy] min_load = -2：不能为负数",
    ),
    (
        "policy",
        "max_speed_kmh",
        "0.0",
        "[policy] max_speed_kmh = 0.0 must be positive",
        "[policy] max_speed_kmh = 0.0：须大于 0",
    ),
    (
        "policy",
        "park_start_hour",
        "25",
        "[policy] park_start_hour = 25 must be a clock hour from 0 to 23",
        "[policy] park_start_hour = 25：须为 0 到 23 之间的钟点（小时）",
    ),
    (
        "policy",
        "earliest_departure_hour",
        "23",
        "[policy] earliest_departure_hour = 23 must not be after latest_departure_hour = 22",
        "[policy] earliest_departure_hour = 23：不能晚于 latest_departure_hour = 22",
    ),
    (
        "policy",
        "night_speed_factor",
        "1.2",
        "[policy] night_speed_factor = 1.2 must be more than 0 and at most 1",
        "[policy] night_speed_factor = 1.2：须大于 0 且不大于 1",
    ),
    (
        "solver",
        "lower_bound_share",
        "0.9",
        "[solver] lower_bound_share = 0.9 must be from 0 to 0.5",
        "[solver] lower_bound_share = 0.9：须在 0 到 0.5 之间",
    ),
]
IDS = [f"{table}.{key}" for table, key, *_ in CASES]


@pytest.fixture(autouse=True)
def no_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("table", "key", "value", "english", "chinese"), CASES, ids=IDS)
def test_the_catalogue_says_each_refusal_in_both_languages(
    table: str, key: str, value: str, english: str, chinese: str
) -> None:
    """The English refusal is recognised whole and filled into its Chinese template."""
    assert translate_detail("zh_CN", english) == chinese
    assert translate_detail(ENGLISH, english) == english


def test_the_row_reason_alone_is_still_its_own_template() -> None:
    """A workers.csv row's "must not be negative" keeps its short translation: the `[table]`
    template recognises only the whole setting refusal."""
    assert translate_detail("zh_CN", "must not be negative") == "不能为负数"


def _season_folder(tmp_path: Path, table: str, key: str, value: str) -> Path:
    folder = tmp_path / "season"
    shutil.copytree(TINY, folder)
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    if table == "solver":
        text = text.replace("[solver]\n", f"[solver]\n{key} = {value}\n")
    else:
        text += f"\n[policy]\n{key} = {value}\n"
    toml.write_text(text, encoding="utf-8")
    return folder


def _refusal(args: list[str]) -> tuple[str, str]:
    """The output of `args` in Chinese (no option) and in English (--lang en), whitespace
    collapsed (rich wraps long lines), both refused with exit code 2."""
    chinese = CliRunner().invoke(app, args)
    english = CliRunner().invoke(app, ["--lang", "en", *args])
    assert chinese.exit_code == 2 and english.exit_code == 2, chinese.output + english.output
    return "".join(chinese.output.split()), " ".join(english.output.split())


@pytest.mark.parametrize(("table", "key", "value", "english", "chinese"), CASES, ids=IDS)
def test_chunyun_plan_refuses_each_kind_by_name(
    tmp_path: Path, table: str, key: str, value: str, english: str, chinese: str
) -> None:
    """`chunyun plan` names table, key, value and reason, in Chinese by default."""
    folder = _season_folder(tmp_path, table, key, value)
    zh, en = _refusal(["plan", str(folder), "--out", str(tmp_path / "p")])
    assert "".join(chinese.split()) in zh and english not in zh
    assert english in en


def test_chunyun_fleet_size_refuses_by_name(tmp_path: Path) -> None:
    """`chunyun fleet-size` says the same refusal in the run's language."""
    table, key, value, english, chinese = CASES[1]
    folder = _season_folder(tmp_path, table, key, value)
    zh, en = _refusal(["fleet-size", str(folder)])
    assert "".join(chinese.split()) in zh
    assert english in en


@pytest.fixture(scope="module")
def svc(service: Service) -> Service:
    return service


def _send(svc: Service, method: str, url: str, body: dict[str, Any], language: str) -> Any:
    headers = {**svc.headers("dispatcher"), "Accept-Language": language}
    return svc.client.request(method, url, headers=headers, json=body)


def _toml_value(value: str) -> Any:
    return float(value) if "." in value else int(value)


@pytest.mark.parametrize(("table", "key", "value", "english", "chinese"), CASES, ids=IDS)
def test_opening_a_season_with_a_bad_value_is_a_422_in_the_requests_language(
    svc: Service, table: str, key: str, value: str, english: str, chinese: str
) -> None:
    """POST /api/seasons: 422 naming table, key, value and reason; Chinese when asked."""
    body = {**SEASON, "name": f"bad-{key}", table: {key: _toml_value(value)}}
    refused = _send(svc, "POST", "/api/seasons", body, "zh-CN")
    assert refused.status_code == 422
    assert refused.json()["detail"] == chinese
    refused = _send(svc, "POST", "/api/seasons", body, "en")
    assert refused.status_code == 422
    assert refused.json()["detail"] == english


def test_changing_a_season_to_a_bad_value_is_refused_and_changes_nothing(svc: Service) -> None:
    """PATCH /api/seasons/NAME with a value out of range: 422 in the request's language, and
    the season keeps its policy."""
    body = {**SEASON, "name": "kept-policy"}
    assert _send(svc, "POST", "/api/seasons", body, "en").status_code == 201
    change = {"policy": {"night_speed_factor": 0}}
    refused = _send(svc, "PATCH", "/api/seasons/kept-policy", change, "zh")
    assert refused.status_code == 422
    assert refused.json()["detail"] == "[policy] night_speed_factor = 0：须大于 0 且不大于 1"
    english = _send(svc, "PATCH", "/api/seasons/kept-policy", change, "en")
    assert (
        english.json()["detail"]
        == "[policy] night_speed_factor = 0 must be more than 0 and at most 1"
    )
    season = svc.call("GET", "/api/seasons/kept-policy", "dispatcher").json()
    assert season["policy"] == SEASON["policy"]
