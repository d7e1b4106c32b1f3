"""Fixtures of the service tests: the app on SQLite and on PostgreSQL, accounts, fake planners.

Every test module gets its own database: a fresh SQLite file, or a fresh schema in the
PostgreSQL database at CHUNYUN_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
dropped at the end. PostgreSQL runs are marked `postgres` and skip when the server is down.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api import crud, schemas
from api.core.config import Settings, get_settings
from api.deps import get_planner
from api.main import create_app
from optimizer import model as domain
from optimizer.identity import id_check_char

POSTGRES_URL = os.environ.get(
    "CHUNYUN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "correct-horse-battery"
SEASON = {
    "name": "cixi-2026",
    "direction": "home",
    "origin": "330282",
    "festival_date": "2026-02-17",
    "first_departure": "2026-02-05",
    "last_departure": "2026-02-14",
    "policy": {"max_dropoff_stops": 3},
    "solver": {"time_limit_s": 5},
}
# County seats used as homes (adcodes resolve without the free-text resolver).
HOMES = {"341221": (115.26, 33.06), "411525": (115.65, 32.17), "511725": (106.95, 30.84)}


def make_id_number(serial: int, *, born: str = "19900101", region: str = "340121") -> str:
    """A valid GB 11643 ID number, distinct per `serial` (0-999)."""
    first17 = f"{region}{born}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def worker_row(serial: int, company_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid registration (JSON body item)."""
    row: dict[str, Any] = {
        "worker_id": f"W{serial:04d}",
        "name": f"工人{serial}",
        "id_number": make_id_number(serial),
        "phone": f"139{serial:08d}",
        "home": list(HOMES)[serial % len(HOMES)],
        "earliest": "2026-02-06",
        "latest": "2026-02-10",
        "party": "",
        "seats": 1,
    }
    if company_id is not None:
        row["company_id"] = company_id
    row.update(changes)
    return row


# --- the database under test ---------------------------------------------------------------------


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own for one test module: SQLite file or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'chunyun.db'}"
        return
    if not _postgres_available():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Service:
    """A running app with its database and a controllable planner, for one test module."""

    def __init__(self, database_url: str) -> None:
        self.settings = Settings(
            DATABASE_URL=database_url, CHUNYUN_SECRET_KEY="test-secret-key-of-at-least-32-bytes!"
        )  # type: ignore[call-arg]
        self.planner: Callable[..., domain.Plan] = fake_planner
        self.app = create_app()
        self.app.dependency_overrides[get_settings] = lambda: self.settings
        self.app.dependency_overrides[get_planner] = lambda: self._current_planner
        self.client = TestClient(self.app)
        self._tokens: dict[str, str] = {}

    def _current_planner(
        self, scenario: domain.Scenario, *, locked: Sequence[domain.Trip], progress: Any
    ) -> domain.Plan:
        return self.planner(scenario, locked=locked, progress=progress)

    def session(self) -> Any:
        return self.app.state.session_factory.begin()

    def add_user(self, username: str, role: str, company_id: str | None = None) -> None:
        with self.session() as session:
            crud.create_user(
                session,
                user_in=schemas.UserCreate(
                    username=username,
                    password=PASSWORD,
                    role=role,  # type: ignore[arg-type]
                    company_id=company_id,
                ),
            )

    def headers(self, username: str | None) -> dict[str, str]:
        """Bearer headers of `username` (None: anonymous)."""
        if username is None:
            return {}
        if username not in self._tokens:
            response = self.client.post(
                "/api/auth/token", data={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def forget_token(self, username: str) -> None:
        """Drop the cached token of `username` (after it was revoked)."""
        self._tokens.pop(username, None)

    def call(self, method: str, url: str, user: str | None, **kwargs: Any) -> Any:
        return self.client.request(method, url, headers=self.headers(user), **kwargs)

    def wait_for_jobs(self, timeout_s: float = 60.0) -> None:
        assert self.app.state.job_runner.wait(timeout_s), "planning job did not finish"

    def run_plan(self, season: str, user: str = "dispatcher", **body: Any) -> dict[str, Any]:
        """Start a plan, wait for it, and return its final state."""
        response = self.call("POST", "/api/plans", user, json={"season": season, **body})
        assert response.status_code == 202, response.text
        self.wait_for_jobs()
        final = self.call("GET", f"/api/plans/{response.json()['id']}", user)
        assert final.status_code == 200, final.text
        result: dict[str, Any] = final.json()
        return result


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[Service]:
    """The app on this module's database, with a dispatcher account named 'dispatcher'."""
    svc = Service(database_url)
    with svc.client:
        svc.add_user("dispatcher", "dispatcher")
        yield svc
        svc.wait_for_jobs()


def open_season(
    svc: Service,
    name: str,
    companies: Sequence[tuple[str, str]] = (("ALPHA", "阿尔法电器"),),
    **changes: Any,
) -> None:
    """A season with the given companies (id, name) and two coach types."""
    body = {**SEASON, "name": name, **changes}
    assert svc.call("POST", "/api/seasons", "dispatcher", json=body).status_code == 201
    gates = [
        {"company_id": cid, "name": cname, "lon": 121.24 + 0.01 * i, "lat": 30.17}
        for i, (cid, cname) in enumerate(companies)
    ]
    response = svc.call("POST", f"/api/companies?season={name}", "dispatcher", json=gates)
    assert response.status_code == 200, response.text
    fleet = [
        {"vehicle_type": "C53", "seats": 53, "count": 20, "cost_per_km": 8.0, "fixed_cost": 1500},
        {"vehicle_type": "C35", "seats": 35, "count": 20, "cost_per_km": 6.0, "fixed_cost": 1200},
    ]
    assert (
        svc.call("POST", f"/api/fleet?season={name}", "dispatcher", json=fleet).status_code == 200
    )


# --- planners injected into the job runner --------------------------------------------------------


def fake_planner(
    scenario: domain.Scenario,
    *,
    locked: Sequence[domain.Trip] = (),
    progress: Callable[[float, str], None] | None = None,
) -> domain.Plan:
    """A deterministic stand-in for optimizer.solve: one coach per home county and company
    group, largest coach type, locked trips kept as given. Fast and predictable, so the tests
    check the service (jobs, locking, publishing, access), not the optimizer."""
    seated = {p.worker_id for t in locked for p in t.passengers}
    gates = {c.company_id: c for c in scenario.companies}
    largest = max(scenario.fleet, key=lambda v: v.seats)
    groups: dict[tuple[str, dt.date], list[domain.Worker]] = defaultdict(list)
    unserved = []
    for worker in scenario.workers:
        if worker.worker_id in seated:
            continue
        if not worker.home_adcode:
            unserved.append(domain.Unserved(worker.worker_id, domain.UnservedReason.UNKNOWN_HOME))
            continue
        groups[(worker.home_adcode, worker.earliest)].append(worker)
    trips = list(locked)
    taken = {t.trip_id for t in trips}
    for number, ((adcode, day), members) in enumerate(sorted(groups.items())):
        for start in range(0, len(members), largest.seats):
            chunk = members[start : start + largest.seats]
            trip_id, suffix = f"T{day:%m%d}-{adcode}-{number}-{start}", 0
            while trip_id in taken:  # a re-plan numbers its new trips after the locked ones
                suffix += 1
                trip_id = f"T{day:%m%d}-{adcode}-{number}-{start}-{suffix}"
            taken.add(trip_id)
            companies = sorted({w.company_id for w in chunk})
            depart = dt.datetime.combine(day, dt.time(8, 0))
            stops = []
            for index, company_id in enumerate(companies):
                gate = gates[company_id]
                at = depart + dt.timedelta(minutes=30 * index)
                stops.append(
                    domain.Stop(
                        kind="pickup",
                        lon=gate.lon,
                        lat=gate.lat,
                        arrive=at,
                        depart=at,
                        company_id=company_id,
                        name=gate.name,
                        board=tuple(w.worker_id for w in chunk if w.company_id == company_id),
                    )
                )
            lon, lat = HOMES.get(adcode, (117.0, 31.0))
            arrive = depart + dt.timedelta(hours=9)
            stops.append(
                domain.Stop(
                    kind="dropoff",
                    lon=lon,
                    lat=lat,
                    arrive=arrive,
                    depart=arrive,
                    km_from_previous=700.0,
                    adcode=adcode,
                    alight=tuple(w.worker_id for w in chunk),
                )
            )
            passengers, seat = [], 1
            for worker in chunk:
                board = companies.index(worker.company_id)
                passengers.append(
                    domain.Passenger(
                        worker_id=worker.worker_id,
                        company_id=worker.company_id,
                        seat=seat,
                        board_stop=board,
                        alight_stop=len(stops) - 1,
                        seat_count=worker.seats,
                        party=worker.party,
                    )
                )
                seat += worker.seats
            trips.append(
                domain.Trip(
                    trip_id=trip_id,
                    vehicle_type=largest.vehicle_type,
                    seats=largest.seats,
                    drivers=2,
                    departure_date=day,
                    stops=tuple(stops),
                    passengers=tuple(passengers),
                    distance_km=700.0,
                    driving_minutes=540,
                    cost=largest.fixed_cost + 700 * largest.cost_per_km,
                )
            )
    if progress is not None:
        progress(1.0, "done")
    seats_used = sum(t.seats_used for t in trips)
    kpis = domain.Kpis(
        workers=len(scenario.workers),
        seated=sum(len(t.passengers) for t in trips),
        unserved=len(unserved),
        trips=len(trips),
        seats_offered=sum(t.seats for t in trips),
        seat_utilization=seats_used / max(1, sum(t.seats for t in trips)),
        coach_km=sum(t.distance_km for t in trips),
        passenger_km=700.0 * seats_used,
        cost=sum(t.cost for t in trips),
        lower_bound_trips=0,
        lower_bound_coach_km=0.0,
        solve_seconds=0.01,
    )
    return domain.Plan(
        scenario=scenario.name,
        direction=scenario.direction,
        trips=tuple(trips),
        unserved=tuple(unserved),
        kpis=kpis,
    )


def failing_planner(scenario: domain.Scenario, **_: Any) -> domain.Plan:
    """A planner that gives up the way the optimizer does on bad input."""
    from optimizer.errors import InvalidInput

    raise InvalidInput("fleet.csv has no coach type with seats")


class BlockingPlanner:
    """A planner that reports progress, then waits until released (for concurrency tests)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, scenario: domain.Scenario, **kwargs: Any) -> domain.Plan:
        progress = kwargs.get("progress")
        if progress is not None:
            progress(0.25, "grouping workers")
        self.started.set()
        assert self.release.wait(30), "test never released the planner"
        return fake_planner(scenario, locked=kwargs.get("locked", ()))


def replace_trip(trip: domain.Trip, **changes: Any) -> domain.Trip:
    return dataclasses.replace(trip, **changes)
