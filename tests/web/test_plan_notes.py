"""A plan's notes and a trip's charter-sign words in the reader's language: the dispatcher's
plan page (Chinese unless English is chosen), the JSON API (English unless ?lang=zh or
Accept-Language: zh) and the stored plan (the optimizer's English, the data format)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from api import i18n, models
from optimizer import model as domain
from tests.api.conftest import Service, fake_planner, open_season, worker_row
from tests.web.conftest import Browser
from tests.web.plan_notes import short_fleet_notes

SEASON = "notes-2026"
UNKNOWN = "a note no template knows"


@pytest.fixture(scope="module")
def world(service: Service) -> Iterator[dict[str, Any]]:
    """A plan whose notes are a short-fleet plan's real notes and one the catalogue lacks."""
    notes = short_fleet_notes()

    def planner(scenario: domain.Scenario, **kwargs: Any) -> domain.Plan:
        plan = fake_planner(scenario, locked=kwargs.get("locked", ()))
        return plan.replace(notes=(*notes, UNKNOWN))

    svc = service
    open_season(svc, SEASON)
    rows = [worker_row(n, company_id="ALPHA") for n in range(6)]
    assert svc.call("POST", f"/api/workers?season={SEASON}", "dispatcher", json=rows).is_success
    svc.planner = planner
    try:
        result = svc.run_plan(SEASON)
    finally:
        svc.planner = fake_planner
    assert result["status"] == "succeeded", result["message"]
    dispatcher = Browser(svc)
    assert dispatcher.sign_in("dispatcher").status_code == 303
    yield {"svc": svc, "plan": result["id"], "notes": notes, "dispatcher": dispatcher}


def _shown_notes(page: str) -> list[str]:
    return [
        re.sub(r"&#34;|&quot;", '"', n).replace("&#39;", "'").replace("&amp;", "&")
        for n in re.findall(r"<li>([^<]*)</li>", page)
    ]


def test_the_plan_page_shows_the_notes_in_chinese_and_english_when_chosen(
    world: dict[str, Any],
) -> None:
    notes, dispatcher = world["notes"], world["dispatcher"]
    page = dispatcher.get(f"/d/plans/{world['plan']}")
    assert page.status_code == 200
    shown = _shown_notes(page.text)
    chinese = i18n.translate_plan_notes("zh_CN", list(notes))
    assert all(n in shown for n in chinese), (chinese, shown)
    assert any(n.startswith("车队：") for n in chinese)
    assert not any(n in shown for n in notes)
    # A note the catalogue does not know is shown as it is, not dropped.
    assert UNKNOWN in shown
    dispatcher.client.get("/lang/en?next=/")
    try:
        english = _shown_notes(dispatcher.get(f"/d/plans/{world['plan']}").text)
    finally:
        dispatcher.client.get("/lang/zh?next=/")
    assert all(n in english for n in (*notes, UNKNOWN)), english


def test_the_api_gives_notes_in_english_unless_chinese_is_asked(world: dict[str, Any]) -> None:
    svc, notes = world["svc"], list(world["notes"])
    url = f"/api/plans/{world['plan']}"
    assert svc.call("GET", url, "dispatcher").json()["notes"] == [*notes, UNKNOWN]
    chinese = [*i18n.translate_plan_notes("zh_CN", notes), UNKNOWN]
    assert svc.call("GET", url, "dispatcher", params={"lang": "zh"}).json()["notes"] == chinese
    headers = {**svc.headers("dispatcher"), "Accept-Language": "zh-CN,zh;q=0.9"}
    asked = svc.client.get(url, headers=headers)
    assert asked.json()["notes"] == chinese
    listed = svc.call("GET", f"/api/plans?season={SEASON}&lang=zh", "dispatcher").json()
    assert [p["notes"] for p in listed if p["id"] == world["plan"]] == [chinese]
    # The stored plan keeps the optimizer's English: it is the data format.
    with svc.session() as session:
        assert session.get(models.Plan, world["plan"]).notes == [*notes, UNKNOWN]


def test_the_charter_signs_words_follow_the_readers_language(world: dict[str, Any]) -> None:
    svc, dispatcher = world["svc"], world["dispatcher"]
    url = f"/api/plans/{world['plan']}/trips"
    english = svc.call("GET", url, "dispatcher").json()
    chinese = svc.call("GET", url, "dispatcher", params={"lang": "zh"}).json()
    assert english and len(english) == len(chinese)
    for en, zh in zip(english, chinese, strict=True):
        assert (en["sign"]["plate"], en["sign"]["operator"]) == ("unassigned", "unassigned")
        assert (zh["sign"]["plate"], zh["sign"]["operator"]) == ("未分配", "未分配")
        assert en["sign"]["validity"].replace(" to ", " 至 ") == zh["sign"]["validity"]
        assert zh["sign"]["origin"] == en["sign"]["origin"]
        if en["sign"]["main_stops"] == "none":
            assert zh["sign"]["main_stops"] == "无"
        else:
            assert zh["sign"]["main_stops"] == en["sign"]["main_stops"].replace(", ", "、")
    trip_id = english[0]["trip_id"]
    page = dispatcher.get(f"/d/plans/{world['plan']}/trips/{trip_id}")
    assert page.status_code == 200 and "未分配" in page.text and "unassigned" not in page.text


def test_the_chinese_sign_is_the_optimizers_and_the_english_one_has_its_words() -> None:
    """In Chinese the sign is exactly optimizer.crews.sign_data's; in English the same values
    with English words (list separator, unassigned, to)."""
    import dataclasses

    from api.convert import sign_public
    from optimizer.crews import sign_data
    from tests.maps import fixtures

    for trip in fixtures.plan().trips:
        stops = [s.name for s in trip.stops if s.kind != "rest"]
        assert sign_public(trip, stops, "zh_CN").model_dump() == sign_data(trip, stops=stops)
        english = sign_public(trip, stops, "en")
        served = list(dict.fromkeys(stops))
        assert english.main_stops == (", ".join(served[1:-1]) if len(served) > 2 else "none")
        assert english.plate == english.operator == "unassigned"
        assert english.validity == f"{trip.departure:%Y-%m-%d} to {trip.arrival:%Y-%m-%d}"
    trip = fixtures.plan().trips[0]
    crewed = dataclasses.replace(trip, crew=_crew())
    stops = [s.name for s in trip.stops if s.kind != "rest"]
    assert sign_public(crewed, stops, "en").plate == "浙B12345"
    assert sign_public(crewed, stops, "en").operator == "慈溪公运"


def _crew() -> domain.Crew:
    return domain.Crew(
        plate="浙B12345", coach_type="C53", coach_seats=53, operator="慈溪公运", drivers=()
    )
