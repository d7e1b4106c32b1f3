"""The language audit: every page a dispatcher or an employer can reach, crawled in Chinese (the
default), shows no English word outside a short allow-list (codes, units, proper names, ids);
crawled in English, no Chinese except data (what the season stores and the gazetteer's place
names) and text marked `lang="zh"` on purpose (the language switch's 中文); and every error
the JSON API answers (4xx) to a request asking for Chinese has a Chinese `detail`. The pages
and API routes are found from the app itself, so a new page or route is audited without being
listed here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from starlette.routing import Route

from api.jobs import optimizer_planner
from tests.api.conftest import Service, open_season, worker_row
from tests.web.conftest import Browser

SEASON = "s2026"
DAY = "2026-02-06"
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")

# English a Chinese page may show: units and codes people use as such, file formats, the
# language switch's own name, product and vendored-library names, and the planner's field names
# printed as data (CSV headers, policy keys).
ALLOWED = {
    # units, codes, formats
    "km",
    "h",
    "min",
    "s",
    "kg",
    "ID",
    "GB",
    "CSV",
    "csv",
    "XLSX",
    "xlsx",
    "PDF",
    "pdf",
    "JSON",
    "json",
    "ZIP",
    "zip",
    "HTML",
    "html",
    "LP",
    "KPI",
    "OSM",
    "OSRM",
    "GCJ",
    "WGS",
    "UTC",
    # the switch to English is written in English
    "English",
    # names
    "chunyun",
    "OpenStreetMap",
    "Leaflet",
    "ECharts",
    "htmx",
    "Excel",
    # the fixture's account names (tests/api/conftest.py)
    "dispatcher",
}
# A file name is a code (trips.csv, duties.csv), whatever words it is made of.
FILE_NAME = re.compile(r"[\w.-]+\.(?:csv|xlsx|pdf|zip|json|html)\b")
# Attributes whose text a user reads (tooltips, placeholders, alternative texts, button labels).
READ_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}
DOWNLOADS = re.compile(r"\.(csv|xlsx|pdf|zip|json|html)$|/(map|sheet|notices|documents)\b")


class _Text(HTMLParser):
    """The text of a page as a person reads it: element text outside scripts and styles, the
    attributes above, and the labels of buttons; and the page's links. With `skip_chinese`,
    text inside an element marked `lang="zh..."` (Chinese on purpose) is left out."""

    def __init__(self, *, skip_chinese: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._skip_chinese = skip_chinese
        self._open: list[str] = []  # tags of open elements marked Chinese
        self._chinese = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if self._skip_chinese and values.get("lang", "").lower().startswith("zh"):
            self._open.append(tag)
            self._chinese += 1
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        self.parts.extend(v for k, v in values.items() if k in READ_ATTRIBUTES)
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.parts.append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1
        if self._open and self._open[-1] == tag:
            self._open.pop()
            self._chinese -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._chinese:
            self.parts.append(data)


def english_words(html: str, allowed: set[str]) -> list[str]:
    """The English words `html` shows a reader, less the allowed ones and any token that holds
    a digit (ids, codes, dates) or is written in capitals (codes: ALPHA, C53)."""
    parser = _Text()
    parser.feed(html)
    found: list[str] = []
    for text in parser.parts:
        text = FILE_NAME.sub(" ", text)
        for token in re.split(r"[^\w'’-]+", text):
            if not token or any(c.isdigit() for c in token) or not WORD.fullmatch(token):
                continue
            if token in allowed or token.isupper():
                continue
            found.append(token)
    return found


def page_links(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.links


@pytest.fixture(scope="module")
def world(service: Service) -> Iterator[dict[str, Any]]:
    """A season with two companies' workers (one of them without a seat: a one-coach fleet),
    a plan by the real planner, published; a dispatcher and an employer signed in, in Chinese."""
    svc = service
    open_season(svc, SEASON, companies=(("ALPHA", "阿尔法电器"), ("BETA", "贝塔纺织")))
    fleet = [
        {"vehicle_type": "C53", "seats": 53, "count": 1, "cost_per_km": 8.0, "fixed_cost": 1500},
        {"vehicle_type": "C35", "seats": 35, "count": 0, "cost_per_km": 6.0, "fixed_cost": 1200},
    ]
    assert svc.call("POST", f"/api/fleet?season={SEASON}", "dispatcher", json=fleet).is_success
    rows = [
        worker_row(
            n, company_id="ALPHA" if n % 2 else "BETA", home="341221", earliest=DAY, latest=DAY
        )
        for n in range(60)
    ]
    assert svc.call("POST", f"/api/workers?season={SEASON}", "dispatcher", json=rows).is_success
    svc.add_user("d1", "dispatcher")
    svc.add_user("e1", "employer", "ALPHA")
    # The API audit's own accounts: its calls (a sign-out among them) leave the pages' alone.
    svc.add_user("d2", "dispatcher")
    svc.add_user("e2", "employer", "ALPHA")
    svc.planner = optimizer_planner
    dispatcher, employer = Browser(svc), Browser(svc)
    assert dispatcher.sign_in("d1").status_code == 303
    assert employer.sign_in("e1").status_code == 303
    started = dispatcher.post(f"/d/seasons/{SEASON}/plans", {"time_limit_s": "3"})
    assert started.status_code == 303, started.text
    svc.wait_for_jobs()
    plan_url = started.headers["location"]
    assert dispatcher.post(plan_url + "/publish").status_code == 303
    plan_id = int(plan_url.rsplit("/", 1)[1])
    trips = svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
    workers = svc.call("GET", f"/api/workers?season={SEASON}", "e1").json()
    yield {
        "svc": svc,
        "dispatcher": dispatcher,
        "employer": employer,
        "plan_id": plan_id,
        "trip_id": trips[0]["trip_id"],
        "worker_id": workers[0]["id"],
    }


def _page_urls(world: dict[str, Any]) -> list[str]:
    """Every GET page route of the web UI, its path parameters filled from the world."""
    from api.web import common, dispatcher, employer

    values = {
        "plan_id": str(world["plan_id"]),
        "trip_id": world["trip_id"],
        "name": SEASON,
        "fmt": "csv",
        "worker_id": str(world["worker_id"]),
        "user_id": "1",
        "locale": "zh_CN",
        "action": "revoke",
        "company_id": "ALPHA",
        "adcode": "341221",
    }
    urls = []
    for module in (common, employer, dispatcher):
        for route in module.router.routes:
            if isinstance(route, Route) and "GET" in (route.methods or set()):
                if route.path.startswith("/lang/"):
                    continue  # switches the language: the audit stays in Chinese
                urls.append(re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], route.path))
    return urls


def crawl(browser: Browser, start: list[str], limit: int = 400) -> dict[str, str]:
    """The HTML pages `browser` reaches from `start` by following its links on the same site
    (downloads, sign-out and the language switch left out): url -> page."""
    pages: dict[str, str] = {}
    queue = list(start)
    seen = set(queue)
    while queue and len(pages) < limit:
        url = queue.pop(0)
        answer = browser.client.get(url, follow_redirects=True)
        if answer.status_code != 200 or "text/html" not in answer.headers.get("content-type", ""):
            continue
        pages[url] = answer.text
        for link in page_links(answer.text):
            link = urldefrag(link)[0]
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith("/"):
                continue
            if link.startswith(("/static", "/lang/", "/signout", "/api", "/docs", "/redoc")):
                continue
            if DOWNLOADS.search(parts.path) or link in seen:
                continue
            seen.add(link)
            queue.append(link)
    return pages


@pytest.mark.parametrize("who", ["dispatcher", "employer"])
def test_every_page_speaks_chinese(world: dict[str, Any], who: str) -> None:
    """Every page the role reaches (its routes, and the links on them) in Chinese: an English
    word outside the allow-list fails, named with its page."""
    pages = crawl(world[who], _page_urls(world))
    assert len(pages) >= (10 if who == "dispatcher" else 5), sorted(pages)
    found = {
        url: sorted(set(words))
        for url, page in pages.items()
        if (words := english_words(page, ALLOWED))
    }
    assert not found, "\n".join(f"{url}: {words}" for url, words in found.items())


def test_every_audit_action_the_service_writes_has_a_template() -> None:
    """The audit page shows each entry's action in the reader's language: every action the
    service's sources write (`action=` of an audit entry or of the functions that write one,
    and their defaults) is one of api.i18n.AUDIT_ACTIONS, with Chinese."""
    import ast
    from pathlib import Path

    from api import i18n
    from tests.web.test_unserved_details import _Module

    root = Path(i18n.__file__).parent
    actions: list[str] = []
    unknown: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = _Module(tree)
        for node in ast.walk(tree):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                values = [k.value for k in node.keywords if k.arg == "action"]
            if isinstance(node, ast.FunctionDef):
                arguments = node.args.kwonlyargs
                defaults = node.args.kw_defaults
                values = [
                    d for a, d in zip(arguments, defaults, strict=True) if a.arg == "action" and d
                ]
            for value in values:
                actions.extend(module.samples(value, unknown))
    assert not unknown, unknown
    assert len(actions) >= 15, actions
    missing = [a for a in actions if i18n.match_template(a, i18n.AUDIT_ACTIONS) is None]
    assert not missing, f"add these to api.i18n.AUDIT_ACTIONS and the catalogue: {missing}"
    for action in actions:
        shown = i18n.translate_audit_action("zh_CN", action)
        assert CJK.search(shown) and not re.search(r"\b(plan|trip|workers?)\b", shown), shown
        assert i18n.translate_audit_action("en", action) == action


def _api_routes(svc: Service) -> list[tuple[str, str]]:
    """(method, path) of every JSON API route, as the OpenAPI schema lists them."""
    paths = svc.app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )


def test_every_api_error_in_chinese_has_a_chinese_detail(world: dict[str, Any]) -> None:
    """Every route of the JSON API, called as nobody, as an employer and as a dispatcher with ids
    that do not exist and a body of the wrong shape, with Accept-Language: zh: each 4xx answer's
    `detail` is Chinese."""
    svc = world["svc"]
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    callers = {
        "nobody": zh,
        "employer": {**svc.headers("e2"), **zh},
        "dispatcher": {**svc.headers("d2"), **zh},
    }
    english: list[tuple[str, str, str, int, Any]] = []
    errors = 0
    statuses: list[int] = []
    for method, path in _api_routes(svc):
        url = re.sub(r"\{(\w+)(?::\w+)?\}", "999999", path)
        body = {"json": "x"} if method in ("POST", "PUT", "PATCH") else {}
        for who, headers in callers.items():
            if who != "dispatcher" and path == "/api/auth/token":
                continue  # a refused sign-in counts towards the throttle of its address
            if who != "nobody" and path == "/api/auth/logout":
                continue  # would end the token the calls after it use
            answer = svc.client.request(method, url, headers=headers, **body)
            if not 400 <= answer.status_code < 500:
                continue
            errors += 1
            statuses.append(answer.status_code)
            detail = answer.json().get("detail")
            if not (isinstance(detail, str) and CJK.search(detail)):
                english.append((who, method, url, answer.status_code, detail))
    statuses.sort()
    assert errors >= 100 and {401, 403, 404, 422} <= set(statuses), (errors, set(statuses))
    assert not english, "\n".join(map(str, english))


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("dispatcher", "/d/plans/999999", 404),
        ("dispatcher", "/d/plans/999999/trips/X", 404),
        ("dispatcher", "/d/seasons/none-such", 404),
        ("employer", "/d/seasons", 403),
        ("employer", "/e/workers/999999/edit", 404),
    ],
)
def test_error_pages_speak_chinese(world: dict[str, Any], who: str, url: str, status: int) -> None:
    """A page that is not there, or not the role's, says so in Chinese."""
    answer = world[who].client.get(url, follow_redirects=False)
    assert answer.status_code == status, answer.text[:300]
    assert CJK.search(answer.text)
    assert not english_words(answer.text, ALLOWED), english_words(answer.text, ALLOWED)


def test_answers_made_before_the_app_speak_chinese_too(world: dict[str, Any]) -> None:
    """The body-size guard and the NUL-in-address check answer before any route: a body over
    the limit (413) and an address holding %00 (422) get a Chinese `detail` when asked."""
    svc = world["svc"]
    zh = {**svc.headers("d2"), "Accept-Language": "zh"}
    too_large = svc.client.post(
        "/api/companies", headers=zh, content=b"[" + b" " * svc.settings.max_body_bytes + b"]"
    )
    assert too_large.status_code == 413 and CJK.search(too_large.json()["detail"])
    nul = svc.client.get("/api/workers/%00", headers=zh)
    assert nul.status_code == 422 and CJK.search(nul.json()["detail"]), nul.text
    english = svc.client.get("/api/workers/%00", headers=svc.headers("d2"))
    assert english.status_code == 422 and not CJK.search(english.json()["detail"])


def data_values(svc: Service) -> re.Pattern[str]:
    """What counts as data on a page, longest first: the season's workers (names, homes),
    companies, coach operators and hubs as stored, and every place name of the shipped
    gazetteer (county, prefecture, province, full and short)."""
    import csv

    from tests.checker import GEOGRAPHY_DATA

    values: set[str] = set()
    for row in svc.call("GET", f"/api/workers?season={SEASON}", "d2").json():
        values.update((row["name"], row["home"]))
    for path, keys in (
        (f"/api/companies?season={SEASON}", ("name", "address")),
        (f"/api/fleet?season={SEASON}", ("operator",)),
        (f"/api/hubs?season={SEASON}", ("name",)),
    ):
        answer = svc.call("GET", path, "d2")
        assert answer.status_code == 200, (path, answer.text)
        values.update(str(row.get(k) or "") for row in answer.json() for k in keys)
    for name in ("counties.csv", "prefectures.csv", "provinces.csv"):
        with (GEOGRAPHY_DATA / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                values.update(row.get(k) or "" for k in ("name", "short_name", "prefecture"))
                values.add(row.get("province") or "")
    ordered = sorted((v for v in values if CJK.search(v)), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered)))


def chinese_outside_data(html: str, data: re.Pattern[str]) -> list[str]:
    """The texts of `html` a reader sees that hold Chinese once data values are taken out
    (text marked `lang="zh"` left out)."""
    parser = _Text(skip_chinese=True)
    parser.feed(html)
    return [text.strip() for text in parser.parts if CJK.search(data.sub(" ", text))]


@pytest.mark.parametrize(("who", "user"), [("dispatcher", "d1"), ("employer", "e1")])
def test_every_page_in_english_shows_chinese_only_as_data(
    world: dict[str, Any], who: str, user: str
) -> None:
    """Every page the role reaches, with English chosen: a text holding Chinese that is not
    data (a name, a home, a place of the gazetteer) nor marked lang="zh" fails, named with
    its page. The Chinese crawl above keeps its own browsers in Chinese."""
    svc = world["svc"]
    browser = Browser(svc)
    assert browser.sign_in(user).status_code == 303
    assert browser.client.get("/lang/en", follow_redirects=False).status_code == 303
    pages = crawl(browser, _page_urls(world))
    assert len(pages) >= (10 if who == "dispatcher" else 5), sorted(pages)
    switches = [page for page in pages.values() if "/lang/zh_CN" in page]
    assert switches and all('lang="zh">中文</a>' in page for page in switches)
    data = data_values(svc)
    found = {
        url: sorted(set(texts))
        for url, page in pages.items()
        if (texts := chinese_outside_data(page, data))
    }
    assert not found, "\n".join(f"{url}: {texts}" for url, texts in found.items())
