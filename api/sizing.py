"""Fleet sizing for the service: the season's rows as a scenario, sized by `optimizer.sizing`
while the caller waits, within a capped time limit and a bounded number of runs at once.

A sizing run plans the season like a planning job but stores nothing, so it answers the request
itself rather than becoming a job: its time limit is capped (`CHUNYUN_FLEET_SIZE_MAX_S`), at
most `CHUNYUN_FLEET_SIZE_CONCURRENCY` runs share the process at once (the next caller gets 503
with Retry-After), and the season is read in a read session that is closed before planning
starts, so no database connection or writer's turn is held while it plans.
"""

from __future__ import annotations

import threading
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from api import convert, crud
from api.core.config import Settings
from api.errors import Busy, message
from optimizer import model as domain
from optimizer.errors import InvalidInput
from optimizer.sizing import FleetSize


class FleetSizer(Protocol):
    """What the route calls: a scenario and planning seconds in, the sized fleet out."""

    def __call__(self, scenario: domain.Scenario, *, time_limit_s: float) -> FleetSize: ...


def optimizer_sizer(scenario: domain.Scenario, *, time_limit_s: float) -> FleetSize:
    """The product's sizing: `optimizer.sizing.size_fleet` on the default distance provider."""
    from optimizer.sizing import size_fleet

    return size_fleet(scenario, time_limit_s=time_limit_s)


def get_fleet_sizer() -> FleetSizer:
    """The sizing the route calls; tests override this dependency."""
    return optimizer_sizer


FleetSizerDep = Annotated[FleetSizer, Depends(get_fleet_sizer)]


class SizingGate:
    """At most `limit` sizing runs at once; a run beyond that is refused at once (503)."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def __enter__(self) -> SizingGate:
        if not self._slots.acquire(blocking=False):
            raise Busy(message("fleet_size_busy"))
        return self

    def __exit__(self, *_: object) -> None:
        self._slots.release()


_gate_lock = threading.Lock()


def sizing_gate(request: Request, settings: Settings) -> SizingGate:
    """The app's sizing gate, made on first use with the configured limit."""
    with _gate_lock:
        gate: SizingGate | None = getattr(request.app.state, "sizing_gate", None)
        if gate is None:
            gate = SizingGate(settings.fleet_size_concurrency)
            request.app.state.sizing_gate = gate
        return gate


def season_scenario(
    read_sessions: sessionmaker[Session], *, name: str, settings: Settings
) -> domain.Scenario:
    """The season called `name` as it is now, read in a session closed before returning."""
    with read_sessions() as session:
        season = crud.resolve_season(session, name=name)
        fleet = crud.list_vehicle_types(session, season=season)
        if not fleet:
            raise InvalidInput(message("fleet_size_no_fleet", season=season.name))
        return convert.season_to_scenario(
            season,
            companies=crud.list_companies(session, season=season),
            fleet=fleet,
            workers=crud.list_workers(session, season=season),
            hubs=crud.list_hubs(session, season=season),
            time_limit_s=float(season.solver.get("time_limit_s", settings.plan_time_limit_s)),
        )
