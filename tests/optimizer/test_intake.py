"""Row validation of the input tables: every problem names table, row, column, value, reason."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from optimizer.geography.resolve import Resolution
from optimizer.identity import id_check_char
from optimizer.intake import parse_companies, parse_fleet, parse_hubs, parse_workers

FIRST = dt.date(2019, 1, 24)
LAST = dt.date(2019, 2, 2)


def valid_id(serial: int = 1) -> str:
    first17 = f"34122119900101{serial:03d}"
    return first17 + id_check_char(first17)


def resolution(query: str, adcode: str | None, *, ambiguous: bool = False) -> Resolution:
    candidates = (("320106", "江苏省南京市鼓楼区"), ("350102", "福建省福州市鼓楼区"))
    return Resolution(
        query=query,
        adcode=adcode,
        name="",
        province="",
        level="county" if adcode else None,
        note="",
        error=None if adcode else ("matches several places" if ambiguous else "no county"),
        candidates=candidates if ambiguous else (),
        ambiguous=ambiguous,
    )


RESOLUTIONS = {
    "临泉": resolution("临泉", "341221"),
    "鼓楼": resolution("鼓楼", None, ambiguous=True),
    "火星": resolution("火星", None),
}


def workers_table(*rows: dict[str, str]) -> pd.DataFrame:
    base = {
        "worker_id": "W1",
        "company_id": "C1",
        "name": "张三",
        "id_number": valid_id(),
        "phone": "13812345678",
        "home": "临泉",
        "earliest": "2019-01-26",
        "latest": "2019-01-28",
        "party": "",
        "seats": "",
    }
    return pd.DataFrame([{**base, **row} for row in rows], dtype=str)


def parse(df: pd.DataFrame):  # type: ignore[no-untyped-def]
    return parse_workers(
        df,
        first_departure=FIRST,
        last_departure=LAST,
        company_ids={"C1"},
        resolutions=RESOLUTIONS,
    )


def test_good_row_becomes_a_worker_with_resolved_home() -> None:
    """A clean row gives one worker with its adcode, window and default one seat."""
    workers, problems = parse(workers_table({}))
    assert problems == []
    (worker,) = workers
    assert worker.home_adcode == "341221"
    assert (worker.earliest, worker.latest) == (dt.date(2019, 1, 26), dt.date(2019, 1, 28))
    assert worker.seats == 1


def test_blank_window_means_the_whole_season() -> None:
    """Empty earliest/latest default to the season's first and last departure."""
    workers, _ = parse(workers_table({"earliest": "", "latest": ""}))
    assert (workers[0].earliest, workers[0].latest) == (FIRST, LAST)


def test_bad_cells_are_reported_in_spreadsheet_rows_and_the_row_is_left_out() -> None:
    """Each bad cell is one problem naming row (header = row 1), column, value and reason."""
    df = workers_table(
        {"worker_id": "W1"},
        {"worker_id": "W2", "id_number": "123"},
        {"worker_id": "W3", "phone": "12345"},
        {"worker_id": "W4", "earliest": "2019-13-01"},
        {"worker_id": "W5", "earliest": "2019-01-30", "latest": "2019-01-27"},
        {"worker_id": "W6", "seats": "0"},
        {"worker_id": "W1"},
    )
    workers, problems = parse(df)
    assert [w.worker_id for w in workers] == ["W1"]
    found = {(p.row, p.column, p.worker_id) for p in problems}
    assert found == {
        (3, "id_number", "W2"),
        (4, "phone", "W3"),
        (5, "earliest", "W4"),
        (6, "latest", "W5"),
        (7, "seats", "W6"),
        (8, "worker_id", ""),
    }
    by_row = {p.row: p for p in problems}
    assert by_row[3].value == "123" and "18 characters" in by_row[3].reason
    assert "earlier row" in by_row[8].reason


def test_unknown_company_and_unresolved_homes_are_kept_with_a_problem() -> None:
    """Unknown company or home stays a worker (the plan says why) and is also reported."""
    df = workers_table(
        {"worker_id": "W1", "company_id": "C9"},
        {"worker_id": "W2", "home": "鼓楼"},
        {"worker_id": "W3", "home": "火星"},
    )
    workers, problems = parse(df)
    assert [w.worker_id for w in workers] == ["W1", "W2", "W3"]
    assert {(p.worker_id, p.column) for p in problems} == {
        ("W1", "company_id"),
        ("W2", "home"),
        ("W3", "home"),
    }
    ambiguous, unknown = workers[1], workers[2]
    assert ambiguous.home_adcode is None and ambiguous.home_candidates == ("320106", "350102")
    assert unknown.home_adcode is None and unknown.home_candidates == ()


def test_missing_required_column_is_one_header_problem() -> None:
    """A missing column is reported on row 1 and nothing is read."""
    df = workers_table({}).drop(columns=["phone"])
    workers, problems = parse(df)
    assert workers == []
    assert [(p.row, p.column) for p in problems] == [(1, "phone")]


def test_companies_hubs_and_fleet_validate_their_rows() -> None:
    """Coordinates outside China, negative counts and bad dates are row problems."""
    companies, problems = parse_companies(
        pd.DataFrame(
            [
                {"company_id": "C1", "name": "甲", "lon": "121.2", "lat": "30.1", "no_hub": "yes"},
                {"company_id": "C2", "name": "乙", "lon": "30.1", "lat": "121.2", "no_hub": ""},
                {"company_id": "C1", "name": "丙", "lon": "121.2", "lat": "30.1", "no_hub": ""},
            ],
            dtype=str,
        )
    )
    assert [c.company_id for c in companies] == ["C1"] and companies[0].no_hub
    assert [(p.row, p.column) for p in problems] == [(3, "lon"), (4, "company_id")]

    hubs, problems = parse_hubs(
        pd.DataFrame([{"hub_id": "H1", "name": "站", "lon": "121.2", "lat": "x"}], dtype=str)
    )
    assert hubs == [] and [(p.column, p.reason) for p in problems] == [("lat", "must be a number")]
    hubs, problems = parse_hubs(
        pd.DataFrame(
            [
                {"hub_id": "H1", "name": "", "lon": "121.2", "lat": "30.1"},
                {"hub_id": "", "name": "站", "lon": "121.2", "lat": "30.1"},
                {"hub_id": "H1", "name": "站", "lon": "121.3", "lat": "30.2"},
            ],
            dtype=str,
        )
    )
    assert [(h.hub_id, h.name, h.lon, h.lat) for h in hubs] == [("H1", "H1", 121.2, 30.1)]
    assert [(p.row, p.column) for p in problems] == [(3, "hub_id"), (4, "hub_id")]

    fleet, problems = parse_fleet(
        pd.DataFrame(
            [
                {
                    "vehicle_type": "c53",
                    "seats": "53",
                    "count": "10",
                    "cost_per_km": "9",
                    "fixed_cost": "800",
                    "available_from": "2019-01-25",
                },
                {
                    "vehicle_type": "c45",
                    "seats": "45",
                    "count": "-1",
                    "cost_per_km": "9",
                    "fixed_cost": "800",
                    "available_from": "soon",
                },
            ],
            dtype=str,
        )
    )
    assert [v.vehicle_type for v in fleet] == ["c53"]
    assert fleet[0].available_from == dt.date(2019, 1, 25)
    assert {(p.row, p.column) for p in problems} == {(3, "count"), (3, "available_from")}
