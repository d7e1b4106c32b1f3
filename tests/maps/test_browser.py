"""Maps open in headless Chromium with networking off and show their layers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maps import overview_map, trip_map
from optimizer.geography.distance import GreatCircleProvider
from tests.maps import fixtures

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright; skipped when either is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield instance
        instance.close()


def open_offline(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """Open a saved map with the network cut; returns the page, outside requests, JS errors."""
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(("file:", "data:")) else outside.append(r.url)
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelectorAll('.leaflet-pane').length > 0")
    return page, outside, errors


def test_overview_renders_offline_with_route_layers(browser: Any, tmp_path: Path) -> None:
    """The overview draws one route per trip with no request leaving the machine."""
    plan = fixtures.plan()
    path = tmp_path / "map.html"
    overview_map(plan, provider=GreatCircleProvider()).save(str(path))
    page, outside, errors = open_offline(browser, path)
    assert outside == []
    assert errors == []
    assert page.locator("path.chunyun-route").count() == len(plan.trips)
    assert page.locator("path.chunyun-county").count() == 4
    control = page.locator(".leaflet-control-layers").inner_text()
    assert "01-28 发车" in control and "贵州省" in control
    page.screenshot(path=str(tmp_path / "map.png"))
    # Switching one date layer off hides that date's route.
    page.locator(".leaflet-control-layers-overlays label", has_text="01-28 发车").click()
    assert page.locator("path.chunyun-route").count() == len(plan.trips) - 1
    page.context.close()


def test_trip_map_shows_every_stop_in_the_browser(browser: Any, tmp_path: Path) -> None:
    """Each stop of the trip is a visible numbered marker and its popup opens on click."""
    trip = fixtures.guizhou_trip()
    path = tmp_path / "trip.html"
    trip_map(trip, provider=GreatCircleProvider()).save(str(path))
    page, outside, errors = open_offline(browser, path)
    assert outside == [] and errors == []
    stops = page.locator(".chunyun-stop")
    assert stops.count() == len(trip.stops)
    assert [stops.nth(i).inner_text() for i in range(stops.count())] == [
        str(n) for n in range(1, len(trip.stops) + 1)
    ]
    stops.nth(4).click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "湘潭服务区" in popup.inner_text()
    page.context.close()
