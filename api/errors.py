"""Errors of the service and the one place that maps every error to an HTTP status.

Responses are JSON: `{"detail": "<message in the user's terms>"}`, plus `problems` (every bad
row: row, column, value, reason, candidates) when a registration is rejected. Nothing leaves as
plain text: an unexpected error is a JSON 500 whose log line carries no personal data.

Texts a clerk or dispatcher can meet that are new here live in `MESSAGES`, so the message
catalogue can wrap them in one place.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from optimizer.errors import (
    AmbiguousPlace,
    ChunyunError,
    InvalidInput,
    PlaceError,
    Unreachable,
)

log = logging.getLogger(__name__)

# Seconds a client is told to wait after a 503 (busy database) before it tries again.
RETRY_AFTER_S = 5

MESSAGES: dict[str, str] = {
    "busy": "the service is busy; nothing was saved. Please try again in a few seconds",
    "internal": "something went wrong on the server; nothing was saved. "
    "Please try again, and tell the dispatcher if it happens again",
    "body_too_large": "the request is larger than {limit} bytes; send a smaller file or split it",
    "nul_in_url": "the address contains a NUL character (%00), which no name or number may hold",
    "nul_in_text": "contains a NUL character, which no name or number may hold; retype the value",
    "not_signed_in": "not signed in, or the sign-in has expired: get a token at /api/auth/token",
    "wrong_credentials": "wrong username or password",
    "account_disabled": "this account is disabled; ask the dispatcher",
    "too_many_attempts": "too many failed sign-ins; wait {minutes} minute(s) and try again",
    "conflict_saved_meanwhile": "this clashes with data saved meanwhile (a duplicate or a "
    "reference still in use); reload and try again",
    "password_short": "the password must have at least {n} characters",
    "password_username": "the password must not contain the user name",
    "password_common": "this password is on the list of the most common passwords; choose another",
    "employer_needs_company": "an employer account needs --company (the company_id it belongs to)",
    "unknown_company": "no season has a company {company_id!r}; a dispatcher adds the company "
    "(POST /api/companies) before its employer account",
    "dispatcher_no_company": "a dispatcher account belongs to no company; leave company_id out",
    "user_exists": "user {username!r} already exists",
    "no_user": "no user {user!r}",
    "not_yourself": "you cannot disable your own account",
    "claimed_elsewhere": "this ID number cannot be registered by your company as it stands; "
    "the dispatcher checks it (ask the dispatcher)",
    "upload_rows": "the file has more than {limit} rows; split it into smaller files",
    "upload_columns": "the sheet {sheet!r} is {columns} columns wide; the template has {limit} "
    "at most: remove the extra columns",
    "upload_sheet_rows": "the sheet {sheet!r} claims {rows} rows; the limit is {limit}: remove "
    "empty rows at the bottom or split the file",
    "upload_unpacked": "the workbook unpacks to more than {limit} bytes; save it again in Excel "
    "with only the data sheet, or send a CSV",
    "upload_slow": "the file took longer than {seconds:.0f} s to read; split it into smaller files",
    "upload_cell": "row {row}, column {column!r}: the cell holds {length} characters; at most "
    "{limit}",
    # Coaches and crews (optimizer/crews.py codes).
    "crew_rejected": "{count} problem(s) with the coach and crew; nothing was saved. Fix every "
    "one listed in 'problems' and send again",
    "crew_plate_invalid": "is not a mainland plate (province, letter, 5 or 6 letters or digits, "
    "e.g. 浙B12345)",
    "crew_operator_required": "the coach operator is required (it is printed on the charter sign)",
    "crew_short": "this trip's timetable needs {needed} driver(s); {given} given",
    "crew_too_many": "at most {limit} drivers may be on one coach",
    "crew_coach_too_small": "the coach has {seats} seats but {needed} are taken on this trip",
    "crew_coach_type_smaller": "the trip was planned for a {planned} ({seats} seats); a coach of "
    "another type must have at least as many seats",
    "crew_seats_differ_from_type": "a {coach_type} has {seats} seats in this season's fleet",
    "crew_name_required": "the driver's name is required",
    "crew_licence_invalid": "is not a driving licence number (18 characters: the holder's ID "
    "number)",
    "crew_driver_twice": "the same driver is listed twice",
    "crew_phone_invalid": "is not a mainland mobile number (11 digits starting 13-19)",
    "crew_escort_required": "the coach captain or escort (随车人员) is required, with a phone "
    "passengers can call",
    "crew_charter_sign": "charter sign: trip {trip} runs from {start} to {end}, and neither end "
    "lies where {operator} is registered, so its coach may not drive it; assign a coach of an "
    "operator registered at one end",
    "crew_plate_double_booked": "this coach is already on trip {other_trip}, whose times overlap",
    "crew_driver_double_booked": "this driver is already on trip {other_trip}, whose times overlap",
    "crew_unknown_trip": "plan {plan_id} has no trip {trip_id!r}",
    "crew_import_missing_columns": "the sheet lacks the column(s) {columns}; use the template",
    "crew_import_twice": "this trip is listed again (first on row {first})",
    "crew_import_seats": "must be a whole number from 1 to 100",
    "late_not_published": "plan {plan_id} is not the season's published plan; late "
    "registrations are placed on the published plan",
    "drop_point_unknown_county": "{adcode} is not a county in the shipped gazetteer",
    "drop_point_none": "no drop-off point is set for county {adcode}",
    "rejected": "{rows} row(s) have problems; nothing was saved. Fix every row listed in "
    "'problems' and send the whole file again.",
    # Fleet sizing (optimizer.sizing): `chunyun fleet-size`, POST /api/seasons/{name}/fleet-size,
    # and the advice in a plan's fleet figures when workers are fleet_exhausted.
    "fleet_size_title": "coaches needed to seat {seated} of {workers} workers",
    "fleet_size_caption": "from a plan of {trips} trips with as many coaches as it wants, "
    "chained into the fewest coaches per type ({seconds:.1f} s)",
    "fleet_size_column_type": "coach type",
    "fleet_size_column_seats": "coach seats",
    "fleet_size_column_count": "coaches",
    "fleet_size_column_from": "needed from",
    "fleet_size_column_to": "needed to",
    "fleet_size_unseatable": "{unseated} worker(s) cannot be seated by any number of coaches "
    "(bad rows, unknown homes, too far...): see `chunyun plan` for the reasons",
    "fleet_size_failed": "cannot size the fleet of {folder}:",
    "fleet_size_time_limit": "--time-limit must be a positive number of seconds",
    "fleet_size_no_fleet": "season {season!r} has no coach types: add them (POST /api/fleet) "
    "before sizing the fleet",
    "fleet_size_busy": "the server is already sizing fleets; try again in a few seconds",
    "fleet_advice": "to seat everyone, add {add} {vehicle_type} from {from_date:%m-%d}",
    # The charter-sign rule (optimizer/charter.py, code charter_sign_refused) in coach duties.
    "charter_sign_refused": "charter sign: no coach may drive trip {trip}: neither end of its "
    "route lies where an operator with a large enough coach is registered",
    # Planning jobs and their workers (api/jobs.py, `chunyun serve`, `chunyun worker`).
    "serve_jobs_here": "planning jobs: run by this process (start more with `chunyun worker`)",
    "serve_jobs_elsewhere": "planning jobs: run by `chunyun worker` processes on this database",
    "worker_started": "worker {name}: planning jobs from {database}, {slots} at a time; "
    "routing parts: {engine}",
    "worker_stopped": "worker {name} stopped",
    "engine_started": "routing parts: {engine}",
}


def message(key: str, **values: Any) -> str:
    """The user-facing text `key` with `values` filled in."""
    return MESSAGES[key].format(**values)


class ServiceError(ChunyunError):
    """Base of the service's own errors."""


class NotFound(ServiceError, LookupError):
    """The thing asked for does not exist, or is not the caller's to see."""


class Forbidden(ServiceError, PermissionError):
    """The caller's role may not do this."""


class Conflict(ServiceError, RuntimeError):
    """The request clashes with the current state (a job already running, a duplicate name)."""


class NotAvailable(ServiceError, NotImplementedError):
    """A feature whose component is not installed in this build (e.g. PDF manifests)."""


class Unauthorised(ServiceError, PermissionError):
    """No valid sign-in: a bad, expired or revoked token, or wrong credentials."""


class TooManyAttempts(ServiceError, PermissionError):
    """Sign-ins throttled after too many failures; `retry_after_s` says when to try again."""

    def __init__(self, text: str, *, retry_after_s: int) -> None:
        self.retry_after_s = max(1, retry_after_s)
        super().__init__(text)


class Busy(ServiceError, TimeoutError):
    """The database could not take the request in time (pool exhausted, lock wait too long)."""


class TooLarge(InvalidInput):
    """A request body or upload beyond a configured limit."""


@dataclass(frozen=True)
class RowProblem:
    """One bad input row, as reported to the user (rows count from 1 = first data row)."""

    row: int
    column: str
    value: str
    reason: str
    candidates: list[str] = field(default_factory=list)


class RegistrationRejected(InvalidInput):
    """A registration (JSON or file) with bad rows: nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        rows = sorted({p.row for p in problems})
        super().__init__(message("rejected", rows=len(rows)))


class CrewRejected(RegistrationRejected):
    """A coach-and-crew assignment (one trip, or an operator's import) with problems: nothing
    was written. Problems name the row (1 for a single trip), the field, value and reason."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        InvalidInput.__init__(self, message("crew_rejected", count=len(problems)))


# Order matters: the first matching class wins, so specific classes come before their bases.
STATUS_BY_ERROR: tuple[tuple[type[BaseException], int], ...] = (
    (NotFound, 404),
    (TooManyAttempts, 429),
    (Unauthorised, 401),
    (Forbidden, 403),
    (Conflict, 409),
    (Busy, 503),
    (NotAvailable, 501),
    (TooLarge, 413),
    (RegistrationRejected, 422),
    (AmbiguousPlace, 422),
    (PlaceError, 422),
    (Unreachable, 422),
    (InvalidInput, 422),
    (ChunyunError, 400),
)

# PostgreSQL conditions that mean "try again": deadlock, serialisation, lock wait timed out,
# too many connections (SQLSTATE codes).
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "53300", "57014"}


def is_busy_database(error: BaseException) -> bool:
    """Whether `error` is the database being busy rather than a bug: a full pool, SQLite's
    lock wait running out, or a PostgreSQL deadlock / lock timeout / serialisation failure."""
    if isinstance(error, sa_exc.TimeoutError):  # QueuePool limit reached, timed out
        return True
    if isinstance(error, sa_exc.OperationalError | sa_exc.DBAPIError):
        original = error.orig
        state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        if state in _TRANSIENT_SQLSTATES:
            return True
        text = str(original).lower()
        return "database is locked" in text or "database table is locked" in text
    return False


def status_for(error: BaseException) -> int:
    """The HTTP status of `error` (500 for anything not raised on purpose)."""
    if is_busy_database(error):
        return 503
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def error_body(error: BaseException, locale: str = "en") -> dict[str, Any]:
    """The JSON body describing `error` to the user, in `locale` (api/i18n.py)."""
    from api.i18n import translate_detail, translate_reason

    if is_busy_database(error):
        return {"detail": translate_detail(locale, MESSAGES["busy"])}
    body: dict[str, Any] = {"detail": translate_detail(locale, str(error))}
    if isinstance(error, RegistrationRejected):
        body["problems"] = [
            {**p.__dict__, "reason": translate_reason(locale, p.reason)} for p in error.problems
        ]
    if isinstance(error, AmbiguousPlace):
        body["candidates"] = [f"{code} {name}" for code, name in error.candidates]
    return body


def error_headers(error: BaseException) -> dict[str, str]:
    """Headers that go with `error`: Retry-After on 503 and 429, the auth scheme on 401."""
    if is_busy_database(error) or isinstance(error, Busy):
        return {"Retry-After": str(RETRY_AFTER_S)}
    if isinstance(error, TooManyAttempts):
        return {"Retry-After": str(error.retry_after_s)}
    if isinstance(error, Unauthorised):
        return {"WWW-Authenticate": "Bearer"}
    return {}


# --- personal data kept out of logs -----------------------------------------------------------

# 18-character (and old 15-digit) ID numbers and mainland mobile numbers, not inside longer runs.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")


def redact(text: str) -> str:
    """`text` with ID numbers and mobile numbers replaced by placeholders (for logs)."""
    return _MOBILE.sub("<phone>", _ID_NUMBER.sub("<id-number>", text))


def describe_for_log(error: BaseException) -> str:
    """What a log line may say about `error`: where it happened, never the data involved.

    A database error names its driver class, SQLSTATE and statement (parameters are hidden by
    the engine, and the driver's own message, which may quote row values, is left out)."""
    if isinstance(error, sa_exc.StatementError) and error.orig is not None:
        original = error.orig
        state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None) or "-"
        statement = " ".join(str(error.statement or "").split())[:300]
        where = "".join(traceback.format_tb(error.__traceback__, limit=-3))
        return redact(
            f"{type(error).__name__} ({type(original).__name__}, SQLSTATE {state}) "
            f"in: {statement}\n{where}"
        )
    return redact("".join(traceback.format_exception(error)))


# --- handlers ---------------------------------------------------------------------------------


def _locale_of(headers: Any) -> str:
    from api.i18n import api_locale

    return api_locale(headers.get("accept-language"))


def _json_error(error: BaseException, locale: str = "en") -> JSONResponse:
    return JSONResponse(
        status_code=status_for(error),
        content=error_body(error, locale),
        headers=error_headers(error),
    )


async def _chunyun_error_handler(request: Request, error: Exception) -> JSONResponse:
    return _json_error(error, _locale_of(request.headers))


async def _database_error_handler(request: Request, error: Exception) -> JSONResponse:
    if is_busy_database(error):
        log.warning("database busy on %s %s: %s", request.method, request.url.path, type(error))
        return _json_error(error, _locale_of(request.headers))
    if isinstance(error, sa_exc.IntegrityError):
        # Reached only when a constraint catches what the checks before it did not (a race).
        from api.i18n import translate_detail

        locale = _locale_of(request.headers)
        return JSONResponse(
            status_code=409,
            content={"detail": translate_detail(locale, MESSAGES["conflict_saved_meanwhile"])},
        )
    log.error(
        "database error on %s %s: %s", request.method, request.url.path, describe_for_log(error)
    )
    return JSONResponse(status_code=500, content={"detail": MESSAGES["internal"]})


async def _http_error_handler(request: Request, error: Exception) -> JSONResponse:
    # FastAPI's and Starlette's own refusals ("Not authenticated", "Not Found") and the
    # service's, in the language asked for.
    from api.i18n import translate_detail

    assert isinstance(error, StarletteHTTPException)
    detail = error.detail
    if isinstance(detail, str):
        detail = translate_detail(_locale_of(request.headers), detail)
    return JSONResponse(
        status_code=error.status_code,
        content={"detail": detail},
        headers=dict(error.headers or {}),
    )


async def _validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    # FastAPI's default is a list of machine records; people get one sentence, machines the list.
    from api.i18n import translate_validation

    assert isinstance(error, RequestValidationError)
    problems: list[tuple[str, str]] = []
    records = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        text = item.get("msg", "is not valid")
        if item.get("type") == "string_pattern_mismatch" and "x00" in str(item.get("ctx", {})):
            text = MESSAGES["nul_in_text"]
        problems.append((where, text))
        # The refused value is echoed back only when short: it may be a whole file or a secret.
        record = {k: v for k, v in item.items() if k not in ("input", "ctx", "url")}
        records.append(record)
    return JSONResponse(
        status_code=422,
        content={
            "detail": translate_validation(_locale_of(request.headers), problems),
            "errors": jsonable_encoder(records),
        },
    )


class CatchAllMiddleware:
    """The outermost guard: any exception no handler took becomes a JSON 500, and its log line
    says where it happened without personal data (no SQL parameters, no ID numbers, phones)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            status = status_for(error)
            if status >= 500 and status != 503:
                log.error(
                    "unexpected error on %s %s: %s",
                    scope.get("method"),
                    scope.get("path"),
                    describe_for_log(error),
                )
            if started:
                return  # the answer is half sent; the client sees a cut connection
            if status < 500 or status == 503:
                response = _json_error(error)
            else:
                response = JSONResponse(status_code=500, content={"detail": MESSAGES["internal"]})
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error responses on `app`."""
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(ChunyunError, _chunyun_error_handler)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _database_error_handler)
    app.add_middleware(CatchAllMiddleware)


# --- OpenAPI: every answer documented -----------------------------------------------------------


class ErrorPublic(BaseModel):
    """Every error answer: `detail` in words; `problems` for rejected rows; `errors` for a
    request the schema refused; `candidates` for an ambiguous place."""

    detail: str
    problems: list[dict[str, Any]] | None = None
    errors: list[dict[str, Any]] | None = None
    candidates: list[str] | None = None


def _documented(description: str, **headers: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"model": ErrorPublic, "description": description}
    if headers:
        entry["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return entry


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("the body cannot be read as JSON or multipart form data"),
    401: _documented(
        "not signed in, or the token expired or was revoked", **{"WWW-Authenticate": "Bearer"}
    ),
    403: _documented("the caller's role may not do this"),
    404: _documented("not found, or not the caller's to see"),
    409: _documented("clashes with the current state (duplicate, job running, closed season)"),
    413: _documented("the body or upload is beyond its limit"),
    422: _documented("the request or a row is not valid; nothing was saved"),
    429: _documented(
        "too many failed sign-ins", **{"Retry-After": "seconds until sign-in is allowed again"}
    ),
    503: _documented(
        "the database is busy; nothing was saved",
        **{"Retry-After": "seconds to wait before trying again"},
    ),
    500: _documented("an unexpected error; nothing was saved"),
}


def document_errors(openapi: dict[str, Any]) -> dict[str, Any]:
    """`openapi` with every error answer (4xx, 5xx) described as JSON `ErrorPublic`, whatever
    the route's own media type (an HTML map's 404 is still JSON), and FastAPI's unused
    validation-error schemas dropped."""
    reference = {"$ref": "#/components/schemas/ErrorPublic"}
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if str(status)[:1] in ("4", "5"):
                    response["content"] = {"application/json": {"schema": reference}}
    schemas = openapi.get("components", {}).get("schemas", {})
    schemas["ErrorPublic"] = ErrorPublic.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return openapi
