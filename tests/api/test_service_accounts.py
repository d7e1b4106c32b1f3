"""Account rules: sign-in throttling per user name and per address, the same work for unknown
names as for wrong passwords, the password policy, disabling and enabling accounts and revoking
tokens (API and CLI), and employer accounts only for companies that exist."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from api import crud, schemas
from api.cli import app as cli
from api.core import security
from api.core.config import get_settings
from api.core.security import WeakPassword, check_password_policy
from tests.api.conftest import PASSWORD, Service, open_season

# The command line's texts are read in English (its default is Chinese).
pytestmark = pytest.mark.usefixtures("english_cli")


@pytest.fixture(scope="module")
def svc(service: Service) -> Service:
    open_season(service, "accounts-2026", companies=[("ALPHA", "阿尔法电器")])
    for name in ("throttled", "by-address", "disabled", "revoked", "cli-user"):
        service.add_user(name, "employer", "ALPHA")
    return service


def sign_in(svc: Service, username: str, password: str, address: str = "testclient") -> Any:
    # TestClient's peer address is fixed; X-Forwarded-For is not trusted, so vary nothing else.
    return svc.client.post("/api/auth/token", data={"username": username, "password": password})


def test_failed_sign_ins_are_throttled_per_user(svc: Service) -> None:
    """After CHUNYUN_LOGIN_FAILURES_PER_USER failures, even the right password gets 429 with
    Retry-After until the window ends; another user is not affected."""
    limit = svc.settings.login_failures_per_user
    for _ in range(limit):
        assert sign_in(svc, "throttled", "wrong-password-1").status_code == 401
    blocked = sign_in(svc, "throttled", PASSWORD)
    assert blocked.status_code == 429, blocked.text
    assert 0 < int(blocked.headers["retry-after"]) <= svc.settings.login_window_minutes * 60 + 1
    assert "wait" in blocked.json()["detail"]
    # Case does not open a second window for the same name.
    assert sign_in(svc, "THROTTLED", PASSWORD).status_code in (401, 429)
    assert sign_in(svc, "revoked", PASSWORD).status_code == 200


def test_unknown_names_are_throttled_like_known_ones(svc: Service) -> None:
    """Guessing names is throttled too, with the same answers as for a real name."""
    limit = svc.settings.login_failures_per_user
    answers = {sign_in(svc, "nobody-here", "wrong-password-1").status_code for _ in range(limit)}
    assert answers == {401}
    assert sign_in(svc, "nobody-here", "wrong-password-1").status_code == 429


def test_failed_sign_ins_are_throttled_per_address(svc: Service) -> None:
    """Failures spread over many names from one address hit the address limit."""
    with svc.session() as session:
        throttle = svc.app.state.login_throttle
        throttle.limiter.storage.reset()
        session.commit()
    before = svc.settings.login_failures_per_address
    throttle.per_address = type(throttle.per_address)(3, svc.settings.login_window_minutes)
    try:
        for n in range(3):
            assert sign_in(svc, f"spray-{n}", "wrong-password-1").status_code == 401
        assert sign_in(svc, "by-address", PASSWORD).status_code == 429
    finally:
        from limits import RateLimitItemPerMinute

        throttle.per_address = RateLimitItemPerMinute(before, svc.settings.login_window_minutes)
        throttle.limiter.storage.reset()


def test_unknown_name_costs_one_verification_like_a_wrong_password(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown user name runs the same argon2 verification as a wrong password, so timing
    does not tell which names exist."""
    calls: list[str] = []
    real = security._hasher

    class Counting:
        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(security, "_hasher", Counting())
    with svc.session() as session:
        assert crud.authenticate(session, username="no-such-user", password="x" * 10) is None
        assert crud.authenticate(session, username="revoked", password="x" * 10) is None
    assert len(calls) == 2 and calls[0] == security._DUMMY_HASH


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("clerk", "1234567", "at least 8"),
        ("clerk", "12345678", "most common"),
        ("clerk", "Password1", "most common"),
        ("zhangwei88", "zhangwei88", "user name"),
        ("zhangwei88", "my-ZhangWei88-pw", "user name"),
    ],
)
def test_password_policy(username: str, password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason):
        check_password_policy(password, username=username)


def test_policy_applies_to_the_api(svc: Service) -> None:
    response = svc.call(
        "POST",
        "/api/users",
        "dispatcher",
        json={"username": "qwerty-user", "password": "qwertyuiop", "role": "dispatcher"},
    )
    assert response.status_code == 422
    assert "most common passwords" in response.json()["detail"]


def user_id(svc: Service, username: str) -> int:
    with svc.session() as session:
        user = crud.get_user_by_username(session, username=username)
        assert user is not None
        return user.id


def test_disable_and_enable_through_the_api(svc: Service) -> None:
    """A disabled account's token stops at once and it cannot sign in; enabled, it signs in."""
    headers = svc.headers("disabled")
    assert svc.client.get("/api/users/me", headers=headers).status_code == 200
    uid = user_id(svc, "disabled")
    answer = svc.call("POST", f"/api/users/{uid}/disable", "dispatcher")
    assert answer.status_code == 200 and answer.json()["is_active"] is False
    assert svc.client.get("/api/users/me", headers=headers).status_code == 401
    refused = sign_in(svc, "disabled", PASSWORD)
    assert refused.status_code == 401 and "disabled" in refused.json()["detail"]
    # Someone without the password learns nothing about the account's state.
    assert sign_in(svc, "disabled", "wrong-password-1").json()["detail"] == (
        "wrong username or password"
    )
    assert svc.call("POST", f"/api/users/{uid}/enable", "dispatcher").json()["is_active"]
    assert sign_in(svc, "disabled", PASSWORD).status_code == 200


def test_nobody_disables_themselves(svc: Service) -> None:
    uid = user_id(svc, "dispatcher")
    response = svc.call("POST", f"/api/users/{uid}/disable", "dispatcher")
    assert response.status_code == 409


def test_revoking_tokens_ends_every_sign_in(svc: Service) -> None:
    """Revoked: old tokens get 401, a new sign-in works; logout revokes one's own tokens."""
    old = svc.headers("revoked")
    uid = user_id(svc, "revoked")
    assert svc.call("POST", f"/api/users/{uid}/revoke-tokens", "dispatcher").status_code == 200
    assert svc.client.get("/api/users/me", headers=old).status_code == 401
    svc.forget_token("revoked")
    new = svc.headers("revoked")
    assert svc.client.get("/api/users/me", headers=new).status_code == 200
    assert svc.client.post("/api/auth/logout", headers=new).status_code == 204
    assert svc.client.get("/api/users/me", headers=new).status_code == 401
    svc.forget_token("revoked")


def test_cli_disable_enable_and_revoke(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """`chunyun users disable|enable|revoke-tokens NAME` act on the database the service uses."""
    headers = svc.headers("cli-user")
    monkeypatch.setenv("DATABASE_URL", svc.settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        disabled = runner.invoke(cli, ["users", "disable", "cli-user"])
        assert disabled.exit_code == 0, disabled.output
        assert svc.client.get("/api/users/me", headers=headers).status_code == 401
        listed = runner.invoke(cli, ["users", "list"])
        assert "cli-user" in listed.output and "(disabled)" in listed.output
        assert runner.invoke(cli, ["users", "enable", "cli-user"]).exit_code == 0
        svc.forget_token("cli-user")
        headers = svc.headers("cli-user")
        assert runner.invoke(cli, ["users", "revoke-tokens", "cli-user"]).exit_code == 0
        assert svc.client.get("/api/users/me", headers=headers).status_code == 401
        missing = runner.invoke(cli, ["users", "disable", "no-such-user"])
        assert missing.exit_code == 1 and "no user 'no-such-user'" in missing.output
        weak = runner.invoke(
            cli,
            ["users", "add", "--role", "dispatcher", "--username", "x1", "--password", "12345678"],
        )
        assert weak.exit_code == 1 and "common" in weak.output
        orphan = runner.invoke(
            cli,
            [
                "users", "add", "--role", "employer", "--company", "NOPE",
                "--username", "orphan", "--password", PASSWORD,
            ],
        )  # fmt: skip
        assert orphan.exit_code == 1 and "no season has a company 'NOPE'" in orphan.output
    finally:
        get_settings.cache_clear()
        svc.forget_token("cli-user")


def test_employer_accounts_need_an_existing_company(svc: Service) -> None:
    with svc.session() as session, pytest.raises(Exception, match="no season has a company"):
        crud.create_user(
            session,
            user_in=schemas.UserCreate(
                username="ghost", password=PASSWORD, role="employer", company_id="GHOST"
            ),
        )


def test_throttle_counts_in_memory_when_configured(svc: Service) -> None:
    """CHUNYUN_RATE_LIMIT_STORAGE=memory:// keeps the counts in the process (limits' storage)."""
    from api.core.throttle import make_login_throttle
    from api.errors import TooManyAttempts

    settings = svc.settings.model_copy(
        update={"rate_limit_storage": "memory://", "login_failures_per_user": 2}
    )
    throttle = make_login_throttle(settings, svc.app.state.engine)
    for _ in range(2):
        throttle.check(username="mem", address="10.0.0.1")
        throttle.record_failure(username="mem", address="10.0.0.1")
    with pytest.raises(TooManyAttempts) as refused:
        throttle.check(username="mem", address="10.0.0.2")
    assert refused.value.retry_after_s > 0
    throttle.check(username="other", address="10.0.0.1")
