"""Moving a worker by hand through the API (POST /api/plans/{id}/moves): the source trip loses
a stop nobody boards or alights at any more, and is re-timed, in what the API lists and prints."""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer import model as domain
from optimizer.geography.providers import default_provider
from optimizer.retime import road_legs
from optimizer.timetable import ServiceStop, build_timetable
from tests.api.conftest import SEASON as SEASON_BODY
from tests.api.conftest import Service, open_season, worker_row

SEASON = "moves-stops-2026"
SEASON_POLICY = SEASON_BODY["policy"]


def test_the_source_trip_loses_the_stop_its_last_rider_there_left(service: Service) -> None:
    """W0002 is the only BETA worker on the 6 Feb coach, which picks up at ALPHA's gate and
    then BETA's: after W0002 moves to the 7 Feb coach (BETA's gate), the 6 Feb coach leaves
    ALPHA's gate when it did and drives straight home. Its stops, km and times are the new
    ones in the trip list, the KPIs and the manifest; nobody boards at a stop it dropped."""
    open_season(service, SEASON, companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")])
    rows = [
        worker_row(1, company_id="ALPHA", home="341221", earliest="2026-02-06"),
        worker_row(2, company_id="BETA", home="341221", earliest="2026-02-06"),
        worker_row(3, company_id="BETA", home="341221", earliest="2026-02-07"),
    ]
    answer = service.call("POST", f"/api/workers?season={SEASON}", "dispatcher", json=rows)
    assert answer.status_code == 200, answer.text
    keys = {w["worker_id"]: str(w["id"]) for w in answer.json()["workers"]}
    plan = service.run_plan(SEASON)
    assert plan["status"] == "succeeded", plan["message"]
    trips_url = f"/api/plans/{plan['id']}/trips"
    before = {t["trip_id"]: t for t in service.call("GET", trips_url, "dispatcher").json()}
    seat_of = {p["worker"]: t for t in before.values() for p in t["passengers"]}
    source, target = seat_of[keys["W0002"]], seat_of[keys["W0003"]]
    assert [s["company_id"] for s in source["stops"] if s["kind"] == "pickup"] == [
        "ALPHA",
        "BETA",
    ], "the premise: the 6 Feb coach picks up at both gates"

    moved = service.call(
        "POST",
        f"/api/plans/{plan['id']}/moves",
        "dispatcher",
        json={"worker": keys["W0002"], "to_trip": target["trip_id"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["removed_stops"] == ["贝塔制造"] and not moved.json()["dropped_trip"]

    after = {t["trip_id"]: t for t in service.call("GET", trips_url, "dispatcher").json()}
    shorter = after[source["trip_id"]]
    service_stops = [s for s in shorter["stops"] if s["kind"] != "rest"]
    assert [s["company_id"] for s in service_stops] == ["ALPHA", None]
    assert all(s["board"] or s["alight"] for s in service_stops)
    # The rule engine's timetable of ALPHA's gate -> Linquan on the shipped roads, leaving the
    # gate when the coach left it before (the stand-in planner's own times are not the engine's).
    gate, home = (source["stops"][i] for i in (0, -1))
    alone = [
        ServiceStop("pickup", gate["lon"], gate["lat"], 0),
        ServiceStop("dropoff", home["lon"], home["lat"], 0, adcode=home["adcode"]),
    ]
    departure = dt.datetime.fromisoformat(source["departure"]).replace(tzinfo=None)
    policy = domain.Policy.from_mapping(SEASON_POLICY)
    table = build_timetable(alone, road_legs(alone, default_provider("road")), departure, policy)
    assert shorter["departure"] == source["departure"]
    assert shorter["distance_km"] == pytest.approx(table.distance_km)
    assert shorter["distance_km"] == pytest.approx(
        sum(s["km_from_previous"] for s in shorter["stops"])
    )
    assert shorter["driving_minutes"] == table.driving_minutes
    assert shorter["drivers"] == table.drivers
    assert [s["kind"] for s in shorter["stops"]] == [s.kind for s in table.stops]
    arrival = dt.datetime.fromisoformat(shorter["arrival"]).replace(tzinfo=None)
    assert arrival == table.arrival
    [rider] = shorter["passengers"]
    assert (rider["board_stop"], rider["alight_stop"]) == (0, len(shorter["stops"]) - 1)
    times = [(s["name"], s["arrive"], s["depart"]) for s in target["stops"]]
    assert [(s["name"], s["arrive"], s["depart"]) for s in after[target["trip_id"]]["stops"]] == (
        times
    )  # the target keeps its own timetable

    kpis = service.call("GET", f"/api/plans/{plan['id']}", "dispatcher").json()["kpis"]
    assert kpis["coach_km"] == sum(t["distance_km"] for t in after.values())
    manifest = service.call(
        "GET", f"{trips_url}/{source['trip_id']}/manifest.json", "dispatcher"
    ).json()
    [row] = manifest["rows"]
    assert row["boarding"] == "阿尔法电器" and row["alighting_adcode"] == "341221"
