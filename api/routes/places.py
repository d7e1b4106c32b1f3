"""Places people can find: each county's named drop-off point in a season (its coach station,
or a point the dispatcher sets). The shipped geography knows county seats, not stations, so a
county without a point set is printed by its name only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api import crud, models, operations
from api.deps import CurrentUser, DispatcherUser, SessionDep
from api.errors import NotFound, message
from api.schemas import DropPointIn, DropPointPublic
from optimizer.places import county_seats

router = APIRouter(prefix="/seasons/{name}/drop-points", tags=["places"])

Adcode = Annotated[str, Path(pattern=r"^\d{6}$", description="the county's 6-digit adcode")]


def _public(row: models.DropPoint) -> DropPointPublic:
    from optimizer.places import county_name

    return DropPointPublic(
        adcode=row.adcode, county=county_name(row.adcode), name=row.name, address=row.address
    )


@router.get("")
def list_drop_points(session: SessionDep, _user: CurrentUser, name: str) -> list[DropPointPublic]:
    """The season's named drop-off points, by county."""
    season = crud.resolve_season(session, name=name)
    return [_public(r) for r in operations.list_drop_points(session, season=season)]


@router.put("/{adcode}")
def set_drop_point(
    session: SessionDep, _user: DispatcherUser, name: str, adcode: Adcode, point: DropPointIn
) -> DropPointPublic:
    """Name the county's drop-off point (e.g. 临泉县汽车站, with its address); manifests, trip
    sheets and notices print it for the county's drop-off stops (dispatchers only)."""
    season = crud.resolve_season(session, name=name)
    if adcode not in county_seats([adcode]):
        raise NotFound(message("drop_point_unknown_county", adcode=adcode))
    row = operations.set_drop_point(
        session, season=season, adcode=adcode, name=point.name, address=point.address
    )
    return _public(row)


@router.delete("/{adcode}", status_code=status.HTTP_204_NO_CONTENT)
def delete_drop_point(
    session: SessionDep, _user: DispatcherUser, name: str, adcode: Adcode
) -> Response:
    """Forget the county's drop-off point: the county is printed by its name again."""
    season = crud.resolve_season(session, name=name)
    if not operations.delete_drop_point(session, season=season, adcode=adcode):
        raise NotFound(message("drop_point_none", adcode=adcode))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
