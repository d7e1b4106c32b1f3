"""The trip sheet: what the charter sign (包车客运标志牌) and the crew need for one trip.

The sign carries origin, destination, main intermediate stops, plate, operator, drivers and
validity (道路旅客运输及客运站管理规定 art. 57); the crew needs the timetable with every rest
and the 02:00-05:00 park, the crew size and the distance.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from api.documents.context import Names, drivers_text, escort_text, stop_kind
from api.documents.pdf import CONTENT_WIDTH, build_pdf, grid_table, key_value_table, para, styles
from maps.stops import is_night_park, note_text
from optimizer.crews import sign_data
from optimizer.model import Scenario, Trip


def _minutes(delta: dt.timedelta) -> str:
    total = int(delta.total_seconds() // 60)
    hours, minutes = divmod(total, 60)
    if hours and minutes:
        return f"{hours}小时{minutes}分"
    return f"{hours}小时" if hours else f"{minutes}分"


def operator_of(trip: Trip, scenario: Scenario) -> str:
    """The operator of the assigned coach, else of the trip's coach type as listed in the
    scenario's fleet, or ""."""
    if trip.crew is not None:
        return trip.crew.operator
    for vehicle in scenario.fleet:
        if vehicle.vehicle_type == trip.vehicle_type:
            return vehicle.operator
    return ""


def sign_fields(trip: Trip, scenario: Scenario) -> list[tuple[str, str]]:
    """The charter sign's data as (label, value) pairs; what is not assigned reads 未分配."""
    names = Names.of(scenario)
    sign = sign_data(
        trip,
        stops=[names.stop(s) for s in trip.stops if s.kind != "rest"],
        fleet_operator=operator_of(trip, scenario),
    )
    return [
        ("起点", sign["origin"]),
        ("终点", sign["destination"]),
        ("途经", sign["main_stops"]),
        ("车牌号", sign["plate"]),
        ("经营者", sign["operator"]),
        ("驾驶员", drivers_text(trip)),
        ("随车人员", escort_text(trip)),
        ("有效期", f"{trip.departure:%Y-%m-%d} 至 {trip.arrival:%Y-%m-%d}"),
        ("包车类型", "返乡包车" if scenario.direction == "home" else "返岗包车"),
    ]


def timetable_rows(trip: Trip, scenario: Scenario) -> list[list[str]]:
    """The timetable: one row per stop including every rest, with times and kilometres."""
    names = Names.of(scenario)
    rows = [["#", "地点", "类型", "到达", "出发", "停留", "本段km", "累计km", "上/下车", "备注"]]
    cumulative = 0.0
    for index, stop in enumerate(trip.stops):
        cumulative += stop.km_from_previous
        board = sum(p.seat_count for p in trip.passengers if p.board_stop == index)
        alight = sum(p.seat_count for p in trip.passengers if p.alight_stop == index)
        rows.append(
            [
                str(index + 1),
                names.stop(stop),
                stop_kind(stop),
                f"{stop.arrive:%m-%d %H:%M}",
                f"{stop.depart:%m-%d %H:%M}",
                _minutes(stop.depart - stop.arrive),
                f"{stop.km_from_previous:,.0f}",
                f"{cumulative:,.0f}",
                f"+{board} / -{alight}" if stop.kind != "rest" else "",
                note_text(stop.note),
            ]
        )
    return rows


def trip_sheet_story(trip: Trip, scenario: Scenario) -> list[Flowable]:
    """The trip sheet as ReportLab flowables."""
    style = styles()
    policy = scenario.policy
    rests = [s for s in trip.stops if s.kind == "rest"]
    parks = [s for s in rests if is_night_park(s, policy.park_start_hour, policy.park_end_hour)]
    summary = [
        ("车次", trip.trip_id),
        ("车型", f"{trip.vehicle_type}（核定 {trip.seats} 座）"),
        ("发车", f"{trip.departure:%Y-%m-%d %H:%M}"),
        ("预计到达", f"{trip.arrival:%Y-%m-%d %H:%M}"),
        ("总里程", f"{trip.distance_km:,.0f} km"),
        ("驾驶时间", _minutes(dt.timedelta(minutes=trip.driving_minutes))),
        ("驾驶员人数", f"{trip.drivers} 名"),
        ("乘客", f"{len(trip.passengers)} 人，占 {trip.seats_used} 座"),
        ("途中休息", f"{len(rests)} 次（其中夜间停车 {len(parks)} 次）"),
        ("全程用时", _minutes(trip.arrival - trip.departure)),
    ]
    rows = timetable_rows(trip, scenario)
    park_rows = [
        i + 1
        for i, s in enumerate(trip.stops)
        if is_night_park(s, policy.park_start_hour, policy.park_end_hour)
    ]
    widths = [w * mm for w in (7, 34, 33, 19, 19, 17, 12, 13, 13, 25)]
    scale = CONTENT_WIDTH / sum(widths)
    rules = (
        f"日间连续驾驶不超过 {policy.day_max_continuous_driving_minutes // 60} 小时、夜间"
        f"（{policy.night_start_hour:02d}:00-{policy.night_end_hour:02d}:00）不超过 "
        f"{policy.night_max_continuous_driving_minutes // 60} 小时，每次休息不少于 "
        f"{policy.min_rest_minutes} 分钟；{policy.park_start_hour:02d}:00-"
        f"{policy.park_end_hour:02d}:00 停车休息；单程超过 {policy.two_driver_km:,.0f} km "
        "配备 2 名以上驾驶员；严禁超员，包车合同以外人员不得上车。"
    )
    return [
        para("包车客运行程单", style["title"]),
        para(f"车次 {trip.trip_id}（包车客运标志牌信息及行车时刻表）", style["subtitle"]),
        Spacer(1, 4 * mm),
        para("包车客运标志牌", style["heading"]),
        key_value_table(sign_fields(trip, scenario), 2, style["cell"]),
        Spacer(1, 3 * mm),
        para("行程概况", style["heading"]),
        key_value_table(summary, 2, style["cell"]),
        Spacer(1, 3 * mm),
        para("行车时刻表（含全部休息及夜间停车）", style["heading"]),
        grid_table(rows, [w * scale for w in widths], shaded_rows=park_rows, style=style["cell"]),
        Spacer(1, 3 * mm),
        para("安全规定：" + rules, style["small"]),
        Spacer(1, 8 * mm),
        para(
            "驾驶员签字：__________　__________　__________　　调度签字：__________　"
            "日期：__________",
            style["body"],
        ),
    ]


def write_trip_sheet_pdf(trip: Trip, scenario: Scenario, path: str | Path) -> Path:
    """Write the trip sheet as an A4 portrait PDF with the CJK font embedded; returns the path."""
    target = Path(path)
    _trip_sheet_pdf(trip, scenario, target)
    return target


def trip_sheet_pdf_bytes(trip: Trip, scenario: Scenario) -> bytes:
    """The trip sheet PDF as bytes (for a download response)."""
    buffer = io.BytesIO()
    _trip_sheet_pdf(trip, scenario, buffer)
    return buffer.getvalue()


def _trip_sheet_pdf(trip: Trip, scenario: Scenario, target: Path | BinaryIO) -> None:
    build_pdf(
        target,
        trip_sheet_story(trip, scenario),
        title=f"包车客运行程单 {trip.trip_id}",
        footer=f"包车客运行程单 车次 {trip.trip_id} · {trip.departure:%Y-%m-%d}",
    )
