"""Range checks of the scenario.toml tables: each bad `[policy]`, `[solver]` or `[subsidy]`
value is a SettingError naming the table, key, value and reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from optimizer.errors import InvalidInput, SettingError
from optimizer.model import Policy, SolverParams, SubsidyRule

# (how it is made, table, key, value, reason): one case of every kind of range error.
RANGE_ERRORS: list[tuple[Callable[[], Any], str, str, object, str]] = [
    (lambda: Policy(max_pickup_stops=0), "policy", "max_pickup_stops", 0, "must be at least 1"),
    (lambda: Policy(detour_ratio=0.9), "policy", "detour_ratio", 0.9, "must be at least 1.0"),
    (
        lambda: Policy(night_end_hour=24),
        "policy",
        "night_end_hour",
        24,
        "must be a clock hour from 0 to 23",
    ),
    (
        lambda: Policy(earliest_departure_hour=20, latest_departure_hour=8),
        "policy",
        "earliest_departure_hour",
        20,
        "must not be after latest_departure_hour = 8",
    ),
    (lambda: Policy(min_load=-1), "policy", "min_load", -1, "must not be negative"),
    (lambda: Policy(hub_radius_km=-0.5), "policy", "hub_radius_km", -0.5, "must not be negative"),
    (lambda: Policy(min_rest_minutes=0), "policy", "min_rest_minutes", 0, "must be positive"),
    (lambda: Policy(two_driver_km=0.0), "policy", "two_driver_km", 0.0, "must be positive"),
    (lambda: Policy(max_trip_km=-5.0), "policy", "max_trip_km", -5.0, "must be positive"),
    (
        lambda: Policy(night_speed_factor=0.0),
        "policy",
        "night_speed_factor",
        0.0,
        "must be more than 0 and at most 1",
    ),
    (lambda: SolverParams(time_limit_s=0), "solver", "time_limit_s", 0, "must be positive"),
    (
        lambda: SolverParams(lower_bound_share=0.6),
        "solver",
        "lower_bound_share",
        0.6,
        "must be from 0 to 0.5",
    ),
    (lambda: SolverParams(workers=0), "solver", "workers", 0, "must be at least 1"),
    (
        lambda: SolverParams(part_solution_limit=0),
        "solver",
        "part_solution_limit",
        0,
        "must be at least 1",
    ),
    (lambda: SolverParams(lp_seeds=1), "solver", "lp_seeds", 1, "must be true or false"),  # type: ignore[arg-type]
    (lambda: SubsidyRule(share=1.5), "subsidy", "share", 1.5, "must be from 0 to 1"),
    (
        lambda: SubsidyRule(cap_per_company=-1.0),
        "subsidy",
        "cap_per_company",
        -1.0,
        "must not be negative",
    ),
]


@pytest.mark.parametrize(
    ("make", "table", "key", "value", "reason"),
    RANGE_ERRORS,
    ids=[f"{case[1]}.{case[2]}" for case in RANGE_ERRORS],
)
def test_each_range_error_names_table_key_value_and_reason(
    make: Callable[[], Any], table: str, key: str, value: object, reason: str
) -> None:
    """The error carries its parts and says them as `[table] key = value reason`."""
    with pytest.raises(SettingError) as raised:
        make()
    error = raised.value
    assert (error.table, error.key, error.value, error.reason) == (table, key, value, reason)
    assert str(error) == f"[{table}] {key} = {value} {reason}"
    assert isinstance(error, InvalidInput)


def test_the_good_defaults_pass() -> None:
    """The defaults are inside every range (no refusal of a plain season)."""
    Policy()
    SolverParams()
    SubsidyRule()


def test_a_type_error_is_a_setting_error_too() -> None:
    """A value of the wrong TOML kind is a SettingError with the reason of its kind."""
    with pytest.raises(SettingError) as raised:
        Policy.from_mapping({"min_load": "3"})
    assert (raised.value.key, raised.value.value, raised.value.reason) == (
        "min_load",
        "3",
        "must be a whole number",
    )
    assert str(raised.value) == "[policy] min_load = '3' must be a whole number"


def test_a_null_optional_value_is_accepted() -> None:
    """A JSON null (the API's seasons) for an optional value reads as unset; for a required
    value it is refused by kind."""
    assert Policy.from_mapping({"max_trip_km": None}).max_trip_km is None
    assert SubsidyRule.from_mapping({"cap_per_company": None}).cap_per_company is None
    with pytest.raises(SettingError, match=r"\[policy\] min_load = None must be a whole number"):
        Policy.from_mapping({"min_load": None})


def test_the_subsidy_table_is_checked_like_the_others() -> None:
    """`[subsidy]` refuses unknown keys and values of the wrong kind by name."""
    with pytest.raises(InvalidInput, match=r"\[subsidy\] has unknown key\(s\) cap"):
        SubsidyRule.from_mapping({"cap": 3})
    with pytest.raises(SettingError, match=r"\[subsidy\] share = 'half' must be a number"):
        SubsidyRule.from_mapping({"share": "half"})


def test_updated_checks_keys_kinds_and_ranges_against_the_policy_it_changes() -> None:
    """`Policy.updated` changes only the keys given, and refuses what a scenario.toml table
    would; a range is judged with the policy's own other values."""
    early = Policy(earliest_departure_hour=3, latest_departure_hour=5)
    changed = early.updated({"fresh_crew_at_origin": True, "latest_departure_hour": 4})
    assert changed.fresh_crew_at_origin and changed.latest_departure_hour == 4
    assert changed.earliest_departure_hour == 3 and changed.detour_ratio == early.detour_ratio
    with pytest.raises(InvalidInput, match=r"unknown key\(s\) speed"):
        early.updated({"speed": 3})
    with pytest.raises(SettingError, match="fresh_crew_at_origin = 'yes' must be true or false"):
        early.updated({"fresh_crew_at_origin": "yes"})
    with pytest.raises(SettingError, match="latest_departure_hour = 2"):
        early.updated({"latest_departure_hour": 2})
