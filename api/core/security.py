"""Password hashing (argon2id), the password policy, and signed, expiring access tokens (JWT,
HS256) that name the user and the token version they were issued under."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
from importlib import resources
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.errors import message
from optimizer.errors import InvalidInput

ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()
# Verified against when the user name is unknown, so a miss costs as long as a wrong password
# and the answer's timing does not tell which user names exist.
_DUMMY_HASH = _hasher.hash("chunyun: no such user, same work")


class WeakPassword(InvalidInput):
    """A password the policy refuses (too short, the user name, a common password)."""


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lowercased (Royce Williams' 20k, via Django)."""
    data = resources.files("api.core").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def check_password_policy(password: str, *, username: str) -> None:
    """Raise WeakPassword unless `password` has at least MIN_PASSWORD_LENGTH characters, does
    not contain the user name and is not on the common-password list (case ignored)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(message("password_short", n=MIN_PASSWORD_LENGTH))
    folded, name = password.casefold(), username.casefold().strip()
    if name and (folded == name or (len(name) >= 3 and name in folded)):
        raise WeakPassword(message("password_username"))
    if folded in common_passwords():
        raise WeakPassword(message("password_common"))


def hash_password(password: str) -> str:
    """An argon2id hash of `password` with a fresh salt."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def spend_verification_time(password: str) -> None:
    """Do the work of one verification for nothing (an unknown user name)."""
    verify_password(password, _DUMMY_HASH)


def create_access_token(*, subject: str, secret_key: str, minutes: int, version: int = 0) -> str:
    """A token naming `subject` (the user id) under token `version`, expiring after `minutes`."""
    now = dt.datetime.now(dt.UTC)
    payload: dict[str, Any] = {
        "sub": subject,
        "ver": version,
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes),
    }
    return jwt.encode(payload, secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret_key: str) -> tuple[str, int]:
    """Subject and token version of a valid, unexpired token; raises `jwt.InvalidTokenError`
    otherwise."""
    payload = jwt.decode(token, secret_key, algorithms=[ALGORITHM], options={"require": ["exp"]})
    subject = payload.get("sub")
    version = payload.get("ver", 0)
    if not isinstance(subject, str):
        raise jwt.InvalidTokenError("token has no subject")
    if not isinstance(version, int) or isinstance(version, bool):
        raise jwt.InvalidTokenError("token version is not a number")
    return subject, version
