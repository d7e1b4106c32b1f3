"""Worker notices: one short Chinese SMS per worker, and per-employer lists.

Every registered worker gets a message, seated or not: a late or missing cancellation notice was
one of the failures seen in the field, so the unserved are told why and whom to call.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

from api.documents.context import Names, plate, seat_label, spreadsheet_safe
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

# Why a worker has no seat, in words a worker understands (UnservedReason values).
REASON_TEXT = {
    "invalid_row": "登记信息有误",
    "unknown_home": "家乡地址无法识别",
    "ambiguous_home": "家乡地址不明确",
    "unknown_company": "单位信息有误",
    "party_conflict": "同行人员信息不一致",
    "party_too_large": "同行人数超过单车座位",
    "no_date_in_window": "登记日期不在发车期内",
    "no_coach_in_window": "登记日期内无可用车辆",
    "fleet_exhausted": "登记日期内车辆已满",
    "below_min_load": "同方向人数不足",
    "too_far": "路途过远无法安排",
    "unreachable": "目的地无法通行",
}


def _contact(contact_phone: str) -> str:
    return f"咨询电话{contact_phone}" if contact_phone else "如有疑问请联系所在单位"


def worker_notices(
    plan: Plan,
    scenario: Scenario,
    *,
    contact_phone: str = "",
    signature: str = "春运包车",
) -> list[dict[str, str]]:
    """One row per worker with an SMS `message` and its parts (keys of `NOTICE_COLUMNS`).

    Seated workers get date, departure time, when and where to board, coach (plate when
    assigned, else trip id), seat and a contact phone; unserved workers get the reason.
    `contact_phone` is the service line printed in every message (employer if empty).
    """
    names = Names.of(scenario)
    trip_kind = "返乡包车" if plan.direction == "home" else "返岗包车"
    rows: list[dict[str, str]] = []
    seated: set[str] = set()
    for trip in sorted(plan.trips, key=lambda t: (t.departure, t.trip_id)):
        coach = plate(trip) or trip.trip_id
        on_board = (
            f"随车电话{trip.crew.escort_phone}（{trip.crew.escort_name}），"
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
            seat_text = f"座位{seat}号" if seat else "座位上车时安排"
            message = (
                f"【{signature}】{worker.name}您好，您的{trip_kind}："
                f"{board.depart.month}月{board.depart.day}日{board.depart:%H:%M}发车，请于{board.arrive:%H:%M}前到{gate}上车，"
                f"车次{coach}，{seat_text}，到{destination}下车。请携带身份证。"
                f"{on_board}{_contact(contact_phone)}"
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
        reason = REASON_TEXT.get(str(unserved.reason), "暂无合适车次")
        company = names.company(worker.company_id)
        message = (
            f"【{signature}】{worker.name}您好，很抱歉，您登记的{trip_kind}暂未能安排座位"
            f"（{reason}），请尽快联系{company}另行安排。{_contact(contact_phone)}"
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
) -> list[dict[str, str]]:
    """The notice list after publishing: each row's `change` says whether it is a change (新增安排
    for a late registration seated, 待安排 for one waiting for a new trip, with a notice of its
    own, 改乘车次 for an edit moved to another trip), and every withdrawal
    gets a cancellation notice (已取消) to the worker, listed for the company too. `changes` are
    dicts with kind, worker_id, staff_number, name, phone, company_id, company, trip_id, seat."""
    trip_kind = "返乡包车" if direction == "home" else "返岗包车"
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
                    "message": f"【{signature}】{change['name']}您好，您的{trip_kind}登记已收到，"
                    f"正在为您安排车次，安排后另行通知。{_contact(contact_phone)}",
                    "change": CHANGE_LABELS["late_waiting"],
                }
            )
        if change["kind"] != "withdrawal":
            continue
        message = (
            f"【{signature}】{change['name']}您好，您的{trip_kind}登记已取消，"
            f"原车次{change['trip_id']}的座位已释放。如需乘车请联系{change['company']}重新登记。"
            f"{_contact(contact_phone)}"
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
