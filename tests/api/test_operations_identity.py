"""One worker, one manifest: the CLI and the service print the same 工号 for every passenger."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

from openpyxl import load_workbook

from api.documents.manifest import MANIFEST_COLUMNS, manifest_rows
from optimizer import model as domain
from optimizer.write import trip_from_json, trip_to_json
from tests.api.conftest import Service, open_season, worker_row


def _cli_view(
    trips: list[domain.Trip], registrations: dict[str, dict[str, str]]
) -> tuple[list[domain.Trip], domain.Scenario]:
    """The same trips as the CLI holds them: a scenario folder's worker_id column is the 工号,
    so the planner key of each passenger is the employer's reference."""
    code = {key: row["worker_id"] for key, row in registrations.items()}
    cli_trips = [
        dataclasses.replace(
            t,
            passengers=tuple(
                dataclasses.replace(p, worker_id=code[p.worker_id]) for p in t.passengers
            ),
        )
        for t in trips
    ]
    workers = tuple(
        domain.Worker(
            worker_id=row["worker_id"],
            company_id=row["company_id"],
            name=row["name"],
            id_number=row["id_number"],
            phone=row["phone"],
            home=row["home"],
            earliest=dt.date(2026, 2, 6),
            latest=dt.date(2026, 2, 10),
        )
        for row in registrations.values()
    )
    scenario = domain.Scenario(
        name="cli",
        direction="home",
        origin="慈溪",
        festival_date=dt.date(2026, 2, 17),
        first_departure=dt.date(2026, 2, 6),
        last_departure=dt.date(2026, 2, 14),
        workers=workers,
    )
    return cli_trips, scenario


def test_cli_and_api_manifests_print_the_same_staff_number(service: Service) -> None:
    """Every passenger's 工号 is the same in the CLI manifest and in the service's JSON, CSV and
    XLSX manifests of the same plan (the planner key is a separate, named field)."""
    open_season(service, "ident-2026", companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")])
    rows = [
        worker_row(n, company_id="ALPHA" if n % 2 else "BETA", worker_id=f"GH-{900 - n}")
        for n in range(1, 21)
    ]
    response = service.call("POST", "/api/workers?season=ident-2026", "dispatcher", json=rows)
    assert response.is_success, response.text
    plan = service.run_plan("ident-2026")
    assert plan["status"] == "succeeded", plan["message"]
    registered = service.call("GET", "/api/workers?season=ident-2026", "dispatcher").json()
    by_key = {str(w["id"]): w for w in registered}
    trips = service.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()
    with service.session() as session:
        from api import crud

        stored = [t for t, _ in crud.plan_trips(session, plan_id=plan["id"])]
    cli_trips, cli_scenario = _cli_view(stored, by_key)
    cli = {
        (t.trip_id, r["seat"]): r["staff_number"]
        for t in cli_trips
        for r in manifest_rows(t, cli_scenario)
    }
    assert sorted(cli.values()) == sorted(r["worker_id"] for r in rows)

    api_json, api_csv, api_xlsx = {}, {}, {}
    label = dict(MANIFEST_COLUMNS)
    for trip in trips:
        url = f"/api/plans/{plan['id']}/trips/{trip['trip_id']}/manifest"
        for line in service.call("GET", f"{url}.json", "dispatcher").json()["rows"]:
            api_json[(trip["trip_id"], str(line["seat"]))] = line["staff_number"]
            assert by_key[line["worker"]]["worker_id"] == line["staff_number"]
        text = service.call("GET", f"{url}.csv", "dispatcher").content.decode("utf-8-sig")
        for line in csv.DictReader(io.StringIO(text)):
            api_csv[(trip["trip_id"], line[label["seat"]])] = line[label["staff_number"]]
        book = load_workbook(io.BytesIO(service.call("GET", f"{url}.xlsx", "dispatcher").content))
        cells = [[str(c or "") for c in r] for r in book["旅客名单"].iter_rows(values_only=True)]
        start = next(i for i, r in enumerate(cells) if r[0] == label["seat"])
        column = cells[start].index(label["staff_number"])
        for line in cells[start + 1 :]:
            api_xlsx[(trip["trip_id"], line[0])] = line[column]
    assert api_json == cli and api_csv == cli and api_xlsx == cli


def test_one_trip_codec_round_trips_what_the_database_and_plan_json_hold() -> None:
    """plan.json and the database use the same Trip codec; a trip survives it unchanged."""
    from tests.maps import fixtures

    trip = fixtures.guizhou_trip()
    assert trip_from_json(trip_to_json(trip)) == trip
