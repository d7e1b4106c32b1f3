"""Dependencies of the routes, as `Annotated` aliases (SessionDep, CurrentUser, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api import crud, models
from api.core.config import Settings, get_settings
from api.core.throttle import LoginThrottle
from api.errors import Forbidden
from api.jobs import JobWorker, Planner, optimizer_planner

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token")

SettingsDep = Annotated[Settings, Depends(get_settings)]
TokenDep = Annotated[str, Depends(oauth2_scheme)]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request, committed when the route returns without error. GET requests
    read (on SQLite: without waiting for writers); others write (on SQLite: one at a time)."""
    factory = (
        request.app.state.read_session_factory
        if request.method in READ_METHODS
        else request.app.state.session_factory
    )
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# "function" scope: the commit happens before the response is sent, so a 200 means saved.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_current_user(request: Request, settings: SettingsDep, token: TokenDep) -> models.User:
    """The user the bearer token names; 401 if the token is bad, expired, revoked, or the user
    gone or disabled. Looked up in a read session of its own, closed at once, so signing in
    never holds a writer's turn."""
    with request.app.state.read_session_factory() as session:
        return crud.user_for_token(session, token=token, secret_key=settings.secret_key)


CurrentUser = Annotated[models.User, Depends(get_current_user)]


def get_dispatcher(user: CurrentUser) -> models.User:
    """The current user, who must be a dispatcher."""
    if user.role != "dispatcher":
        raise Forbidden("only a dispatcher may do this")
    return user


DispatcherUser = Annotated[models.User, Depends(get_dispatcher)]


def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy: the proxy's, unless uvicorn
    runs with --proxy-headers and trusts it)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


def get_planner() -> Planner:
    """The planner jobs call; tests override this dependency with a fake or failing one."""
    return optimizer_planner


def get_job_runner(request: Request) -> JobWorker:
    """The app's job worker: told of new jobs (it may be idle when jobs run elsewhere)."""
    runner: JobWorker = request.app.state.job_runner
    return runner


JobRunnerDep = Annotated[JobWorker, Depends(get_job_runner)]

SeasonQuery = Annotated[str | None, Query(description="season name; default: the only open season")]
MaskedQuery = Annotated[
    bool,
    Query(description="dispatchers: show masked ID numbers and phones (no audit entry)"),
]


def shows_unmasked(user: models.User, masked: bool) -> bool:
    """Whether `user` sees full ID numbers and phones: dispatchers, unless they ask for masks."""
    return user.role == "dispatcher" and not masked


def company_scope(user: models.User) -> str | None:
    """The company whose data `user` is limited to (None: a dispatcher sees all)."""
    return user.company_id if user.role == "employer" else None
