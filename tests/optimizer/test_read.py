"""Reading a scenario folder: clear errors for unplannable folders, bad rows as problems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from optimizer.errors import InvalidInput
from optimizer.read import read_scenario

POOLING = Path(__file__).resolve().parents[1] / "data" / "pooling"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "season"
    shutil.copytree(POOLING, target)
    return target


def test_reads_the_whole_folder() -> None:
    """Settings, policy, tables and the bad rows of the test season are all read."""
    scenario = read_scenario(POOLING)
    assert scenario.direction == "home" and scenario.origin == "330282"
    assert scenario.policy.hub_radius_km == 8.0 and scenario.solver.time_limit_s == 10
    assert len(scenario.companies) == 12 and len(scenario.hubs) == 2 and len(scenario.fleet) == 2
    assert scenario.companies[0].no_hub
    assert {(p.column, p.worker_id) for p in scenario.problems} == {
        ("id_number", "W9005"),
        ("company_id", "W9006"),
        ("phone", "W9008"),
    }
    ids = {w.worker_id for w in scenario.workers}
    assert "W9005" not in ids and "W9006" in ids


def test_missing_scenario_toml_names_the_file(folder: Path) -> None:
    """No scenario.toml: InvalidInput saying so."""
    (folder / "scenario.toml").unlink()
    with pytest.raises(InvalidInput, match=r"scenario.toml is missing"):
        read_scenario(folder)


def test_missing_table_names_the_file(folder: Path) -> None:
    """No workers.csv: InvalidInput naming it."""
    (folder / "workers.csv").unlink()
    with pytest.raises(InvalidInput, match=r"workers.csv is missing"):
        read_scenario(folder)


def test_hubs_are_optional(folder: Path) -> None:
    """A season without hubs.csv reads with no hubs."""
    (folder / "hubs.csv").unlink()
    assert read_scenario(folder).hubs == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n', r"lacks required key\(s\): direction"),
        ("name = [", r"not valid TOML"),
        ('colour = "red"\n', r"unknown key\(s\) colour"),
        ("[policy]\nmax_pickup_stops = 0\n", r"max_pickup_stops .* at least 1"),
        ("[policy]\nspeed = 3\n", r"\[policy\] has unknown key\(s\) speed"),
        (
            '[policy]\nmax_pickup_stops = "3"\n',
            r"\[policy\] max_pickup_stops = '3' must be a whole",
        ),
        (
            '[policy]\nfresh_crew_at_origin = "yes"\n',
            r"fresh_crew_at_origin = 'yes' must be true or",
        ),
        (
            "[policy]\nturnaround_minutes = 60.5\n",
            r"turnaround_minutes = 60.5 must be a whole number",
        ),
        ("[policy]\ndetour_ratio = true\n", r"detour_ratio = True must be a number"),
        ('direction = "away"\n', r"scenario.toml: direction = 'away' must be home or return"),
        ("first_departure = 2019-03-01\n", r"scenario.toml: first_departure 2019-03-01 is after"),
        ('festival_date = "soon"\n', r"festival_date = 'soon' is not a date"),
    ],
)
def test_bad_settings_are_invalid_input(folder: Path, text: str, message: str) -> None:
    """Each bad scenario.toml gives one clear message."""
    original = (folder / "scenario.toml").read_text(encoding="utf-8")
    head, _, tail = original.partition("[policy]")
    if text.startswith("[policy]"):
        content = head + text
    elif text.startswith(("name = [", 'name = "x"')):
        content = text
    else:
        key = text.split("=")[0].strip()
        lines = [line for line in head.splitlines() if not line.startswith(key + " ")]
        content = "\n".join(lines) + "\n" + text + "[policy]" + tail
    (folder / "scenario.toml").write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        read_scenario(folder)


def test_an_old_solver_seed_is_ignored(folder: Path) -> None:
    """A `[solver]` table still carrying `seed` (older folders) loads; other unknown keys do not."""
    text = (folder / "scenario.toml").read_text(encoding="utf-8")
    assert "\nseed = " in text  # the test season is such an older folder
    scenario = read_scenario(folder)
    assert not hasattr(scenario.solver, "seed") and scenario.solver.time_limit_s == 10
    (folder / "scenario.toml").write_text(text.replace("\nseed = ", "\nshuffle = "), "utf-8")
    with pytest.raises(InvalidInput, match=r"\[solver\] has unknown key\(s\) shuffle"):
        read_scenario(folder)


@pytest.mark.parametrize("origin", ["慈溪", "慈溪市", "浙江省宁波市慈溪市", "330282"])
def test_origin_by_name_reads_as_its_code(folder: Path, origin: str) -> None:
    """A one-origin season's origin written as a name, short name or full name is read as the
    county's code (the planner looks it up by code; a name used to stop planning midway)."""
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    (folder / "scenario.toml").write_text(
        toml.replace('origin = "330282"', f'origin = "{origin}"'), encoding="utf-8"
    )
    scenario = read_scenario(folder)
    assert scenario.origin == "330282" and scenario.origins == ("330282",)


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("鼓楼区", r"origin: '鼓楼区' is ambiguous \(.*福建省福州市鼓楼区 \(350102\)"),
        ("火星县", r"origin: '火星县' is not a county, prefecture or province"),
        ("宁波市", r"origin '宁波市' names 10 counties, not one"),
    ],
)
def test_origin_that_is_not_one_county_is_refused(folder: Path, origin: str, message: str) -> None:
    """An origin naming no county, an ambiguous one or a whole prefecture is refused when the
    folder is read, naming scenario.toml and the candidates."""
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    (folder / "scenario.toml").write_text(
        toml.replace('origin = "330282"', f'origin = "{origin}"'), encoding="utf-8"
    )
    with pytest.raises(InvalidInput, match="scenario.toml: " + message):
        read_scenario(folder)
