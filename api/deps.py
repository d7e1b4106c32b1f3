"""Dependencies of the routes, as `Annotated` aliases (SessionDep, CurrentUser, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api import crud, models
from api.core.config import Settings, get_settings
from api.core.security import decode_access_token
from api.errors import Forbidden
from api.jobs import JobRunner, Planner, optimizer_planner

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token")

SettingsDep = Annotated[Settings, Depends(get_settings)]
TokenDep = Annotated[str, Depends(oauth2_scheme)]


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request, committed when the route returns without error."""
    with request.app.state.session_factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# "function" scope: the commit happens before the response is sent, so a 200 means saved.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_current_user(session: SessionDep, settings: SettingsDep, token: TokenDep) -> models.User:
    """The user the bearer token names; 401 if the token is bad, expired or the user gone."""
    unauthorised = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="not signed in, or the sign-in has expired: get a token at /api/auth/token",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        subject = decode_access_token(token, secret_key=settings.secret_key)
        user_id = int(subject)
    except (jwt.InvalidTokenError, ValueError):
        raise unauthorised from None
    user = crud.get_user(session, user_id=user_id)
    if user is None or not user.is_active:
        raise unauthorised
    return user


CurrentUser = Annotated[models.User, Depends(get_current_user)]


def get_dispatcher(user: CurrentUser) -> models.User:
    """The current user, who must be a dispatcher."""
    if user.role != "dispatcher":
        raise Forbidden("only a dispatcher may do this")
    return user


DispatcherUser = Annotated[models.User, Depends(get_dispatcher)]


def get_planner() -> Planner:
    """The planner jobs call; tests override this dependency with a fake or failing one."""
    return optimizer_planner


PlannerDep = Annotated[Planner, Depends(get_planner)]


def get_job_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.job_runner
    return runner


JobRunnerDep = Annotated[JobRunner, Depends(get_job_runner)]

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
