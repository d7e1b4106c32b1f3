"""Accounts: dispatchers create them; everyone can see who they are signed in as."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from api import crud
from api.deps import CurrentUser, DispatcherUser, SessionDep
from api.schemas import UserCreate, UserPublic

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me")
def read_me(user: CurrentUser) -> UserPublic:
    """The signed-in account."""
    return UserPublic.model_validate(user)


@router.get("")
def list_users(session: SessionDep, _user: DispatcherUser) -> list[UserPublic]:
    """Every account (dispatchers only)."""
    return [UserPublic.model_validate(u) for u in crud.list_users(session)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(session: SessionDep, _user: DispatcherUser, user_in: UserCreate) -> Any:
    """Create a dispatcher or employer account (dispatchers only)."""
    return UserPublic.model_validate(crud.create_user(session, user_in=user_in))
