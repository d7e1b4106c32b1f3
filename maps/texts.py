"""The maps' texts: English msgids of the one message catalogue, shown through a translator.

`maps/` may import only `optimizer`, so it cannot read the service's catalogue
(`api/locale/*/LC_MESSAGES/chunyun.po`). Every map builder therefore takes a `gettext`
parameter, a function from an English msgid to its text in the reader's language; `api` passes
the catalogue's translator for the request's or the run's language (`api.i18n.gettext_for`).
Without one, the maps speak Chinese as they always have: `CHINESE` holds the catalogue's Chinese
for every msgid used here (tests/maps/test_texts.py checks the two agree, so the default map
is the Chinese of the catalogue).

Texts are marked `_("...")` where they are used, so `pybabel extract` and the catalogue test find
them; `{name}` placeholders are filled after translating. Place names (gazetteer, province table)
and people's names are data, never translated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Gettext = Callable[[str], str]

# English msgid -> the catalogue's Chinese (api/locale/zh_CN/LC_MESSAGES/chunyun.po).
CHINESE: dict[str, str] = {
    # maps/offline.py
    "online base map ({tiles}, {crs})": "在线底图 ({tiles}, {crs})",
    # maps/geography.py
    "unknown province": "未知省份",
    # maps/stops.py: stop kinds
    "board": "上车",
    "alight": "下车",
    "rest": "休息",
    "night park 02:00-05:00": "夜间停车 02:00-05:00",
    # maps/stops.py: the planner's note words
    "crew out of driving hours": "驾驶员当日驾驶时间已满",
    "driver change": "换驾驶员",
    "park": "停车休息",
    "{hours} h": "{hours} 小时",
    "{minutes} min": "{minutes} 分钟",
    "; ": "；",
    # maps/stops.py: rests placed by time
    "rest stop on the way ({lat}, {lon})": "途中休息点（{lat}, {lon}）",
    "rest stop on the way": "途中休息点",
    "near the seat of {county}, {province}": "{province}{county}驻地附近",
    "about {km} km {direction} of the seat of {county}, {province}": (
        "{province}{county}驻地以{direction}约 {km} 公里"
    ),
    "north": "北",
    "northeast": "东北",
    "east": "东",
    "southeast": "东南",
    "south": "南",
    "southwest": "西南",
    "west": "西",
    "northwest": "西北",
    # maps/overview.py
    "province outlines": "省界",
    "Trip {trip}": "车次 {trip}",
    "departs {departure}, arrives {arrival}": "发车 {departure}，到达 {arrival}",
    "seats {used}/{seats} ({vehicle_type})": "座位 {used}/{seats}（{vehicle_type}）",
    "{km} km, {drivers} driver(s)": "{km} km，驾驶员 {drivers} 名",
    "origins: {count} counties (districts)": "出发地：{count} 县（区）",
    "origin {name}": "出发地 {name}",
    "Origin": "出发地",
    " ({code})": "（{code}）",
    "Chunyun charter coaches {season}: route map": "春运包车 {season} 线路总图",
    "factory gates / gathering points": "厂门 / 集合点",
    "Pickup point": "上车点",
    "{date} departures: {trips} trips, {people} people": "{date} 发车：{trips} 车次，{people} 人",
    "{province}: {counties} counties, {people} people": "{province}：{counties} 县，{people} 人",
    "{name} {people} people": "{name} {people} 人",
    "{people} people, {trips} trips:": "{people} 人，{trips} 车次：",
    "Departure date": "发车日期",
    "Destination province": "目的省份",
    "{trips} trips, {people} people": "{trips} 车次，{people} 人",
    "circles: home counties, sized by people": "圆圈：返乡县，大小按人数",
    "coordinates WGS-84": "坐标 WGS-84",
    "coordinates GCJ-02 (to match the AutoNavi base map)": "坐标 GCJ-02（配合高德底图）",
    ", ": "、",
    # maps/trip.py
    "arrives {arrival}, departs {departure}": "到达 {arrival}，出发 {departure}",
    "{board} board, {alight} alight": "上车 {board} 人，下车 {alight} 人",
    "{km} km from the previous stop, {total} km in all": "距上一站 {km} km，累计 {total} km",
    "Trip {trip}, departs {departure}": "车次 {trip} {departure} 发车",
    "route {trip}": "路线 {trip}",
    "{km} km, seats {used}/{seats}, {drivers} driver(s)": (
        "{km} km，座位 {used}/{seats}，驾驶员 {drivers} 名"
    ),
    "Stops": "停靠点",
    "Trip {trip} (departs {departure})": "车次 {trip}（{departure} 发车）",
    "Drop-off point": "下车点",
    "rest on the way": "途中休息",
    "02:00-05:00 night park": "02:00-05:00 停车休息",
    "{km} km, {used}/{seats} seats": "{km} km，{used}/{seats} 座",
    " ({kind})": "（{kind}）",
}


def chinese(msgid: str) -> str:
    """The default translator: the catalogue's Chinese, or the msgid when it has none."""
    return CHINESE.get(msgid, msgid)


class Texts:
    """`_("msgid", name=value)`: the msgid through `gettext`, its placeholders filled."""

    def __init__(self, gettext: Gettext | None = None) -> None:
        self.gettext: Gettext = gettext or chinese

    def __call__(self, msgid: str, /, **values: Any) -> str:
        text = self.gettext(msgid)
        return text.format(**values) if values else text
