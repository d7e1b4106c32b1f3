"""Concurrency on a real `uvicorn` server with real threads, on SQLite and PostgreSQL: uploads
that carry the same person at the same moment all finish (none hangs, none is lost, none is
stored twice), the health check answers meanwhile, and a database error's log line holds no
personal data."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.api.conftest import make_id_number, worker_row
from tests.api.live import add_dispatcher, csv_bytes, live_server, token
from tests.conftest import log_dir, personal_data_in

PASSWORD = "charter-coach-password-7"
SEASON = {
    "name": "live-2026",
    "direction": "home",
    "origin": "330282",
    "festival_date": "2026-02-17",
    "first_departure": "2026-02-05",
    "last_departure": "2026-02-14",
}
# A request that has not finished in this time has hung: the bug this module guards against.
HANG_S = 90


class Live:
    def __init__(self, base: str, log_file: Path) -> None:
        self.base = base
        self.log_file = log_file
        self.headers = token(base, "dispatcher", PASSWORD)

    def upload(self, rows: list[dict[str, Any]], company: str = "ALPHA") -> httpx.Response:
        return httpx.post(
            f"{self.base}/api/workers/upload",
            params={"season": SEASON["name"], "company_id": company},
            files={"file": ("w.csv", csv_bytes(rows))},
            headers=self.headers,
            timeout=HANG_S,
        )

    def workers(self) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.base}/api/workers",
            params={"season": SEASON["name"], "masked": "true"},
            headers=self.headers,
            timeout=HANG_S,
        )
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()
        return result


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[Live]:
    add_dispatcher(database_url, "dispatcher", PASSWORD)
    log_file = log_dir() / f"server-concurrency-{uuid.uuid4().hex[:8]}.log"
    with live_server(database_url, log_file) as base:
        svc = Live(base, log_file)
        assert httpx.post(
            f"{base}/api/seasons", json=SEASON, headers=svc.headers, timeout=30
        ).is_success
        gates = [
            {"company_id": "ALPHA", "name": "阿尔法", "lon": 121.24, "lat": 30.17},
            {"company_id": "BETA", "name": "贝塔", "lon": 121.25, "lat": 30.17},
        ]
        assert httpx.post(
            f"{base}/api/companies",
            params={"season": SEASON["name"]},
            json=gates,
            headers=svc.headers,
            timeout=30,
        ).is_success
        yield svc


def _same_person_twice(live: Live, serial: int, phones: tuple[str, str]) -> list[int]:
    rows = [[worker_row(serial, phone=phone)] for phone in phones]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(live.upload, rows))
    return [a.status_code for a in answers]


def test_two_uploads_of_the_same_new_person_both_finish(live: Live) -> None:
    """Two 1-row uploads of the same new person at the same moment both answer 200 (three
    times over), and the person is stored once, with one of the two phones."""
    for serial in (301, 302, 303):
        statuses = _same_person_twice(live, serial, ("13900000301", "13900000302"))
        assert statuses == [200, 200]
    stored = [w for w in live.workers() if w["worker_id"] in ("W0301", "W0302", "W0303")]
    assert sorted(w["worker_id"] for w in stored) == ["W0301", "W0302", "W0303"]


def test_two_uploads_changing_a_known_persons_phone_both_finish(live: Live) -> None:
    """A registered person whose phone two clerks change at once: both answers 200, one row."""
    assert live.upload([worker_row(310)]).status_code == 200
    statuses = _same_person_twice(live, 310, ("13700000001", "13700000002"))
    assert statuses == [200, 200]
    assert [w["worker_id"] for w in live.workers()].count("W0310") == 1


def test_overlapping_uploads_lose_and_duplicate_nothing(live: Live) -> None:
    """12 uploads of 20 rows sent together, each overlapping its neighbours by 10 people: every
    answer is 200, every person is stored exactly once, and /api/health answers meanwhile."""
    files = [
        [worker_row(400 + 10 * i + j, name=f"工人{400 + 10 * i + j}") for j in range(20)]
        for i in range(12)
    ]
    expected = {f"W{400 + n:04d}" for n in range(10 * 11 + 20)}
    with concurrent.futures.ThreadPoolExecutor(13) as pool:
        uploads = [pool.submit(live.upload, rows) for rows in files]
        health = pool.submit(httpx.get, f"{live.base}/api/health", timeout=HANG_S)
        statuses = [u.result().status_code for u in uploads]
        assert health.result().status_code == 200
    assert statuses == [200] * len(files)
    stored = [w["worker_id"] for w in live.workers() if w["worker_id"] in expected]
    assert sorted(stored) == sorted(expected)


def test_an_employer_cannot_take_over_a_person_in_a_race(live: Live, database_url: str) -> None:
    """Two companies registering the same person at once: one wins, the other is refused; the
    row is never moved to the loser's company."""
    for company in ("ALPHA", "BETA"):
        httpx.post(
            f"{live.base}/api/users",
            json={
                "username": f"emp-{company.lower()}",
                "password": PASSWORD,
                "role": "employer",
                "company_id": company,
            },
            headers=live.headers,
            timeout=30,
        )
    headers = {c: token(live.base, f"emp-{c.lower()}", PASSWORD) for c in ("ALPHA", "BETA")}
    row = worker_row(320, worker_id="RACE")

    def send(company: str) -> httpx.Response:
        return httpx.post(
            f"{live.base}/api/workers",
            params={"season": SEASON["name"]},
            json=[row],
            headers=headers[company],
            timeout=HANG_S,
        )

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(send, ("ALPHA", "BETA")))
    statuses = sorted(a.status_code for a in answers)
    assert statuses[0] == 200 and statuses[1] in (409, 422), [a.text for a in answers]
    winner = "ALPHA" if answers[0].status_code == 200 else "BETA"
    [stored] = [w for w in live.workers() if w["worker_id"] == "RACE"]
    assert stored["company_id"] == winner


def test_database_error_during_an_insert_logs_no_personal_data(
    live: Live, database_url: str
) -> None:
    """An insert the database refuses unexpectedly answers a JSON 500, and the server's log
    line names the statement but not the ID number, phone or name being saved."""
    phone = "13911112222"
    engine = create_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_phone BEFORE INSERT ON workers "
                    f"WHEN NEW.phone = '{phone}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            connection.execute(
                text(f"ALTER TABLE workers ADD CONSTRAINT refuse_phone CHECK (phone <> '{phone}')")
            )
    try:
        row = worker_row(330, phone=phone, name="日志测试")
        response = live.upload([row])
    finally:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(text("DROP TRIGGER refuse_phone"))
            else:
                connection.execute(text("ALTER TABLE workers DROP CONSTRAINT refuse_phone"))
        engine.dispose()
    assert response.status_code in (409, 500), response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "detail" in response.json()
    logged = live.log_file.read_text(encoding="utf-8", errors="replace")
    assert "POST /api/workers/upload" in logged
    assert make_id_number(330) not in logged and phone not in logged and "日志测试" not in logged
    assert personal_data_in(logged) == []
