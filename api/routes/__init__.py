"""One router per resource; `api_router` gathers them under /api."""

from fastapi import APIRouter

from api.routes import audit, auth, companies, fleet, hubs, plans, seasons, users, workers

api_router = APIRouter(prefix="/api")
for module in (auth, users, seasons, companies, hubs, fleet, workers, plans, audit):
    api_router.include_router(module.router)
