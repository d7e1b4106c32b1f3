"""Changes after publishing: withdrawals and late registrations on the change list, seats freed
and taken, notices that say which rows are changes, confirmation with an audit row."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.api.conftest import Service, open_season, worker_row


def notices(service: Service, plan_id: int, user: str = "dispatcher") -> list[dict[str, str]]:
    response = service.call("GET", f"/api/plans/{plan_id}/notices.csv", user)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_withdrawal_and_late_registration_after_publishing(service: Service) -> None:
    open_season(service, "changes-2026", companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")])
    rows = [worker_row(n, company_id="ALPHA" if n % 2 else "BETA") for n in range(1, 31)]
    assert service.call(
        "POST", "/api/workers?season=changes-2026", "dispatcher", json=rows
    ).is_success
    plan = service.run_plan("changes-2026")
    plan_id = plan["id"]
    assert service.call("POST", f"/api/plans/{plan_id}/publish", "dispatcher").is_success
    workers = service.call("GET", "/api/workers?season=changes-2026", "dispatcher").json()
    leaving = next(w for w in workers if w["worker_id"] == "W0003")
    trip_id = leaving["assignment"]["trip_id"]
    before = service.call("GET", f"/api/plans/{plan_id}/trips/{trip_id}", "dispatcher").json()

    # A withdrawal after publishing: seat freed, on the change list and in the notices.
    gone = service.call("DELETE", f"/api/workers/{leaving['id']}", "dispatcher")
    assert gone.status_code == 204
    [change] = service.call("GET", f"/api/plans/{plan_id}/changes", "dispatcher").json()
    assert change["kind"] == "withdrawal" and change["staff_number"] == "W0003"
    assert change["trip_id"] == trip_id and change["confirmed_at"] is None
    after = service.call("GET", f"/api/plans/{plan_id}/trips/{trip_id}", "dispatcher").json()
    assert after["seats_used"] == before["seats_used"] - 1
    assert after["stops"] == [
        {**s, "board": [w for w in s["board"] if w != str(leaving["id"])],
         "alight": [w for w in s["alight"] if w != str(leaving["id"])]}
        for s in before["stops"]
    ]  # fmt: skip
    listed = notices(service, plan_id)
    [cancelled] = [r for r in listed if r["工号"] == "W0003"]
    assert cancelled["变更"] == "已取消" and "已取消" in cancelled["短信内容"]
    assert cancelled["车次"] == trip_id
    assert all(r["变更"] == "" for r in listed if r["工号"] != "W0003")

    # A late registration takes the freed seat; the notice list marks it as a change.
    late = worker_row(3 + 300, company_id=leaving["company_id"], worker_id="LATE-1",
                      home=leaving["home"])  # fmt: skip
    assert service.call(
        "POST", "/api/workers?season=changes-2026", "dispatcher", json=[late]
    ).is_success
    # Publishing locked every trip; a locked trip still takes a late worker in a free seat at a
    # stop it already makes, and keeps its stops, times and the seats already given.
    placed = service.call("POST", f"/api/plans/{plan_id}/late", "dispatcher")
    assert placed.status_code == 200, placed.text
    [seated] = placed.json()["placed"]
    assert placed.json()["waiting"] == [] and placed.json()["new_trips_plan"] is None
    assert seated["staff_number"] == "LATE-1" and seated["trip_id"] == trip_id
    trip = service.call(
        "GET", f"/api/plans/{plan_id}/trips/{seated['trip_id']}", "dispatcher"
    ).json()
    assert trip["locked"] and seated["worker"] in [p["worker"] for p in trip["passengers"]]
    assert [{**s, "board": [], "alight": []} for s in trip["stops"]] == [
        {**s, "board": [], "alight": []} for s in after["stops"]
    ]
    assert {(p["worker"], p["seat"]) for p in after["passengers"]} < {
        (p["worker"], p["seat"]) for p in trip["passengers"]
    }
    # The manifest gains the row, flagged as a change; the others' rows are not.
    manifest = service.call(
        "GET", f"/api/plans/{plan_id}/trips/{trip_id}/manifest.json", "dispatcher"
    ).json()
    assert {r["staff_number"]: r["change"] for r in manifest["rows"]}["LATE-1"] == "发布后新增"
    assert all(r["change"] == "" for r in manifest["rows"] if r["staff_number"] != "LATE-1")
    [new_row] = [r for r in notices(service, plan_id) if r["工号"] == "LATE-1"]
    assert new_row["变更"] == "新增安排" and new_row["状态"] == "已安排"

    # Editing a seated worker's phone after publishing is listed, and marked in the notices.
    stays = next(w for w in workers if w["worker_id"] == "W0005")
    edited = worker_row(5, company_id=stays["company_id"], phone="13700000555")
    response = service.call("POST", "/api/workers?season=changes-2026", "dispatcher", json=[edited])
    assert response.is_success, response.text
    listed_changes = service.call("GET", f"/api/plans/{plan_id}/changes", "dispatcher").json()
    [edit] = [c for c in listed_changes if c["kind"] == "edit"]
    assert edit["staff_number"] == "W0005" and edit["trip_id"] == stays["assignment"]["trip_id"]
    [edited_row] = [r for r in notices(service, plan_id) if r["工号"] == "W0005"]
    assert edited_row["变更"] == "信息变更" and edited_row["手机号"] == "13700000555"
    unchanged = service.call(
        "POST", "/api/workers?season=changes-2026", "dispatcher", json=[edited]
    )
    assert unchanged.is_success
    again = service.call("GET", f"/api/plans/{plan_id}/changes", "dispatcher").json()
    assert len(again) == len(listed_changes)  # the same values again are no change

    # The employer sees its own changes; the dispatcher confirms them, with an audit row.
    company = leaving["company_id"]
    service.add_user(f"emp-{company.lower()}-chg", "employer", company)
    own = service.call("GET", f"/api/plans/{plan_id}/changes", f"emp-{company.lower()}-chg")
    assert {c["company_id"] for c in own.json()} == {company}
    employer_notices = notices(service, plan_id, f"emp-{company.lower()}-chg")
    assert {r["单位编号"] for r in employer_notices} == {company}
    assert all("****" in r["手机号"] for r in employer_notices)
    confirmed = service.call(
        "POST", f"/api/plans/{plan_id}/changes/confirm", "dispatcher", json={"ids": []}
    )
    assert len(confirmed.json()) == 3 and all(c["confirmed_at"] for c in confirmed.json())
    audit: list[dict[str, Any]] = service.call("GET", "/api/audit", "dispatcher").json()
    assert any(a["action"] == f"confirm changes: plan {plan_id}, 3 change(s)" for a in audit)


def test_late_placement_needs_the_published_plan(service: Service) -> None:
    open_season(service, "changes-draft-2026")
    rows = [worker_row(n, company_id="ALPHA") for n in range(1, 5)]
    service.call("POST", "/api/workers?season=changes-draft-2026", "dispatcher", json=rows)
    plan = service.run_plan("changes-draft-2026")
    response = service.call("POST", f"/api/plans/{plan['id']}/late", "dispatcher")
    assert response.status_code == 409 and "published" in response.json()["detail"]


def test_an_edit_that_breaks_the_seat_reseats_the_worker_or_waits_for_new_trips(
    service: Service,
) -> None:
    """A new home county moves the worker to a published trip that stops there; a date window
    no trip fits takes the worker off and, on POST /late, into a job that adds a trip."""
    open_season(service, "reseat-2026", companies=[("ALPHA", "阿尔法电器")])
    rows = [worker_row(n, company_id="ALPHA") for n in range(1, 13)]
    service.call("POST", "/api/workers?season=reseat-2026", "dispatcher", json=rows)
    plan_id = service.run_plan("reseat-2026")["id"]
    assert service.call("POST", f"/api/plans/{plan_id}/publish", "dispatcher").is_success
    workers = {
        w["worker_id"]: w
        for w in service.call("GET", "/api/workers?season=reseat-2026", "dispatcher").json()
    }
    trips = {
        t["trip_id"]: t
        for t in service.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
    }
    mover, waiter = workers["W0007"], workers["W0009"]
    old_trip = mover["assignment"]["trip_id"]
    [target] = [t for t in trips.values() if t["stops"][-1]["adcode"] == "341221"]
    assert target["trip_id"] != old_trip

    edits = [
        worker_row(7, company_id="ALPHA", home="341221"),
        worker_row(9, company_id="ALPHA", earliest="2026-02-12", latest="2026-02-13"),
    ]
    assert service.call("POST", "/api/workers?season=reseat-2026", "dispatcher", json=edits)
    changes = service.call("GET", f"/api/plans/{plan_id}/changes", "dispatcher").json()
    [moved] = [c for c in changes if c["kind"] == "moved"]
    assert moved["staff_number"] == "W0007" and moved["from_trip_id"] == old_trip
    assert moved["trip_id"] == target["trip_id"] and "home_adcode" in moved["fields"]
    [waiting] = [c for c in changes if c["kind"] == "late_waiting"]
    assert waiting["staff_number"] == "W0009" and waiting["trip_id"] == ""
    assert waiting["from_trip_id"] == waiter["assignment"]["trip_id"]
    # Both trips' manifests changed; the rest of each trip stays as published.
    old_after = service.call("GET", f"/api/plans/{plan_id}/trips/{old_trip}", "dispatcher")
    new_after = service.call("GET", f"/api/plans/{plan_id}/trips/{target['trip_id']}", "dispatcher")
    on_old = {p["worker"] for p in old_after.json()["passengers"]}
    on_new = {p["worker"] for p in new_after.json()["passengers"]}
    assert str(mover["id"]) not in on_old and str(mover["id"]) in on_new
    # (W0009, whose dates changed, had sat on the target trip: off it now.)
    assert on_new - {str(mover["id"])} == {p["worker"] for p in target["passengers"]} - {
        str(waiter["id"])
    }
    listed = {r["工号"]: r for r in notices(service, plan_id)}
    assert listed["W0007"]["变更"] == "改乘车次" and listed["W0007"]["车次"] == target["trip_id"]
    assert listed["W0009"]["变更"] == "待安排" and listed["W0009"]["状态"] == "待安排"

    # The one waiting goes into a planning job that keeps every published trip and adds one.
    late = service.call("POST", f"/api/plans/{plan_id}/late", "dispatcher")
    assert late.status_code == 200, late.text
    job_id = late.json()["new_trips_plan"]
    assert job_id is not None and late.json()["placed"] == []
    service.wait_for_jobs()
    job = service.call("GET", f"/api/plans/{job_id}", "dispatcher").json()
    assert job["status"] == "succeeded" and job["published_at"] is None
    assert set(job["changes"]["locked_trips_kept"]) == set(trips)
    assert job["changes"]["trips_dropped"] == [] and len(job["changes"]["trips_added"]) == 1
    assert str(waiter["id"]) in job["changes"]["workers_newly_seated"]
    [named] = [
        c
        for c in service.call("GET", f"/api/plans/{plan_id}/changes", "dispatcher").json()
        if c["kind"] == "late_waiting"
    ]
    assert named["new_trips_plan"] == job_id
    published = service.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
    assert {t["trip_id"] for t in published} == set(trips)  # never a silent change
