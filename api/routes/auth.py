"""Sign-in: OAuth2 password flow, bearer tokens that expire."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from api import crud
from api.core.security import create_access_token
from api.deps import SessionDep, SettingsDep
from api.schemas import Token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token")
def login(
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange username and password for a bearer token."""
    user = crud.authenticate(session, username=form.username, password=form.password)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = create_access_token(
        subject=str(user.id),
        secret_key=settings.secret_key,
        minutes=settings.access_token_minutes,
    )
    return Token(access_token=token, expires_in=settings.access_token_minutes * 60)
