"""Schemathesis over the whole API, as a dispatcher and as an employer, on SQLite and
PostgreSQL: for every operation, generated requests (valid and invalid) never get a 5xx, and
every answer matches the OpenAPI schema (status code, content type, headers, body).

Examples per operation are bounded so the run stays around a minute per database on 2 cores;
`CHUNYUN_SCHEMA_EXAMPLES` raises them for a deeper run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from sqlalchemy import update

from api import crud, models
from api.main import create_app
from tests.api.conftest import Service, open_season, worker_row

# Examples per operation, role and mode (valid requests; invalid ones get 2/3 of it).
EXAMPLES = int(os.environ.get("CHUNYUN_SCHEMA_EXAMPLES", "5"))
SEASON = "fuzz-2026"
ROLES = {"dispatcher": "dispatcher", "employer": "alpha"}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


class _Running:
    """An app whose lifespan is already running for the whole module, as schemathesis sees it.

    Schemathesis starts an ASGI app's lifespan at its first request and its pytest plugin ends
    it after every test: for this app that is a fresh engine, an Alembic `upgrade head` and a
    planning worker started and stopped for each of the ~240 cases of a database. The service
    fixture's app already runs its lifespan for the module, so lifespan messages are answered
    here and every request goes to that running app."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


@pytest.fixture(scope="module")
def fuzzed_app(service: Service) -> FastAPI:
    """The module's app, holding a season with workers and a published plan."""
    open_season(service, SEASON, companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")])
    service.add_user("alpha", "employer", "ALPHA")
    rows = [worker_row(n, company_id="ALPHA" if n % 2 else "BETA") for n in range(1, 9)]
    assert service.call("POST", f"/api/workers?season={SEASON}", "dispatcher", json=rows).is_success
    plan = service.run_plan(SEASON)
    service.call("POST", f"/api/plans/{plan['id']}/publish", "dispatcher")
    return service.app


@pytest.fixture(scope="module")
def api_schema(fuzzed_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", _Running(fuzzed_app))


def _headers(app: FastAPI, service: Service, role: str) -> dict[str, str]:
    """A fresh token for the role's account, re-enabled first: generated calls may disable an
    account or revoke its tokens, which must not end the run's coverage."""
    username = ROLES[role]
    with app.state.session_factory.begin() as session:
        session.execute(
            update(models.User).where(models.User.username == username).values(is_active=True)
        )
        user = crud.get_user_by_username(session, username=username)
        assert user is not None
        token = crud.issue_token(user=user, secret_key=service.settings.secret_key, minutes=10)
    return {"Authorization": f"Bearer {token}"}


# Every operation of the app's own OpenAPI document, so a new route is fuzzed without a change.
DOCUMENT = create_app().openapi()
OPERATIONS = sorted(
    (method.upper(), path, bool(spec.get("parameters") or spec.get("requestBody")))
    for path, operations in DOCUMENT["paths"].items()
    for method, spec in operations.items()
)
CASES = [
    pytest.param(role, mode, method, path, id=f"{role}-{mode.value}-{method} {path}")
    for role in ROLES
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    for method, path, takes_input in OPERATIONS
    # An operation without parameters or body has no invalid request to make.
    if takes_input or mode is GenerationMode.POSITIVE
]
# Calls that may end the role account's sign-in: a fresh token after each of them.
ACCOUNT_CHANGES = ("/api/users/{user_id}/", "/api/auth/logout")


@pytest.mark.parametrize(("role", "mode", "method", "path"), CASES)
def test_answers_match_the_schema(
    api_schema: Any,
    fuzzed_app: FastAPI,
    service: Service,
    role: str,
    mode: GenerationMode,
    method: str,
    path: str,
) -> None:
    """No generated request gets a 5xx; every answer is documented and matches its schema."""
    operation = api_schema[path][method]
    headers = [_headers(fuzzed_app, service, role)]
    changes_accounts = path.startswith(ACCOUNT_CHANGES)
    examples = EXAMPLES if mode is GenerationMode.POSITIVE else max(1, EXAMPLES * 2 // 3)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if changes_accounts:
            headers[0] = _headers(fuzzed_app, service, role)
        case.call_and_validate(headers=headers[0], checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Every value of its parameters is valid (e.g. a free-text name in the path).
        pytest.skip(f"no invalid request exists for {method} {path}")
