"""Accounts and sign-in: argon2 hashes, expiring tokens, `chunyun users add`, errors as JSON."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from api import crud
from api.cli import app as cli
from api.core.config import get_settings
from api.core.security import create_access_token
from tests.api.conftest import PASSWORD, Service, open_season

# The command line's texts are read in English (its default is Chinese).
pytestmark = pytest.mark.usefixtures("english_cli")


@pytest.fixture(scope="module")
def svc(service: Service) -> Service:
    open_season(service, "auth-2026", companies=[("GAMMA", "伽马"), ("OMEGA", "欧米伽")])
    return service


def test_password_is_stored_as_argon2(svc: Service) -> None:
    with svc.session() as session:
        user = crud.get_user_by_username(session, username="dispatcher")
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_token_flow(svc: Service) -> None:
    """A right password gives a bearer token that works; a wrong one gets 401."""
    response = svc.client.post(
        "/api/auth/token", data={"username": "dispatcher", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = svc.client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["username"] == "dispatcher" and me.json()["role"] == "dispatcher"
    wrong = svc.client.post(
        "/api/auth/token", data={"username": "dispatcher", "password": "nope-nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "wrong username or password"}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("expired", id="expired"),
        pytest.param("forged", id="signed-with-another-key"),
        pytest.param("garbage", id="not-a-token"),
    ],
)
def test_bad_tokens_are_refused(svc: Service, token: str) -> None:
    """Expired, forged or malformed tokens get 401 with a message saying what to do."""
    with svc.session() as session:
        user_id = str(crud.get_user_by_username(session, username="dispatcher").id)  # type: ignore[union-attr]
    value = {
        "expired": create_access_token(
            subject=user_id, secret_key=svc.settings.secret_key, minutes=-1
        ),
        "forged": create_access_token(subject=user_id, secret_key="x" * 40, minutes=10),
        "garbage": "not-a-jwt",
    }[token]
    response = svc.client.get("/api/users/me", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 401
    assert "/api/auth/token" in response.json()["detail"]


def test_dispatcher_creates_accounts(svc: Service) -> None:
    """POST /api/users: an employer needs a company; names are unique."""
    made = svc.call(
        "POST",
        "/api/users",
        "dispatcher",
        json={"username": "gamma", "password": PASSWORD, "role": "employer", "company_id": "GAMMA"},
    )
    assert made.status_code == 201 and made.json()["company_id"] == "GAMMA"
    again = svc.call(
        "POST",
        "/api/users",
        "dispatcher",
        json={"username": "gamma", "password": PASSWORD, "role": "employer", "company_id": "GAMMA"},
    )
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    orphan = svc.call(
        "POST",
        "/api/users",
        "dispatcher",
        json={"username": "delta", "password": PASSWORD, "role": "employer"},
    )
    assert orphan.status_code == 403 and "company" in orphan.json()["detail"]
    unknown = svc.call(
        "POST",
        "/api/users",
        "dispatcher",
        json={"username": "zeta", "password": PASSWORD, "role": "employer", "company_id": "ZETA"},
    )
    assert (
        unknown.status_code == 422 and "no season has a company 'ZETA'" in unknown.json()["detail"]
    )


def test_errors_are_json_in_users_terms(svc: Service) -> None:
    """Bad season policy keys and unknown seasons come back as JSON with a clear message."""
    bad = svc.call(
        "POST",
        "/api/seasons",
        "dispatcher",
        json={
            "name": "bad",
            "direction": "home",
            "origin": "330282",
            "festival_date": "2026-02-17",
            "first_departure": "2026-02-05",
            "last_departure": "2026-02-14",
            "policy": {"max_pickup_stop": 3},
        },
    )
    assert bad.status_code == 422
    assert "unknown key(s) max_pickup_stop" in bad.json()["detail"]
    reversed_dates = svc.call(
        "POST",
        "/api/seasons",
        "dispatcher",
        json={
            "name": "bad2",
            "direction": "home",
            "origin": "330282",
            "festival_date": "2026-02-17",
            "first_departure": "2026-02-15",
            "last_departure": "2026-02-14",
        },
    )
    assert reversed_dates.status_code == 422
    assert "first_departure must not be after last_departure" in reversed_dates.json()["detail"]
    missing = svc.call("GET", "/api/workers?season=none-such", "dispatcher")
    assert missing.status_code == 404 and missing.json() == {
        "detail": "no season called 'none-such'"
    }


def test_cli_users_add_writes_the_database_serve_uses(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chunyun users add` creates an account in DATABASE_URL; the service signs it in."""
    monkeypatch.setenv("DATABASE_URL", svc.settings.database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(
            cli,
            [
                "users",
                "add",
                "--role",
                "employer",
                "--company",
                "OMEGA",
                "--username",
                "omega",
                "--password",
                PASSWORD,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "created employer 'omega' of company OMEGA" in result.output
        duplicate = runner.invoke(
            cli,
            ["users", "add", "--role", "dispatcher", "--username", "omega", "--password", PASSWORD],
        )
        assert duplicate.exit_code == 1 and "already exists" in duplicate.output
        short = runner.invoke(
            cli, ["users", "add", "--role", "dispatcher", "--username", "x", "--password", "short"]
        )
        assert short.exit_code != 0
        listed = runner.invoke(cli, ["users", "list"])
        assert "omega" in listed.output
    finally:
        get_settings.cache_clear()
    token: Any = svc.client.post(
        "/api/auth/token", data={"username": "omega", "password": PASSWORD}
    )
    assert token.status_code == 200
    me = svc.client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["company_id"] == "OMEGA"


def test_malformed_requests_get_one_readable_sentence(svc: Service) -> None:
    """A request the schema refuses gets a 422 whose detail names each field and why."""
    response = svc.call(
        "POST",
        "/api/seasons",
        "dispatcher",
        json={
            "name": "x",
            "direction": "sideways",
            "origin": "330282",
            "festival_date": "2026-02-30",
            "first_departure": "2026-02-05",
            "last_departure": "2026-02-14",
        },
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("the request is not valid: ")
    assert "direction: " in detail and "festival_date: " in detail
    assert {tuple(e["loc"]) for e in response.json()["errors"]} >= {
        ("body", "direction"),
        ("body", "festival_date"),
    }
