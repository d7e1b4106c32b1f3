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
    # Publishing locked every trip: a locked trip takes nobody; unlocked, it takes the late one.
    waiting = service.call("POST", f"/api/plans/{plan_id}/late", "dispatcher")
    assert waiting.json()["placed"] == [] and len(waiting.json()["waiting"]) == 1
    unlock = service.call("POST", f"/api/plans/{plan_id}/trips/{trip_id}/unlock", "dispatcher")
    assert unlock.status_code == 200, unlock.text
    placed = service.call("POST", f"/api/plans/{plan_id}/late", "dispatcher")
    assert placed.status_code == 200, placed.text
    [seated] = placed.json()["placed"]
    assert seated["staff_number"] == "LATE-1" and seated["trip_id"] == trip_id
    trip = service.call(
        "GET", f"/api/plans/{plan_id}/trips/{seated['trip_id']}", "dispatcher"
    ).json()
    assert seated["worker"] in [p["worker"] for p in trip["passengers"]]
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
    assert len(confirmed.json()) == 4 and all(c["confirmed_at"] for c in confirmed.json())
    audit: list[dict[str, Any]] = service.call("GET", "/api/audit", "dispatcher").json()
    assert any(a["action"] == f"confirm changes: plan {plan_id}, 4 change(s)" for a in audit)


def test_late_placement_needs_the_published_plan(service: Service) -> None:
    open_season(service, "changes-draft-2026")
    rows = [worker_row(n, company_id="ALPHA") for n in range(1, 5)]
    service.call("POST", "/api/workers?season=changes-draft-2026", "dispatcher", json=rows)
    plan = service.run_plan("changes-draft-2026")
    response = service.call("POST", f"/api/plans/{plan['id']}/late", "dispatcher")
    assert response.status_code == 409 and "published" in response.json()["detail"]
