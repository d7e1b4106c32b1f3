"""Fixtures of the page tests: the service fixtures of tests/api, and browsers signed in."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, Service, database_url, service

__all__ = ["Browser", "database_url", "service"]

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A cookie-keeping client of the pages, as one person's browser."""

    def __init__(self, svc: Service) -> None:
        self.client = TestClient(svc.app, base_url="http://127.0.0.1")
        self.token = ""

    def sign_in(self, username: str, password: str = PASSWORD) -> Any:
        page = self.client.get("/")
        token = TOKEN.search(page.text)
        assert token, page.text[:500]
        return self.client.post(
            "/signin",
            data={"username": username, "password": password, "csrf_token": token.group(1)},
            follow_redirects=False,
        )

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.client.get(url, **kwargs)
        found = (
            TOKEN.search(response.text)
            if "text/html" in response.headers.get("content-type", "")
            else None
        )
        if found:
            self.token = found.group(1)
        return response

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, token: bool = True, **kwargs: Any
    ) -> Any:
        if token and not self.token:
            self.get("/home")
        body = dict(data or {})
        if token:
            body["csrf_token"] = self.token
        return self.client.post(url, data=body, follow_redirects=False, **kwargs)


def plan_and_publish(svc: Service, dispatcher: Browser, season: str) -> tuple[int, list[Any]]:
    """Start a plan of `season` from the dispatcher's pages, wait for it, publish it; the plan's
    id and its trips as the API lists them."""
    started = dispatcher.post(f"/d/seasons/{season}/plans", {"time_limit_s": "5"})
    assert started.status_code == 303
    svc.wait_for_jobs()
    plan_url = started.headers["location"]
    assert dispatcher.post(plan_url + "/publish").status_code == 303
    plan_id = int(plan_url.rsplit("/", 1)[1])
    return plan_id, svc.call("GET", f"/api/plans/{plan_id}/trips", "dispatcher").json()
