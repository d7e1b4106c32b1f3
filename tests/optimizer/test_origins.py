"""Many origins: the region of a season, each company's and hub's origin county, pooling across
neighbouring origins, and one-origin folders unchanged."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from optimizer.errors import InvalidInput
from optimizer.groups import nearest_hubs
from optimizer.model import Company, Hub, Plan, Scenario, SolverParams
from optimizer.origins import boarding_counties, origin_alone, with_origin_kpis
from optimizer.read import read_scenario
from optimizer.region import expand_region, locate_county
from optimizer.season import solve_within_fleet
from optimizer.solve import solve
from scenarios import bundled_path
from tests.checker import assert_valid_plan, check_plan

TWO_ORIGINS = Path(__file__).resolve().parents[1] / "data" / "two-origins"
CIXI, YUYAO = "330282", "330281"
NINGBO = (
    "330203",
    "330205",
    "330206",
    "330211",
    "330212",
    "330213",
    "330225",
    "330226",
    "330281",
    "330282",
)


@pytest.fixture(scope="module")
def two_origins() -> tuple[Scenario, Plan]:
    scenario = read_scenario(TWO_ORIGINS)
    scenario = scenario.replace(solver=SolverParams(time_limit_s=3.0))
    return scenario, solve(scenario)


def test_a_prefecture_expands_to_its_counties_and_names_are_checked() -> None:
    """宁波市 is Ningbo's ten counties; county names and codes keep their order; an ambiguous or
    unknown name is refused, naming it."""
    assert expand_region("宁波市") == NINGBO
    assert expand_region("宁波") == NINGBO
    assert expand_region(["余姚", "慈溪市", "330206"]) == (YUYAO, CIXI, "330206")
    assert expand_region("余姚,慈溪") == (YUYAO, CIXI)
    with pytest.raises(InvalidInput, match=r"'江北' is ambiguous .*330205.*500105"):
        expand_region("江北")
    with pytest.raises(InvalidInput, match="'火星' is not a county, prefecture or province"):
        expand_region("火星")


def test_a_prefecture_level_city_without_counties_is_one_place() -> None:
    """东莞 and 嘉峪关 are listed both as prefecture and as their own county: one place, not an
    ambiguous name; 中山 stays ambiguous (中山市 and 大连市中山区 are two places)."""
    assert expand_region("东莞") == ("441900",)
    assert expand_region("东莞市") == ("441900",)
    assert expand_region("嘉峪关") == ("620200",)
    assert expand_region("中山市") == ("442000",)
    with pytest.raises(InvalidInput, match="ambiguous"):
        expand_region("中山")


def test_a_point_is_placed_in_the_origin_county_holding_it() -> None:
    """Cixi's central coach station lies in 慈溪, Yuyao's seat in 余姚 (outlines, not nearest)."""
    assert locate_county(121.266, 30.170, NINGBO) == CIXI
    assert locate_county(121.150, 30.040, NINGBO) == YUYAO
    assert locate_county(121.84, 29.90, NINGBO) == "330206"


def test_the_region_folder_reads_counties_hubs_and_operator_depots(
    two_origins: tuple[Scenario, Plan],
) -> None:
    """region = [慈溪, 余姚]: origin first, companies and hubs in their county (named or located),
    a coach type without a depot takes its operator's."""
    scenario, _ = two_origins
    assert scenario.origin == CIXI and scenario.origins == (CIXI, YUYAO)
    assert {c.company_id: c.county for c in scenario.companies} == {"C01": CIXI, "C02": YUYAO}
    assert {h.hub_id: h.county for h in scenario.hubs} == {"H1": CIXI, "H2": YUYAO}
    fleet = {v.vehicle_type: v for v in scenario.fleet}
    assert (fleet["cixi-35"].depot_lon, fleet["cixi-35"].depot_lat) == (121.266, 30.170)
    assert scenario.problems == ()


def test_a_county_cell_outside_the_region_is_a_row_problem(tmp_path: Path) -> None:
    """A company naming a county outside the region is left out with row, column and reason
    (its workers with it);
    an origin outside the region stops the folder."""
    folder = tmp_path / "season"
    shutil.copytree(TWO_ORIGINS, folder)
    companies = (folder / "companies.csv").read_text(encoding="utf-8")
    (folder / "companies.csv").write_text(companies.replace(",慈溪\n", ",鄞州\n"), encoding="utf-8")
    scenario = read_scenario(folder)
    first, *rest = scenario.problems
    assert (first.table, first.row, first.column, first.value, first.reason) == (
        "companies",
        2,
        "county",
        "鄞州",
        "is not one of the season's origin counties",
    )
    # Its 25 workers are then rows of an unknown company, the others are planned.
    assert len(rest) == 25 and {(p.table, p.column, p.value) for p in rest} == {
        ("workers", "company_id", "C01")
    }
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    (folder / "scenario.toml").write_text(
        toml.replace('region = ["慈溪", "余姚"]', 'origin = "鄞州"\nregion = ["慈溪", "余姚"]'),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="origin '鄞州' is not one county of the region"):
        read_scenario(folder)


def test_hubs_serve_only_companies_of_their_own_county() -> None:
    """A Yuyao hub 1 km from a Cixi gate is not offered to it; Cixi's own hub 5 km away is."""
    gate = Company("C1", "厂", 121.20, 30.10, county=CIXI)
    near_other = Hub("HY", "余姚站", 121.21, 30.10, county=YUYAO)
    own = Hub("HC", "慈溪站", 121.25, 30.10, county=CIXI)
    assert nearest_hubs([gate], [near_other, own], 12.0) == {"C1": "hub:HC"}
    assert nearest_hubs([gate], [near_other], 12.0) == {}
    # One-origin seasons leave every county blank: the nearest hub, as before.
    assert nearest_hubs([Company("C1", "厂", 121.20, 30.10)], [Hub("H", "站", 121.21, 30.1)], 5.0)


def test_two_neighbouring_origins_share_one_coach(two_origins: tuple[Scenario, Plan]) -> None:
    """25 workers in 慈溪 and 25 in 余姚, all to 威宁: one legal coach boarding in both counties,
    where each origin alone needs a coach of its own."""
    scenario, plan = two_origins
    assert_valid_plan(scenario, plan)
    assert plan.kpis.seated == 50 and plan.kpis.trips == 1
    (trip,) = plan.trips
    assert boarding_counties(trip, scenario) == [CIXI, YUYAO]
    kpis = plan.kpis
    assert (kpis.origins, kpis.cross_origin_trips, kpis.trips_by_origin) == (2, 1, {CIXI: 1})
    alone = [solve(origin_alone(scenario, county)) for county in scenario.origins]
    assert [p.kpis.trips for p in alone] == [1, 1]
    assert [p.kpis.seated for p in alone] == [25, 25]


@pytest.mark.parametrize(
    "limits",
    [{"detour_ratio": 1.0, "detour_grace_minutes": 0}, {"max_pickup_stops": 1}],
    ids=["no detour", "one pickup"],
)
def test_origins_pool_only_within_the_detour_and_pickup_limits(
    two_origins: tuple[Scenario, Plan], limits: dict[str, float]
) -> None:
    """Without room for the drive from one origin to the next (no detour allowed, or one
    pickup stop per coach) the two origins' workers ride two coaches, still legally."""
    scenario, _ = two_origins
    scenario = scenario.replace(policy=dataclasses.replace(scenario.policy, **limits))
    plan = solve(scenario)
    assert_valid_plan(scenario, plan)
    assert (plan.kpis.trips, plan.kpis.seated, plan.kpis.cross_origin_trips) == (2, 50, 0)


def test_coaches_of_a_region_season_return_to_their_operators_depot(
    two_origins: tuple[Scenario, Plan],
) -> None:
    """Planned within the fleet: the coach's duty leaves from and returns to its operator's
    depot, the empty drives counted (the checker holds every duty to it)."""
    scenario, _ = two_origins
    plan, duties = solve_within_fleet(scenario)
    assert_valid_plan(scenario, plan)
    assert plan.coaches and all(d.legs for d in plan.coaches)
    assert duties.kpis.deadhead_km > 0
    # The checker catches a coach that ends its duty away from its depot, or miscounted km.
    duty = plan.coaches[0]
    last = dataclasses.replace(duty.legs[-1], to_lon=duty.legs[-1].to_lon + 0.5)
    moved = dataclasses.replace(duty, legs=(*duty.legs[:-1], last))
    errors = check_plan(scenario, plan.replace(coaches=(moved, *plan.coaches[1:])))
    assert any(f"coach {duty.coach_id} ({duty.vehicle_type}) ends" in e for e in errors)
    short = dataclasses.replace(duty, deadhead_km=duty.deadhead_km - 10)
    errors = check_plan(scenario, plan.replace(coaches=(short, *plan.coaches[1:])))
    assert any(f"coach {duty.coach_id}: empty km" in e for e in errors)


def test_a_one_origin_folder_reads_and_plans_as_before() -> None:
    """The bundled tiny season: one origin, blank counties, origin figures of one origin."""
    scenario = read_scenario(bundled_path("tiny"))
    assert scenario.origins == (scenario.origin,) == ("330282",)
    assert all(c.county == "" for c in scenario.companies)
    plan = solve(scenario.replace(solver=SolverParams(time_limit_s=2.0)))
    assert_valid_plan(scenario, plan)
    kpis = with_origin_kpis(plan.kpis, scenario, plan.trips)
    assert (kpis.origins, kpis.cross_origin_trips) == (1, 0)
    assert kpis.trips_by_origin == {"330282": plan.kpis.trips}
