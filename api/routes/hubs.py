"""Gathering points of a season: town coach stations and the charter terminal (dispatchers).

With `[policy] hub_radius_km` > 0 the planner may ask workers of nearby gates to board at a hub.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api import crud, models
from api.deps import DispatcherUser, SeasonQuery, SessionDep
from api.schemas import HubCreate, HubPublic

router = APIRouter(prefix="/hubs", tags=["hubs"])


def _public(row: models.Hub, season: models.Season) -> HubPublic:
    return HubPublic(
        season=season.name,
        hub_id=row.hub_id,
        name=row.name,
        lon=row.lon,
        lat=row.lat,
        county=row.county,
    )


@router.get("")
def list_hubs(
    session: SessionDep, _user: DispatcherUser, season: SeasonQuery = None
) -> list[HubPublic]:
    row = crud.resolve_season(session, name=season)
    return [_public(h, row) for h in crud.list_hubs(session, season=row)]


@router.post("")
def upsert_hubs(
    session: SessionDep,
    _user: DispatcherUser,
    hubs_in: list[HubCreate] | HubCreate,
    season: SeasonQuery = None,
) -> list[HubPublic]:
    """Create or update one or many hubs, keyed by hub_id."""
    row = crud.resolve_season(session, name=season)
    items = hubs_in if isinstance(hubs_in, list) else [hubs_in]
    return [_public(h, row) for h in crud.upsert_hubs(session, season=row, hubs_in=items)]


@router.delete("/{hub_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_hub(
    session: SessionDep, _user: DispatcherUser, hub_id: str, season: SeasonQuery = None
) -> Response:
    crud.delete_hub(session, season=crud.resolve_season(session, name=season), hub_id=hub_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
