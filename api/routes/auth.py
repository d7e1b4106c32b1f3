"""Sign-in: OAuth2 password flow, bearer tokens that expire, throttled failures, sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response, status

from api import crud
from api.deps import ClientAddress, CurrentUser, LoginThrottleDep, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.schemas import NoNulText, Token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", responses={429: ERROR_RESPONSES[429]})
def login(
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
    address: ClientAddress,
    username: Annotated[NoNulText, Form(min_length=1, max_length=64)],
    password: Annotated[NoNulText, Form(min_length=1, max_length=256)],
) -> Token:
    """Exchange username and password for a bearer token (form fields, OAuth2 password flow).

    Failed attempts are counted per user name and per address; past the limit the answer is
    429 with Retry-After, even for the right password, until the window ends."""
    user = crud.sign_in(
        session, throttle=throttle, username=username, password=password, address=address
    )
    token = crud.issue_token(
        user=user, secret_key=settings.secret_key, minutes=settings.access_token_minutes
    )
    return Token(access_token=token, expires_in=settings.access_token_minutes * 60)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(session: SessionDep, user: CurrentUser) -> Response:
    """Sign out everywhere: every token of the caller stops working at once."""
    crud.revoke_tokens(session, user=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
