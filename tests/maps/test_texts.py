"""The maps speak the reader's language through the one catalogue: Chinese by default (the
catalogue's Chinese, as before), English when api passes the English translator; place and
people's names stay as they are."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import maps
from api.i18n import LOCALE_DIR, gettext_for
from maps import overview_map, trip_map
from maps.stops import kind_label, note_text, rest_place_name
from maps.texts import CHINESE
from optimizer.geography.distance import GreatCircleProvider
from optimizer.model import Stop
from tests.maps import fixtures

ID = re.compile(r"_[0-9a-f]{32}")


def _zh_catalogue() -> dict[str, str]:
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "chunyun.po").open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def test_every_map_text_is_in_the_catalogue_with_the_same_chinese() -> None:
    zh = _zh_catalogue()
    for msgid, chinese in CHINESE.items():
        assert zh.get(msgid) == chinese, msgid
    marked = {
        message
        for _path, _line, message, _comments, _context in extract_from_dir(
            Path(maps.__file__).parent, [("**.py", "python")], keywords={"_": None}
        )
        if isinstance(message, str)
    }
    assert len(marked) > 40
    assert marked <= set(CHINESE), marked - set(CHINESE)


def _unescaped(fmap: object) -> str:
    """The rendered page with JSON's \\uXXXX escapes decoded (folium escapes non-ASCII)."""
    text = fmap.get_root().render()  # type: ignore[attr-defined]
    return ID.sub("_ID", re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text))


def test_an_english_overview_map_has_no_chinese_but_names() -> None:
    plan = fixtures.plan()
    english = _unescaped(
        overview_map(
            plan, provider=GreatCircleProvider(), origins=("330282",), gettext=gettext_for("en")
        )
    )
    assert fixtures.cjk_besides_names(english) == set()
    for label in ("Departure date", "factory gates / gathering points", "province outlines"):
        assert label in english
    assert "departures: " in english and " trips, " in english
    chinese = _unescaped(overview_map(plan, provider=GreatCircleProvider(), origins=("330282",)))
    for label in ("发车日期", "厂门 / 集合点", "省界", "圆圈：返乡县，大小按人数"):
        assert label in chinese and label not in english


def test_an_english_trip_map_has_no_chinese_but_names() -> None:
    for trip in fixtures.plan().trips:
        english = _unescaped(
            trip_map(trip, provider=GreatCircleProvider(), gettext=gettext_for("en"))
        )
        assert fixtures.cjk_besides_names(english) == set(), trip.trip_id
        assert "Pickup point" in english and "km from the previous stop" in english
        chinese = _unescaped(trip_map(trip, provider=GreatCircleProvider()))
        assert "上车点" in chinese and "距上一站" in chinese


def test_the_default_and_the_catalogues_chinese_draw_the_same_map() -> None:
    # Library callers (no gettext) and the service in Chinese get byte-identical pages.
    trip = fixtures.guizhou_trip()
    default = _unescaped(trip_map(trip, provider=GreatCircleProvider()))
    catalogue = _unescaped(
        trip_map(trip, provider=GreatCircleProvider(), gettext=gettext_for("zh_CN"))
    )
    assert default == catalogue
    plan = fixtures.plan()
    assert _unescaped(overview_map(plan, provider=GreatCircleProvider())) == _unescaped(
        overview_map(plan, provider=GreatCircleProvider(), gettext=gettext_for("zh_CN"))
    )


def test_rests_kinds_and_notes_in_english() -> None:
    english = gettext_for("en")
    start = fixtures.guizhou_trip().stops[0].arrive.replace(hour=1, minute=30)
    rest = Stop(
        kind="rest",
        lon=118.2,
        lat=28.7,
        arrive=start,
        depart=start.replace(hour=5, minute=30),
        name="rest",
    )
    assert rest_place_name(rest) == "江西省玉山县驻地以西北约 4 公里"
    assert rest_place_name(rest, english) == "about 4 km northwest of the seat of 玉山县, 江西省"
    assert kind_label(rest, english) == "night park 02:00-05:00"
    assert kind_label(rest) == "夜间停车 02:00-05:00"
    assert note_text("rest 20 min; driver change") == "休息 20 分钟；换驾驶员"
    assert note_text("rest 20 min; driver change", english) == "rest 20 min; driver change"
