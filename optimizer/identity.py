"""Checks of personal identifiers: resident ID numbers (GB 11643) and mainland mobile numbers."""

from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def id_number_problem(id_number: str) -> str | None:
    """Why `id_number` is not a valid second-generation resident ID number, or None if it is.

    Checks the shape (18 characters, 17 digits then a digit or X), the birth date and the
    GB 11643 check character. A lowercase x is accepted and should be stored uppercase.
    """
    value = id_number.strip().upper()
    if len(value) != 18:
        return f"an ID number has 18 characters, this one has {len(value)}"
    if not _ID_SHAPE.match(value):
        return "an ID number is 17 digits followed by a digit or X"
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"characters 7-14 must be a birth date, {value[6:14]} is not a date"
    if born.year < 1900 or born > dt.date.today():
        return f"birth date {born.isoformat()} is not plausible"
    expected = id_check_char(value[:17])
    if value[17] != expected:
        return f"check digit is wrong (expected {expected}): please re-type the number"
    return None


def normalize_phone(phone: str) -> str:
    """A phone number without spaces, dashes or a +86 / 0086 prefix."""
    value = re.sub(r"[\s\-()]", "", phone.strip())
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value


def phone_problem(phone: str) -> str | None:
    """Why `phone` is not a mainland mobile number (11 digits starting 13-19), or None if it is."""
    value = normalize_phone(phone)
    if not _MOBILE.match(value):
        return "a mainland mobile number has 11 digits and starts with 13 to 19"
    return None


def mask_id_number(id_number: str) -> str:
    """The ID number with all but the first 4 and last 4 characters hidden: 3401**********1234."""
    value = id_number.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(phone: str) -> str:
    """The phone number with the middle four digits hidden: 138****5678."""
    value = normalize_phone(phone)
    if len(value) != 11:
        return "*" * len(value)
    return value[:3] + "****" + value[-4:]
