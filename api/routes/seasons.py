"""Seasons: a dispatcher opens one per wave (home or return) with the scenario.toml keys."""

from __future__ import annotations

from fastapi import APIRouter, status

from api import crud
from api.deps import CurrentUser, DispatcherUser, SessionDep
from api.errors import NotFound
from api.schemas import SeasonCreate, SeasonPublic, SeasonUpdate

router = APIRouter(prefix="/seasons", tags=["seasons"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_season(
    session: SessionDep, _user: DispatcherUser, season_in: SeasonCreate
) -> SeasonPublic:
    """Open a season (dispatchers only); [policy] and [solver] are checked key by key."""
    return SeasonPublic.model_validate(crud.create_season(session, season_in=season_in))


@router.get("")
def list_seasons(session: SessionDep, _user: CurrentUser) -> list[SeasonPublic]:
    """Every season, open or closed."""
    return [SeasonPublic.model_validate(s) for s in crud.list_seasons(session)]


@router.get("/{name}")
def read_season(session: SessionDep, _user: CurrentUser, name: str) -> SeasonPublic:
    season = crud.get_season(session, name=name)
    if season is None:
        raise NotFound(f"no season called {name!r}")
    return SeasonPublic.model_validate(season)


@router.patch("/{name}")
def update_season(
    session: SessionDep, _user: DispatcherUser, name: str, season_in: SeasonUpdate
) -> SeasonPublic:
    """Close or reopen registration, or change the season's policy (dispatchers only)."""
    season = crud.resolve_season(session, name=name)
    return SeasonPublic.model_validate(
        crud.update_season(session, season=season, season_in=season_in)
    )
