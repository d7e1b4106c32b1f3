"""Load on a real server over loopback: many clerks uploading overlapping registration files at
the same moment, against SQLite or PostgreSQL.

    python -m benchmarks.service_load --database sqlite --uploads 50
    python -m benchmarks.service_load --database postgresql --uploads 200 \\
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Starts `uvicorn api.main:create_app` on 127.0.0.1 (a fresh SQLite file, or a fresh schema of the
PostgreSQL database, dropped at the end), opens a season, then sends `--uploads` CSV files of
`--rows` rows at once from as many threads; each file shares `--overlap` people with the next one
(with a changed phone), so the same person arrives in two files at the same moment. Meanwhile
`/api/health` is polled every 0.25 s. Afterwards it counts what the database holds.

Prints (and with --json writes) answers by status, upload latency p50/p95/max, health latency
p50/p95/max, people lost and duplicated, and the machine's load average before and after. Loopback
only; bounded: every request has a timeout and the run stops after --max-seconds.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text

from api import crud, models, schemas
from api.core.db import make_engine, make_session_factory, migrate
from optimizer.identity import id_check_char
from tests.api.live import csv_bytes, live_server, token

PASSWORD = "charter-load-test-pw-1"
SEASON = {
    "name": "load-2026",
    "direction": "home",
    "origin": "330282",
    "festival_date": "2026-02-17",
    "first_departure": "2026-02-05",
    "last_departure": "2026-02-14",
}
COMPANIES = 10
HOMES = ("341221", "411525", "511725", "522427", "421127")


def id_number(serial: int) -> str:
    """A valid GB 11643 ID number, distinct for every serial below 3.6 million."""
    born = dt.date(1980, 1, 1) + dt.timedelta(days=serial // 1000)
    first17 = f"340121{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def person(serial: int, file_number: int) -> dict[str, Any]:
    return {
        "worker_id": f"P{serial:06d}",
        "name": f"工人{serial}",
        "id_number": id_number(serial),
        # The phone depends on the file: overlapping files change each other's people.
        "phone": f"13{file_number % 10}{serial:08d}"[:11],
        "home": HOMES[serial % len(HOMES)],
        "earliest": "2026-02-06",
        "latest": "2026-02-10",
        "party": "",
        "seats": 1,
    }


def files(uploads: int, rows: int, overlap: int) -> list[list[dict[str, Any]]]:
    step = rows - overlap
    return [[person(i * step + j, i) for j in range(rows)] for i in range(uploads)]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def prepare(database: str, postgres_url: str, workdir: Path) -> tuple[str, str | None]:
    """The database URL the server uses (fresh), and the PostgreSQL schema to drop later."""
    if database == "sqlite":
        return f"sqlite:///{workdir / 'load.db'}", None
    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{postgres_url}?options=-csearch_path%3D{schema}", schema


def add_dispatcher(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with make_session_factory(engine).begin() as session:
        crud.create_user(
            session,
            user_in=schemas.UserCreate(username="dispatcher", password=PASSWORD, role="dispatcher"),
        )
    engine.dispose()


def stored(database_url: str) -> tuple[int, int]:
    """Rows and distinct ID numbers of the season's workers."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows, distinct = connection.execute(
            select(func.count(models.Worker.id), func.count(func.distinct(models.Worker.id_number)))
        ).one()
    engine.dispose()
    return int(rows), int(distinct)


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="chunyun-load-"))
    database_url, schema = prepare(args.database, args.postgres_url, workdir)
    add_dispatcher(database_url)
    batches = files(args.uploads, args.rows, args.overlap)
    expected = {p["id_number"] for batch in batches for p in batch}
    statuses: dict[str, int] = {}
    upload_s: list[float] = []
    health_s: list[float] = []
    health_failures = 0
    environment = {"CHUNYUN_WORKER_THREADS": str(args.threads)} if args.threads else {}
    try:
        with live_server(database_url, workdir / "server.log", **environment) as base:
            headers = token(base, "dispatcher", PASSWORD)
            httpx.post(f"{base}/api/seasons", json=SEASON, headers=headers, timeout=60)
            gates = [
                {
                    "company_id": f"C{c:02d}",
                    "name": f"工厂{c}",
                    "lon": 121.2 + c / 100,
                    "lat": 30.17,
                }
                for c in range(COMPANIES)
            ]
            httpx.post(
                f"{base}/api/companies",
                params={"season": SEASON["name"]},
                json=gates,
                headers=headers,
                timeout=60,
            ).raise_for_status()
            deadline = time.monotonic() + args.max_seconds
            done = threading.Event()

            def poll_health() -> None:
                nonlocal health_failures
                with httpx.Client(timeout=30) as client:
                    while not done.is_set() and time.monotonic() < deadline:
                        started = time.perf_counter()
                        try:
                            ok = client.get(f"{base}/api/health").status_code == 200
                        except httpx.HTTPError:
                            ok = False
                        health_s.append(time.perf_counter() - started)
                        health_failures += not ok
                        time.sleep(0.25)

            start_gate = threading.Barrier(len(batches))

            def upload(index: int) -> tuple[str, float]:
                content = csv_bytes(batches[index])
                timeout = max(1.0, deadline - time.monotonic())
                with httpx.Client(timeout=timeout) as client:
                    start_gate.wait()
                    started = time.perf_counter()
                    try:
                        response = client.post(
                            f"{base}/api/workers/upload",
                            params={
                                "season": SEASON["name"],
                                "company_id": f"C{index % COMPANIES:02d}",
                            },
                            files={"file": (f"file-{index}.csv", content)},
                            headers=headers,
                        )
                        outcome = str(response.status_code)
                    except httpx.TimeoutException:
                        outcome = "timeout"
                    except httpx.HTTPError as error:
                        outcome = type(error).__name__
                    return outcome, time.perf_counter() - started

            poller = threading.Thread(target=poll_health, daemon=True)
            poller.start()
            wall = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(len(batches)) as pool:
                for outcome, seconds in pool.map(upload, range(len(batches))):
                    statuses[outcome] = statuses.get(outcome, 0) + 1
                    upload_s.append(seconds)
            wall = time.perf_counter() - wall
            done.set()
            poller.join(35)
        rows, distinct = stored(database_url)
    finally:
        if schema is not None:
            admin = create_engine(args.postgres_url)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return {
        "database": args.database,
        "uploads": args.uploads,
        "rows_per_upload": args.rows,
        "overlap": args.overlap,
        "worker_threads": args.threads or "default (8)",
        "people_sent": len(expected),
        "answers": statuses,
        "server_errors_5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
        "people_stored": distinct,
        "people_lost": len(expected) - distinct,
        "rows_duplicated": rows - distinct,
        "wall_s": round(wall, 1),
        "upload_p50_s": round(percentile(upload_s, 0.5), 2),
        "upload_p95_s": round(percentile(upload_s, 0.95), 2),
        "upload_max_s": round(max(upload_s), 2),
        "health_checks": len(health_s),
        "health_failures": health_failures,
        "health_p50_ms": round(1000 * percentile(health_s, 0.5), 1),
        "health_p95_ms": round(1000 * percentile(health_s, 0.95), 1),
        "health_max_ms": round(1000 * max(health_s, default=float("nan")), 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "CHUNYUN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--overlap", type=int, default=20, help="people shared with the next file")
    parser.add_argument(
        "--threads", type=int, default=0, help="CHUNYUN_WORKER_THREADS (0: default)"
    )
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if not 0 <= args.overlap < args.rows:
        parser.error("--overlap must be below --rows")
    result = run(args)
    text_result = json.dumps(result, ensure_ascii=False, indent=2)
    print(text_result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text_result + "\n", encoding="utf-8")
    return 0 if result["server_errors_5xx"] == 0 and result["people_lost"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
