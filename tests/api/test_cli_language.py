"""The command line speaks the catalogue's languages: Chinese by default, English with --lang en
or an English LC_ALL/LC_MESSAGES/LANG."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.errors import MESSAGES
from api.i18n import translate

CJK = re.compile(r"[\u4e00-\u9fff]")
TIME_LIMIT = MESSAGES["fleet_size_time_limit"]


@pytest.fixture(autouse=True)
def no_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


def _fleet_size(tmp_path: Path, *options: str) -> str:
    result = CliRunner().invoke(app, [*options, "fleet-size", str(tmp_path), "--time-limit", "0"])
    assert result.exit_code == 2, result.output
    return result.output


def test_a_cli_error_is_chinese_by_default_and_english_with_lang_en(tmp_path: Path) -> None:
    """The same refusal, in Chinese without options and in English with --lang en."""
    chinese = translate("zh_CN", TIME_LIMIT)
    assert CJK.search(chinese)
    assert chinese in _fleet_size(tmp_path) and TIME_LIMIT not in _fleet_size(tmp_path)
    assert TIME_LIMIT in _fleet_size(tmp_path, "--lang", "en")
    assert chinese in _fleet_size(tmp_path, "--lang", "zh_CN")


def test_the_environment_chooses_when_no_option_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LANG=en_US.UTF-8 gives English; LC_ALL wins over LANG; --lang wins over both."""
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert TIME_LIMIT in _fleet_size(tmp_path)
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert translate("zh_CN", TIME_LIMIT) in _fleet_size(tmp_path)
    assert TIME_LIMIT in _fleet_size(tmp_path, "--lang", "en")


def test_a_plan_error_names_the_folder_in_chinese(tmp_path: Path) -> None:
    """`chunyun plan` on a folder without scenario.toml: the refusal and the reader's reason are
    in Chinese, or both in English."""
    result = CliRunner().invoke(app, ["plan", str(tmp_path), "--out", str(tmp_path / "p")])
    assert result.exit_code == 2
    text = "".join(result.output.split())  # rich wraps long lines
    assert "无法为" in text and "中缺少scenario.toml" in text
    english = CliRunner().invoke(
        app, ["--lang", "en", "plan", str(tmp_path), "--out", str(tmp_path / "p")]
    )
    words = " ".join(english.output.split())
    assert "cannot plan" in words and "scenario.toml is missing" in words


def test_an_unknown_language_is_refused() -> None:
    result = CliRunner().invoke(app, ["--lang", "fr", "version"])
    assert result.exit_code == 2 and "--lang" in result.output


def test_generate_names_an_unknown_origin_in_the_runs_language(tmp_path: Path) -> None:
    """`chunyun generate --origins` with a place the gazetteer lacks: the refusal (no scenario
    file behind it) is Chinese by default and English with --lang en, and nothing is written."""
    args = ["generate", "bad", "--workers", "50", "--seed", "1", "--origins", "不存在县"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "zh")])
    assert result.exit_code == 2
    text = "".join(result.output.split())
    assert "不存在县" in text and "不是区县、地级市或省份" in text, result.output
    english = CliRunner().invoke(app, ["--lang", "en", *args, "--out", str(tmp_path / "en")])
    assert english.exit_code == 2
    assert "is not a county, prefecture or province" in english.output
    assert not (tmp_path / "zh").exists() and not (tmp_path / "en").exists()


def test_the_kpi_table_names_the_bound_in_the_runs_language(tmp_path: Path) -> None:
    """The lower bound's row names the bound that gave it (plan.json's `lower_bound_source`, an
    id) in the run's words: Chinese by default, English with --lang en; never the bare id. The
    line saying where the routing parts run names the engine in the same words."""
    tiny = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
    fast = ["--time-limit", "2", "--provider", "great-circle", "--no-render"]
    result = CliRunner().invoke(app, ["plan", str(tiny), "--out", str(tmp_path / "zh"), *fast])
    assert result.exit_code == 0, result.output
    text = "".join(result.output.split())  # rich wraps long lines
    assert "计数下界" in text or "线性规划下界" in text, result.output
    assert "counting" not in text
    assert "路线子问题：本进程内" in text and "in-process" not in text
    assert "方案tiny（返乡包车）" in text  # the direction by its words, not the id "home"
    english = CliRunner().invoke(
        app, ["--lang", "en", "plan", str(tiny), "--out", str(tmp_path / "en"), *fast]
    )
    assert english.exit_code == 0, english.output
    words = " ".join(english.output.split())
    assert "counting bound" in words or "LP bound" in words, english.output
    assert "routing parts: in this process" in words
    assert "plan tiny (homeward charter)" in words


def test_the_worker_says_what_is_wrong_in_the_runs_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chunyun worker --scheduler` without Dask stops with the refusal in Chinese ("错误：",
    the install hint kept), in English with --lang en; it printed "error: ..." in English."""
    from api import engine
    from api.core.config import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'service.db'}")
    monkeypatch.setattr(engine, "dask_installed", lambda: False)
    get_settings.cache_clear()
    try:
        args = ["worker", "--scheduler", "tcp://127.0.0.1:9", "--once"]
        chinese = CliRunner().invoke(app, args)
        assert chinese.exit_code == 2, chinese.output
        text = "".join(chinese.output.split())
        assert "错误：--scheduler需要dask.distributed，但尚未安装" in text, chinese.output
        assert "chunyun[cluster]" in text and "error:" not in text
        english = CliRunner().invoke(app, ["--lang", "en", *args])
        assert english.exit_code == 2
        assert "error: --scheduler needs dask.distributed" in english.output
    finally:
        get_settings.cache_clear()


def test_a_bad_policy_value_is_refused_by_name_in_chinese(tmp_path: Path) -> None:
    """A string where the policy wants true/false: the refusal names the table and key (the
    `[policy]` brackets survive the console's markup) in Chinese, and in English with --lang en."""
    folder = tmp_path / "season"
    shutil.copytree(Path(__file__).parents[2] / "scenarios" / "tiny", folder)
    with (folder / "scenario.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[policy]\nfresh_crew_at_origin = "yes please"\n')
    args = ["plan", str(folder), "--out", str(tmp_path / "p")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    text = "".join(result.output.split())
    assert "[policy]fresh_crew_at_origin='yesplease'：须为true或false" in text
    english = CliRunner().invoke(app, ["--lang", "en", *args])
    assert english.exit_code == 2
    assert "fresh_crew_at_origin = 'yes please' must be true or false" in " ".join(
        english.output.split()
    )


@pytest.mark.parametrize(
    ("change", "chinese", "english"),
    [
        (
            ("first_departure = ", "first_departure = 2099-01-01\n# "),
            "首个出发日first_departure2099-01-01晚于最后出发日",
            "first_departure 2099-01-01 is after last_departure",
        ),
        (
            ('direction = "home"', 'direction = "both"'),
            "direction='both'只能是home（返乡）或return（返岗）",
            "direction = 'both' must be home or return",
        ),
        (
            ('origin = "330282"', 'origin = "鼓楼区"'),
            "始发地'鼓楼区'有歧义",
            "origin: '鼓楼区' is ambiguous",
        ),
    ],
)
def test_a_season_the_reader_refuses_is_refused_in_chinese(
    tmp_path: Path, change: tuple[str, str], chinese: str, english: str
) -> None:
    """A reversed season, an unknown direction and an ambiguous origin stop `chunyun plan`
    with the file named, in Chinese by default and in English with --lang en (they were
    English-only, or, for the origin, a failure midway through planning)."""
    folder = tmp_path / "season"
    shutil.copytree(Path(__file__).parents[2] / "scenarios" / "tiny", folder)
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    assert change[0] in toml
    (folder / "scenario.toml").write_text(toml.replace(change[0], change[1], 1), encoding="utf-8")
    args = ["plan", str(folder), "--out", str(tmp_path / "p")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "scenario.toml：" + chinese in "".join(result.output.split())
    english_run = CliRunner().invoke(app, ["--lang", "en", *args])
    assert english_run.exit_code == 2
    assert english in " ".join(english_run.output.split())
