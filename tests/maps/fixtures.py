"""A small realistic plan built by hand: Cixi gates to Anhui and Guizhou counties.

Trip T0128-01 goes home to Fuyang (Anhui) in one day with two rests; T0129-01 goes overnight to
Bijie (Guizhou) with the 02:00-05:00 park. Shared by tests/maps and tests/api.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from maps.geography import PROVINCES
from optimizer.geography.gazetteer import load_gazetteer
from optimizer.identity import id_check_char
from optimizer.model import (
    Company,
    Hub,
    Kpis,
    Passenger,
    Plan,
    Scenario,
    Stop,
    Trip,
    Unserved,
    UnservedReason,
    VehicleType,
    Worker,
)

# (name, company, home, adcode); names include characters outside the most common 3,500.
PEOPLE = [
    ("张伟", "C1", "安徽省阜阳市阜南县", "341225"),
    ("王芳", "C1", "安徽省阜阳市阜南县", "341225"),
    ("王喆", "C1", "安徽省阜阳市阜南县", "341225"),
    ("李堃", "C2", "安徽省阜阳市临泉县", "341221"),
    ("刘洋", "C2", "安徽省阜阳市临泉县", "341221"),
    ("陈静", "C2", "安徽省阜阳市临泉县", "341221"),
    ("杨秀英", "C1", "安徽省阜阳市临泉县", "341221"),
    ("赵磊", "C2", "安徽省阜阳市临泉县", "341221"),
    ("龙云飞", "C1", "贵州省毕节市七星关区", "520502"),
    ("吴玥", "C1", "贵州省毕节市七星关区", "520502"),
    ("禄丽华", "C2", "贵州省毕节市威宁彝族回族苗族自治县", "520526"),
    ("禄小龙", "C2", "贵州省毕节市威宁彝族回族苗族自治县", "520526"),
    ("马骉", "C2", "贵州省毕节市威宁彝族回族苗族自治县", "520526"),
    ("黄晓燕", "C1", "四川省达州市渠县", "511725"),
]


def id_number(index: int, adcode: str) -> str:
    first17 = f"{adcode}1990{(index % 12) + 1:02d}{(index % 27) + 1:02d}{index:03d}"
    return first17 + id_check_char(first17)


def scenario() -> Scenario:
    """The scenario behind `plan()`: two Cixi employers, one hub, 14 workers."""
    companies = (
        Company("C1", "慈溪市华丰电器有限公司", 121.2465, 30.1702, town="浒山街道"),
        Company("C2", "宁波明达塑业有限公司", 121.3582, 30.2231, town="周巷镇"),
    )
    workers = tuple(
        Worker(
            worker_id=f"W{index:03d}",
            company_id=company,
            name=name,
            id_number=id_number(index, adcode),
            phone=f"1{3 + index % 6}{index:09d}"[:11],
            home=home,
            earliest=dt.date(2019, 1, 26),
            latest=dt.date(2019, 1, 30),
            party="P-LU" if name.startswith("禄") else "",
            seats=2 if name == "禄丽华" else 1,
            home_adcode=adcode,
        )
        for index, (name, company, home, adcode) in enumerate(PEOPLE, start=1)
    )
    return Scenario(
        name="cixi-mini",
        direction="home",
        origin="浙江省宁波市慈溪市",
        festival_date=dt.date(2019, 2, 5),
        first_departure=dt.date(2019, 1, 26),
        last_departure=dt.date(2019, 1, 31),
        companies=companies,
        workers=workers,
        fleet=(VehicleType("大型客车49座", 49, 10, 6.0, 800.0, operator="慈溪公运"),),
        hubs=(Hub("H1", "周巷客运站", 121.1563, 30.1667),),
    )


def _t(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2019, 1, day, hour, minute)


def anhui_trip() -> Trip:
    """Gate C1 -> gate C2 -> two rests -> 阜南县 -> 临泉县, departing 28 Jan 07:30."""
    stops = (
        Stop("pickup", 121.2465, 30.1702, _t(28, 7, 10), _t(28, 7, 30), 0.0, company_id="C1",
             name="华丰电器 厂门", board=("W001", "W002", "W003", "W007")),
        Stop("pickup", 121.3582, 30.2231, _t(28, 7, 55), _t(28, 8, 15), 14.0, company_id="C2",
             name="明达塑业 厂门", board=("W004", "W005", "W006", "W008")),
        Stop("rest", 119.6310, 31.0500, _t(28, 11, 50), _t(28, 12, 20), 300.0,
             name="长兴服务区", note="午餐"),
        Stop("rest", 117.0100, 31.8400, _t(28, 15, 50), _t(28, 16, 10), 280.0,
             name="合肥西服务区"),
        Stop("dropoff", 115.5870, 32.6380, _t(28, 18, 20), _t(28, 18, 30), 175.0,
             adcode="341225", name="阜南县城", alight=("W001", "W002", "W003")),
        Stop("dropoff", 115.2600, 33.0650, _t(28, 19, 30), _t(28, 19, 40), 62.0,
             adcode="341221", name="临泉县城", alight=("W004", "W005", "W006", "W007", "W008")),
    )  # fmt: skip
    board = {"W001": 0, "W002": 0, "W003": 0, "W007": 0, "W004": 1, "W005": 1, "W006": 1, "W008": 1}
    alight = {w: (4 if w in ("W001", "W002", "W003") else 5) for w in board}
    # Those alighting first sit nearest the door.
    order = ["W001", "W002", "W003", "W004", "W005", "W006", "W007", "W008"]
    passengers = tuple(
        Passenger(w, "C1" if w in ("W001", "W002", "W003", "W007") else "C2", seat, board[w],
                  alight[w])
        for seat, w in enumerate(order, start=1)
    )  # fmt: skip
    return Trip(
        trip_id="T0128-01",
        vehicle_type="大型客车49座",
        seats=49,
        drivers=2,
        departure_date=dt.date(2019, 1, 28),
        stops=stops,
        passengers=passengers,
        distance_km=831.0,
        driving_minutes=640,
        cost=5786.0,
    )


def guizhou_trip() -> Trip:
    """Hub -> 七星关区 -> 威宁县 overnight, parking 02:00-05:00, departing 29 Jan 14:00."""
    stops = (
        Stop("pickup", 121.1563, 30.1667, _t(29, 13, 40), _t(29, 14, 0), 0.0, hub_id="H1",
             name="周巷客运站", board=("W009", "W010", "W011", "W012", "W013")),
        Stop("rest", 118.3000, 29.7000, _t(29, 17, 40), _t(29, 18, 10), 320.0,
             name="黄山服务区"),
        Stop("rest", 115.9000, 28.6800, _t(29, 21, 10), _t(29, 21, 40), 260.0,
             name="南昌西服务区"),
        Stop("rest", 114.2000, 27.8000, _t(29, 23, 40), _t(29, 23, 59), 170.0,
             name="宜春服务区"),
        Stop("rest", 112.9000, 27.8500, _t(30, 1, 50), _t(30, 5, 0), 150.0,
             name="湘潭服务区", note="02:00-05:00 停车休息"),
        Stop("rest", 109.9000, 27.5500, _t(30, 8, 50), _t(30, 9, 20), 330.0,
             name="怀化服务区"),
        Stop("rest", 107.3000, 27.3000, _t(30, 12, 50), _t(30, 13, 20), 290.0,
             name="遵义服务区"),
        Stop("dropoff", 105.2920, 27.3020, _t(30, 16, 30), _t(30, 16, 40), 240.0,
             adcode="520502", name="毕节市七星关区", alight=("W009", "W010")),
        Stop("dropoff", 104.2800, 26.8600, _t(30, 18, 40), _t(30, 18, 50), 125.0,
             adcode="520526", name="威宁县城", alight=("W011", "W012", "W013")),
    )  # fmt: skip
    passengers = (
        Passenger("W009", "C1", 1, 0, 7),
        Passenger("W010", "C1", 2, 0, 7),
        Passenger("W011", "C2", 3, 0, 8, seat_count=2, party="P-LU"),
        Passenger("W012", "C2", 5, 0, 8, party="P-LU"),
        Passenger("W013", "C2", 6, 0, 8),
    )
    return Trip(
        trip_id="T0129-01",
        vehicle_type="大型客车49座",
        seats=49,
        drivers=3,
        departure_date=dt.date(2019, 1, 29),
        stops=stops,
        passengers=passengers,
        distance_km=1885.0,
        driving_minutes=1540,
        cost=11110.0,
    )


def plan() -> Plan:
    """Two trips, one worker unserved (Sichuan, too few to fill a coach)."""
    trips = (anhui_trip(), guizhou_trip())
    seated = sum(t.seats_used for t in trips)
    return Plan(
        scenario="cixi-mini",
        direction="home",
        trips=trips,
        unserved=(Unserved("W014", UnservedReason.BELOW_MIN_LOAD, "渠县仅 1 人"),),
        kpis=Kpis(
            workers=14,
            seated=13,
            unserved=1,
            trips=2,
            seats_offered=98,
            seat_utilization=seated / 98,
            coach_km=sum(t.distance_km for t in trips),
            passenger_km=0.0,
            cost=sum(t.cost for t in trips),
            lower_bound_trips=2,
            lower_bound_coach_km=2500.0,
            solve_seconds=0.1,
        ),
    )


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


@functools.cache
def _place_names() -> tuple[str, ...]:
    """Every name the maps may show as data (provinces, prefectures, counties, the scenario's
    gates, coach types and operators, people, notes written by hand), as their CJK runs, longest
    first."""
    gazetteer = load_gazetteer()
    names = set(PROVINCES.values())
    names |= {c.name for c in gazetteer} | {c.province for c in gazetteer}
    names |= {p.name for p in gazetteer.prefectures.values()}
    season = scenario()
    names |= {c.name for c in season.companies} | {h.name for h in season.hubs}
    names |= {w.name for w in season.workers}
    names |= {v.vehicle_type for v in season.fleet} | {v.operator for v in season.fleet}
    for trip in plan().trips:
        names |= {text for s in trip.stops for text in (s.name, s.note) if text}
        names.add(trip.vehicle_type)
    runs = {run for name in names for run in CJK.findall(name)}
    return tuple(sorted(runs, key=len, reverse=True))


def cjk_besides_names(text: str, allowed: tuple[str, ...] = ()) -> set[str]:
    """The Chinese left in `text` once every name is taken out (places of the gazetteer, the
    scenario's gates, coach types and people, notes written by hand, and `allowed`): an
    English page or paper must leave none."""
    left = set()
    for run in set(CJK.findall(text)):
        rest = run
        for name in (*allowed, *_place_names()):
            if name in rest:
                rest = rest.replace(name, " ")
        left |= set(CJK.findall(rest))
    return left
