"""Planning jobs (success, failure, one per season, lost workers), publishing, locked re-plans."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import crud, models
from api.main import create_app
from tests.api.conftest import (
    BlockingPlanner,
    Service,
    failing_planner,
    fake_planner,
    make_id_number,
    open_season,
    worker_row,
)


@pytest.fixture(scope="module")
def svc(service: Service) -> Service:
    # An employer account needs its company in some season first.
    open_season(service, "plans-accounts", companies=[("ALPHA", "阿尔法电器")])
    service.call("PATCH", "/api/seasons/plans-accounts", "dispatcher", json={"is_open": False})
    service.add_user("alpha", "employer", "ALPHA")
    return service


@pytest.fixture(autouse=True)
def default_planner(svc: Service) -> Any:
    svc.planner = fake_planner
    yield
    svc.planner = fake_planner


def season_with_workers(svc: Service, name: str, serials: range) -> None:
    open_season(svc, name, companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")])
    rows = [worker_row(n, company_id="ALPHA" if n % 2 else "BETA") for n in serials]
    response = svc.call("POST", f"/api/workers?season={name}", "dispatcher", json=rows)
    assert response.status_code == 200, response.text


def test_job_succeeds_with_kpis_and_trips(svc: Service) -> None:
    """A job runs in the background, ends succeeded with KPIs, and its trips seat everyone."""
    season_with_workers(svc, "ok-2026", range(1, 31))
    plan = svc.run_plan("ok-2026")
    assert plan["status"] == "succeeded", plan["message"]
    assert plan["progress"] == 1.0
    assert plan["kpis"]["workers"] == 30 and plan["kpis"]["seated"] == 30
    trips = svc.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()
    seated = [p["worker"] for t in trips for p in t["passengers"]]
    assert len(seated) == len(set(seated)) == 30
    assert all(t["seats_used"] <= t["seats"] for t in trips)
    assert not any(t["locked"] for t in trips)


def test_failing_planner_marks_job_failed_and_shows_no_plan(svc: Service) -> None:
    """A planner error ends the job 'failed' with the reason; no trips become visible."""
    season_with_workers(svc, "fail-2026", range(100, 105))
    svc.planner = failing_planner
    plan = svc.run_plan("fail-2026")
    assert plan["status"] == "failed"
    assert "no coach type with seats" in plan["message"]
    assert svc.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json() == []
    assert svc.call("POST", f"/api/plans/{plan['id']}/publish", "dispatcher").status_code == 409


def test_one_job_per_season_and_progress(svc: Service) -> None:
    """While a job runs, its progress shows and a second job for the season gets 409;
    another season may plan at the same time."""
    season_with_workers(svc, "busy-2026", range(200, 210))
    season_with_workers(svc, "other-2026", range(210, 215))
    blocking = BlockingPlanner()
    svc.planner = blocking
    first = svc.call("POST", "/api/plans", "dispatcher", json={"season": "busy-2026"})
    assert first.status_code == 202
    try:
        assert blocking.started.wait(10)
        time.sleep(0.1)
        running = svc.call("GET", f"/api/plans/{first.json()['id']}", "dispatcher").json()
        assert running["status"] == "running"
        assert running["progress"] == pytest.approx(0.25)
        assert running["message"] == "grouping workers"
        second = svc.call("POST", "/api/plans", "dispatcher", json={"season": "busy-2026"})
        assert second.status_code == 409
        assert "still running" in second.json()["detail"]
        elsewhere = svc.call("POST", "/api/plans", "dispatcher", json={"season": "other-2026"})
        assert elsewhere.status_code == 202
    finally:
        blocking.release.set()
        svc.wait_for_jobs()
    done = svc.call("GET", f"/api/plans/{first.json()['id']}", "dispatcher").json()
    assert done["status"] == "succeeded"


def test_expired_lease_requeues_the_job_and_drops_the_late_result(svc: Service) -> None:
    """A second server starting up leaves a running job alone; a job whose worker stopped
    renewing its lease is re-queued and planned again, and the old run's late result is not
    written (one plan, no duplicate trips)."""
    season_with_workers(svc, "restart-2026", range(300, 310))
    blocking = BlockingPlanner()
    svc.planner = blocking
    started = svc.call("POST", "/api/plans", "dispatcher", json={"season": "restart-2026"})
    plan_id = started.json()["id"]
    assert blocking.started.wait(10)
    # A second server process on the same database starts up and stops again.
    restarted = create_app()
    restarted.dependency_overrides = dict(svc.app.dependency_overrides)
    with TestClient(restarted) as other:
        token = other.post(
            "/api/auth/token", data={"username": "dispatcher", "password": "correct-horse-battery"}
        ).json()["access_token"]
        seen = other.get(f"/api/plans/{plan_id}", headers={"Authorization": f"Bearer {token}"})
        assert seen.json()["status"] == "running"
    # The running worker's lease runs out (as when its process is frozen or cut off).
    svc.planner = fake_planner
    with svc.session() as session:
        row = session.get(models.Plan, plan_id)
        row.lease_expires_at = models.utcnow() - dt.timedelta(seconds=1)
    with svc.session() as session:
        assert crud.recover_expired_jobs(session, max_attempts=2) == (1, 0)
    svc.app.state.job_runner.submit(plan_id)
    blocking.release.set()
    svc.wait_for_jobs()
    after = svc.call("GET", f"/api/plans/{plan_id}", "dispatcher").json()
    assert after["status"] == "succeeded" and after["attempts"] == 2
    trips = svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
    seated = [p["worker"] for t in trips for p in t["passengers"]]
    assert len(seated) == len(set(seated)) == 10


def test_published_trips_stay_fixed_across_a_replan(svc: Service) -> None:
    """After publishing, a re-plan with new and withdrawn registrations keeps every published
    trip exactly as it was and lists what changed."""
    season_with_workers(svc, "lock-2026", range(400, 420))
    first = svc.run_plan("lock-2026")
    published = svc.call("POST", f"/api/plans/{first['id']}/publish", "dispatcher")
    assert published.status_code == 200 and published.json()["published_at"]
    before = {
        t["trip_id"]: t
        for t in svc.call("GET", f"/api/plans/{first['id']}/trips", "dispatcher").json()
    }
    assert all(t["locked"] for t in before.values())
    new_rows = [worker_row(n, company_id="ALPHA") for n in range(420, 426)]
    assert (
        svc.call("POST", "/api/workers?season=lock-2026", "dispatcher", json=new_rows).status_code
        == 200
    )
    second = svc.run_plan("lock-2026")
    assert second["status"] == "succeeded"
    assert second["base_plan_id"] == first["id"]
    after = {
        t["trip_id"]: t
        for t in svc.call("GET", f"/api/plans/{second['id']}/trips", "dispatcher").json()
    }
    for trip_id, trip in before.items():
        assert after[trip_id] == trip
    changes = second["changes"]
    assert sorted(changes["locked_trips_kept"]) == sorted(before)
    assert len(changes["workers_newly_seated"]) == 6
    assert changes["workers_moved"] == [] and changes["trips_dropped"] == []
    # An older draft made before this publication cannot be published over it.
    third = svc.run_plan("lock-2026")
    assert svc.call("POST", f"/api/plans/{second['id']}/publish", "dispatcher").status_code == 200
    stale = svc.call("POST", f"/api/plans/{third['id']}/publish", "dispatcher")
    assert stale.status_code == 409


def test_locked_trips_reach_the_planner(svc: Service) -> None:
    """The planner is called with the published trips, flagged locked."""
    season_with_workers(svc, "seen-2026", range(500, 505))
    first = svc.run_plan("seen-2026")
    svc.call("POST", f"/api/plans/{first['id']}/publish", "dispatcher")
    calls: list[Any] = []

    def spy(scenario: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["locked"])
        return fake_planner(scenario, **kwargs)

    svc.planner = spy
    svc.run_plan("seen-2026")
    [locked] = calls
    assert locked and all(t.locked for t in locked)
    assert {p.worker_id for t in locked for p in t.passengers} == {
        p["worker"]
        for t in svc.call("GET", f"/api/plans/{first['id']}/trips", "dispatcher").json()
        for p in t["passengers"]
    }


def test_employer_sees_published_plans_and_own_rows_only(svc: Service) -> None:
    """Employers see no draft; in a published plan, only trips and manifest rows of their own."""
    season_with_workers(svc, "emp-2026", range(600, 640))
    draft = svc.run_plan("emp-2026")
    assert svc.call("GET", f"/api/plans/{draft['id']}", "alpha", params={}).status_code == 404
    assert svc.call("GET", "/api/plans?season=emp-2026", "alpha").json() == []
    svc.call("POST", f"/api/plans/{draft['id']}/publish", "dispatcher")
    trips = svc.call("GET", f"/api/plans/{draft['id']}/trips", "alpha").json()
    assert trips
    assert {p["company_id"] for t in trips for p in t["passengers"]} == {"ALPHA"}
    trip_id = trips[0]["trip_id"]
    manifest = svc.call(
        "GET", f"/api/plans/{draft['id']}/trips/{trip_id}/manifest.json", "alpha"
    ).json()
    assert manifest["masked"] and {r["company_id"] for r in manifest["rows"]} == {"ALPHA"}
    row = manifest["rows"][0]
    assert row["trip_id"] == trip_id and row["departure_time"] == "08:00" and row["boarding"]
    assert row["seat"] >= 1 and "*" in row["id_number"]
    mine = svc.call("GET", f"/api/workers/{row['worker']}", "alpha").json()
    assert mine["assignment"]["trip_id"] == trip_id


def test_csv_manifest(svc: Service) -> None:
    """The CSV manifest has Chinese headers and one row per passenger, by seat."""
    season_with_workers(svc, "csv-2026", range(700, 710))
    plan = svc.run_plan("csv-2026")
    trip = svc.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()[0]
    response = svc.call(
        "GET", f"/api/plans/{plan['id']}/trips/{trip['trip_id']}/manifest.csv", "dispatcher"
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == len(trip["passengers"])
    assert [int(r["座位号"]) for r in rows] == sorted(int(r["座位号"]) for r in rows)
    assert all(len(r["身份证号"]) == 18 for r in rows)


def test_plan_for_unknown_season_is_404(svc: Service) -> None:
    response = svc.call("POST", "/api/plans", "dispatcher", json={"season": "nope"})
    assert response.status_code == 404
    assert "no season called 'nope'" in response.json()["detail"]


def test_progress_is_recorded_directly(svc: Service) -> None:
    """Progress written by a job's callback is what GET shows (bounded to [0, 1])."""
    season_with_workers(svc, "prog-2026", range(800, 802))
    with svc.session() as session:
        season = crud.resolve_season(session, name="prog-2026")
        user = crud.get_user_by_username(session, username="dispatcher")
        assert user is not None
        plan = crud.create_plan(session, season=season, user=user, time_limit_s=1)
        plan_id = plan.id
        # Claimed in the same transaction, so the service's own worker never sees it queued.
        assert crud.claim_job(session, worker="test", lease_s=600) == plan_id
    with svc.session() as session:
        crud.set_progress(session, plan_id=plan_id, progress=1.7, message="almost")
    shown = svc.call("GET", f"/api/plans/{plan_id}", "dispatcher").json()
    assert (shown["progress"], shown["message"], shown["status"]) == (1.0, "almost", "running")
    with svc.session() as session:
        crud.fail_plan(session, plan_id=plan_id, message="stopped by the test")


def test_xlsx_and_pdf_manifests_show_the_callers_view(svc: Service) -> None:
    """Document manifests: an employer's lists only its workers, with masked phones; a
    dispatcher's lists everyone on the trip."""
    documents = pytest.importorskip("api.documents")
    if not hasattr(documents, "write_manifest_pdf"):
        pytest.skip("document writers not installed")
    import openpyxl
    import pypdf

    season_with_workers(svc, "docs-2026", range(900, 906))
    plan = svc.run_plan("docs-2026")
    svc.call("POST", f"/api/plans/{plan['id']}/publish", "dispatcher")
    trips = svc.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()
    trip = next(t for t in trips if {p["company_id"] for p in t["passengers"]} == {"ALPHA", "BETA"})
    url = f"/api/plans/{plan['id']}/trips/{trip['trip_id']}/manifest"
    alpha_names = {f"工人{n}" for n in range(900, 906) if n % 2}
    beta_names = {f"工人{n}" for n in range(900, 906) if not n % 2}

    book = openpyxl.load_workbook(io.BytesIO(svc.call("GET", f"{url}.xlsx", "alpha").content))
    cells = {str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None}
    seen = {name for name in alpha_names | beta_names if name in cells}
    assert seen and seen <= alpha_names
    assert not any(str(worker_row(n)["phone"]) in cells for n in range(900, 906))

    pdf = svc.call("GET", f"{url}.pdf", "dispatcher")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    on_trip = {n for n in alpha_names | beta_names if n in text}
    assert on_trip & alpha_names and on_trip & beta_names

    # A dispatcher's download is the full, audited row (ID number too); ?masked=true hides both.
    full = openpyxl.load_workbook(io.BytesIO(svc.call("GET", f"{url}.xlsx", "dispatcher").content))
    cells = {str(c.value) for row in full.active.iter_rows() for c in row if c.value is not None}
    on_sheet = {n for n in range(900, 906) if str(worker_row(n)["name"]) in cells}
    assert on_sheet and all(make_id_number(n) in cells for n in on_sheet)
    masked = svc.call("GET", f"{url}.xlsx?masked=true", "dispatcher").content
    book = openpyxl.load_workbook(io.BytesIO(masked))
    cells = {str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None}
    assert not any(make_id_number(n) in cells for n in range(900, 906))
    assert not any(str(worker_row(n)["phone"]) in cells for n in range(900, 906))


def test_withdrawal_after_publication_keeps_the_published_trip(svc: Service) -> None:
    """A worker withdrawn after publication leaves the manifest with their seat freed, the
    withdrawal is on the plan's change list (so nobody is left untold), and a re-plan leaves
    the trip as it stands."""
    season_with_workers(svc, "withdraw-2026", range(1000, 1006))
    plan = svc.run_plan("withdraw-2026")
    svc.call("POST", f"/api/plans/{plan['id']}/publish", "dispatcher")
    trips = svc.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()
    trip = next(t for t in trips if any(p["company_id"] == "ALPHA" for p in t["passengers"]))
    leaving = next(p["worker"] for p in trip["passengers"] if p["company_id"] == "ALPHA")
    assert svc.call("DELETE", f"/api/workers/{leaving}", "alpha").status_code == 204
    assert svc.call("GET", f"/api/workers/{leaving}", "alpha").status_code == 404
    url = f"/api/plans/{plan['id']}/trips/{trip['trip_id']}/manifest.json"
    rows = {r["worker"]: r for r in svc.call("GET", url, "dispatcher").json()["rows"]}
    assert leaving not in rows and len(rows) == len(trip["passengers"]) - 1
    changes = svc.call("GET", f"/api/plans/{plan['id']}/changes", "dispatcher").json()
    assert [(c["kind"], c["worker"]) for c in changes] == [("withdrawal", leaving)]
    now = svc.call("GET", f"/api/plans/{plan['id']}/trips/{trip['trip_id']}", "dispatcher").json()
    assert now["stops"][0]["depart"] == trip["stops"][0]["depart"]
    again = svc.run_plan("withdraw-2026")
    assert again["status"] == "succeeded"
    kept = svc.call("GET", f"/api/plans/{again['id']}/trips/{trip['trip_id']}", "dispatcher")
    assert kept.json() == now


def test_upload_size_is_limited(svc: Service) -> None:
    """A file above CHUNYUN_MAX_UPLOAD_BYTES is refused before it is read as a table."""
    limit = svc.settings.max_upload_bytes
    svc.settings.max_upload_bytes = 1000
    try:
        response = svc.call(
            "POST",
            "/api/workers/upload?season=withdraw-2026",
            "alpha",
            files={"file": ("big.csv", b"x" * 5000)},
        )
    finally:
        svc.settings.max_upload_bytes = limit
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["detail"]


def test_hubs_reach_the_planner(svc: Service) -> None:
    """Hubs a dispatcher adds are part of the scenario the planner gets."""
    season_with_workers(svc, "hubs-2026", range(1100, 1103))
    hubs = [{"hub_id": "H1", "name": "浒山客运站", "lon": 121.27, "lat": 30.18}]
    assert (
        svc.call("POST", "/api/hubs?season=hubs-2026", "dispatcher", json=hubs).status_code == 200
    )
    seen: list[Any] = []

    def spy(scenario: Any, **kwargs: Any) -> Any:
        seen.append(scenario)
        return fake_planner(scenario, **kwargs)

    svc.planner = spy
    svc.run_plan("hubs-2026")
    assert [h.hub_id for h in seen[0].hubs] == ["H1"]
    assert svc.call("DELETE", "/api/hubs/H1?season=hubs-2026", "dispatcher").status_code == 204
    assert svc.call("GET", "/api/hubs?season=hubs-2026", "dispatcher").json() == []
