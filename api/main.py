"""The FastAPI application: `create_app()` builds it; the lifespan migrates the database and,
unless settings say jobs run on external workers, starts this process's planning worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from api.core.config import Settings, get_settings
from api.core.db import describe, make_engine, make_session_factory, migrate
from api.core.throttle import make_login_throttle
from api.deps import get_planner
from api.errors import document_errors, install_error_handlers
from api.jobs import JobWorker, Planner
from api.middleware import BodyLimitMiddleware
from api.routes import api_router
from api.web import install_pages

log = logging.getLogger(__name__)


def _settings_of(app: FastAPI) -> Settings:
    # Tests override the get_settings dependency; the lifespan honours the same override.
    provider = app.dependency_overrides.get(get_settings, get_settings)
    settings: Settings = provider()
    return settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = _settings_of(app)
    # Routes that touch the database are sync and run on these threads; each holds at most one
    # pooled connection, so the pool is sized from the same number (docs/api.md, "Capacity").
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
    engine = make_engine(
        settings.database_url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout_s=settings.db_pool_timeout_s,
        busy_timeout_s=settings.sqlite_busy_timeout_s,
    )
    migrate(engine)
    session_factory = make_session_factory(engine)
    log.info(
        "database: %s (pool %d + %d, %d worker threads)",
        describe(engine),
        settings.pool_size,
        settings.max_overflow,
        settings.worker_threads,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.read_session_factory = make_session_factory(engine, write=False)
    app.state.login_throttle = make_login_throttle(settings, engine)

    def planner() -> Planner:
        # Tests override the planner dependency; the worker honours the same override.
        provider = app.dependency_overrides.get(get_planner, get_planner)
        chosen: Planner = provider()
        return chosen

    # Jobs are rows: whichever worker claims one runs it (this process's, or `chunyun worker`s).
    # This process's worker has connections of its own (a claim or progress write and a
    # heartbeat per slot), so planning never takes a request's connection, nor the reverse.
    job_engine = engine
    if settings.in_process_worker:
        job_engine = make_engine(
            settings.database_url,
            pool_size=2 * settings.job_slots + 1,
            max_overflow=2,
            pool_timeout_s=settings.db_pool_timeout_s,
            busy_timeout_s=settings.sqlite_busy_timeout_s,
        )
    worker = JobWorker(
        make_session_factory(job_engine),
        planner=planner,
        lease_s=settings.job_lease_s,
        poll_s=settings.job_poll_s,
        max_attempts=settings.job_max_attempts,
        slots=settings.job_slots,
    )
    app.state.job_runner = worker
    if settings.in_process_worker:
        worker.start()
        log.info("planning jobs: worker %s in this process (%d slots)", worker.name, worker.slots)
    else:
        log.info("planning jobs: run by external workers (`chunyun worker`)")
    try:
        yield
    finally:
        worker.stop()
        if job_engine is not engine:
            job_engine.dispose()
        engine.dispose()


def create_app() -> FastAPI:
    """The chunyun service. Configuration comes from `get_settings()` (override it in tests)."""
    app = FastAPI(
        title="chunyun",
        summary="Spring Festival charter coaches: registration, planning, publishing.",
        description=(
            "Employers register their workers; dispatchers plan legal, full coach trips and "
            "publish manifests and maps. People sign in on the pages at /; programs get a token "
            "at POST /api/auth/token (OAuth2 password flow: the Authorize button here)."
        ),
        lifespan=lifespan,
        # Served below from vendored assets, so they work without internet.
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(api_router)
    install_error_handlers(app)
    install_pages(app)
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(plain_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    # Added last, so it runs first: oversized bodies are refused before anything reads them.
    app.add_middleware(BodyLimitMiddleware)

    @app.get("/api/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Whether the service is up (no sign-in needed). Served on the event loop without the
        database, so it answers while every worker thread is busy."""
        return {"status": "ok"}

    return app
