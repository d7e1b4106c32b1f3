"""Hostile and odd input gets a JSON 4xx, never a 500, a hang or unbounded memory: oversized
bodies, a sheet claiming XFD1048576, ids beyond the integer columns, NUL characters, texts longer
than their columns, formula-like names in CSV exports; a full pool or a locked SQLite file answers
503 with Retry-After; an unexpected error is a JSON 500 whose log holds no personal data."""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
import time
import tracemalloc
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import make_url

from api import crud, intake
from api.errors import TooLarge
from api.main import create_app
from optimizer.errors import InvalidInput
from tests.api.conftest import SEASON as SEASON_BODY
from tests.api.conftest import Service, make_id_number, open_season, worker_row

SEASON = "hostile-2026"


@pytest.fixture(scope="module")
def svc(service: Service) -> Service:
    open_season(service, SEASON, companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")])
    service.add_user("alpha", "employer", "ALPHA")
    return service


def upload(svc: Service, user: str, name: str, content: bytes) -> Any:
    return svc.call(
        "POST", f"/api/workers/upload?season={SEASON}", user, files={"file": (name, content)}
    )


def far_cell_workbook() -> bytes:
    """A ~1.5 KB workbook with a header and one cell at XFD1048576 (the last cell Excel has)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工号", "姓名", "身份证号"])
    sheet["XFD1048576"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- uploads ------------------------------------------------------------------------------------


def test_far_cell_workbook_is_refused_quickly_with_bounded_memory(svc: Service) -> None:
    """The XFD1048576 workbook (which grew the old server to 22.9 GB) is refused with a 413
    naming the limit, after reading it in well under 50 MB."""
    content = far_cell_workbook()
    assert len(content) < 10_000
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge, match="claims 1048576 rows; the limit is 50000"):
            intake.read_upload("far.xlsx", content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024, f"reading took {peak / 1e6:.0f} MB"
    started = time.monotonic()
    response = upload(svc, "alpha", "far.xlsx", content)
    assert response.status_code == 413, response.text
    assert "1048576 rows" in response.json()["detail"]
    assert time.monotonic() - started < 60  # a hang guard, not a speed target


def test_far_columns_are_never_built() -> None:
    """A sheet whose used range claims 16,384 columns is read as its first 64 columns only."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工号", "姓名"])
    sheet.append(["W1", "张三"])
    sheet["XFD2"] = "far"
    buffer = io.BytesIO()
    book.save(buffer)
    frame = intake.read_upload("wide.xlsx", buffer.getvalue())
    assert list(frame.columns) == ["worker_id", "name"]
    assert frame.to_dict("records") == [{"worker_id": "W1", "name": "张三"}]


def test_zip_bomb_is_refused_before_parsing() -> None:
    """A workbook whose archive unpacks beyond the limit is refused before openpyxl opens it."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工号"] + ["x" * 1000] * 50)
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(TooLarge, match="unpacks to more than 1000 bytes"):
        intake.read_upload(
            "bomb.xlsx", buffer.getvalue(), limits=intake.UploadLimits(max_unpacked_bytes=1000)
        )


def test_too_many_csv_rows_is_413_naming_the_limit(svc: Service) -> None:
    svc.settings.max_upload_rows, before = 5, svc.settings.max_upload_rows
    try:
        rows = "\n".join(f"W{n},x" for n in range(10))
        response = upload(svc, "alpha", "w.csv", f"worker_id,name\n{rows}\n".encode())
    finally:
        svc.settings.max_upload_rows = before
    assert response.status_code == 413, response.text
    assert "more than 5 rows" in response.json()["detail"]


def test_slow_reading_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading that runs past its time limit is refused with a message saying to split."""
    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr(intake.time, "monotonic", lambda: float(next(clock)))
    with pytest.raises(InvalidInput, match="longer than 60 s"):
        intake.read_upload("w.csv", b"worker_id\nW1\n")


def test_body_limits_apply_before_sign_in(svc: Service) -> None:
    """An oversized JSON body without a token gets 413 before any 401; so does a chunked one
    that declares no length."""
    limit = svc.settings.max_body_bytes
    big = b"[" + b'"x",' * (limit // 4) + b'"x"]'
    response = svc.client.post(
        "/api/workers", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert f"larger than {limit} bytes" in response.json()["detail"]

    def chunks() -> Any:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    chunked = svc.client.post(
        "/api/workers", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413, chunked.text


# --- what the schema accepts is stored or refused with 422 -------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/api/workers/{2**31}",
        f"/api/workers/{2**63}",
        f"/api/workers/{10**30}",
        "/api/workers/-1",
        f"/api/plans/{2**31}",
        f"/api/plans/{2**40}/trips",
        f"/api/plans/{2**40}/trips/T1/manifest.csv",
    ],
)
def test_ids_beyond_the_columns_are_404(svc: Service, url: str) -> None:
    assert svc.call("GET", url, "dispatcher").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("DELETE", f"/api/workers/{2**31}"),
        ("POST", f"/api/plans/{2**31}/publish"),
        ("POST", f"/api/users/{2**31}/disable"),
        ("POST", f"/api/users/{2**62}/revoke-tokens"),
    ],
)
def test_writes_to_ids_beyond_the_columns_are_404(svc: Service, method: str, url: str) -> None:
    assert svc.call(method, url, "dispatcher").status_code == 404


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/companies",
            {"company_id": "N\x00L", "name": "x", "lon": 121, "lat": 30},
            "company_id",
        ),
        (
            "/api/companies",
            {"company_id": "LONG", "name": "x" * 300, "lon": 121, "lat": 30},
            "name",
        ),
        (
            "/api/fleet",
            {"vehicle_type": "X", "seats": 40, "count": 2**40, "cost_per_km": 1, "fixed_cost": 1},
            "count",
        ),
        ("/api/plans", {"season": SEASON, "time_limit_s": 2**40}, "time_limit_s"),
        ("/api/workers", [worker_row(1, company_id="ALPHA", name="x" * 200)], "name"),
        ("/api/workers", [worker_row(1, company_id="ALPHA", seats=2**40)], "seats"),
        ("/api/workers", [worker_row(1, company_id="ALPHA", home="临\x00泉")], "home"),
    ],
)
def test_values_no_column_can_hold_are_422(svc: Service, url: str, body: Any, field: str) -> None:
    response = svc.call("POST", f"{url}?season={SEASON}", "dispatcher", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    if "\x00" in str(body):
        assert "contains a NUL character" in response.json()["detail"]


def test_file_cells_longer_than_their_columns_are_bad_rows(svc: Service) -> None:
    """In a file, a 200-character name or 50-seat row is a bad row (422 naming it), not a 500."""
    rows = [worker_row(11, name="名" * 200), worker_row(12, seats=50)]
    header = ",".join(rows[0])
    lines = [",".join(str(v) for v in r.values()) for r in rows]
    response = upload(svc, "alpha", "w.csv", "\n".join([header, *lines]).encode())
    assert response.status_code == 422, response.text
    reported = {(p["row"], p["column"]) for p in response.json()["problems"]}
    assert {(2, "name"), (3, "seats")} <= reported


def test_nul_in_the_address_is_422(svc: Service) -> None:
    for url in ("/api/seasons/a%00b", "/api/workers?season=a%00b", "/api/companies/x%00"):
        response = svc.call("GET", url, "dispatcher")
        assert response.status_code == 422, (url, response.text)
        assert "NUL" in response.json()["detail"]


def test_nul_in_the_sign_in_form_is_422(svc: Service) -> None:
    response = svc.client.post(
        "/api/auth/token", data={"username": "dis\x00patcher", "password": "whatever-it-is"}
    )
    assert response.status_code == 422


def test_a_nul_in_the_file_name_is_not_stored(svc: Service) -> None:
    """The audit log records the upload's file name: a NUL in it must not break the insert."""
    content = ",".join(worker_row(20)) + "\n" + ",".join(str(v) for v in worker_row(20).values())
    response = upload(svc, "dispatcher", "a\x00b.csv", content.encode())
    assert response.status_code in (200, 422), response.text


def test_timestamps_carry_their_zone(svc: Service) -> None:
    """Stored times come out in UTC with their offset; timetable times in China time (+08:00)."""
    rows = [worker_row(n, company_id="ALPHA") for n in (30, 31)]
    assert svc.call("POST", f"/api/workers?season={SEASON}", "dispatcher", json=rows).is_success
    plan = svc.run_plan(SEASON)
    assert plan["created_at"].endswith(("Z", "+00:00"))
    trips = svc.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()
    assert trips and trips[0]["departure"].endswith("+08:00")
    assert trips[0]["stops"][0]["arrive"].endswith("+08:00")
    audit = svc.call("GET", "/api/audit?since=2000-01-01T00:00:00%2B08:00", "dispatcher").json()
    assert all(entry["at"].endswith(("Z", "+00:00")) for entry in audit)


# --- CSV exports --------------------------------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x.example","点我")', "+1+2", "@SUM(1+1)"]


def test_formula_like_cells_come_out_neutralised_in_csv_manifests(svc: Service) -> None:
    """Names and 工号 that a spreadsheet would run as formulas are accepted as text, and the
    CSV manifest quotes them so Excel shows them instead of running them."""
    open_season(svc, "formula-2026")
    rows = [
        worker_row(40 + i, company_id="ALPHA", name=name, worker_id=f"F{i}")
        for i, name in enumerate(FORMULAS)
    ]
    rows.append(worker_row(45, company_id="ALPHA", worker_id="=2+3"))
    response = svc.call("POST", "/api/workers?season=formula-2026", "dispatcher", json=rows)
    assert response.status_code == 200, response.text
    plan = svc.run_plan("formula-2026")
    assert svc.call("POST", f"/api/plans/{plan['id']}/publish", "dispatcher").status_code == 200
    cells: list[str] = []
    for trip in svc.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json():
        url = f"/api/plans/{plan['id']}/trips/{trip['trip_id']}/manifest.csv"
        text = svc.call("GET", url, "dispatcher").content.decode("utf-8-sig")
        cells += [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    for value in [*FORMULAS, "=2+3"]:
        assert "'" + value in cells, value
        assert value not in cells, value
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]


# --- busy database: 503 with Retry-After ----------------------------------------------------------


def test_pool_exhaustion_is_503_with_retry_after(svc: Service) -> None:
    """With every pooled connection taken, a request waits pool_timeout, then gets 503 with
    Retry-After instead of hanging or a 500; the health check answers all the while."""
    settings = svc.settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_s": 0.5}
    )
    from fastapi.testclient import TestClient

    from api.core.config import get_settings

    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app) as client:
        held = app.state.engine.connect()  # the pool's only connection
        try:
            response = client.get("/api/seasons", headers=svc.headers("dispatcher"))
            assert client.get("/api/health").status_code == 200
        finally:
            held.close()
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
        assert "try again" in response.json()["detail"]
        # ...and once the connection is back, the same request succeeds.
        assert client.get("/api/seasons", headers=svc.headers("dispatcher")).status_code == 200


def test_a_locked_sqlite_file_is_503_not_500(database_url: str, svc: Service) -> None:
    """A writer that cannot get SQLite's lock within the busy timeout (another process holds it)
    answers 503 + Retry-After; readers go on meanwhile."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's file lock")
    path = make_url(database_url).database
    assert path
    settings = svc.settings.model_copy(update={"sqlite_busy_timeout_s": 0.3})
    from fastapi.testclient import TestClient

    from api.core.config import get_settings

    app = create_app()
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app) as client:
        headers = svc.headers("dispatcher")
        body = {**SEASON_BODY, "name": "locked-2026"}
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            response = client.post("/api/seasons", headers=headers, json=body)
            # Readers do not wait for a writer (WAL): the list still answers meanwhile.
            assert client.get("/api/seasons", headers=headers).status_code == 200
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
        assert client.post("/api/seasons", headers=headers, json=body).status_code == 201


# --- unexpected errors ----------------------------------------------------------------------------


def test_unexpected_error_is_json_500_and_its_log_holds_no_personal_data(
    svc: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    person = make_id_number(77)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"bug while handling {person} / 13912345678")

    monkeypatch.setattr(crud, "list_seasons", broken)
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = svc.call("GET", "/api/seasons", "dispatcher")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    assert "went wrong" in response.json()["detail"]
    assert person not in response.text
    logged = caplog.text
    assert "GET /api/seasons" in logged and "RuntimeError" in logged
    assert person not in logged and "13912345678" not in logged


# --- privacy on shared trips -------------------------------------------------------------------


def test_other_companies_gates_are_rounded_for_employers(svc: Service) -> None:
    """On a trip shared with BETA, an employer sees BETA's gate unnamed and to 0.01 degrees;
    the dispatcher sees it exactly."""
    name = "gates-2026"
    open_season(svc, name, companies=[("ALPHA", "阿尔法电器")])
    gates = [
        {"company_id": "ALPHA", "name": "阿尔法电器", "lon": 121.23456, "lat": 30.17891},
        {"company_id": "BETA", "name": "贝塔制造", "lon": 121.26789, "lat": 30.16543},
    ]
    svc.call("POST", f"/api/companies?season={name}", "dispatcher", json=gates)
    rows = [worker_row(60, company_id="ALPHA"), worker_row(63, company_id="BETA")]
    assert svc.call("POST", f"/api/workers?season={name}", "dispatcher", json=rows).is_success
    plan = svc.run_plan(name)
    svc.call("POST", f"/api/plans/{plan['id']}/publish", "dispatcher")
    [trip] = [
        t
        for t in svc.call("GET", f"/api/plans/{plan['id']}/trips", "alpha").json()
        if len(t["stops"]) > 2
    ]
    [beta_gate] = [s for s in trip["stops"] if s["kind"] == "pickup" and s["company_id"] is None]
    assert (beta_gate["lon"], beta_gate["lat"]) == (121.27, 30.17)
    [own_gate] = [s for s in trip["stops"] if s["company_id"] == "ALPHA"]
    assert (own_gate["lon"], own_gate["lat"]) == (121.23456, 30.17891)
    full = svc.call("GET", f"/api/plans/{plan['id']}/trips/{trip['trip_id']}", "dispatcher")
    assert {(s["lon"], s["lat"]) for s in full.json()["stops"]} >= {(121.26789, 30.16543)}
    page = svc.call("GET", f"/api/plans/{plan['id']}/trips/{trip['trip_id']}/map.html", "alpha")
    assert "121.26789" not in page.text and "30.16543" not in page.text
