"""The charter-sign rule (道路旅客运输及客运站管理规定 art. 57): a coach drives a trip only when one
end of the route lies in its operator's registration place (optimizer/charter.py), by default
the prefecture (设区的市) of its depot, applied by the season planner before the trips are
fitted to the fleet (optimizer/season.py), in coach duties (optimizer/duties.py), and held by
the independent checker."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from optimizer.charter import apply_sign_rule, registration_places, route_ends, sign_rule
from optimizer.duties import DutyResult, TimetableEmptyDriveTimer, build_duties
from optimizer.geography.providers import default_provider
from optimizer.model import Plan, Scenario, SolverParams, UnservedReason, VehicleType
from optimizer.read import read_scenario
from optimizer.region import expand_region, prefecture_of
from optimizer.season import depot_of, solve_within_fleet
from optimizer.solve import solve
from tests.checker import check_plan, prefecture_counties

TWO_ORIGINS = Path(__file__).resolve().parents[1] / "data" / "two-origins"
CIXI, YUYAO, WEINING = "330282", "330281", "520526"
NINGBO = "330200"


def _coach(name: str, operator: str, registered: str, lon: float, lat: float) -> VehicleType:
    return VehicleType(name, 53, 2, 7.5, 1500, operator, lon, lat, registered=registered)


CIXI_COACH = ("cixi-53", "慈溪公运", CIXI, 121.266, 30.170)
YUYAO_COACH = ("yuyao-53", "余姚公运", YUYAO, 121.150, 30.040)
BEILUN_COACH = ("beilun-53", "北仑公运", "330206", 121.844, 29.899)


@pytest.fixture(scope="module")
def yuyao_trip() -> tuple[Scenario, Plan]:
    """The two-origin season with only 余姚's workers: one coach from 余姚 to 威宁 (Guizhou)."""
    scenario = read_scenario(TWO_ORIGINS)
    scenario = scenario.replace(
        workers=tuple(w for w in scenario.workers if w.company_id == "C02"),
        fleet=(_coach(*CIXI_COACH),),
        solver=SolverParams(time_limit_s=3.0, part_solution_limit=3),
    )
    plan = solve(scenario)
    assert plan.trips and all(route_ends(t, scenario) == (YUYAO, WEINING) for t in plan.trips)
    return scenario, plan


def _duties(scenario: Scenario, plan: Plan, *, rule: bool = True) -> DutyResult:
    return build_duties(
        plan.trips,
        scenario.fleet,
        depot=depot_of(scenario),
        timer=TimetableEmptyDriveTimer(default_provider(), scenario.policy),
        policy=scenario.policy,
        sign=sign_rule(scenario, plan.trips) if rule else None,
    )


def test_a_coach_registered_in_one_county_cannot_take_a_trip_from_another(
    yuyao_trip: tuple[Scenario, Plan],
) -> None:
    """A 慈溪 operator's coach may not drive 余姚 -> 威宁: the trip is refused, named, and no
    duty carries it; the checker flags the same duty when the rule is not applied."""
    scenario, plan = yuyao_trip
    assert registration_places(scenario) == {"cixi-53": frozenset({CIXI})}
    duties = _duties(scenario, plan)
    trip_ids = {t.trip_id for t in plan.trips}
    assert set(duties.kpis.sign_refused) == trip_ids
    assert {r.trip_id for r in duties.refused} == trip_ids
    assert all(
        r.ends == (YUYAO, WEINING) and r.code == "charter_sign_refused" for r in duties.refused
    )
    assert not duties.duties

    unchecked = _duties(scenario, plan, rule=False)
    errors = check_plan(scenario, plan.replace(coaches=unchecked.duties))
    assert any("neither end lies in its operator's registration place" in e for e in errors)
    # A plan without duties is held to the rule by each trip's own coach type.
    errors = check_plan(scenario, plan)
    assert any(e.startswith("a coach (cixi-53) drives trip") for e in errors)


def test_a_coach_registered_at_the_prefecture_may(yuyao_trip: tuple[Scenario, Plan]) -> None:
    """Registered at 宁波市 (the prefecture holding both counties), the same coach may."""
    scenario, plan = yuyao_trip
    name, operator, _, lon, lat = CIXI_COACH
    scenario = scenario.replace(fleet=(_coach(name, operator, NINGBO, lon, lat),))
    duties = _duties(scenario, plan)
    assert not duties.refused and not duties.kpis.sign_refused
    assert sorted(t for d in duties.duties for t in d.trip_ids) == sorted(
        t.trip_id for t in plan.trips
    )
    assert check_plan(scenario, plan.replace(coaches=duties.duties)) == []
    # A name works as well as the code.
    named = scenario.replace(fleet=(_coach(name, operator, "宁波市", lon, lat),))
    assert registration_places(named)["cixi-53"] >= {CIXI, YUYAO}


def test_a_trip_goes_to_an_operator_registered_at_one_of_its_ends(
    yuyao_trip: tuple[Scenario, Plan],
) -> None:
    """With a 余姚 operator in the fleet (registered at 余姚), the trip planned on the 慈溪 coach
    is driven by a 余姚 coach of the same size."""
    scenario, plan = yuyao_trip
    scenario = scenario.replace(fleet=(_coach(*CIXI_COACH), _coach(*YUYAO_COACH)))
    assert registration_places(scenario)["yuyao-53"] == frozenset({YUYAO})
    planned = plan.replace(
        trips=tuple(dataclasses.replace(t, vehicle_type="cixi-53") for t in plan.trips)
    )
    duties = _duties(scenario, planned)
    assert not duties.refused
    assert {d.vehicle_type for d in duties.duties} == {"yuyao-53"}
    assert {d.operator for d in duties.duties} == {"余姚公运"}

    # The planner's hook: the trips retyped as their coaches are, then the plan checks clean.
    retyped, refused = apply_sign_rule(
        planned.trips, scenario.fleet, sign_rule(scenario, planned.trips)
    )
    assert not refused and {t.vehicle_type for t in retyped} == {"yuyao-53"}
    again = _duties(scenario, planned.replace(trips=retyped))
    assert check_plan(scenario, planned.replace(trips=retyped, coaches=again.duties)) == []
    errors = check_plan(
        scenario, planned.replace(coaches=_duties(scenario, planned, rule=False).duties)
    )
    assert any("neither end lies in its operator's registration place" in e for e in errors)


def test_one_origin_seasons_keep_todays_duties() -> None:
    """One origin: every operator is registered at the origin, every route starts or ends
    there, so the rule refuses nothing and changes no duty."""
    from scenarios import bundled_path

    scenario = read_scenario(bundled_path("tiny"))
    scenario = scenario.replace(solver=SolverParams(time_limit_s=3.0, part_solution_limit=3))
    plan = solve(scenario)
    with_rule, without = _duties(scenario, plan), _duties(scenario, plan, rule=False)
    assert not with_rule.refused
    assert with_rule.duties == without.duties


def test_the_default_registration_is_the_prefecture_of_the_depot() -> None:
    """Blank `registered`: the operator is registered in the prefecture-level city (设区的市)
    holding its depot's origin county (宁波市 for a 慈溪 or 余姚 depot), or the main origin's when
    it has no depot; not the county. The checker's own reading agrees."""
    scenario = read_scenario(TWO_ORIGINS)
    assert all(not v.registered for v in scenario.fleet)
    ningbo = frozenset(expand_region("宁波市"))
    assert registration_places(scenario) == {
        "cixi-53": ningbo,
        "cixi-35": ningbo,
        "yuyao-53": ningbo,
    }
    no_depot = VehicleType("coach", 53, 1, 7.5, 1500, "外地公运")
    assert registration_places(scenario.replace(fleet=(no_depot,))) == {"coach": ningbo}
    assert prefecture_counties(CIXI) == set(ningbo)
    # A municipality is one prefecture-level city; a county under its province stands alone.
    assert set(prefecture_of("500101")) >= {"500101", "500230", "500243"}
    assert prefecture_of("429004") == ("429004",) and prefecture_counties("429004") == {"429004"}
    assert set(prefecture_of("500101")) == prefecture_counties("500101")


@pytest.fixture(scope="module")
def county_registered() -> tuple[Scenario, Plan]:
    """The two-origin season (慈溪 and 余姚 gates to 威宁) with operators registered per county:
    a 北仑 operator's cheaper coaches listed first, so the planner's own choice of type breaks
    the rule, and a 慈溪 and a 余姚 operator."""
    scenario = read_scenario(TWO_ORIGINS)
    fleet = (
        dataclasses.replace(_coach(*BEILUN_COACH), count=4, fixed_cost=1000),
        _coach(*CIXI_COACH),
        _coach(*YUYAO_COACH),
    )
    scenario = scenario.replace(
        fleet=fleet, solver=SolverParams(time_limit_s=3.0, part_solution_limit=3)
    )
    plan, _ = solve_within_fleet(scenario)
    return scenario, plan


def test_a_season_with_operators_registered_per_county_plans_legally(
    county_registered: tuple[Scenario, Plan],
) -> None:
    """Every trip of the season goes to an operator registered at one of its ends, checked by
    the independent checker on the plan's coach duties; without the rule in planning the same
    season puts trips on the 北仑 coaches, which the checker refuses."""
    scenario, plan = county_registered
    assert plan.trips and plan.coaches
    assert check_plan(scenario, plan) == []
    rule = sign_rule(scenario, plan.trips)
    assert all(rule.allows(t, t.vehicle_type) for t in plan.trips)
    assert "beilun-53" not in {t.vehicle_type for t in plan.trips}
    assert plan.kpis.seated == len(scenario.workers)
    assert any(n.startswith("charter sign: ") for n in plan.notes)

    unwired = solve(scenario)
    assert "beilun-53" in {t.vehicle_type for t in unwired.trips}
    duties = _duties(scenario, unwired, rule=False)
    errors = check_plan(scenario, unwired.replace(coaches=duties.duties))
    assert any("neither end lies in its operator's registration place" in e for e in errors)


def test_a_trip_no_operator_may_drive_is_unserved_with_the_reason_in_both_languages(
    yuyao_trip: tuple[Scenario, Plan],
) -> None:
    """余姚's workers with only a 慈溪-registered operator: nobody is seated, each is unserved as
    charter_sign naming the route's counties and the operator, in Chinese and English."""
    from api.i18n import translate_plan_note, translate_unserved_detail, unserved_reason

    scenario, _ = yuyao_trip
    plan, duties = solve_within_fleet(scenario)
    assert not plan.trips and not duties.duties
    assert check_plan(scenario, plan) == []
    assert len(plan.unserved) == len(scenario.workers)
    assert {u.reason for u in plan.unserved} == {UnservedReason.CHARTER_SIGN}
    detail = plan.unserved[0].detail
    assert detail == (
        "charter sign: no coach of the fleet may drive from 余姚市 to 威宁彝族回族苗族自治县: "
        "neither end lies where 慈溪公运 is registered"
    )
    assert translate_unserved_detail("en", detail) == detail
    assert translate_unserved_detail("zh_CN", detail) == (
        "包车标志牌：车队中没有车辆可承运 余姚市 至 威宁彝族回族苗族自治县：线路两端都不在 "
        "慈溪公运 的车籍所在地"
    )
    assert "车籍所在地" in unserved_reason("zh_CN", "charter_sign")
    assert "charter sign" in unserved_reason("en", "charter_sign")
    note = next(n for n in plan.notes if n.startswith("charter sign: "))
    assert note.endswith(f"{len(scenario.workers)} worker(s) unserved")
    assert translate_plan_note("zh_CN", note).startswith("包车标志牌：0 个班次改由")


def test_late_workers_new_trips_follow_the_rule(yuyao_trip: tuple[Scenario, Plan]) -> None:
    """Late workers no published trip can take get new trips only where an operator may drive
    them: with a 余姚 operator the new trip is its coach's, with only a 慈溪 one nobody is
    seated and each is unserved as charter_sign."""
    from optimizer.geography.providers import default_provider
    from optimizer.incremental import place_late

    scenario, _ = yuyao_trip
    refused = place_late((), scenario.workers, scenario, default_provider())
    assert not refused.trips and len(refused.unserved) == len(scenario.workers)
    assert {u.reason for u in refused.unserved} == {UnservedReason.CHARTER_SIGN}

    both = scenario.replace(fleet=(_coach(*CIXI_COACH), _coach(*YUYAO_COACH)))
    placed = place_late((), both.workers, both, default_provider())
    assert placed.trips and not placed.unserved
    assert {t.vehicle_type for t in placed.trips} == {"yuyao-53"}


@pytest.mark.parametrize(
    ("registered", "legal"),
    [("慈溪市", False), ("慈溪", False), ("宁波市", True), ("宁波", True), ("浙江省", True)],
)
def test_the_checker_reads_a_registration_place_given_by_name(
    yuyao_trip: tuple[Scenario, Plan], registered: str, legal: bool
) -> None:
    """A 慈溪 operator registered by county name ("慈溪市", "慈溪") may not drive 余姚 -> 威宁 and
    the independent checker says so, as it does for the code; by prefecture or province name it
    may, and the plan checks clean."""
    scenario, plan = yuyao_trip
    name, operator, _, lon, lat = CIXI_COACH
    scenario = scenario.replace(fleet=(_coach(name, operator, registered, lon, lat),))
    duties = _duties(scenario, plan, rule=False)
    errors = check_plan(scenario, plan.replace(coaches=duties.duties))
    breaks = [e for e in errors if "neither end lies in its operator's registration place" in e]
    assert bool(breaks) is not legal, errors
    assert legal or all(
        f"trip {t.trip_id} from {YUYAO} to {WEINING}" in " ".join(breaks) for t in plan.trips
    )
    if legal:
        assert errors == []


def test_the_checker_reports_a_registration_place_it_cannot_read(
    yuyao_trip: tuple[Scenario, Plan],
) -> None:
    """A `registered` value naming no place (or two) is reported once, not passed unchecked."""
    scenario, plan = yuyao_trip
    name, operator, _, lon, lat = CIXI_COACH
    for registered in ("慈溪湾新区", "朝阳"):
        odd = scenario.replace(fleet=(_coach(name, operator, registered, lon, lat),))
        errors = check_plan(odd, plan)
        assert (
            errors.count(
                f"{operator}: registered at {registered!r}, which names no single county, "
                "prefecture or province"
            )
            == 1
        ), errors
