"""Signed-in browsers: server-side sessions behind an HttpOnly cookie, and their form tokens.

The cookie holds a random token; the database keeps only its SHA-256 (`web_sessions`), the
user's `token_version` at sign-in and the session's CSRF token. A session is valid while it
has not expired, the user is active and the user's tokens have not been revoked since, so
disabling a user or revoking their tokens (API, CLI or the users page) ends their pages too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api import models

SESSION_COOKIE = "chunyun_session"
# Before sign-in, the sign-in form's token is a double-submit cookie (no session exists yet).
SIGNIN_CSRF_COOKIE = "chunyun_signin_csrf"
LANG_COOKIE = "chunyun_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class WebContext:
    """The signed-in user of a page request and the session's form token."""

    user: models.User
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison of form tokens (a missing one never matches)."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def start_session(session: Session, *, user: models.User, hours: float) -> str:
    """A new session for `user`; returns the cookie's token. Expired sessions are cleared."""
    now = models.utcnow()
    session.execute(delete(models.WebSession).where(models.WebSession.expires_at < now))
    token = new_token()
    session.add(
        models.WebSession(
            token_hash=_hash(token),
            user_id=user.id,
            token_version=user.token_version,
            csrf_token=new_token(),
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    session.flush()
    return token


def session_for(session: Session, *, token: str | None) -> WebContext | None:
    """The signed-in user of a cookie token, or None (no, expired or ended session)."""
    if not token or len(token) > 128:
        return None
    row = session.scalar(
        select(models.WebSession).where(models.WebSession.token_hash == _hash(token))
    )
    if row is None or row.expires_at < models.utcnow():
        return None
    user = session.get(models.User, row.user_id)
    if user is None or not user.is_active or user.token_version != row.token_version:
        return None
    session.expunge(user)
    return WebContext(user=user, csrf_token=row.csrf_token)


def end_session(session: Session, *, token: str | None) -> None:
    """Sign out this browser."""
    if token:
        session.execute(
            delete(models.WebSession).where(models.WebSession.token_hash == _hash(token))
        )
