"""Worker notices: one short Chinese SMS per worker, and per-employer lists.

Every registered worker gets a message, seated or not: a late or missing cancellation notice was
one of the failures seen in the field, so the unserved are told why and whom to call.

The messages come from the catalogue in the workers' language, Chinese (`locale`; the service
and the command line never change it: the dispatcher's choice of language is not the workers').
The lists' headings and coded cells (状态, 变更) are fixed: an SMS gateway and the employers'
programs read them (docs/maps-and-documents.md).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

from api.documents.context import Names, plate, seat_label, spreadsheet_safe, texts
from api.i18n import DEFAULT_LOCALE, N_, gettext_in
from optimizer.identity import normalize_phone
from optimizer.model import Plan, Scenario

NOTICE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("worker_id", "登记编号"),
    ("staff_number", "工号"),
    ("name", "姓名"),
    ("phone", "手机号"),
    ("company_id", "单位编号"),
    ("company", "工作单位"),
    ("status", "状态"),
    ("trip_id", "车次"),
    ("coach", "车辆"),
    ("date", "发车日期"),
    ("time", "发车时间"),
    ("boarding_from", "上车时间"),
    ("gate", "上车点"),
    ("seat", "座位号"),
    ("destination", "下车点"),
    ("message", "短信内容"),
    ("change", "变更"),
)
COMPANY_COLUMNS = (
    "name", "phone", "status", "trip_id", "coach", "date", "time", "gate", "seat", "destination",
)  # fmt: skip

# Why a worker has no seat, in words a worker understands (UnservedReason values; msgids).
REASON_TEXT = {
    "invalid_row": N_("your registration details are wrong"),
    "unknown_home": N_("your home address could not be recognised"),
    "ambiguous_home": N_("your home address is unclear"),
    "unknown_company": N_("your employer's details are wrong"),
    "party_conflict": N_("your party's details do not agree"),
    "party_too_large": N_("your party is larger than a coach"),
    "no_date_in_window": N_("your dates are outside the departure days"),
    "no_coach_in_window": N_("no coach is free on your dates"),
    "fleet_exhausted": N_("the coaches on your dates are full"),
    "below_min_load": N_("too few people travel your way"),
    "too_far": N_("the journey is too long to arrange"),
    "unreachable": N_("your destination cannot be reached"),
    "charter_sign": N_("no coach operator may legally drive your route"),
}
NO_TRIP_TEXT = N_("no suitable trip yet")


def _contact(contact_phone: str, locale: str = DEFAULT_LOCALE) -> str:
    _ = texts(locale)
    if contact_phone:
        return _("enquiries: {phone}", phone=contact_phone)
    return _("if in doubt, ask your employer")


def _trip_kind(direction: str, locale: str) -> str:
    _ = texts(locale)
    return _("homeward charter") if direction == "home" else _("return charter")


def worker_notices(
    plan: Plan,
    scenario: Scenario,
    *,
    contact_phone: str = "",
    signature: str = "春运包车",
    locale: str = DEFAULT_LOCALE,
) -> list[dict[str, str]]:
    """One row per worker with an SMS `message` and its parts (keys of `NOTICE_COLUMNS`).

    Seated workers get date, departure time, when and where to board, coach (plate when
    assigned, else trip id), seat and a contact phone; unserved workers get the reason.
    `contact_phone` is the service line printed in every message (employer if empty); `locale`
    the messages' language (the workers', Chinese).
    """
    _ = texts(locale)
    names = Names.of(scenario)
    trip_kind = _trip_kind(plan.direction, locale)
    contact = _contact(contact_phone, locale)
    rows: list[dict[str, str]] = []
    seated: set[str] = set()
    for trip in sorted(plan.trips, key=lambda t: (t.departure, t.trip_id)):
        coach = plate(trip) or trip.trip_id
        on_board = (
            _(
                "on-board phone {phone} ({name}), ",
                phone=trip.crew.escort_phone,
                name=trip.crew.escort_name,
            )
            if trip.crew is not None and trip.crew.escort_phone
            else ""
        )
        for passenger in sorted(trip.passengers, key=lambda p: (p.seat, p.worker_id)):
            worker = names.workers.get(passenger.worker_id)
            if worker is None:
                continue
            seated.add(worker.worker_id)
            board = trip.stops[passenger.board_stop]
            alight = trip.stops[passenger.alight_stop]
            gate = names.stop_with_address(board)
            destination = names.stop_with_address(alight)
            seat = seat_label(passenger.seat, passenger.seat_count)
            seat_text = _("seat {seat}", seat=seat) if seat else _("seat given when boarding")
            message = _(
                "[{signature}] Dear {name}, your {trip_kind}: departs {month}/{day} {time}; be at "
                "{gate} by {arrive} to board, trip {coach}, {seat_text}, get off at "
                "{destination}. Please bring your ID card. {on_board}{contact}",
                signature=signature,
                name=worker.name,
                trip_kind=trip_kind,
                month=board.depart.month,
                day=board.depart.day,
                time=f"{board.depart:%H:%M}",
                arrive=f"{board.arrive:%H:%M}",
                gate=gate,
                coach=coach,
                seat_text=seat_text,
                destination=destination,
                on_board=on_board,
                contact=contact,
            )
            rows.append(
                {
                    "worker_id": worker.worker_id,
                    "staff_number": worker.staff_number,
                    "name": worker.name,
                    "phone": normalize_phone(worker.phone),
                    "company_id": worker.company_id,
                    "company": names.company(worker.company_id),
                    "status": "已安排",
                    "trip_id": trip.trip_id,
                    "coach": coach,
                    "date": f"{board.depart:%Y-%m-%d}",
                    "time": f"{board.depart:%H:%M}",
                    "boarding_from": f"{board.arrive:%H:%M}",
                    "gate": gate,
                    "seat": seat,
                    "destination": destination,
                    "message": message,
                }
            )
    for unserved in plan.unserved:
        worker = names.workers.get(unserved.worker_id)
        if worker is None or worker.worker_id in seated:
            continue
        reason = gettext_in(locale, REASON_TEXT.get(str(unserved.reason), NO_TRIP_TEXT))
        company = names.company(worker.company_id)
        message = _(
            "[{signature}] Dear {name}, we are sorry: no seat could be found yet on the "
            "{trip_kind} you registered for ({reason}); please ask {company} soon to arrange "
            "another way. {contact}",
            signature=signature,
            name=worker.name,
            trip_kind=trip_kind,
            reason=reason,
            company=company,
            contact=contact,
        )
        rows.append(
            {
                "worker_id": worker.worker_id,
                "staff_number": worker.staff_number,
                "name": worker.name,
                "phone": normalize_phone(worker.phone),
                "company_id": worker.company_id,
                "company": company,
                "status": "未安排",
                "trip_id": "",
                "coach": "",
                "date": "",
                "time": "",
                "boarding_from": "",
                "gate": "",
                "seat": "",
                "destination": "",
                "message": message,
            }
        )
    return rows


CHANGE_LABELS = {
    "late_placed": "新增安排",
    "withdrawal": "已取消",
    "late_waiting": "待安排",
    "edit": "信息变更",
    "moved": "改乘车次",
}


def notices_with_changes(
    rows: list[dict[str, str]],
    changes: list[dict[str, str]],
    *,
    direction: str,
    contact_phone: str = "",
    signature: str = "春运包车",
    locale: str = DEFAULT_LOCALE,
) -> list[dict[str, str]]:
    """The notice list after publishing: each row's `change` says whether it is a change (新增安排
    for a late registration seated, 待安排 for one waiting for a new trip, with a notice of its
    own, 改乘车次 for an edit moved to another trip), and every withdrawal
    gets a cancellation notice (已取消) to the worker, listed for the company too. `changes` are
    dicts with kind, worker_id, staff_number, name, phone, company_id, company, trip_id, seat.
    `locale` is the messages' language (the workers', Chinese)."""
    _ = texts(locale)
    trip_kind = _trip_kind(direction, locale)
    contact = _contact(contact_phone, locale)
    kinds = {c["worker_id"]: c["kind"] for c in changes}
    out = []
    for row in rows:
        kind = kinds.get(row["worker_id"], "")
        if kind == "withdrawal":
            continue
        out.append({**row, "change": CHANGE_LABELS.get(kind, "")})
    listed = {row["worker_id"] for row in out}
    for change in changes:
        if change["kind"] == "late_waiting" and change["worker_id"] not in listed:
            # Waiting for the new trips' job (a late registration, or an edit that lost its seat).
            listed.add(change["worker_id"])
            out.append(
                {
                    **dict.fromkeys((k for k, _ in NOTICE_COLUMNS), ""),
                    **{k: change[k] for k in ("worker_id", "staff_number", "name", "phone")},
                    "company_id": change["company_id"],
                    "company": change["company"],
                    "status": "待安排",
                    "message": _(
                        "[{signature}] Dear {name}, your registration for the {trip_kind} has "
                        "been received; we are finding you a trip and will tell you once it is "
                        "arranged. {contact}",
                        signature=signature,
                        name=change["name"],
                        trip_kind=trip_kind,
                        contact=contact,
                    ),
                    "change": CHANGE_LABELS["late_waiting"],
                }
            )
        if change["kind"] != "withdrawal":
            continue
        message = _(
            "[{signature}] Dear {name}, your registration for the {trip_kind} is cancelled and "
            "your seat on trip {trip} released. To travel, ask {company} to register you "
            "again. {contact}",
            signature=signature,
            name=change["name"],
            trip_kind=trip_kind,
            trip=change["trip_id"],
            company=change["company"],
            contact=contact,
        )
        out.append(
            {
                **dict.fromkeys((k for k, _ in NOTICE_COLUMNS), ""),
                "worker_id": change["worker_id"],
                "staff_number": change["staff_number"],
                "name": change["name"],
                "phone": change["phone"],
                "company_id": change["company_id"],
                "company": change["company"],
                "status": "已取消",
                "trip_id": change["trip_id"],
                "seat": change.get("seat", ""),
                "message": message,
                "change": CHANGE_LABELS["withdrawal"],
            }
        )
    return out


def notices_csv_bytes(rows: list[dict[str, str]]) -> bytes:
    """Notice rows as CSV bytes (UTF-8 with BOM, formula-like cells quoted), for downloads."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in NOTICE_COLUMNS])
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(key, "")) for key, _ in NOTICE_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_notices_csv(rows: list[dict[str, str]], path: str | Path) -> Path:
    """Write notice rows as UTF-8 CSV (with BOM) for an SMS gateway: one message per line."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([label for _, label in NOTICE_COLUMNS])
        for row in rows:
            writer.writerow([spreadsheet_safe(row.get(key, "")) for key, _ in NOTICE_COLUMNS])
    return target


def notices_by_company(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """Notice rows grouped by employer id, each list ordered by date, time and name."""
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        grouped[row["company_id"]].append(row)
    return {
        company: sorted(
            items, key=lambda r: (r["status"] != "已安排", r["date"], r["time"], r["name"])
        )
        for company, items in sorted(grouped.items())
    }


def write_company_notices(rows: list[dict[str, str]], folder: str | Path) -> list[Path]:
    """Write one CSV per employer (`<company_id>.csv`) listing its workers' departures."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    labels = dict(NOTICE_COLUMNS)
    written = []
    for company, items in notices_by_company(rows).items():
        path = target / f"{safe_name(company)}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([labels[key] for key in COMPANY_COLUMNS])
            for row in items:
                writer.writerow([spreadsheet_safe(row[key]) for key in COMPANY_COLUMNS])
        written.append(path)
    return written


def safe_name(identifier: str) -> str:
    """An id made safe as a file name (path separators and control characters replaced)."""
    cleaned = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in identifier).strip()
    return cleaned.lstrip(".") or "_"
