"""The pages on the service (TestClient, SQLite and PostgreSQL): sign-in and sessions, form
tokens on every form, every page per role, bad uploads shown row by row, and an employer never
seeing another company's rows on any page or download."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Route

from tests.api.conftest import Service, make_id_number, open_season, worker_row
from tests.web.conftest import Browser, plan_and_publish

SEASON = "pages-2026"
HEADER = "工号,姓名,身份证号,手机号,家乡地址,最早出发日期,最晚出发日期,同行编号\n"


def csv_rows(serials: list[int], *, party: str = "", **changes: Any) -> str:
    lines = []
    for serial in serials:
        row = worker_row(serial, **changes)
        lines.append(
            ",".join(
                [
                    row["worker_id"],
                    row["name"],
                    row["id_number"],
                    row["phone"],
                    row["home"],
                    "2026/2/6",
                    "2026/2/10",
                    party,
                ]
            )
        )
    return HEADER + "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def world(service: Service) -> Iterator[dict[str, Any]]:
    """Two companies with workers registered through the pages, a plan published."""
    svc = service
    open_season(svc, SEASON, companies=(("ALPHA", "阿尔法电器"), ("BETA", "贝塔纺织")))
    svc.add_user("alpha", "employer", "ALPHA")
    svc.add_user("beta", "employer", "BETA")
    alpha, beta, dispatcher = Browser(svc), Browser(svc), Browser(svc)
    for browser, name in ((alpha, "alpha"), (beta, "beta"), (dispatcher, "dispatcher")):
        assert browser.sign_in(name).status_code == 303
    answer = alpha.post(
        "/e/upload", files={"file": ("a.csv", csv_rows([1, 2, 3]).encode("gb18030"))}
    )
    assert answer.status_code == 303, answer.text
    answer = beta.post(
        "/e/upload", files={"file": ("b.csv", csv_rows([11, 12], party="P1").encode("utf-8-sig"))}
    )
    assert answer.status_code == 303, answer.text
    plan_id, trips = plan_and_publish(svc, dispatcher, SEASON)
    yield {
        "alpha": alpha,
        "beta": beta,
        "dispatcher": dispatcher,
        "plan_id": plan_id,
        "trips": trips,
        "svc": svc,
    }


def test_sign_in_goes_home_by_role_and_wrong_password_is_refused(world: dict[str, Any]) -> None:
    svc = world["svc"]
    browser = Browser(svc)
    refused = browser.sign_in("alpha", "not-the-password")
    assert refused.status_code == 401
    assert "用户名或密码错误" in refused.text
    assert browser.client.get("/e/workers", follow_redirects=False).status_code == 303
    assert browser.sign_in("alpha").headers["location"] == "/e/workers"
    assert Browser(svc).sign_in("dispatcher").headers["location"] == "/d/seasons"
    cookie = browser.client.cookies.get("chunyun_session")
    assert cookie
    page = Browser(svc).client.get("/")
    assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=lax" in page.headers["set-cookie"]


def test_sign_in_is_throttled_with_the_429_message(service: Service) -> None:
    service.add_user("slowpoke", "dispatcher")
    browser = Browser(service)
    codes = [browser.sign_in("slowpoke", f"wrong-{i}").status_code for i in range(12)]
    assert 429 in codes
    last = browser.sign_in("slowpoke")
    assert last.status_code == 429
    assert "登录失败次数过多" in last.text


def test_sign_in_form_without_its_token_is_refused(service: Service) -> None:
    browser = Browser(service)
    answer = browser.client.post(
        "/signin", data={"username": "dispatcher", "password": "x"}, follow_redirects=False
    )
    assert answer.status_code == 403


def _page_routes(_svc: Service) -> list[Route]:
    from api.web import common, dispatcher, employer

    return [
        r
        for module in (common, employer, dispatcher)
        for r in module.router.routes
        if isinstance(r, Route)
    ]


def _fill(path: str, world: dict[str, Any]) -> str:
    trip = world["trips"][0]["trip_id"]
    values = {
        "plan_id": str(world["plan_id"]),
        "trip_id": trip,
        "name": SEASON,
        "fmt": "csv",
        "worker_id": str(world["alpha_worker"]),
        "user_id": "1",
        "locale": "zh_CN",
        "action": "revoke",
        "company_id": "ALPHA",
        "adcode": "341221",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


@pytest.fixture(scope="module")
def alpha_worker(world: dict[str, Any]) -> int:
    rows = world["svc"].call("GET", f"/api/workers?season={SEASON}", "alpha").json()
    world["alpha_worker"] = rows[0]["id"]
    return int(rows[0]["id"])


EMPLOYER_ONLY = "/e/"
DISPATCHER_ONLY = "/d/"
OPEN_PAGES = {"/", "/lang/{locale}", "/home"}


def test_every_page_answers_each_role_as_it_should(
    world: dict[str, Any], alpha_worker: int
) -> None:
    """Every GET page: anonymous -> sign-in (303), employer -> 200 or 403 on dispatcher pages,
    dispatcher -> 200 or 403 on employer pages."""
    svc = world["svc"]
    anonymous = Browser(svc)
    checked = 0
    for route in _page_routes(svc):
        if "GET" not in (route.methods or set()):
            continue
        url = _fill(route.path, world)
        for who, browser in (
            ("anonymous", anonymous),
            ("alpha", world["alpha"]),
            ("dispatcher", world["dispatcher"]),
        ):
            answer = browser.client.get(url, follow_redirects=False)
            if route.path in OPEN_PAGES:
                expected = {200, 303}
            elif who == "anonymous":
                expected = {303}
            elif (who == "alpha" and route.path.startswith(DISPATCHER_ONLY)) or (
                who == "dispatcher"
                and route.path.startswith(EMPLOYER_ONLY)
                and not (route.path.endswith("template.xlsx"))
            ):
                expected = {403}
            else:
                expected = {200}
            assert answer.status_code in expected, (who, url, answer.status_code, answer.text[:300])
            checked += 1
    assert checked > 40


def test_every_form_refuses_a_missing_or_wrong_token(
    world: dict[str, Any], alpha_worker: int
) -> None:
    svc = world["svc"]
    for route in _page_routes(svc):
        if "POST" not in (route.methods or set()) or route.path == "/signin":
            continue
        url = _fill(route.path, world)
        browser = world["alpha"] if route.path.startswith("/e/") else world["dispatcher"]
        missing = browser.post(url, {"name": "x"}, token=False)
        assert missing.status_code == 403, (url, missing.status_code)
        wrong = browser.client.post(url, data={"csrf_token": "forged"}, follow_redirects=False)
        assert wrong.status_code == 403, (url, wrong.status_code)
    # Still signed in and the data untouched.
    assert world["alpha"].get("/e/workers").status_code == 200


def test_a_bad_upload_shows_every_bad_row_and_saves_nothing(world: dict[str, Any]) -> None:
    alpha, svc = world["alpha"], world["svc"]
    before = len(svc.call("GET", f"/api/workers?season={SEASON}", "alpha").json())
    bad_id = make_id_number(40)[:-1] + ("0" if make_id_number(40)[-1] != "0" else "1")
    text = (
        HEADER
        + f"B1,王五,{bad_id},13900000040,341221,2026/2/6,2026/2/10,\n"
        + f"B2,赵六,{make_id_number(41)},12345,341221,2026/2/6,2026/2/10,\n"
        + f"B3,钱七,{make_id_number(42)},13900000042,341221,2026/1/28,2026/2/10,\n"
        + f"B4,孙八,{make_id_number(43)},13900000043,341221,2026/2/6,2026/2/10,\n"
    )
    answer = alpha.post("/e/upload", files={"file": ("bad.csv", text.encode("gb18030"))})
    assert answer.status_code == 422
    table = answer.text[answer.text.index('id="problems"') :]
    rows = re.findall(r'<td class="num">(\d+)</td><td>([^<]+)</td>', table)
    assert {(int(r), c) for r, c in rows} >= {(2, "身份证号"), (3, "手机号"), (4, "最早出发日期")}
    assert "校验位错误" in table and "须在本季发车日期内" in table
    after = len(svc.call("GET", f"/api/workers?season={SEASON}", "alpha").json())
    assert after == before


def test_workers_page_shows_seats_after_publishing(world: dict[str, Any]) -> None:
    page = world["alpha"].get("/e/workers")
    assert page.status_code == 200
    assert page.text.count('class="badge seated"') == 3
    assert "未分配" in page.text  # no plate assigned yet
    party = world["beta"].get("/e/workers")
    assert party.text.count('class="party"') == 2


def test_an_employer_never_sees_another_companys_rows(
    world: dict[str, Any], alpha_worker: int
) -> None:
    svc, alpha, plan_id = world["svc"], world["alpha"], world["plan_id"]
    beta_names = [worker_row(s)["name"] for s in (11, 12)]
    beta_ids = [make_id_number(s) for s in (11, 12)]
    pages = ["/e/workers", "/e/documents", f"/pages/plans/{plan_id}/notices.csv"]
    for trip in world["trips"]:
        for fmt in ("csv", "xlsx", "pdf"):
            pages.append(f"/pages/plans/{plan_id}/trips/{trip['trip_id']}/manifest.{fmt}")
    seen = 0
    for url in pages:
        answer = alpha.client.get(url)
        assert answer.status_code in (200, 404), url
        if answer.status_code == 404:
            continue
        seen += 1
        content = answer.content
        if url.endswith(".xlsx"):
            with zipfile.ZipFile(io.BytesIO(content)) as book:
                content = b"".join(book.read(n) for n in book.namelist())
        for secret in beta_names + beta_ids + ["BETA", "贝塔"]:
            assert secret.encode() not in content, (url, secret)
    assert seen >= 4
    beta_rows = svc.call("GET", f"/api/workers?season={SEASON}", "beta").json()
    edit = alpha.client.get(f"/e/workers/{beta_rows[0]['id']}/edit")
    assert edit.status_code == 404
    withdraw = alpha.post(f"/e/workers/{beta_rows[0]['id']}/withdraw")
    assert withdraw.status_code == 404
    assert len(svc.call("GET", f"/api/workers?season={SEASON}", "beta").json()) == 2


def test_the_documents_zip_holds_manifests_sheets_notices_and_maps(world: dict[str, Any]) -> None:
    answer = world["dispatcher"].client.get(f"/d/plans/{world['plan_id']}/documents.zip")
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = archive.namelist()
    trip = world["trips"][0]["trip_id"]
    for part in (
        f"manifests/{trip}.pdf",
        f"manifests/{trip}.xlsx",
        f"manifests/{trip}.csv",
        f"trip_sheets/{trip}.pdf",
        "notices.csv",
        "map.html",
        f"trips/{trip}.html",
    ):
        assert any(n.endswith(part) for n in names), part
    api = world["svc"].call("GET", f"/api/plans/{world['plan_id']}/documents.zip", "alpha")
    assert api.status_code == 403
    audit = world["dispatcher"].get("/d/audit")
    # The audit page says what was done in the page's language (api.i18n.AUDIT_ACTIONS).
    assert f"方案 {world['plan_id']} 的文件压缩包" in audit.text


def test_disabling_or_revoking_ends_the_web_sessions(service: Service) -> None:
    service.add_user("temp", "dispatcher")
    victim, admin = Browser(service), Browser(service)
    assert victim.sign_in("temp").status_code == 303
    assert admin.sign_in("dispatcher").status_code == 303
    assert victim.client.get("/d/seasons").status_code == 200
    users = service.call("GET", "/api/users", "dispatcher").json()
    temp = next(u for u in users if u["username"] == "temp")
    assert admin.post(f"/d/users/{temp['id']}/revoke").status_code == 303
    assert victim.client.get("/d/seasons", follow_redirects=False).status_code == 303
    assert victim.sign_in("temp").status_code == 303
    assert admin.post(f"/d/users/{temp['id']}/disable").status_code == 303
    assert victim.client.get("/d/seasons", follow_redirects=False).status_code == 303
    assert "此账号已停用" in victim.sign_in("temp").text
    assert admin.post(f"/d/users/{temp['id']}/enable").status_code == 303
    assert victim.sign_in("temp").status_code == 303


def test_sign_out_ends_the_session(service: Service) -> None:
    browser = Browser(service)
    browser.sign_in("dispatcher")
    assert browser.post("/signout").status_code == 303
    assert browser.client.get("/d/seasons", follow_redirects=False).status_code == 303


def test_english_switch_and_chinese_default(service: Service) -> None:
    browser = Browser(service)
    assert "登录" in browser.client.get("/").text
    browser.client.get("/lang/en?next=/")
    assert "Sign in" in browser.client.get("/").text


def test_docs_and_redoc_load_nothing_from_outside(service: Service) -> None:
    for url in ("/docs", "/redoc"):
        page = service.client.get(url)
        assert page.status_code == 200
        assert not re.search(r"(src|href)=[\"']https?://", page.text), page.text
    assert service.client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert service.client.get("/static/vendor/redoc/redoc.standalone.js").status_code == 200


def test_the_api_answers_in_chinese_when_asked(world: dict[str, Any]) -> None:
    svc = world["svc"]
    bad = HEADER + f"C1,周九,{make_id_number(50)},123,341221,2026/2/6,2026/2/10,\n"
    files = {"file": ("c.csv", bad.encode())}
    english = svc.call("POST", f"/api/workers/upload?season={SEASON}", "alpha", files=files)
    assert "mainland mobile" in english.json()["problems"][0]["reason"]
    chinese = svc.client.post(
        f"/api/workers/upload?season={SEASON}",
        files={"file": ("c.csv", bad.encode())},
        headers={**svc.headers("alpha"), "Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert "大陆手机号" in chinese.json()["problems"][0]["reason"]
    assert "未保存任何内容" in chinese.json()["detail"]


def test_a_dispatcher_moves_a_worker_to_another_date_and_locks_a_trip(
    world: dict[str, Any],
) -> None:
    """On a draft plan: a move to a trip of another date goes through (audited), a move the
    checks refuse is explained on the trip page; after publishing, a trip can be unlocked."""
    svc, dispatcher = world["svc"], world["dispatcher"]
    season = "moves-2026"
    open_season(svc, season)
    rows = [
        worker_row(61, company_id="ALPHA", home="341221", earliest="2026-02-06"),
        worker_row(62, company_id="ALPHA", home="341221", earliest="2026-02-07"),
        worker_row(63, company_id="ALPHA", home="411525", earliest="2026-02-07"),
    ]
    answer = svc.call("POST", f"/api/workers?season={season}", "dispatcher", json=rows)
    assert answer.status_code == 200, answer.text
    keys = {w["worker_id"]: str(w["id"]) for w in answer.json()["workers"]}
    try:
        started = dispatcher.post(f"/d/seasons/{season}/plans", {"time_limit_s": "5"})
        svc.wait_for_jobs()
        plan_url = started.headers["location"]
        plan_id = int(plan_url.rsplit("/", 1)[1])
        trips = svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
        seat_of = {p["worker"]: t["trip_id"] for t in trips for p in t["passengers"]}
        source, target = seat_of[keys["W0061"]], seat_of[keys["W0062"]]
        elsewhere = seat_of[keys["W0063"]]
        page = dispatcher.get(f"{plan_url}/trips/{source}")
        assert 'class="inline move"' in page.text and target in page.text
        refused = dispatcher.post(
            f"{plan_url}/moves",
            {"worker": keys["W0061"], "from_trip": source, "to_trip": elsewhere},
        )
        assert refused.status_code == 409
        assert "不停靠员工下车的地点" in refused.text
        moved = dispatcher.post(
            f"{plan_url}/moves", {"worker": keys["W0061"], "from_trip": source, "to_trip": target}
        )
        assert moved.status_code == 303, moved.text
        after = svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
        seat_after = {p["worker"]: t["trip_id"] for t in after for p in t["passengers"]}
        assert seat_after[keys["W0061"]] == target
        assert source not in {t["trip_id"] for t in after}  # left empty, dropped
        # The audit page says so in its language (api.i18n.AUDIT_ACTIONS).
        assert f"从车次 {source} 调到 {target}" in dispatcher.get("/d/audit").text
        assert dispatcher.post(f"{plan_url}/publish").status_code == 303
        late = svc.call(
            "POST",
            f"/api/plans/{plan_id}/moves",
            "dispatcher",
            json={"worker": keys["W0062"], "to_trip": elsewhere},
        )
        assert late.status_code == 409
        unlocked = dispatcher.post(f"{plan_url}/trips/{target}/unlock")
        assert unlocked.status_code == 303
        trips_now = svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
        assert {t["trip_id"]: t["locked"] for t in trips_now}[target] is False
    finally:
        svc.call("PATCH", f"/api/seasons/{season}", "dispatcher", json={"is_open": False})


def test_a_clerk_edits_a_row_through_the_registration_checks(
    world: dict[str, Any], alpha_worker: int
) -> None:
    alpha, svc = world["alpha"], world["svc"]
    form = alpha.get(f"/e/workers/{alpha_worker}/edit")
    assert form.status_code == 200 and "身份证号" in form.text
    values = {
        "name": "改名",
        "home": "411525",
        "earliest": "2026-02-07",
        "latest": "2026-02-09",
        "party": "",
        "seats": "1",
    }
    refused = alpha.post(f"/e/workers/{alpha_worker}/edit", {**values, "phone": "123"})
    assert refused.status_code == 422 and "大陆手机号" in refused.text
    saved = alpha.post(f"/e/workers/{alpha_worker}/edit", values)
    assert saved.status_code == 303, saved.text
    row = svc.call("GET", f"/api/workers/{alpha_worker}", "alpha").json()
    assert (row["name"], row["home"], row["earliest"]) == ("改名", "411525", "2026-02-07")
    assert len(svc.call("GET", f"/api/workers?season={SEASON}", "alpha").json()) == 3


def test_refused_forms_say_which_field_in_chinese(world: dict[str, Any]) -> None:
    dispatcher = world["dispatcher"]
    season = {
        "name": "bad-dates",
        "direction": "home",
        "origin": "330282",
        "festival_date": "2026-13-01",
        "first_departure": "2026-02-05",
        "last_departure": "2026-02-14",
        "policy": "[1, 2]",
    }
    answer = dispatcher.post("/d/seasons", season)
    assert answer.status_code == 422
    assert "规则须是 JSON 对象" in answer.text
    answer = dispatcher.post("/d/seasons", {**season, "policy": ""})
    assert answer.status_code == 422
    assert "春节日期：须是日期" in answer.text
    weak = dispatcher.post(
        "/d/users",
        {"username": "clerk9", "password": "12345678", "role": "employer", "company_id": "ALPHA"},
    )
    assert weak.status_code == 422 and "常见密码" in weak.text
    bad_key = dispatcher.post(
        "/d/seasons", {**season, "festival_date": "2026-02-17", "policy": '{"no_such_key": 1}'}
    )
    assert bad_key.status_code == 422 and "JSON 对象" not in bad_key.text
    assert "no_such_key" in bad_key.text
    out_of_range = dispatcher.post(
        "/d/seasons", {**season, "festival_date": "2026-02-17", "policy": '{"min_load": -2}'}
    )
    assert out_of_range.status_code == 422
    assert "[policy] min_load = -2：不能为负数" in out_of_range.text


def test_plan_figures_show_the_servable_bound_and_the_coaches_to_add() -> None:
    """A plan short of coaches shows "seated ≤ servable bound" and, in the page's language, which
    coaches to add from when (the fleet advice stored with the plan's figures)."""
    from api.web.dispatcher import _fleet_advice, _kpi_rows

    kpis = {
        "workers": 2500,
        "seated": 2310,
        "fleet_servable_bound": 2450,
        "fleet": {
            "advice": [
                {"vehicle_type": "coach-53", "seats": 53, "add": 35, "from_date": "2027-02-14"}
            ]
        },
    }
    seated = next(row for row in _kpi_rows(kpis) if row[0] == "Seated")
    assert seated[1:] == ("2310", "≤ 2450")
    assert _fleet_advice("zh_CN", kpis) == ["如需安排所有人，请自 02-14 起增加 35 辆 coach-53"]
    assert _fleet_advice("en", kpis) == ["to seat everyone, add 35 coach-53 from 02-14"]
    # No bound known, no advice: nothing is shown rather than a guess.
    plain = {"workers": 10, "seated": 10}
    assert next(row for row in _kpi_rows(plain) if row[0] == "Seated")[2] == ""
    assert _fleet_advice("zh_CN", plain) == []


def test_the_dispatcher_cancels_a_running_plan_from_its_page(world: dict[str, Any]) -> None:
    """The plan page of a running job has a cancel button; after it, the job ends cancelled,
    the page says so in Chinese and shows no trips."""
    from tests.api.conftest import BlockingPlanner, fake_planner

    svc, dispatcher = world["svc"], world["dispatcher"]
    blocking = BlockingPlanner()
    svc.planner = blocking
    try:
        started = dispatcher.post(f"/d/seasons/{SEASON}/plans", {"time_limit_s": "5"})
        assert started.status_code == 303
        plan_url = started.headers["location"]
        assert blocking.started.wait(10)
        page = dispatcher.get(plan_url)
        assert "取消排班" in page.text
        cancelled = dispatcher.post(plan_url + "/cancel")
        assert cancelled.status_code == 303
        assert "正在取消" in dispatcher.get(cancelled.headers["location"]).text
    finally:
        blocking.release.set()
        svc.wait_for_jobs()
        svc.planner = fake_planner
    page = dispatcher.get(plan_url)
    assert "排班任务已取消" in page.text and "已取消" in page.text
    plan_id = int(plan_url.rsplit("/", 1)[1])
    assert svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json() == []
