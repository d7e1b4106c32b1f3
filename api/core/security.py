"""Password hashing (argon2id) and signed, expiring access tokens (JWT, HS256)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of `password` with a fresh salt."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(*, subject: str, secret_key: str, minutes: int) -> str:
    """A token naming `subject` (the user id) that expires after `minutes`."""
    now = dt.datetime.now(dt.UTC)
    payload: dict[str, Any] = {
        "sub": subject,
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes),
    }
    return jwt.encode(payload, secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret_key: str) -> str:
    """The subject of a valid, unexpired token; raises `jwt.InvalidTokenError` otherwise."""
    payload = jwt.decode(token, secret_key, algorithms=[ALGORITHM], options={"require": ["exp"]})
    subject = payload.get("sub")
    if not isinstance(subject, str):
        raise jwt.InvalidTokenError("token has no subject")
    return subject
