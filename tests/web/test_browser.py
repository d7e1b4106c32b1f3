"""The pages end to end in headless Chromium against a real `uvicorn` server on loopback, on
SQLite and PostgreSQL, with the real planner on a tiny season. Every request that would leave
127.0.0.1 is aborted and counted: the count must be 0.

Set CHUNYUN_SCREENSHOTS=1 to write the screenshots of docs/web.md into docs/img/web/."""

from __future__ import annotations

import io
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from tests.api.conftest import make_id_number
from tests.api.live import add_dispatcher, live_server, token
from tests.conftest import log_dir

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "charter-coach-password-7"
SEASON = {
    "name": "browser-2026",
    "direction": "home",
    "origin": "330282",
    "festival_date": "2026-02-17",
    "first_departure": "2026-02-05",
    "last_departure": "2026-02-14",
    "solver": {"time_limit_s": 5},
}
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "web"
HEADER = "工号,姓名,身份证号,手机号,家乡地址,最早出发日期,最晚出发日期,同行编号\n"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    add_dispatcher(database_url, "dispatcher", PASSWORD)
    log_file = log_dir() / f"server-browser-{uuid.uuid4().hex[:8]}.log"
    with live_server(database_url, log_file) as base:
        headers = token(base, "dispatcher", PASSWORD)
        assert httpx.post(f"{base}/api/seasons", json=SEASON, headers=headers).is_success
        gates = [{"company_id": "ALPHA", "name": "阿尔法电器", "lon": 121.24, "lat": 30.17}]
        fleet = [
            {
                "vehicle_type": "C35",
                "seats": 35,
                "count": 10,
                "cost_per_km": 6.0,
                "fixed_cost": 1200,
            }
        ]
        params = {"season": SEASON["name"]}
        for path, body in (("/api/companies", gates), ("/api/fleet", fleet)):
            assert httpx.post(f"{base}{path}", params=params, json=body, headers=headers).is_success
        user = {
            "username": "alpha",
            "password": PASSWORD,
            "role": "employer",
            "company_id": "ALPHA",
        }
        assert httpx.post(f"{base}/api/users", json=user, headers=headers).is_success
        yield base


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield instance
        instance.close()


class Offline:
    """A browser context where every request outside 127.0.0.1 is aborted and counted."""

    def __init__(self, chromium: Any) -> None:
        self.context = chromium.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="zh-CN"
        )
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda dialog: dialog.accept())  # "publish?", "withdraw?"

    def _route(self, route: Any) -> None:
        url = route.request.url
        if urlparse(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def shot(self, name: str) -> None:
        if os.environ.get("CHUNYUN_SCREENSHOTS"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def sign_in(self, base: str, username: str) -> None:
        self.page.goto(f"{base}/")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")


def _row(
    serial: int, first: str, last: str, *, phone: str | None = None, id_number: str | None = None
) -> str:
    return ",".join([
        f"A{serial:03d}", f"工人{serial}", id_number or make_id_number(serial),
        phone or f"139{serial:08d}", "安徽省阜阳市临泉县", first, last, "",
    ])  # fmt: skip


def test_employer_and_dispatcher_flows(
    server: str, chromium: Any, tmp_path: Path, database_url: str
) -> None:
    base = server
    clerk = Offline(chromium)
    page = clerk.page
    clerk.page.goto(f"{base}/")
    clerk.shot("signin")
    clerk.sign_in(base, "alpha")
    page.wait_for_url(f"{base}/e/workers")

    # A bad file: every bad row is listed, nothing is saved.
    bad_check = make_id_number(2)[:-1] + ("0" if make_id_number(2)[-1] != "0" else "1")
    bad = HEADER + "\n".join([
        _row(1, "2026/2/6", "2026/2/7"),
        _row(2, "2026/2/6", "2026/2/6", id_number=bad_check),
        _row(3, "2026/2/6", "2026/2/6", phone="12345"),
        _row(4, "2026/1/28", "2026/2/7"),
    ]) + "\n"  # fmt: skip
    (tmp_path / "bad.csv").write_bytes(bad.encode("gb18030"))
    page.goto(f"{base}/e/upload")
    page.set_input_files("input[type=file]", str(tmp_path / "bad.csv"))
    page.click("button[type=submit]:has-text('上传')")
    problems = page.locator("#problems tbody tr")
    problems.first.wait_for()
    rows = {problems.nth(i).locator("td").first.inner_text() for i in range(problems.count())}
    assert rows == {"3", "4", "5"}
    assert "校验位错误" in page.inner_text("#problems")
    clerk.shot("upload-errors")

    # The good file (Excel-style dates, GB18030) registers everyone.
    good = HEADER + "\n".join([
        _row(1, "2026/2/6", "2026/2/7"),
        _row(2, "2026/2/6", "2026/2/6"),
        _row(3, "2026/2/6", "2026/2/6"),
        _row(4, "2026/2/7", "2026/2/7"),
        _row(5, "2026/2/7", "2026/2/7"),
    ]) + "\n"  # fmt: skip
    (tmp_path / "good.csv").write_bytes(good.encode("gb18030"))
    page.set_input_files("input[type=file]", str(tmp_path / "good.csv"))
    page.click("button[type=submit]:has-text('上传')")
    page.wait_for_url("**/e/workers?done=uploaded*")
    assert page.locator("#workers tbody tr[data-worker]").count() == 5
    clerk.shot("workers")

    # The dispatcher plans, watches the job, opens a trip, moves a passenger, publishes.
    desk = Offline(chromium)
    dpage = desk.page
    desk.sign_in(base, "dispatcher")
    dpage.wait_for_url(f"{base}/d/seasons")
    desk.shot("seasons")
    dpage.click(f"a:has-text('{SEASON['name']}')")
    dpage.wait_for_selector("#by-province")
    dpage.wait_for_function(
        "typeof Chart !== 'undefined' && Chart.getChart('demand-chart') !== undefined"
    )  # vendored Chart.js
    desk.shot("season")
    dpage.click("#start-plan")
    dpage.wait_for_url("**/d/plans/*")
    dpage.wait_for_selector("#kpis", timeout=120_000)
    desk.shot("plan")
    plan_url = dpage.url.split("?")[0]
    trips = dpage.locator("#trips tbody tr")
    assert trips.count() == 2
    # The worker free on both dates (A001) moves to the other date's trip.
    for index in range(trips.count()):
        trips.nth(index).locator("a").first.click()
        dpage.wait_for_selector("#passengers")
        if dpage.locator("#passengers tr:has-text('A001')").count():
            break
        dpage.go_back()
    row = dpage.locator("#passengers tr:has-text('A001')")
    source = dpage.url.split("/trips/")[1].split("?")[0]
    dpage.frame_locator("iframe.map").locator(".leaflet-pane").first.wait_for(
        state="attached", timeout=30_000
    )
    dpage.wait_for_timeout(500)  # tiles-free map: let the route line draw
    desk.shot("trip")
    row.locator("button:has-text('调整')").click()
    dpage.wait_for_selector(".notice.ok")
    headers = token(base, "dispatcher", PASSWORD)
    plan_id = plan_url.rsplit("/", 1)[1]
    workers = httpx.get(
        f"{base}/api/workers", params={"season": SEASON["name"]}, headers=headers
    ).json()
    key = next(str(w["id"]) for w in workers if w["worker_id"] == "A001")
    seated = httpx.get(f"{base}/api/plans/{plan_id}/trips", headers=headers).json()
    now = next(t["trip_id"] for t in seated for p in t["passengers"] if p["worker"] == key)
    assert now != source
    dpage.goto(plan_url)
    dpage.click("#publish")  # confirm() is accepted below
    dpage.wait_for_selector(".notice.ok")
    with dpage.expect_download() as download:
        dpage.click("#zip")
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    names = archive.namelist()
    assert any(n.endswith("notices.csv") for n in names)
    assert sum(n.endswith(".pdf") and "/manifests/" in n for n in names) >= 1

    # The clerk sees each worker's trip, date, time, boarding point and seat.
    page.goto(f"{base}/e/workers")
    assert page.locator("#workers .badge.seated").count() == 5
    assert "未分配" in page.inner_text("#workers")  # no plate assigned
    clerk.shot("workers-seated")
    page.goto(f"{base}/e/documents")
    clerk.shot("documents")
    for name in ("users", "audit"):
        dpage.goto(f"{base}/d/{name}")
        desk.shot(name)
    dpage.goto(f"{base}/docs")
    dpage.wait_for_selector(".swagger-ui .info", timeout=30_000)
    dpage.goto(f"{base}/redoc")
    dpage.wait_for_selector("redoc h1, .api-content h1", timeout=30_000)

    assert clerk.outside == [] and desk.outside == []
    assert clerk.errors == [] and desk.errors == []
    clerk.context.close()
    desk.context.close()
