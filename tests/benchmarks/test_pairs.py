"""The side-by-side runner (benchmarks/pairs.py): medians, the table, both sides at once.

The default tests plan nothing: the runs are synthetic, or children of a stand-in
`benchmarks.robustness` that sleeps and reports when it ran. The `slow` test runs the real
planner on the quick family, HEAD against HEAD."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from benchmarks import pairs, robustness

ROOT = Path(__file__).resolve().parents[2]


def _plan(seated: int, trips: int, plan_s: float, **extra: Any) -> dict[str, Any]:
    return {
        "seated": seated,
        "trips": trips,
        "plan_s": plan_s,
        "checker_errors": 0,
        "within_fleet": True,
        **extra,
    }


def _record(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "before": {"rev": "main", "commit": "a" * 40},
        "after": {"rev": "house", "commit": "b" * 40},
        "family": "/fam",
        "entry": "fleet",
        "seasons": ["near-50-tight"],
        "runs": runs,
    }


def _runs() -> list[dict[str, Any]]:
    """Three pairs of one season: the before side has no servable bound (an older runner)."""
    before = [(6_000, 220, 100.0), (6_400, 210, 120.0), (6_200, 230, 110.0)]
    after = [(6_800, 200, 130.0), (6_600, 205, 90.0), (7_000, 215, 100.0)]
    return [
        {
            "season": "near-50-tight",
            "pair": i + 1,
            "started_utc": f"2026-12-07 19:0{i}:00",
            "ended_utc": f"2026-12-07 19:0{i}:59",
            "load_start": 5.0 + i,
            "load_end": 6.0 + i,
            "before": _plan(*b),
            "after": _plan(*a, fleet_servable_bound=8_000),
        }
        for i, (b, a) in enumerate(zip(before, after, strict=True))
    ]


def test_medians_and_ranges_over_the_pairs() -> None:
    """Each side's median and range per figure; the bound of the side that has one serves both."""
    summary = pairs.summarise(_runs())
    assert summary["seated"]["before"] == ((6_200, 6_000, 6_400), 3)
    assert summary["seated"]["after"] == ((6_800, 6_600, 7_000), 3)
    assert summary["trips"]["after"] == ((205, 200, 215), 3)
    assert summary["plan s"]["before"] == ((110.0, 100.0, 120.0), 3)
    unserved, n = summary["unserved / bound"]["before"]
    assert n == 3 and unserved is not None
    assert unserved == pytest.approx(((8_000 - 6_200) / 8_000, 0.2, 0.25))
    assert summary["checker errors"]["after"] == ((0, 0, 0), 3)


def test_an_even_count_and_a_failed_run() -> None:
    """A failed run is left out of its side's median (and said so); two values give their mean."""
    runs = _runs()
    runs[1]["before"] = {"error": "no answer within 3600 s"}
    summary = pairs.summarise(runs)
    assert summary["seated"]["before"] == ((6_100, 6_000, 6_200), 2)
    assert summary["seated"]["after"][1] == 3
    assert pairs.median_range([]) is None


def test_the_table() -> None:
    """One row per figure: medians (range), runs counted when some failed, after / before."""
    runs = _runs()
    runs[2]["after"] = {"error": "Traceback: boom"}
    lines = pairs.render_pairs(_record(runs))
    text = "\n".join(lines)
    row = {line.split("|")[3].strip(): line for line in lines if line.startswith("| ")}
    assert row["seated"].startswith(
        "| near-50-tight (servable bound 8,000) | 3 | seated | 6,200 (6,000–6,400) "
        "| 6,700 (6,600–6,800), 2 of 3 runs |"
    )
    assert row["seated"].endswith(f"| {6_700 / 6_200:.3f} |")
    assert row["trips"].endswith(f"| {202.5 / 220:.3f} |")
    # (8,000 - 6,200) / 8,000 before, (8,000 - 6,700) / 8,000 after.
    assert (
        "| 22.50% (20.00%–25.00%) | 16.25% (15.00%–17.50%), 2 of 3 runs |"
        in row["unserved / bound"]
    )
    assert row["checker errors"].endswith("| 0 (0 each) | 0 (0 each), 2 of 3 runs | 1 (both 0) |")
    assert "load average (1 min) at the start and end of the pairs: 5.0-8.0, median 6.5." in text
    assert "| near-50-tight | 3 | 2026-12-07 19:02:00 | 7.0 / 8.0 | 6,200, 230, 110.0 " in text
    assert "error: Traceback: boom" in text
    assert "main (aaaaaaaaaa)" in text and "house (bbbbbbbbbb)" in text


def test_a_plan_over_its_fleet_is_named() -> None:
    runs = _runs()
    runs[0]["after"]["within_fleet"] = False
    assert "Over the fleet (`within_fleet` false): near-50-tight pair 1 after." in "\n".join(
        pairs.render_pairs(_record(runs))
    )


def test_checker_errors_keep_their_text() -> None:
    """A plan with checker errors is listed under the table with the checker's first texts, and
    the pair's progress line names the first one: an error seen once is not lost."""
    runs = _runs()
    runs[1]["after"] |= {
        "checker_errors": 2,
        "checker_first_errors": ["trip T7: 54 seated on a 53-seat coach", "trip T9: late"],
    }
    runs[2]["before"]["checker_errors"] = 1  # an older runner that kept no text
    text = "\n".join(pairs.render_pairs(_record(runs)))
    assert (
        "- near-50-tight pair 2 after: 2 error(s): trip T7: 54 seated on a 53-seat coach; "
        "trip T9: late" in text
    )
    assert "- near-50-tight pair 3 before: 1 error(s): (no text kept)" in text
    assert "pair 1 before" not in text
    line = pairs._progress_line(runs[1])
    assert line.endswith("2 checker error(s), first: trip T7: 54 seated on a 53-seat coach")


# A stand-in for a revision's `benchmarks.robustness`: it says where it was imported from, which
# folder it ran in and when, and sleeps so that two sides can be seen to overlap.
FAKE_RUNNER = textwrap.dedent(
    """
    import json, os, sys, time
    started = time.time()
    time.sleep(1.0)
    args = sys.argv[1:]
    print("planning...")
    print(json.dumps({
        "seated": SEATED, "trips": 10, "plan_s": 1.0, "checker_errors": 0,
        "fleet_servable_bound": 100, "module": __file__, "cwd": os.getcwd(),
        "args": args, "started": started, "ended": time.time(),
    }))
    """
)


def _fake_side(folder: Path, seated: int) -> Path:
    package = folder / "benchmarks"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "robustness.py").write_text(FAKE_RUNNER.replace("SEATED", str(seated)))
    return folder


def test_the_two_sides_run_at_the_same_time_each_from_its_own_folder(tmp_path: Path) -> None:
    """Both children start before either ends; each imports its own revision's code, runs in
    its folder and gets the season's folder; the record is written after every pair."""
    family = tmp_path / "fam"
    for name in ("one-s11", "two"):
        (family / name).mkdir(parents=True)
        (family / name / "scenario.toml").write_text("")
    before = _fake_side(tmp_path / "before", 60)
    after = _fake_side(tmp_path / "after", 70)
    out = tmp_path / "out" / "pairs.json"
    lines: list[str] = []
    record = pairs.run_pairs(
        str(before),
        str(after),
        ["one", "two"],
        2,
        family,
        out=out,
        work=tmp_path / "work",
        progress=lines.append,
    )
    assert [(r["season"], r["pair"]) for r in record["runs"]] == [
        ("one", 1),
        ("two", 1),
        ("one", 2),
        ("two", 2),
    ]
    for run in record["runs"]:
        b, a = run["before"], run["after"]
        assert max(b["started"], a["started"]) < min(b["ended"], a["ended"])
        assert Path(b["module"]).parent.parent == before.resolve()
        assert Path(a["module"]).parent.parent == after.resolve()
        assert (b["cwd"], a["cwd"]) == (str(before.resolve()), str(after.resolve()))
        folder = family / ("one-s11" if run["season"] == "one" else "two")
        assert b["args"] == ["one", "--scenario", str(folder), "--entry", "fleet"]
        assert run["load_start"] >= 0 and run["load_end"] >= 0
    assert json.loads(out.read_text(encoding="utf-8")) == record
    assert len(lines) == 4 and "before seated 60" in lines[0] and "after seated 70" in lines[0]
    summary = pairs.summarise(record["runs"][:1])
    assert summary["unserved / bound"]["after"][0] == pytest.approx((0.3, 0.3, 0.3))


def test_a_failing_side_is_recorded_not_fatal(tmp_path: Path) -> None:
    family = tmp_path / "fam"
    (family / "one").mkdir(parents=True)
    (family / "one" / "scenario.toml").write_text("")
    good = _fake_side(tmp_path / "good", 60)
    bad = tmp_path / "bad" / "benchmarks"
    bad.mkdir(parents=True)
    (bad / "__init__.py").write_text("")
    (bad / "robustness.py").write_text("raise SystemExit('no plan today')\n")
    record = pairs.run_pairs(
        str(good), str(bad.parent), ["one"], 1, family, progress=lambda _: None
    )
    assert record["runs"][0]["after"] == {"error": "no plan today"}
    assert record["runs"][0]["before"]["seated"] == 60


def test_a_missing_season_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere-s11"):
        pairs.run_pairs("HEAD", "HEAD", ["nowhere"], 1, tmp_path, progress=lambda _: None)


def test_an_unknown_revision_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name that is neither a revision nor a folder stops the command with its name, no
    traceback, before any season runs."""
    (tmp_path / "one-s11").mkdir()
    (tmp_path / "one-s11" / "scenario.toml").write_text("")
    with pytest.raises(SystemExit) as stopped:
        robustness.main(
            ["pairs", "--before", "no-such-rev-xyz", "--after", "HEAD", "--seasons", "one",
             "--pairs", "1", "--family", str(tmp_path)]
        )  # fmt: skip
    assert stopped.value.code == 2
    assert "'no-such-rev-xyz' is neither a revision" in capsys.readouterr().err


def test_a_revision_is_exported_with_git_archive(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    git("init", "-q")
    (repo / "a.txt").write_text("first")
    git("add", "a.txt")
    git("commit", "-q", "-m", "first")
    first = git("rev-parse", "HEAD")
    (repo / "a.txt").write_text("second")
    git("commit", "-q", "-am", "second")
    side = pairs.export("HEAD~1", tmp_path / "out", repo=repo)
    assert side.commit == first
    assert (tmp_path / "out" / "a.txt").read_text() == "first"


def test_the_command_line_renders_a_finished_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "pairs.json"
    saved.write_text(json.dumps(_record(_runs())), encoding="utf-8")
    robustness.main(["pairs", "--table", str(saved)])
    assert (
        "| near-50-tight (servable bound 8,000) | 3 | seated | 6,200 (6,000–6,400) |"
        in capsys.readouterr().out
    )


@pytest.mark.slow
def test_end_to_end_on_the_quick_family(tmp_path: Path) -> None:
    """HEAD against HEAD on a quick member, one pair: real plans, checked, both sides alike."""
    from benchmarks.family import QUICK_FAMILY, build_family

    build_family(QUICK_FAMILY[:1], tmp_path / "fam", in_process=True)
    out = tmp_path / "pairs.json"
    command = [sys.executable, "-m", "benchmarks.robustness", "pairs"]
    command += ["--before", "HEAD", "--after", "HEAD", "--seasons", QUICK_FAMILY[0].name]
    command += ["--pairs", "1", "--family", str(tmp_path / "fam"), "--out", str(out)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    record = json.loads(out.read_text(encoding="utf-8"))
    run = record["runs"][0]
    for side in ("before", "after"):
        assert "error" not in run[side], run[side]
        assert run[side]["checker_errors"] == 0 and run[side]["seated"] > 0
    bound = run["after"].get("fleet_servable_bound")
    name = QUICK_FAMILY[0].name + ("" if bound is None else f" (servable bound {bound:,})")
    assert f"| {name} | 1 | seated |" in done.stdout


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("3", 3),
        ("1.5", 1.5),
        ('"gate"', "gate"),
        ("yes", "yes"),  # no TOML value: the text, for the type check to refuse by name
    ],
)
def test_a_policy_value_is_typed_as_scenario_toml_types_it(text: str, value: Any) -> None:
    table = pairs.policy_values([f"key={text}"])
    assert table == {"key": value} and type(table["key"]) is type(value)


def test_a_policy_setting_without_a_value_is_refused() -> None:
    with pytest.raises(ValueError, match="KEY=VALUE"):
        pairs.policy_values(["fresh_crew_at_origin"])


def test_policy_goes_to_both_sides_and_after_policy_to_the_after_side(tmp_path: Path) -> None:
    """Each child gets `--policy` options: the shared ones, and the after side's own after
    them; the record keeps each side's table and the table names them."""
    family = tmp_path / "fam"
    (family / "one").mkdir(parents=True)
    (family / "one" / "scenario.toml").write_text("")
    record = pairs.run_pairs(
        str(_fake_side(tmp_path / "before", 60)),
        str(_fake_side(tmp_path / "after", 70)),
        ["one"],
        1,
        family,
        progress=lambda _: None,
        policy=["min_load=5"],
        after_policy=["fresh_crew_at_origin=true"],
    )
    run = record["runs"][0]
    base = ["one", "--scenario", str(family / "one"), "--entry", "fleet"]
    assert run["before"]["args"] == [*base, "--policy", "min_load=5"]
    assert run["after"]["args"] == [
        *base,
        "--policy",
        "min_load=5",
        "--policy",
        "fresh_crew_at_origin=true",
    ]
    assert record["policy"] == {
        "before": {"min_load": 5},
        "after": {"min_load": 5, "fresh_crew_at_origin": True},
    }
    assert (
        "Policy: before min_load = 5; after min_load = 5, fresh_crew_at_origin = true."
        in pairs.render_pairs(record)
    )
    assert not any(line.startswith("Policy:") for line in pairs.render_pairs(_record(_runs())))


def test_a_bad_policy_value_stops_pairs_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value of the wrong kind or an unknown key: a usage error naming it, no season run
    (the season folder here does not even exist)."""
    for setting, message in [
        ("fresh_crew_at_origin=yes", "[policy] fresh_crew_at_origin = 'yes' must be true or"),
        ("speed=3", "[policy] has unknown key(s) speed"),
    ]:
        with pytest.raises(SystemExit) as stopped:
            robustness.main(
                ["pairs", "--before", "HEAD", "--after", "HEAD", "--seasons", "nowhere",
                 "--pairs", "1", "--family", str(tmp_path), "--after-policy", setting]
            )  # fmt: skip
        assert stopped.value.code == 2
        assert message in capsys.readouterr().err
