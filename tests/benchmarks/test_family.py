"""The robustness family: its seasons read back cleanly and hold the knobs they were drawn with."""

from __future__ import annotations

import ast
import datetime as dt
import math
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.family import (
    FAMILY,
    QUICK_FAMILY,
    Drawn,
    Member,
    Recipe,
    build_member,
    demand_hash,
    draw_season,
    fleet_counts,
    read_pinned,
    recipe,
    render,
    unlimited_counts,
    write_folder,
)
from optimizer.model import Scenario
from optimizer.read import read_scenario

ROOT = Path(__file__).resolve().parents[2]


def _check_knobs(r: Recipe, drawn: Drawn, scenario: Scenario) -> None:
    """The season read from the folder is the recipe's: every row clean, knobs as asked."""
    assert scenario.problems == ()
    assert scenario.name == r.name and scenario.direction == r.direction
    assert scenario.origin == r.origin
    assert len(scenario.workers) == r.workers
    truth = {t.worker_id: t.adcode for t in drawn.travellers}
    assert all(w.home_adcode == truth[w.worker_id] for w in scenario.workers)
    assert len({w.home_adcode for w in scenario.workers}) == r.counties
    days = (scenario.last_departure - scenario.first_departure).days + 1
    assert days == r.season_days
    if r.direction == "home":
        assert scenario.last_departure < scenario.festival_date
    else:
        assert scenario.first_departure > scenario.festival_date
    widths = Counter((w.latest - w.earliest).days for w in scenario.workers)
    narrow, wide = r.window_days
    assert min(widths) >= narrow and max(widths) <= wide
    assert all(
        scenario.first_departure <= w.earliest and w.latest <= scenario.last_departure
        for w in scenario.workers
    )
    assert len(drawn.main_dates) == r.main_days
    # Most windows begin on, or contain, a main date: the companies' closing (reopening) days.
    near_main = sum(
        1 for w in scenario.workers if any(w.earliest <= d <= w.latest for d in drawn.main_dates)
    )
    assert near_main >= 0.75 * len(scenario.workers)
    assert len(scenario.companies) == r.companies
    assert {w.company_id for w in scenario.workers} == {c.company_id for c in scenario.companies}
    assert len(scenario.hubs) == r.hubs
    assert (scenario.policy.hub_radius_km > 0) == (r.hubs > 0)
    # Travelling units: families (a party id) and single travellers; families' share as asked.
    families = len({w.party for w in scenario.workers if w.party})
    units = families + sum(1 for w in scenario.workers if not w.party)
    spread = 3 * math.sqrt(r.party_share * (1 - r.party_share) / units)
    assert abs(families / units - r.party_share) <= spread + 0.01
    assert [v.seats for v in scenario.fleet] == list(r.seats)
    largest = scenario.fleet[0]
    assert largest.fixed_cost == r.fixed_cost and largest.cost_per_km == r.cost_per_km
    late = [v for v in scenario.fleet if v.available_from is not None]
    assert len(late) == (1 if r.late_small_type else 0)


@pytest.mark.parametrize(
    "name", ["return-3k-711", "wide-6k-610", "families-hubs", "yiwu-origin", "near-50-tight"]
)
def test_a_family_season_reads_back_without_problems_and_holds_its_knobs(
    name: str, tmp_path: Path
) -> None:
    """A member written to a folder reads back through optimizer.read with its knobs intact."""
    r = recipe(name)
    drawn = draw_season(r)
    folder = write_folder(drawn, unlimited_counts(drawn), tmp_path / name)
    _check_knobs(r, drawn, read_scenario(folder))


@pytest.mark.slow
@pytest.mark.parametrize("r", FAMILY, ids=[r.name for r in FAMILY])
def test_every_family_season_reads_back_and_holds_its_knobs(r: Recipe, tmp_path: Path) -> None:
    """Every member of the full family reads back cleanly and holds its knobs."""
    drawn = draw_season(r)
    folder = write_folder(drawn, unlimited_counts(drawn), tmp_path / r.name)
    _check_knobs(r, drawn, read_scenario(folder))


def test_the_widest_windows_asked_are_drawn() -> None:
    """Windows of 0 to 6 days are drawn at both ends, not only inside the range."""
    drawn = draw_season(recipe("wide-6k-610"))
    widths = {(t.latest - t.earliest).days for t in drawn.travellers}
    assert widths == set(range(7))


def test_same_seed_same_files_other_seed_other_season() -> None:
    """A member is deterministic per seed; another seed draws another season."""
    r = recipe("return-3k-711")
    first, again, other = draw_season(r, 5), draw_season(r, 5), draw_season(r, 6)
    counts = unlimited_counts(first)
    assert render(first, counts) == render(again, counts)
    assert demand_hash(first) == demand_hash(again) != demand_hash(other)
    assert render(first, counts)["workers.csv"] != render(other, counts)["workers.csv"]


def test_fleet_is_the_multiple_of_the_need_rounded_half_up_or_the_fixed_counts() -> None:
    """Fleet counts: a recipe's multiple of each type's need, or its fixed counts."""
    tight = recipe("near-50-tight")  # 0.5 x
    assert fleet_counts(tight, {"53座": 41, "45座": 3, "35座": 1}) == {
        "53座": 21,
        "45座": 2,
        "35座": 1,
    }
    assert fleet_counts(recipe("return-near-3x"), {"53座": 7}) == {"53座": 21, "45座": 0, "35座": 0}
    assert fleet_counts(recipe("ample-15k-99"), {"53座": 1}) == {
        "53座": 333,
        "45座": 100,
        "35座": 50,
    }


def test_a_recipe_with_impossible_knobs_is_refused() -> None:
    """A window wider than the season, or no fleet given, is refused with the member's name."""
    base = recipe("near-50-tight")
    with pytest.raises(ValueError, match="bad: window_days"):
        Recipe(**{**base.__dict__, "name": "bad", "window_days": (0, 5)})
    with pytest.raises(ValueError, match="exactly one of fleet_multiple"):
        Recipe(**{**base.__dict__, "name": "bad", "fleet_counts": (1, 1, 1)})


def test_the_family_spans_the_knobs_the_issue_names() -> None:
    """At least 12 named members spanning windows 0-2 and 0-6, 2-8 main dates, 50-700 counties,
    5-14 dates, 500-2,000 RMB per coach and 6-10 RMB/km, 0.5x-3x fleets, both waves."""
    assert len(FAMILY) >= 12 and len({r.name for r in FAMILY}) == len(FAMILY)
    windows = {r.window_days for r in FAMILY}
    assert (0, 2) in windows and (0, 6) in windows
    assert {min(r.main_days for r in FAMILY), max(r.main_days for r in FAMILY)} == {2, 8}
    assert min(r.counties for r in FAMILY) <= 50 and max(r.counties for r in FAMILY) >= 700
    assert min(r.season_days for r in FAMILY) <= 5 and max(r.season_days for r in FAMILY) >= 14
    assert {min(r.fixed_cost for r in FAMILY), max(r.fixed_cost for r in FAMILY)} == {500, 2000}
    assert {min(r.cost_per_km for r in FAMILY), max(r.cost_per_km for r in FAMILY)} == {6, 10}
    multiples = [r.fleet_multiple for r in FAMILY if r.fleet_multiple is not None]
    assert min(multiples) == 0.5 and max(multiples) == 3.0
    assert {r.direction for r in FAMILY} == {"home", "return"}
    assert {r.near_share for r in FAMILY} >= {0.0, 1.0}


def test_the_family_is_drawn_without_the_bundled_generator() -> None:
    """benchmarks/family.py does not import scenarios (it must not share its sampling code)."""
    tree = ast.parse((ROOT / "benchmarks" / "family.py").read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert "scenarios" not in imported


@pytest.fixture(scope="module")
def quick_members(tmp_path_factory: pytest.TempPathFactory) -> list[Member]:
    """The two smoke members, built with their needs measured (one-second plans)."""
    cache = tmp_path_factory.mktemp("family")
    return [build_member(r, cache, in_process=True) for r in QUICK_FAMILY]


def test_quick_members_fleets_are_their_multiples_of_the_measured_need(
    quick_members: list[Member],
) -> None:
    """The fleet written is each type's multiple of the need measured by an unlimited plan."""
    for member in quick_members:
        assert member.need_source == "measured"
        assert sum(member.need.values()) > 0
        fleet = {v.vehicle_type: v.count for v in read_scenario(member.folder).fleet}
        multiple = member.recipe.fleet_multiple
        assert multiple is not None
        for name, need in member.need.items():
            assert fleet[name] == math.floor(multiple * need + 0.5)
        assert member.measured["seated"] == member.measured["workers"] == member.recipe.workers


def test_quick_members_read_back_and_reuse_their_cached_need(quick_members: list[Member]) -> None:
    """Built folders read back cleanly; building again reuses the cached need, same files."""
    for member in quick_members:
        drawn = draw_season(member.recipe, member.seed)
        _check_knobs(member.recipe, drawn, read_scenario(member.folder))
        before = {p.name: p.read_bytes() for p in member.folder.iterdir()}
        again = build_member(member.recipe, member.folder.parent, seed=member.seed)
        assert again.need_source == "cached" and again.need == member.need
        assert {p.name: p.read_bytes() for p in member.folder.iterdir()} == before


@pytest.mark.slow
def test_pinned_needs_are_for_the_family_as_it_is_drawn_now() -> None:
    """Every pinned need was measured on the demand the family draws today (else it re-measures)."""
    pinned = read_pinned()
    assert {r.name for r in FAMILY} <= set(pinned)
    for r in FAMILY:
        assert pinned[r.name]["demand_sha256"] == demand_hash(
            draw_season(r, pinned[r.name]["seed"])
        )


def test_return_waves_start_after_the_festival() -> None:
    """A return wave's dates start on the sixth day of the new year, a home wave's end two days
    before the festival."""
    back, home = recipe("return-3k-711"), recipe("near-50-tight")
    assert back.first_departure == back.festival + dt.timedelta(days=5)
    assert home.last_departure == home.festival - dt.timedelta(days=2)
