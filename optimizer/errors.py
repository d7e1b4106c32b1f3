"""Exception tree of the optimizer.

Invalid input raises; an infeasible plan does not (it is a result with reasons).
Every specific error also subclasses the matching builtin so callers can catch either.
"""

from __future__ import annotations


class ChunyunError(Exception):
    """Base of every error chunyun raises on purpose."""


class InvalidInput(ValueError, ChunyunError):
    """Input that cannot be planned as given (bad value, bad file, bad parameter)."""


class RowError(InvalidInput):
    """One bad row of an input table: names the table, row, column, value and reason."""

    def __init__(self, table: str, row: int, column: str, value: object, reason: str) -> None:
        self.table = table
        self.row = row
        self.column = column
        self.value = value
        self.reason = reason
        super().__init__(f"{table} row {row}, column {column!r} = {value!r}: {reason}")


class SettingError(InvalidInput):
    """One bad value of a scenario.toml table (`[policy]`, `[solver]`, `[subsidy]`): names the
    table, key, value and reason. The reason is a fixed English text (optimizer/model.py) that
    the api layer recognises with the rest of the message and shows in the user's language."""

    def __init__(self, table: str, key: str, value: object, reason: str) -> None:
        self.table = table
        self.key = key
        self.value = value
        self.reason = reason
        shown = repr(value) if isinstance(value, str) else str(value)
        super().__init__(f"[{table}] {key} = {shown} {reason}")


class PlaceError(LookupError, ChunyunError):
    """A place name or code that does not lead to exactly one county."""


class UnknownPlace(PlaceError):
    """No county matches the text; `candidates` may list near names (adcode, full name)."""

    def __init__(self, message: str, candidates: list[tuple[str, str]] | None = None) -> None:
        self.candidates = list(candidates or [])
        super().__init__(message)


class AmbiguousPlace(PlaceError):
    """Several counties match the text; `candidates` lists them (adcode, full name)."""

    def __init__(self, message: str, candidates: list[tuple[str, str]]) -> None:
        self.candidates = candidates
        super().__init__(message)


class Unreachable(ChunyunError, ValueError):
    """Two places with no road connection in the network."""
