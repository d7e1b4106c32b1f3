"""Errors of the service and the one place that maps every error to an HTTP status.

Responses are JSON: `{"detail": "<message in the user's terms>"}`, plus `problems` (every bad
row: row, column, value, reason, candidates) when a registration is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from optimizer.errors import (
    AmbiguousPlace,
    ChunyunError,
    InvalidInput,
    PlaceError,
    Unreachable,
)


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
        super().__init__(
            f"{len(rows)} row(s) have problems; nothing was saved. Fix every row listed in "
            "'problems' and send the whole file again."
        )


# Order matters: the first matching class wins, so specific classes come before their bases.
STATUS_BY_ERROR: tuple[tuple[type[BaseException], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (NotAvailable, 501),
    (RegistrationRejected, 422),
    (AmbiguousPlace, 422),
    (PlaceError, 422),
    (Unreachable, 422),
    (InvalidInput, 422),
    (ChunyunError, 400),
)


def status_for(error: BaseException) -> int:
    """The HTTP status of `error` (500 for anything not raised on purpose)."""
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def error_body(error: BaseException) -> dict[str, Any]:
    """The JSON body describing `error` to the user."""
    body: dict[str, Any] = {"detail": str(error)}
    if isinstance(error, RegistrationRejected):
        body["problems"] = [p.__dict__ for p in error.problems]
    if isinstance(error, AmbiguousPlace):
        body["candidates"] = [f"{code} {name}" for code, name in error.candidates]
    return body


async def _chunyun_error_handler(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(status_code=status_for(error), content=error_body(error))


async def _integrity_error_handler(_request: Request, _error: Exception) -> JSONResponse:
    # Reached only when a constraint catches what the checks before it did not (a race).
    return JSONResponse(
        status_code=409,
        content={
            "detail": "this clashes with data saved meanwhile (a duplicate or a reference "
            "still in use); reload and try again"
        },
    )


async def _validation_error_handler(_request: Request, error: Exception) -> JSONResponse:
    # FastAPI's default is a list of machine records; people get one sentence, machines the list.
    assert isinstance(error, RequestValidationError)
    messages = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        messages.append(f"{where}: {item.get('msg', 'is not valid')}" if where else item["msg"])
    return JSONResponse(
        status_code=422,
        content={
            "detail": "the request is not valid: " + "; ".join(messages),
            "errors": jsonable_encoder(error.errors()),
        },
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error responses on `app`."""
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(ChunyunError, _chunyun_error_handler)
    app.add_exception_handler(IntegrityError, _integrity_error_handler)
