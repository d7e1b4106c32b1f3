"""Fleet sizing of a season (dispatchers only): the fewest coaches per type, and the days they
are needed, with which everyone seatable is seated. Answered while the caller waits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from api.deps import DispatcherUser, SettingsDep
from api.schemas import FleetNeedPublic, FleetSizeCreate, FleetSizePublic
from api.sizing import FleetSizerDep, season_scenario, sizing_gate

router = APIRouter(prefix="/seasons", tags=["seasons"])


@router.post("/{name}/fleet-size")
def size_season_fleet(
    request: Request,
    settings: SettingsDep,
    _user: DispatcherUser,
    sizer: FleetSizerDep,
    name: str,
    sizing_in: Annotated[FleetSizeCreate | None, Body()] = None,
) -> FleetSizePublic:
    """Plan the season with as many coaches as it wants and chain its trips into the fewest
    physical coaches per type (dispatchers only). Nothing is stored.

    Takes as long as a plan: the time limit is the body's `time_limit_s`, else the season's
    [solver] time limit, capped at the server's CHUNYUN_FLEET_SIZE_MAX_S (120 s by default).
    503 with Retry-After when the server already runs its share of sizings."""
    scenario = season_scenario(request.app.state.read_session_factory, name=name, settings=settings)
    asked = sizing_in.time_limit_s if sizing_in and sizing_in.time_limit_s else None
    time_limit_s = min(asked or scenario.solver.time_limit_s, settings.fleet_size_max_s)
    with sizing_gate(request, settings):
        size = sizer(scenario, time_limit_s=time_limit_s)
    return FleetSizePublic(
        season=scenario.name,
        fleet=[
            FleetNeedPublic(
                vehicle_type=f.vehicle_type,
                seats=f.seats,
                count=f.count,
                needed_from=f.needed_from,
                needed_to=f.needed_to,
            )
            for f in size.fleet
        ],
        workers=size.workers,
        seated=size.seated,
        trips=size.trips,
        time_limit_s=time_limit_s,
        solve_seconds=size.solve_seconds,
    )
