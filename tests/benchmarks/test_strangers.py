"""Stranger seasons (benchmarks/strangers.py): seasons made by other means than our generators
plan without a crash, an illegal trip, a lost worker or an untranslated message (through the
service: tests/api/test_service_strangers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.strangers import KNOBS, draw_knobs, english_left, findings, make
from benchmarks.strangers import check as check_season

# A handful of small seasons, each with its strangeness fixed (the rest drawn from the seed).
CASES = {
    "odd homes, few workers": (1, {"homes": "odd", "workers": "few", "excel": "yes"}),
    "return wave of one date, coaches on it only": (
        2,
        {"direction": "return", "days": "1", "fleet": "narrow", "homes": "one", "workers": "some"},
    ),
    "Xinjiang and Tibet, 30 days, one coach": (
        3,
        {"homes": "far", "days": "30", "fleet": "one_coach", "workers": "few", "policy": "default"},
    ),
    "own prefecture, edge windows, one company per worker": (
        4,
        {"homes": "near", "windows": "edge", "companies": "singletons", "workers": "few"},
    ),
    "region, far hubs in reach, families, a type with no coach": (
        5,
        {
            "origins": "region",
            "hubs": "far_wide",
            "parties": "families",
            "fleet": "zero_type",
            "workers": "some",
        },
    ),
}


def test_knobs_are_drawn_independently() -> None:
    """Fixing one knob leaves the others as the seed drew them, and every knob's choices
    appear over a few dozen seeds."""
    drawn = draw_knobs(11)
    fixed = draw_knobs(11, {"homes": "far"})
    assert fixed.homes == "far"
    assert {k: v for k, v in vars(fixed).items() if k != "homes"} == {
        k: v for k, v in vars(drawn).items() if k != "homes"
    }
    seen = {name: {getattr(draw_knobs(seed), name) for seed in range(60)} for name in KNOBS}
    assert seen == {name: set(choices) for name, choices in KNOBS.items()}
    with pytest.raises(ValueError, match="unknown knob"):
        draw_knobs(1, {"homes": "moon"})


def test_same_seed_same_folder(tmp_path: Path) -> None:
    """A season is a function of its seed and knobs: the same files byte for byte."""
    make(7, tmp_path / "a")
    make(7, tmp_path / "b")
    for name in ("scenario.toml", "companies.csv", "workers.csv", "fleet.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_english_left_finds_untranslated_sentences() -> None:
    """The language check flags a sentence left in English, not codes or units."""
    assert english_left("找不到座位: every coach on every date is taken")
    assert not english_left("53座 coach 53 (330282) 12 km")


@pytest.mark.parametrize("case", list(CASES))
def test_stranger_season_plans_legally(case: str, tmp_path: Path) -> None:
    """The season reads (or is refused with a message), and its plan passes the independent
    checker and the plan's own invariants: every row seated or unserved with a reason,
    consistent KPIs, plan.json valid, every message translated."""
    seed, knobs = CASES[case]
    make(seed, tmp_path / "season", knobs)
    result = check_season(tmp_path / "season", time_limit_s=2.0)
    assert "refused" not in result, result["refused"]
    assert findings(result) == []
    assert result["seated"] + result["unserved"] == result["workers"] > 0
