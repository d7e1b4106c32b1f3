"""Sign-in throttling with `limits` (fixed windows): failed attempts are counted per user name
and per client address; once either count is used up, sign-ins for it answer 429 with
Retry-After until the window ends, even with the right password.

Counts live in the service's database by default (table `rate_limits`), so several server
processes on one database share them and a restart does not wipe them; `memory://` keeps them in
the process, and any `limits` storage URI (e.g. `redis://host:6379`) works when configured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine, case, delete, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from api.core.config import Settings
from api.core.db import WRITE_OPTION
from api.errors import TooManyAttempts, message
from api.models import RateLimitCounter


class DatabaseStorage(Storage):
    """A `limits` storage on the service's own database (PostgreSQL or SQLite): one row per
    counter, incremented atomically with INSERT ... ON CONFLICT DO UPDATE."""

    STORAGE_SCHEME = None

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        # Counting writes: on SQLite it takes a writer's turn like every other write.
        self.writer = engine.execution_options(**{WRITE_OPTION: True})

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sa_exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        insert = (
            sqlite_insert if self.engine.url.get_backend_name() == "sqlite" else postgresql_insert
        )
        values = insert(RateLimitCounter).values(key=key, hits=amount, expires_at=now + expiry)
        table = RateLimitCounter.__table__
        live = table.c.expires_at > now
        statement = values.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case((live, table.c.hits + amount), else_=amount),
                "expires_at": case((live, table.c.expires_at), else_=now + expiry),
            },
        ).returning(table.c.hits)
        with self.writer.begin() as connection:
            return int(connection.execute(statement).scalar_one())

    def _row(self, key: str) -> tuple[int, float] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(RateLimitCounter.hits, RateLimitCounter.expires_at).where(
                    RateLimitCounter.key == key
                )
            ).first()
        if row is None or row.expires_at <= time.time():
            return None
        return int(row.hits), float(row.expires_at)

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except sa_exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.writer.begin() as connection:
            return int(connection.execute(delete(RateLimitCounter)).rowcount)

    def clear(self, key: str) -> None:
        with self.writer.begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


@dataclass
class LoginThrottle:
    """Failed sign-ins per user name and per client address, `limits` fixed windows."""

    limiter: FixedWindowRateLimiter
    per_user: RateLimitItem
    per_address: RateLimitItem

    def _limits(self, username: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return [
            (self.per_user, "user", username.casefold()),
            (self.per_address, "address", address),
        ]

    def check(self, *, username: str, address: str) -> None:
        """Raise TooManyAttempts when the user name or the address has used up its failures."""
        for item, kind, value in self._limits(username, address):
            if not self.limiter.test(item, "login", kind, value):
                reset_at = self.limiter.get_window_stats(item, "login", kind, value).reset_time
                wait_s = max(1, int(reset_at - time.time()) + 1)
                raise TooManyAttempts(
                    message("too_many_attempts", minutes=max(1, (wait_s + 59) // 60)),
                    retry_after_s=wait_s,
                )

    def record_failure(self, *, username: str, address: str) -> None:
        """Count one failed sign-in against the user name and the address."""
        for item, kind, value in self._limits(username, address):
            self.limiter.hit(item, "login", kind, value)


def make_login_throttle(settings: Settings, engine: Engine) -> LoginThrottle:
    """The throttle `settings` ask for, counting in the database unless a storage URI is set."""
    storage: Storage
    if settings.rate_limit_storage == "database":
        storage = DatabaseStorage(engine)
    else:
        storage = storage_from_string(settings.rate_limit_storage)  # type: ignore[assignment]
    window = settings.login_window_minutes
    return LoginThrottle(
        limiter=FixedWindowRateLimiter(storage),
        per_user=RateLimitItemPerMinute(settings.login_failures_per_user, window),
        per_address=RateLimitItemPerMinute(settings.login_failures_per_address, window),
    )
