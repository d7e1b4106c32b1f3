"""`chunyun geo resolve`: one result per query, JSON shapes, exit status, readable table."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app

# The command line's texts are read in English (its default is Chinese).
pytestmark = pytest.mark.usefixtures("english_cli")

runner = CliRunner()


def test_json_lists_one_object_per_query_in_order() -> None:
    """--json prints a list with {query, adcode, name, province} for each resolved query."""
    result = runner.invoke(app, ["geo", "resolve", "安徽阜阳临泉", "522423", "威宁", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == [
        {"query": "安徽阜阳临泉", "adcode": "341221", "name": "临泉县", "province": "安徽省"},
        {"query": "522423", "adcode": "520581", "name": "黔西市", "province": "贵州省"},
        {"query": "威宁", "adcode": "520526", "name": "威宁彝族回族苗族自治县",
         "province": "贵州省"},
    ]  # fmt: skip


def test_json_errors_carry_the_candidates_and_exit_non_zero() -> None:
    """An ambiguous query gives {query, error, candidates}; the command exits 1."""
    result = runner.invoke(app, ["geo", "resolve", "重庆梁平", "鼓楼", "火星基地", "--json"])
    assert result.exit_code == 1
    resolved, ambiguous, unknown = json.loads(result.stdout)
    assert set(resolved) == {"query", "adcode", "name", "province"}
    assert resolved["adcode"] == "500155"
    assert set(ambiguous) == {"query", "error", "candidates"}
    assert ambiguous["query"] == "鼓楼"
    assert "matches several places" in ambiguous["error"]
    assert {c["adcode"] for c in ambiguous["candidates"]} == {"320106", "320302", "350102",
                                                              "410204"}  # fmt: skip
    assert {"adcode": "320106", "name": "江苏省南京市鼓楼区"} in ambiguous["candidates"]
    assert set(unknown) == {"query", "error", "candidates"}
    assert unknown["candidates"] == []


def test_table_shows_full_names_and_seat_notes() -> None:
    """Without --json the table names the county in full and says when a seat was used."""
    result = runner.invoke(app, ["geo", "resolve", "阜阳市", "安徽临泉"])
    assert result.exit_code == 0, result.output
    assert "安徽省阜阳市临泉县" in result.stdout
    assert "341202" in result.stdout
    assert "seat county" in result.stdout


def test_table_lists_candidates_of_an_ambiguous_query() -> None:
    """An ambiguous query's candidates appear in the table, and the exit status is 1."""
    result = runner.invoke(app, ["geo", "resolve", "朝阳"])
    assert result.exit_code == 1
    assert "北京市朝阳区" in result.stdout
    assert "吉林省长春市朝阳区" in result.stdout


def test_resolve_needs_at_least_one_query() -> None:
    """Calling without text is a usage error."""
    result = runner.invoke(app, ["geo", "resolve"])
    assert result.exit_code == 2


def test_a_dash_reads_queries_from_standard_input() -> None:
    """`chunyun geo resolve - --json` resolves one query per input line, blank lines skipped."""
    result = runner.invoke(app, ["geo", "resolve", "-", "--json"], input="安徽临泉\n\n威宁\n")
    assert result.exit_code == 0, result.output
    assert [r["adcode"] for r in json.loads(result.stdout)] == ["341221", "520526"]
