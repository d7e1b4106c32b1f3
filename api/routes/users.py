"""Accounts: dispatchers create, disable and enable them and end their sign-ins; everyone can
see who they are signed in as."""

from __future__ import annotations

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
def create_user(session: SessionDep, _user: DispatcherUser, user_in: UserCreate) -> UserPublic:
    """Create a dispatcher or employer account (dispatchers only). An employer's company must
    exist in some season; the password must pass the policy (422 says why not)."""
    return UserPublic.model_validate(crud.create_user(session, user_in=user_in))


@router.post("/{user_id}/disable")
def disable_user(session: SessionDep, me: DispatcherUser, user_id: int) -> UserPublic:
    """Disable an account (dispatchers only): it can no longer sign in, and its tokens stop
    working at once. Nobody disables their own account (409)."""
    user = crud.find_user(session, user=user_id)
    return UserPublic.model_validate(crud.set_active(session, user=user, active=False, by=me))


@router.post("/{user_id}/enable")
def enable_user(session: SessionDep, _user: DispatcherUser, user_id: int) -> UserPublic:
    """Enable a disabled account again (dispatchers only); it signs in afresh."""
    user = crud.find_user(session, user=user_id)
    return UserPublic.model_validate(crud.set_active(session, user=user, active=True))


@router.post("/{user_id}/revoke-tokens")
def revoke_tokens(session: SessionDep, _user: DispatcherUser, user_id: int) -> UserPublic:
    """End every sign-in of an account (dispatchers only), e.g. after a lost laptop."""
    user = crud.find_user(session, user=user_id)
    return UserPublic.model_validate(crud.revoke_tokens(session, user=user))
