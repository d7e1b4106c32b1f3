"""Cells of CSV files that spreadsheet programs open: text that starts like a formula is kept
text (CSV or formula injection: `=HYPERLINK(...)`, `=cmd|' /C calc'!A0`, `+1+2`, `@SUM(1+1)`)."""

from __future__ import annotations

# Excel, WPS and LibreOffice run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """`value` for a CSV cell: a leading formula character is quoted with an apostrophe, which
    spreadsheets show as text and do not display."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def from_spreadsheet(value: str) -> str:
    """The inverse of `spreadsheet_safe`."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
