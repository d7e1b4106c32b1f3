"""Resident ID and phone checks."""

from __future__ import annotations

import pytest

from optimizer.identity import (
    id_check_char,
    id_number_problem,
    mask_id_number,
    mask_phone,
    phone_problem,
)


def make_id(first17: str) -> str:
    return first17 + id_check_char(first17)


def test_valid_id_number_passes() -> None:
    """A number with a correct GB 11643 check character has no problem."""
    assert id_number_problem(make_id("34122119900307123")) is None
    # The public sample from GB 11643 itself.
    assert id_number_problem("11010519491231002X") is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("3412211990030712", "18 characters"),
        ("34122119900307123A", "17 digits followed by a digit or X"),
        ("341221199013071230", "birth date"),
        ("110105194912310021", "check digit is wrong"),
    ],
)
def test_bad_id_number_names_the_reason(value: str, reason: str) -> None:
    """Each kind of bad ID number gets its own reason."""
    problem = id_number_problem(value)
    assert problem is not None and reason in problem


def test_phone_rules() -> None:
    """Mainland mobiles pass with or without +86; landlines and short numbers do not."""
    assert phone_problem("13812345678") is None
    assert phone_problem("+86 138-1234-5678") is None
    assert phone_problem("057463012345") is not None
    assert phone_problem("12812345678") is not None


def test_masks_keep_only_the_ends() -> None:
    """Masking shows the first four and last four characters of an ID, and 3+4 of a phone."""
    assert mask_id_number("340121199003071234") == "3401**********1234"
    assert mask_phone("13812345678") == "138****5678"
