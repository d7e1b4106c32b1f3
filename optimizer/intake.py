"""Row validation of the input tables, shared by the scenario reader and the API upload.

Every function takes a pandas DataFrame read with all columns as strings and returns the domain
objects for the good rows plus one `InputProblem` per bad cell: table, row (spreadsheet numbering:
the header is row 1, the first data row is row 2), column, value and a reason in the user's terms.
A bad row never stops the others from being read.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import pandas as pd

from optimizer.errors import InvalidInput
from optimizer.identity import id_number_problem, normalize_phone, phone_problem
from optimizer.model import Company, Hub, InputProblem, VehicleType, Worker
from optimizer.region import county_of, expand_region, locate_county

FIRST_DATA_ROW = 2  # spreadsheet row of the first data row (the header is row 1)

WORKER_COLUMNS = ("worker_id", "company_id", "name", "id_number", "phone", "home")
WORKER_OPTIONAL = ("earliest", "latest", "party", "seats")
COMPANY_COLUMNS = ("company_id", "name", "lon", "lat")
FLEET_COLUMNS = ("vehicle_type", "seats", "count", "cost_per_km", "fixed_cost")
HUB_COLUMNS = ("hub_id", "name", "lon", "lat")

# Mainland China, generously: coordinates outside are almost always swapped or mistyped.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)

_TRUE = {"1", "true", "yes", "y", "t", "是", "x"}
_FALSE = {"", "0", "false", "no", "n", "f", "否"}


class Resolution(Protocol):
    """What the address resolver answers for one `home` text (optimizer.geography.resolve)."""

    @property
    def adcode(self) -> str | None: ...

    @property
    def error(self) -> str | None: ...

    @property
    def candidates(self) -> Any: ...


class _Rows:
    """Collects problems of one table while its rows are converted."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.problems: list[InputProblem] = []

    def add(self, row: int, column: str, value: object, reason: str, worker_id: str = "") -> None:
        self.problems.append(
            InputProblem(
                table=self.table,
                row=row,
                column=column,
                value="" if value is None else str(value),
                reason=reason,
                worker_id=worker_id,
            )
        )


def _text(record: Mapping[str, Any], column: str) -> str:
    value = record.get(column, "")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def missing_columns(df: pd.DataFrame, required: Iterable[str]) -> list[str]:
    """Required columns absent from `df`, in the order given."""
    present = {str(c).strip() for c in df.columns}
    return [c for c in required if c not in present]


def _records(df: pd.DataFrame) -> list[tuple[int, dict[str, Any]]]:
    frame = df.rename(columns=lambda c: str(c).strip())
    return [
        (index + FIRST_DATA_ROW, {str(k): v for k, v in record.items()})
        for index, record in enumerate(frame.to_dict(orient="records"))
    ]


def _header_problems(rows: _Rows, df: pd.DataFrame, required: Iterable[str]) -> bool:
    missing = missing_columns(df, required)
    for column in missing:
        rows.add(1, column, "", f"required column {column!r} is missing from the header")
    return bool(missing)


def _float(rows: _Rows, row: int, record: Mapping[str, Any], column: str) -> float | None:
    text = _text(record, column)
    try:
        value = float(text)
    except ValueError:
        rows.add(row, column, text, "must be a number" if text else "is required")
        return None
    if not math.isfinite(value):
        rows.add(row, column, text, "must be a finite number")
        return None
    return value


def _int(
    rows: _Rows, row: int, record: Mapping[str, Any], column: str, minimum: int, worker_id: str = ""
) -> int | None:
    text = _text(record, column)
    try:
        value = float(text)
    except ValueError:
        rows.add(row, column, text, "must be a whole number" if text else "is required", worker_id)
        return None
    if not value.is_integer():
        rows.add(row, column, text, "must be a whole number", worker_id)
        return None
    if value < minimum:
        rows.add(row, column, text, f"must be at least {minimum}", worker_id)
        return None
    return int(value)


def _coordinates(rows: _Rows, row: int, record: Mapping[str, Any]) -> tuple[float, float] | None:
    lon = _float(rows, row, record, "lon")
    lat = _float(rows, row, record, "lat")
    if lon is None or lat is None:
        return None
    if not LON_RANGE[0] <= lon <= LON_RANGE[1]:
        rows.add(row, "lon", lon, "longitude must lie in China (73 to 136 east); lon/lat swapped?")
        return None
    if not LAT_RANGE[0] <= lat <= LAT_RANGE[1]:
        rows.add(row, "lat", lat, "latitude must lie in China (3 to 54 north); lon/lat swapped?")
        return None
    return lon, lat


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_TIME_TAIL = re.compile(r"(?:\s*T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
# Excel keeps dates as days since 1899-12-30; a CSV saved from a date column may carry them.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_SERIALS = range(36526, 73051)  # 2000-01-01 .. 2099-12-31


def parse_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD, also as Excel and clerks write it: 2027/1/28, 2027.1.28,
    2027年1月28日, 20270128, a date with a time (2027-01-28 00:00:00) or an Excel day
    number (46415); ValueError otherwise."""
    value = text.strip()
    if value.isdigit() and len(value) == 8:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    if value.isdigit() and int(value) in _EXCEL_SERIALS:
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    match = _DATE.match(value)
    if match is None or not _TIME_TAIL.fullmatch(value[match.end() :]):
        raise ValueError(f"not a date: {text!r}")
    year, month, day = (int(g) for g in match.groups())
    return dt.date(year, month, day)


def _bool(rows: _Rows, row: int, record: Mapping[str, Any], column: str) -> bool:
    text = _text(record, column).lower()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        rows.add(row, column, text, "must be yes/no (1/0, true/false); read as no")
    return False


def _duplicates(rows: _Rows, seen: set[str], row: int, column: str, value: str) -> bool:
    if value in seen:
        rows.add(row, column, value, f"{column} {value!r} appears on an earlier row; row skipped")
        return True
    seen.add(value)
    return False


def _origin_county(
    rows: _Rows,
    row: int,
    record: Mapping[str, Any],
    point: tuple[float, float],
    origins: Sequence[str],
) -> str | None:
    """The origin county of a row: its `county` cell (name or code) or the county holding its
    point ("" in a one-origin season: the origin); None (a problem added) when the cell names
    none of the season's origins."""
    text = _text(record, "county")
    if not origins:
        return ""
    if not text:
        return locate_county(point[0], point[1], origins) if len(origins) > 1 else ""
    code = county_of(text, origins)
    if code is None:
        rows.add(row, "county", text, "is not one of the season's origin counties")
    return code


class _Place(NamedTuple):
    """A row of a table of places in the season's origin (companies, hubs) that passed the
    checks they share."""

    row: int
    record: dict[str, Any]
    place_id: str
    lon: float
    lat: float
    county: str


def _origin_places(
    rows: _Rows, df: pd.DataFrame, id_column: str, origins: Sequence[str]
) -> Iterator[_Place]:
    """The rows of `df` with an id in `id_column` not seen on an earlier row, coordinates in
    China and an origin county among `origins` (see `_origin_county`); every other row adds
    its problem to `rows` and is skipped."""
    seen: set[str] = set()
    for row, record in _records(df):
        place_id = _text(record, id_column)
        if not place_id:
            rows.add(row, id_column, "", "is required")
            continue
        if _duplicates(rows, seen, row, id_column, place_id):
            continue
        point = _coordinates(rows, row, record)
        if point is None:
            continue
        county = _origin_county(rows, row, record, point, origins)
        if county is None:
            continue
        yield _Place(row, record, place_id, point[0], point[1], county)


def parse_companies(
    df: pd.DataFrame, origins: Sequence[str] = ()
) -> tuple[list[Company], list[InputProblem]]:
    """Companies (gates where workers board) from `companies.csv` rows.

    Columns: company_id, name, lon, lat (WGS-84 degrees); optional no_hub (yes/no: workers must
    board at the gate even near a hub), town, and county: the origin county of the gate, a name
    or code among `origins` (the season's region); blank: the origin county holding the gate.
    """
    rows = _Rows("companies")
    if _header_problems(rows, df, COMPANY_COLUMNS):
        return [], rows.problems
    companies = [
        Company(
            county=place.county,
            company_id=place.place_id,
            name=_text(place.record, "name") or place.place_id,
            lon=place.lon,
            lat=place.lat,
            no_hub=_bool(rows, place.row, place.record, "no_hub"),
            town=_text(place.record, "town"),
        )
        for place in _origin_places(rows, df, "company_id", origins)
    ]
    return companies, rows.problems


def parse_hubs(
    df: pd.DataFrame, origins: Sequence[str] = ()
) -> tuple[list[Hub], list[InputProblem]]:
    """Hubs (town coach stations, charter terminal) from `hubs.csv`: hub_id, name, lon, lat;
    optional county (the hub's origin county among `origins`, blank: the one holding it)."""
    rows = _Rows("hubs")
    if _header_problems(rows, df, HUB_COLUMNS):
        return [], rows.problems
    hubs = [
        Hub(
            place.place_id,
            _text(place.record, "name") or place.place_id,
            place.lon,
            place.lat,
            place.county,
        )
        for place in _origin_places(rows, df, "hub_id", origins)
    ]
    return hubs, rows.problems


# A fleet row's `registered` cell that names no place (optimizer/charter.py).
REGISTERED_UNKNOWN = "is not a county, prefecture or province"


def is_place(text: str) -> bool:
    """Whether `text` names one county, prefecture or province (the charter-sign place)."""
    try:
        expand_region(text)
    except InvalidInput:
        return False
    return True


def parse_fleet(df: pd.DataFrame) -> tuple[list[VehicleType], list[InputProblem]]:
    """Coach types from `fleet.csv`: vehicle_type, seats, count, cost_per_km (RMB), fixed_cost (RMB
    per trip); optional operator, depot_lon, depot_lat, available_from, available_to (dates),
    registered (the operator's registration place: a county or prefecture name or code)."""
    rows = _Rows("fleet")
    if _header_problems(rows, df, FLEET_COLUMNS):
        return [], rows.problems
    fleet: list[VehicleType] = []
    seen: set[str] = set()
    for row, record in _records(df):
        name = _text(record, "vehicle_type")
        if not name:
            rows.add(row, "vehicle_type", "", "is required")
            continue
        if _duplicates(rows, seen, row, "vehicle_type", name):
            continue
        before = len(rows.problems)
        seats = _int(rows, row, record, "seats", 1)
        count = _int(rows, row, record, "count", 0)
        cost_per_km = _float(rows, row, record, "cost_per_km")
        fixed_cost = _float(rows, row, record, "fixed_cost")
        for column, value in (("cost_per_km", cost_per_km), ("fixed_cost", fixed_cost)):
            if value is not None and value < 0:
                rows.add(row, column, value, "must not be negative")
        depot: list[float | None] = [None, None]
        for index, column in enumerate(("depot_lon", "depot_lat")):
            if _text(record, column):
                depot[index] = _float(rows, row, record, column)
        available: list[dt.date | None] = [None, None]
        for index, column in enumerate(("available_from", "available_to")):
            text = _text(record, column)
            if text:
                try:
                    available[index] = parse_date(text)
                except ValueError:
                    rows.add(row, column, text, "must be a date written YYYY-MM-DD")
        registered = _text(record, "registered")
        if registered and not is_place(registered):
            rows.add(row, "registered", registered, REGISTERED_UNKNOWN)
        if len(rows.problems) > before:
            continue
        assert seats is not None and count is not None
        assert cost_per_km is not None and fixed_cost is not None
        fleet.append(
            VehicleType(
                vehicle_type=name,
                seats=seats,
                count=count,
                cost_per_km=cost_per_km,
                fixed_cost=fixed_cost,
                operator=_text(record, "operator"),
                depot_lon=depot[0],
                depot_lat=depot[1],
                available_from=available[0],
                available_to=available[1],
                registered=registered,
            )
        )
    return fleet, rows.problems


def _candidate_codes(candidates: Any) -> tuple[str, ...]:
    codes: list[str] = []
    for candidate in candidates or ():
        if isinstance(candidate, str):
            codes.append(candidate)
        elif isinstance(candidate, tuple | list) and candidate:
            codes.append(str(candidate[0]))
        elif getattr(candidate, "adcode", None):
            codes.append(str(candidate.adcode))
    return tuple(codes)


def _candidate_names(candidates: Any) -> list[str]:
    names = []
    for candidate in candidates or ():
        if isinstance(candidate, tuple | list) and len(candidate) > 1:
            names.append(f"{candidate[1]} {candidate[0]}")
        else:
            names.append(str(candidate))
    return names


def parse_workers(
    df: pd.DataFrame,
    *,
    first_departure: dt.date,
    last_departure: dt.date,
    company_ids: Collection[str],
    resolutions: Mapping[str, Resolution],
) -> tuple[list[Worker], list[InputProblem]]:
    """Workers from `workers.csv` rows, validated.

    `resolutions` maps each distinct (stripped) `home` text to the resolver's answer. A row with a
    bad ID number, phone, date or seat count is left out (a problem naming the worker, who the plan
    lists unserved as `invalid_row`). Rows whose company or home is unknown or ambiguous are kept
    with a problem too, so the plan can say exactly that (`unknown_company`, `unknown_home`,
    `ambiguous_home`). Blank `earliest`/`latest` mean the season's first/last departure date.
    """
    rows = _Rows("workers")
    if _header_problems(rows, df, WORKER_COLUMNS):
        return [], rows.problems
    workers: list[Worker] = []
    seen: set[str] = set()
    known_companies = set(company_ids)
    for row, record in _records(df):
        worker_id = _text(record, "worker_id")
        if not worker_id:
            rows.add(row, "worker_id", "", "is required; row skipped")
            continue
        if worker_id in seen:
            rows.add(
                row,
                "worker_id",
                worker_id,
                f"worker_id {worker_id!r} appears on an earlier row; row skipped",
            )
            continue
        seen.add(worker_id)
        before = len(rows.problems)
        name = _text(record, "name")
        if not name:
            rows.add(row, "name", "", "is required (real-name ticketing)", worker_id)
        id_number = _text(record, "id_number").upper()
        reason = id_number_problem(id_number)
        if reason:
            rows.add(row, "id_number", id_number, reason, worker_id)
        phone = normalize_phone(_text(record, "phone"))
        reason = phone_problem(phone)
        if reason:
            rows.add(row, "phone", _text(record, "phone"), reason, worker_id)
        window: list[dt.date] = [first_departure, last_departure]
        for index, column in enumerate(("earliest", "latest")):
            text = _text(record, column)
            if text:
                try:
                    window[index] = parse_date(text)
                except ValueError:
                    rows.add(row, column, text, "must be a date written YYYY-MM-DD", worker_id)
        if window[0] > window[1]:
            rows.add(
                row,
                "latest",
                window[1].isoformat(),
                f"latest is before earliest ({window[0].isoformat()})",
                worker_id,
            )
        seats = 1
        if _text(record, "seats"):
            parsed = _int(rows, row, record, "seats", 1, worker_id)
            seats = parsed if parsed is not None else 1
        if len(rows.problems) > before:
            continue
        company_id = _text(record, "company_id")
        if company_id not in known_companies:
            rows.add(
                row,
                "company_id",
                company_id,
                "is not a company_id of companies.csv (or that company's row is invalid)",
                worker_id,
            )
        home = _text(record, "home")
        home_adcode: str | None = None
        home_problem = ""
        candidates: tuple[str, ...] = ()
        resolution = resolutions.get(home)
        if not home:
            home_problem = "home is empty"
        elif resolution is None:
            home_problem = "home was not resolved"
        elif resolution.adcode:
            home_adcode = str(resolution.adcode)
        else:
            offered = _candidate_codes(resolution.candidates)
            # Candidates are the choices when ambiguous, mere suggestions when nothing matched.
            ambiguous = bool(getattr(resolution, "ambiguous", bool(offered)))
            candidates = offered if ambiguous else ()
            home_problem = resolution.error or (
                "matches several counties" if ambiguous else "matches no county"
            )
        if home_problem:
            detail = home_problem
            if candidates:
                detail += f" (candidates: {', '.join(candidates)})"
            elif resolution is not None and resolution.candidates and not home_adcode:
                detail += f" (did you mean: {', '.join(_candidate_names(resolution.candidates))}?)"
            rows.add(row, "home", home, detail, worker_id)
        workers.append(
            Worker(
                worker_id=worker_id,
                company_id=company_id,
                name=name,
                id_number=id_number,
                phone=phone,
                home=home,
                earliest=window[0],
                latest=window[1],
                party=_text(record, "party"),
                seats=seats,
                home_adcode=home_adcode,
                home_problem=home_problem,
                home_candidates=candidates,
            )
        )
    return workers, rows.problems
