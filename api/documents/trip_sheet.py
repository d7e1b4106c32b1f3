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

from api.documents.context import (
    Names,
    drivers_text,
    escort_text,
    legal_title,
    stop_kind,
    texts,
    unassigned,
)
from api.documents.pdf import CONTENT_WIDTH, build_pdf, grid_table, key_value_table, para, styles
from api.i18n import DEFAULT_LOCALE, N_, gettext_for
from maps.stops import is_night_park, note_text
from optimizer.crews import UNASSIGNED, sign_data
from optimizer.model import Scenario, Trip

# The legal name of the sign; in English "Charter coach sign (包车客运标志牌)".
SIGN_TITLE = N_("Charter coach sign")


def _minutes(delta: dt.timedelta, locale: str = DEFAULT_LOCALE) -> str:
    _ = texts(locale)
    total = int(delta.total_seconds() // 60)
    hours, minutes = divmod(total, 60)
    if hours and minutes:
        return _("{hours} hr {minutes} min", hours=hours, minutes=minutes)
    return _("{hours} hr", hours=hours) if hours else _("{minutes} minute(s)", minutes=minutes)


def operator_of(trip: Trip, scenario: Scenario) -> str:
    """The operator of the assigned coach, else of the trip's coach type as listed in the
    scenario's fleet, or ""."""
    if trip.crew is not None:
        return trip.crew.operator
    for vehicle in scenario.fleet:
        if vehicle.vehicle_type == trip.vehicle_type:
            return vehicle.operator
    return ""


def sign_fields(
    trip: Trip, scenario: Scenario, locale: str = DEFAULT_LOCALE
) -> list[tuple[str, str]]:
    """The charter sign's data as (label, value) pairs in `locale`; what is not assigned reads
    未分配 (unassigned)."""
    _ = texts(locale)
    names = Names.of(scenario, locale)
    served = [names.stop(s) for s in trip.stops if s.kind != "rest"]
    sign = sign_data(trip, stops=served, fleet_operator=operator_of(trip, scenario))
    main_stops = list(dict.fromkeys(served))[1:-1]

    def filled(value: str) -> str:
        # optimizer.crews writes 未分配 for a field no crew fills yet.
        return unassigned(locale) if value == UNASSIGNED else value

    return [
        (_("From"), sign["origin"]),
        (_("To"), sign["destination"]),
        (_("Via"), _(", ").join(main_stops) if main_stops else _("none")),
        (_("Plate no."), filled(sign["plate"])),
        (_("Operator"), filled(sign["operator"])),
        (_("Driver(s)"), drivers_text(trip, locale)),
        (_("Escort"), escort_text(trip, locale)),
        (
            _("Valid"),
            _(
                "{first} to {last}",
                first=f"{trip.departure:%Y-%m-%d}",
                last=f"{trip.arrival:%Y-%m-%d}",
            ),
        ),
        (
            _("Charter kind"),
            _("homeward charter") if scenario.direction == "home" else _("return charter"),
        ),
    ]


def timetable_rows(trip: Trip, scenario: Scenario, locale: str = DEFAULT_LOCALE) -> list[list[str]]:
    """The timetable in `locale`: one row per stop including every rest, with times and km."""
    _ = texts(locale)
    names = Names.of(scenario, locale)
    rows = [
        [
            "#",
            _("Place"),
            _("Kind"),
            _("Arrives"),
            _("Departs"),
            _("Stay"),
            _("Leg km"),
            _("Total km"),
            _("Board / alight"),
            _("Notes"),
        ]
    ]
    cumulative = 0.0
    for index, stop in enumerate(trip.stops):
        cumulative += stop.km_from_previous
        board = sum(p.seat_count for p in trip.passengers if p.board_stop == index)
        alight = sum(p.seat_count for p in trip.passengers if p.alight_stop == index)
        rows.append(
            [
                str(index + 1),
                names.stop(stop),
                stop_kind(stop, locale),
                f"{stop.arrive:%m-%d %H:%M}",
                f"{stop.depart:%m-%d %H:%M}",
                _minutes(stop.depart - stop.arrive, locale),
                f"{stop.km_from_previous:,.0f}",
                f"{cumulative:,.0f}",
                f"+{board} / -{alight}" if stop.kind != "rest" else "",
                note_text(stop.note, gettext_for(locale)),
            ]
        )
    return rows


def trip_sheet_story(
    trip: Trip, scenario: Scenario, locale: str = DEFAULT_LOCALE
) -> list[Flowable]:
    """The trip sheet as ReportLab flowables, in `locale`."""
    _ = texts(locale)
    style = styles()
    policy = scenario.policy
    rests = [s for s in trip.stops if s.kind == "rest"]
    parks = [s for s in rests if is_night_park(s, policy.park_start_hour, policy.park_end_hour)]
    summary = [
        (_("Trip"), trip.trip_id),
        (
            _("Coach type"),
            _(
                "{vehicle_type} ({seats} seats licensed)",
                vehicle_type=trip.vehicle_type,
                seats=trip.seats,
            ),
        ),
        (_("Departs at"), f"{trip.departure:%Y-%m-%d %H:%M}"),
        (_("Expected arrival"), f"{trip.arrival:%Y-%m-%d %H:%M}"),
        (_("Total distance"), f"{trip.distance_km:,.0f} km"),
        (_("Driving time"), _minutes(dt.timedelta(minutes=trip.driving_minutes), locale)),
        (_("Drivers needed"), _("{count} driver(s)", count=trip.drivers)),
        (
            _("Passengers"),
            _("{people} people, {seats} seats", people=len(trip.passengers), seats=trip.seats_used),
        ),
        (
            _("Rests on the way"),
            _("{rests} (night parks among them: {parks})", rests=len(rests), parks=len(parks)),
        ),
        (_("Journey time"), _minutes(trip.arrival - trip.departure, locale)),
    ]
    rows = timetable_rows(trip, scenario, locale)
    park_rows = [
        i + 1
        for i, s in enumerate(trip.stops)
        if is_night_park(s, policy.park_start_hour, policy.park_end_hour)
    ]
    widths = [w * mm for w in (7, 34, 33, 19, 19, 17, 12, 13, 13, 25)]
    scale = CONTENT_WIDTH / sum(widths)
    rules = _(
        "continuous driving at most {day_hours} h by day and {night_hours} h by night "
        "({night_start}-{night_end}), every rest at least {rest} min; parked "
        "{park_start}-{park_end}; 2 or more drivers beyond {two_driver_km} km one way; no "
        "standing passengers, nobody outside the charter contract on board.",
        day_hours=policy.day_max_continuous_driving_minutes // 60,
        night_hours=policy.night_max_continuous_driving_minutes // 60,
        night_start=f"{policy.night_start_hour:02d}:00",
        night_end=f"{policy.night_end_hour:02d}:00",
        rest=policy.min_rest_minutes,
        park_start=f"{policy.park_start_hour:02d}:00",
        park_end=f"{policy.park_end_hour:02d}:00",
        two_driver_km=f"{policy.two_driver_km:,.0f}",
    )
    return [
        para(_("Charter trip sheet"), style["title"]),
        para(
            _(
                "Trip {trip} (charter sign data and timetable)",
                trip=trip.trip_id,
            ),
            style["subtitle"],
        ),
        Spacer(1, 4 * mm),
        para(legal_title(SIGN_TITLE, locale), style["heading"]),
        key_value_table(sign_fields(trip, scenario, locale), 2, style["cell"]),
        Spacer(1, 3 * mm),
        para(_("Journey summary"), style["heading"]),
        key_value_table(summary, 2, style["cell"]),
        Spacer(1, 3 * mm),
        para(_("Timetable (every rest and night park included)"), style["heading"]),
        grid_table(rows, [w * scale for w in widths], shaded_rows=park_rows, style=style["cell"]),
        Spacer(1, 3 * mm),
        para(_("Safety rules: ") + rules, style["small"]),
        Spacer(1, 8 * mm),
        para(
            _(
                "Drivers' signatures: __________  __________  __________    "
                "Dispatcher's signature: __________  Date: __________"
            ),
            style["body"],
        ),
    ]


def write_trip_sheet_pdf(
    trip: Trip, scenario: Scenario, path: str | Path, *, locale: str = DEFAULT_LOCALE
) -> Path:
    """Write the trip sheet as an A4 portrait PDF with the CJK font embedded; returns the path."""
    target = Path(path)
    _trip_sheet_pdf(trip, scenario, target, locale)
    return target


def trip_sheet_pdf_bytes(trip: Trip, scenario: Scenario, locale: str = DEFAULT_LOCALE) -> bytes:
    """The trip sheet PDF as bytes (for a download response)."""
    buffer = io.BytesIO()
    _trip_sheet_pdf(trip, scenario, buffer, locale)
    return buffer.getvalue()


def _trip_sheet_pdf(
    trip: Trip, scenario: Scenario, target: Path | BinaryIO, locale: str = DEFAULT_LOCALE
) -> None:
    _ = texts(locale)
    title = _("Charter trip sheet")
    build_pdf(
        target,
        trip_sheet_story(trip, scenario, locale),
        title=f"{title} {trip.trip_id}",
        footer=f"{title} "
        + _("trip {trip} · {date}", trip=trip.trip_id, date=f"{trip.departure:%Y-%m-%d}"),
        locale=locale,
    )
