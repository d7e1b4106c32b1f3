"""The season's fleet: coach types, counts and tariffs (dispatchers only)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api import crud, models
from api.deps import DispatcherUser, SeasonQuery, SessionDep
from api.schemas import VehicleTypeCreate, VehicleTypePublic

router = APIRouter(prefix="/fleet", tags=["fleet"])


def _public(row: models.VehicleType, season: models.Season) -> VehicleTypePublic:
    return VehicleTypePublic(
        season=season.name,
        **{name: getattr(row, name) for name in VehicleTypeCreate.model_fields},
    )


@router.get("")
def list_fleet(
    session: SessionDep, _user: DispatcherUser, season: SeasonQuery = None
) -> list[VehicleTypePublic]:
    row = crud.resolve_season(session, name=season)
    return [_public(v, row) for v in crud.list_vehicle_types(session, season=row)]


@router.post("")
def upsert_fleet(
    session: SessionDep,
    _user: DispatcherUser,
    fleet_in: list[VehicleTypeCreate] | VehicleTypeCreate,
    season: SeasonQuery = None,
) -> list[VehicleTypePublic]:
    """Create or update one or many coach types, keyed by vehicle_type."""
    row = crud.resolve_season(session, name=season)
    items = fleet_in if isinstance(fleet_in, list) else [fleet_in]
    return [_public(v, row) for v in crud.upsert_vehicle_types(session, season=row, fleet_in=items)]


@router.delete("/{vehicle_type}", status_code=status.HTTP_204_NO_CONTENT)
def delete_vehicle_type(
    session: SessionDep, _user: DispatcherUser, vehicle_type: str, season: SeasonQuery = None
) -> Response:
    crud.delete_vehicle_type(
        session, season=crud.resolve_season(session, name=season), vehicle_type=vehicle_type
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
