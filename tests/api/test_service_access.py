"""Every endpoint x every role, generated from the app's own routes (its OpenAPI paths).

Anonymous callers get 401 everywhere but sign-in and health; employers get 403 on dispatcher
endpoints; and an employer pointing any endpoint at another company's data (its workers, its
company, its trips, a draft plan) neither reads a trace of it nor changes it.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from api import crud
from api.main import create_app
from tests.api.conftest import PASSWORD, Service, make_id_number, open_season, worker_row

SEASON = "matrix-2026"
BETA = "CO-BETA-7731"
BETA_NAME = "贝塔制造"

ROUTES = sorted(
    (method.upper(), path)
    for path, operations in create_app().openapi()["paths"].items()
    for method in operations
)
PUBLIC = {("POST", "/api/auth/token"), ("GET", "/api/health")}
DISPATCHER_ONLY = {
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("POST", "/api/seasons"),
    ("PATCH", "/api/seasons/{name}"),
    ("POST", "/api/seasons/{name}/fleet-size"),
    ("POST", "/api/companies"),
    ("DELETE", "/api/companies/{company_id}"),
    ("GET", "/api/hubs"),
    ("POST", "/api/hubs"),
    ("DELETE", "/api/hubs/{hub_id}"),
    ("GET", "/api/fleet"),
    ("POST", "/api/fleet"),
    ("DELETE", "/api/fleet/{vehicle_type}"),
    ("POST", "/api/plans"),
    ("POST", "/api/plans/{plan_id}/publish"),
    ("POST", "/api/plans/{plan_id}/cancel"),
    ("GET", "/api/plans/{plan_id}/map.html"),
    ("GET", "/api/plans/{plan_id}/documents.zip"),
    ("POST", "/api/plans/{plan_id}/moves"),
    ("POST", "/api/plans/{plan_id}/trips/{trip_id}/{action}"),
    ("GET", "/api/audit"),
    ("POST", "/api/users/{user_id}/disable"),
    ("POST", "/api/users/{user_id}/enable"),
    ("POST", "/api/users/{user_id}/revoke-tokens"),
    ("PUT", "/api/plans/{plan_id}/trips/{trip_id}/crew"),
    ("DELETE", "/api/plans/{plan_id}/trips/{trip_id}/crew"),
    ("GET", "/api/plans/{plan_id}/crews/template.xlsx"),
    ("POST", "/api/plans/{plan_id}/crews"),
    ("POST", "/api/plans/{plan_id}/late"),
    ("GET", "/api/plans/{plan_id}/duties.csv"),
    ("PUT", "/api/seasons/{name}/drop-points/{adcode}"),
    ("DELETE", "/api/seasons/{name}/drop-points/{adcode}"),
    ("POST", "/api/plans/{plan_id}/changes/confirm"),
}
SIGNED_IN = {
    ("GET", "/api/users/me"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/seasons"),
    ("GET", "/api/seasons/{name}"),
    ("GET", "/api/companies"),
    ("GET", "/api/companies/{company_id}"),
    ("GET", "/api/workers"),
    ("POST", "/api/workers"),
    ("POST", "/api/workers/upload"),
    ("GET", "/api/workers/template.xlsx"),
    ("GET", "/api/workers/{worker_id}"),
    ("DELETE", "/api/workers/{worker_id}"),
    ("GET", "/api/plans"),
    ("GET", "/api/plans/{plan_id}"),
    ("GET", "/api/plans/{plan_id}/trips"),
    ("GET", "/api/plans/{plan_id}/trips/{trip_id}"),
    ("GET", "/api/plans/{plan_id}/trips/{trip_id}/manifest.{fmt}"),
    ("GET", "/api/plans/{plan_id}/trips/{trip_id}/map.html"),
    ("GET", "/api/plans/{plan_id}/costs"),
    ("GET", "/api/plans/{plan_id}/costs/{company_id}.xlsx"),
    ("GET", "/api/plans/{plan_id}/costs/{company_id}.pdf"),
    ("GET", "/api/plans/{plan_id}/changes"),
    ("GET", "/api/plans/{plan_id}/notices.csv"),
    ("GET", "/api/plans/{plan_id}/trips.csv"),
    ("GET", "/api/seasons/{name}/drop-points"),
    ("GET", "/api/plans/{plan_id}/trips/{trip_id}/sheet.pdf"),
    ("GET", "/api/plans/{plan_id}/companies/{company_id}/notices.csv"),
}


def _missing_writers() -> set[str]:
    try:
        import api.documents as documents
    except ImportError:
        return {"xlsx", "pdf"}
    return {f for f in ("xlsx", "pdf") if not hasattr(documents, f"write_manifest_{f}")}


# Formats whose writers come from another package answer 501 only while it is missing.
OPTIONAL_OUTPUTS = _missing_writers()


def test_every_route_has_an_access_rule() -> None:
    """Adding an endpoint without deciding who may call it fails here."""
    assert set(ROUTES) == PUBLIC | DISPATCHER_ONLY | SIGNED_IN
    assert not (PUBLIC & DISPATCHER_ONLY or PUBLIC & SIGNED_IN or DISPATCHER_ONLY & SIGNED_IN)


class World:
    """Two companies with workers on shared and separate trips, a published plan and a draft."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc
        open_season(svc, SEASON, companies=[("ALPHA", "阿尔法电器"), (BETA, BETA_NAME)])
        svc.add_user("alpha", "employer", "ALPHA")
        svc.add_user("beta", "employer", BETA)
        svc.add_user("spare-account", "employer", BETA)  # the account routes act on this one
        with svc.session() as session:
            spare = crud.get_user_by_username(session, username="spare-account")
            assert spare is not None
            self.spare_user = spare.id
        hubs = [
            {"hub_id": "HUB-1", "name": "浒山客运站", "lon": 121.27, "lat": 30.18},
            {"hub_id": "HUB-2", "name": "周巷客运站", "lon": 121.16, "lat": 30.19},
        ]
        assert svc.call("POST", f"/api/hubs?season={SEASON}", "dispatcher", json=hubs).is_success
        svc.call(
            "POST",
            f"/api/fleet?season={SEASON}",
            "dispatcher",
            json={
                "vehicle_type": "SPARE",
                "seats": 20,
                "count": 0,
                "cost_per_km": 1,
                "fixed_cost": 1,
            },
        )
        alpha = [worker_row(n, name=f"阿尔法工人{n}", home="341221") for n in range(1, 7)]
        alpha[4]["earliest"] = alpha[5]["earliest"] = "2026-02-08"  # an ALPHA-only trip
        beta = [
            worker_row(
                n,
                name=f"贝塔工人{n}",
                worker_id=f"BETA-W{n}",
                home="341221",
                phone=f"1867777{n + 8800:04d}",
            )
            for n in range(11, 17)
        ]
        beta[4]["earliest"] = beta[5]["earliest"] = "2026-02-07"  # a BETA-only trip
        assert (
            svc.call("POST", f"/api/workers?season={SEASON}", "alpha", json=alpha).status_code
            == 200
        )
        response = svc.call("POST", f"/api/workers?season={SEASON}", "beta", json=beta)
        assert response.status_code == 200, response.text
        self.beta_keys = {str(w["id"]) for w in response.json()["workers"]}
        self.beta_worker = min(int(k) for k in self.beta_keys)
        self.markers = [BETA, BETA_NAME, "BETA-W"]
        for row in beta:
            self.markers += [row["name"], row["id_number"], row["phone"], row["phone"][-4:] + '"']
        self.published = svc.run_plan(SEASON)["id"]
        assert (
            svc.call("POST", f"/api/plans/{self.published}/publish", "dispatcher").status_code
            == 200
        )
        self.draft = svc.run_plan(SEASON)["id"]
        trips = svc.call("GET", f"/api/plans/{self.published}/trips", "dispatcher").json()
        companies = {t["trip_id"]: {p["company_id"] for p in t["passengers"]} for t in trips}
        self.mixed_trip = next(t for t, c in companies.items() if c == {"ALPHA", BETA})
        self.beta_trip = next(t for t, c in companies.items() if c == {BETA})
        spare = svc.call(
            "POST",
            f"/api/workers?season={SEASON}&company_id={BETA}",
            "dispatcher",
            json=worker_row(99, name="备用"),
        )
        self.spare_worker = spare.json()["workers"][0]["id"]

    def snapshot(self) -> Any:
        """Everything of BETA's that an employer of ALPHA might change."""
        with self.svc.session() as session:
            season = crud.resolve_season(session, name=SEASON)
            workers = [
                (
                    w.id,
                    w.company_id,
                    w.worker_code,
                    w.name,
                    w.id_number,
                    w.phone,
                    w.home,
                    w.earliest,
                    w.latest,
                    w.party,
                    w.seats,
                )
                for w in crud.list_workers(session, season=season, company_id=BETA)
            ]
            company = crud.get_company(session, season=season, company_id=BETA)
            assert company is not None
            trips = crud.plan_trips(session, plan_id=self.published)
            return workers, (company.name, company.lon, company.lat), trips


@pytest.fixture(scope="module")
def world(service: Service) -> World:
    return World(service)


def _fill(path: str, world: World, variant: dict[str, str]) -> str:
    values = {
        "name": SEASON,
        "company_id": BETA,
        "vehicle_type": "SPARE",
        "hub_id": variant.get("hub_id", "HUB-1"),
        "worker_id": str(variant.get("worker_id", world.beta_worker)),
        "plan_id": str(world.published if variant.get("plan") != "draft" else world.draft),
        "trip_id": world.beta_trip if variant.get("trip") == "beta" else world.mixed_trip,
        "fmt": variant.get("fmt", "json"),
        "user_id": str(world.spare_user),
        "adcode": "341221",
        "action": "lock",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def _request(
    method: str, path: str, world: World, user: str | None, variant: dict[str, str]
) -> Any:
    """Send a plausible request to the route, aimed at BETA's data wherever it names any."""
    url = _fill(path, world, variant)
    params = {"season": SEASON, "company_id": BETA}
    body: dict[str, Any] = {}
    new_person = worker_row(
        500 + len(world.markers) % 400,
        company_id=BETA,
        name=f"探针{uuid.uuid4().hex[:6]}",
        id_number=make_id_number(int(uuid.uuid4().int % 900) + 100, born="19850505"),
    )
    key = (method, path)
    if key == ("POST", "/api/auth/token"):
        body = {"data": {"username": "alpha", "password": PASSWORD}}
    elif key == ("POST", "/api/users"):
        body = {
            "json": {
                "username": f"u-{uuid.uuid4().hex[:8]}",
                "password": PASSWORD,
                "role": "employer",
                "company_id": BETA,
            }
        }
    elif key == ("POST", "/api/seasons"):
        body = {
            "json": {
                "name": f"s-{uuid.uuid4().hex[:8]}",
                "direction": "home",
                "origin": "330282",
                "festival_date": "2026-02-17",
                "first_departure": "2026-02-05",
                "last_departure": "2026-02-14",
            }
        }
    elif key == ("PATCH", "/api/seasons/{name}"):
        body = {"json": {"is_open": True}}
    elif key == ("POST", "/api/companies"):
        body = {"json": {"company_id": BETA, "name": BETA_NAME, "lon": 121.25, "lat": 30.17}}
    elif key == ("POST", "/api/hubs"):
        body = {"json": {"hub_id": "HUB-1", "name": "浒山客运站", "lon": 121.27, "lat": 30.18}}
    elif key == ("POST", "/api/fleet"):
        body = {
            "json": {
                "vehicle_type": "SPARE",
                "seats": 20,
                "count": 0,
                "cost_per_km": 1,
                "fixed_cost": 1,
            }
        }
    elif key == ("POST", "/api/workers"):
        body = {"json": [new_person]}
    elif key == ("POST", "/api/workers/upload"):
        header = ",".join(new_person)
        line = ",".join(str(v) for v in new_person.values())
        body = {"files": {"file": ("w.csv", f"{header}\n{line}\n".encode())}}
    elif key == ("POST", "/api/plans"):
        body = {"json": {"season": SEASON}}
    elif key == ("PUT", "/api/plans/{plan_id}/trips/{trip_id}/crew"):
        serial = uuid.uuid4().int
        born = f"19{60 + serial % 40}{1 + serial // 40 % 12:02d}{1 + serial // 480 % 28:02d}"
        body = {
            "json": {
                "plate": f"浙B{serial % 100000:05d}",
                "coach_type": "C53",
                "coach_seats": 53,
                "operator": "宁波长运",
                "drivers": [
                    {
                        "name": f"司机{n}",
                        "licence": make_id_number(n, born=born),
                        "phone": f"138{serial % 10**8:08d}",
                    }
                    for n in range(3)
                ],
                "escort_name": "车长",
                "escort_phone": "13912345678",
            }
        }
    elif key == ("PUT", "/api/seasons/{name}/drop-points/{adcode}"):
        body = {"json": {"name": "临泉县汽车站", "address": "人民路1号"}}
    elif key == ("POST", "/api/plans/{plan_id}/changes/confirm"):
        body = {"json": {"ids": []}}
    elif key == ("POST", "/api/plans/{plan_id}/crews"):
        body = {"files": {"file": ("c.csv", "车次,车牌号,车型,核定座位,经营者\n".encode())}}
    elif key == ("POST", "/api/plans/{plan_id}/moves"):
        body = {"json": {"worker": str(world.beta_worker), "to_trip": world.mixed_trip}}
    response = world.svc.call(method, url, user, params=params, **body)
    if key == ("POST", "/api/auth/logout") and user is not None:
        world.svc.forget_token(user)  # signed out everywhere: the next call signs in again
    return response


def _variants(path: str) -> list[dict[str, str]]:
    variants: list[dict[str, str]] = [{}]
    if "{plan_id}" in path:
        variants = [{"plan": "published"}, {"plan": "draft"}]
    if "{trip_id}" in path:
        variants = [v | {"trip": t} for v in variants for t in ("mixed", "beta")]
    if "{fmt}" in path:
        variants = [v | {"fmt": f} for v in variants for f in ("json", "csv", "xlsx", "pdf")]
    return variants


CASES = [
    pytest.param(method, path, variant, id=f"{method} {path} {'-'.join(variant.values())}".strip())
    for method, path in ROUTES
    for variant in _variants(path)
]


def _leaks(response: Any, world: World) -> list[str]:
    """BETA's data found in a response: marker strings, BETA's company, BETA's worker keys."""
    text = response.content.decode("utf-8", errors="ignore")
    # An error message may name what the caller asked for (BETA's id came from the request).
    markers = [m for m in world.markers if response.status_code < 400 or m != BETA]
    found = [m for m in markers if m in text]
    if response.headers.get("content-type", "").startswith("application/json"):

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("worker", "board", "alight") or key.startswith("workers_"):
                        values = value if isinstance(value, list) else [value]
                        found.extend(f"worker key {v}" for v in values if str(v) in world.beta_keys)
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(json.loads(text))
    return found


@pytest.mark.parametrize(("method", "path", "variant"), CASES)
def test_anonymous(world: World, method: str, path: str, variant: dict[str, str]) -> None:
    """Without a token, only sign-in and health answer."""
    response = _request(method, path, world, None, variant)
    if (method, path) in PUBLIC:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 401, response.text
        assert response.headers.get("www-authenticate") == "Bearer"


@pytest.mark.parametrize(("method", "path", "variant"), CASES)
def test_employer_never_reaches_another_company(
    world: World, method: str, path: str, variant: dict[str, str]
) -> None:
    """An employer aiming at another company's data gets 403/404 or its own data only, and
    the other company's data is unchanged afterwards."""
    before = world.snapshot()
    response = _request(method, path, world, "alpha", variant)
    if (method, path) in DISPATCHER_ONLY:
        assert response.status_code == 403, response.text
        assert response.json() == {"detail": "only a dispatcher may do this"}
    elif (
        variant.get("plan") == "draft"
        or variant.get("trip") == "beta"
        or "{worker_id}" in path
        or "{company_id}" in path
    ):
        assert response.status_code == 404, response.text
    elif variant.get("fmt") in OPTIONAL_OUTPUTS:
        assert response.status_code == 501, response.text
    elif (method, path) == ("POST", "/api/auth/logout"):
        assert response.status_code == 204, response.text
    else:
        assert response.status_code == 200, response.text
    assert _leaks(response, world) == []
    world.svc.wait_for_jobs()
    assert world.snapshot() == before
    if method == "POST" and path.startswith("/api/workers") and response.status_code == 200:
        assert {w["company_id"] for w in response.json()["workers"]} == {"ALPHA"}


@pytest.mark.parametrize(("method", "path", "variant"), CASES)
def test_dispatcher_reaches_everything(
    world: World, method: str, path: str, variant: dict[str, str]
) -> None:
    """A dispatcher is never refused for its role; reads of existing things succeed."""
    if method == "DELETE" and "{worker_id}" in path:
        variant = variant | {"worker_id": str(world.spare_worker)}
    if method == "DELETE" and "{hub_id}" in path:
        variant = variant | {"hub_id": "HUB-2"}
    response = _request(method, path, world, "dispatcher", variant)
    world.svc.wait_for_jobs()
    assert response.status_code not in (401, 403), response.text
    if variant.get("fmt") in OPTIONAL_OUTPUTS and response.status_code == 501:
        return
    if method == "DELETE" and "{company_id}" in path:
        assert response.status_code == 409  # BETA still has workers
    elif method == "POST" and path == "/api/plans":
        assert response.status_code == 202
    elif method == "DELETE" and "{adcode}" in path:
        assert response.status_code in (204, 404)  # 404 once the point is gone
    elif path.endswith("/cancel"):
        assert response.status_code == 409  # both plans are finished: nothing to cancel
    elif path.endswith("/late") and variant.get("plan") == "draft":
        assert response.status_code == 409  # late registrations go on the published plan
    elif path in ("/api/plans/{plan_id}/moves", "/api/plans/{plan_id}/trips/{trip_id}/{action}"):
        # A hand change the checks may refuse (published plan, same trip, draft not lockable).
        assert response.status_code in (200, 409), response.text
    else:
        assert response.status_code < 300, response.text


def test_employer_cannot_read_another_employers_person_by_registering_them(world: World) -> None:
    """Registering a person of BETA as ALPHA is refused without showing BETA's record."""
    with world.svc.session() as session:
        [person] = [
            w
            for w in crud.list_workers(
                session, season=crud.resolve_season(session, name=SEASON), company_id=BETA
            )
            if w.id == world.beta_worker
        ]
        row = worker_row(0, name="冒名", id_number=person.id_number)
    response = world.svc.call("POST", f"/api/workers?season={SEASON}", "alpha", json=row)
    assert response.status_code == 422
    assert _leaks(response, world) == []
