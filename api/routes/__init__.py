"""One router per resource; `api_router` gathers them under /api."""

from fastapi import APIRouter

from api.errors import ERROR_RESPONSES
from api.routes import (
    audit,
    auth,
    companies,
    fleet,
    hubs,
    moves,
    operations,
    places,
    plans,
    seasons,
    sizing,
    users,
    workers,
)

# Every error answer any route can give is documented once for all (JSON, api/errors.py).
api_router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
for module in (
    auth,
    users,
    seasons,
    sizing,
    places,
    companies,
    hubs,
    fleet,
    workers,
    plans,
    moves,
    operations,
    audit,
):
    api_router.include_router(module.router)
