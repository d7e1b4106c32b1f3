"""Names behind the ids of a trip: workers, companies, hubs and counties of a scenario."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api.i18n import DEFAULT_LOCALE, gettext_for, gettext_in, translate

# Re-exported: the document writers quote formula-like CSV cells with the service's one rule.
from api.spreadsheet import from_spreadsheet as from_spreadsheet
from api.spreadsheet import spreadsheet_safe as spreadsheet_safe
from maps.stops import kind_label, stop_name
from optimizer.model import Company, DropPoint, Scenario, Stop, Trip, Worker


@functools.cache
def _county_name_lookup() -> Any:
    try:
        from optimizer.places import county_name
    except ImportError:
        return None
    return county_name


def county_name(adcode: str) -> str:
    """The county's name from the shipped gazetteer, or the code when it is not known."""
    lookup = _county_name_lookup()
    if lookup is None:
        return adcode
    try:
        name = lookup(adcode)
    except (KeyError, LookupError, ValueError):
        return adcode
    return str(name) if name else adcode


@dataclass(frozen=True)
class Names:
    """Look-ups from ids to the records of a scenario."""

    workers: dict[str, Worker]
    companies: dict[str, Company]
    places: dict[str, str]
    drop_points: dict[str, DropPoint] = field(default_factory=dict)
    locale: str = DEFAULT_LOCALE

    @classmethod
    def of(cls, scenario: Scenario, locale: str = DEFAULT_LOCALE) -> Names:
        """Index a scenario's workers, companies and hubs by id; rests the planner placed by
        time are named in `locale`."""
        places = {c.company_id: c.name for c in scenario.companies}
        places.update({h.hub_id: h.name for h in scenario.hubs})
        return cls(
            workers={w.worker_id: w for w in scenario.workers},
            companies={c.company_id: c for c in scenario.companies},
            places=places,
            drop_points={d.adcode: d for d in scenario.drop_points},
            locale=locale,
        )

    def stop(self, stop: Stop) -> str:
        """A stop's display name: a county stop takes the county's named drop-off point when
        one is set, else its own name or the county's name."""
        point = self._drop_point(stop)
        if point is not None:
            return point.name
        if not stop.name and stop.adcode and not (stop.company_id or stop.hub_id):
            return county_name(stop.adcode)
        return stop_name(stop, self.places, gettext_for(self.locale))

    def _drop_point(self, stop: Stop) -> DropPoint | None:
        if stop.kind == "rest" or stop.company_id or stop.hub_id or not stop.adcode:
            return None
        return self.drop_points.get(stop.adcode)

    def address(self, stop: Stop) -> str:
        """Where to find the stop: the drop-off point's or the gate's address, or ""."""
        point = self._drop_point(stop)
        if point is not None:
            return point.address
        company = self.companies.get(stop.company_id or "")
        return company.address if company is not None else ""

    def stop_with_address(self, stop: Stop) -> str:
        """The stop's name and, when known, its address in brackets (for notices)."""
        address = self.address(stop)
        return f"{self.stop(stop)}（{address}）" if address else self.stop(stop)

    def company(self, company_id: str) -> str:
        """An employer's name, or its id when the scenario does not list it."""
        company = self.companies.get(company_id)
        return company.name if company else company_id


def seat_label(seat: int, seat_count: int) -> str:
    """The seat number(s) a passenger takes: "12", or "12-13" with a child's seat."""
    if seat <= 0:
        return ""
    return str(seat) if seat_count <= 1 else f"{seat}-{seat + seat_count - 1}"


def texts(locale: str) -> Callable[..., str]:
    """`_ = texts(locale)`, then `_("msgid", name=value)`: the catalogue's text in `locale`
    (marked `_()` so the catalogue test finds every msgid)."""
    return functools.partial(translate, locale)


def legal_title(msgid: str, locale: str = DEFAULT_LOCALE) -> str:
    """A document title the regulations name in Chinese (旅客名单, 包车客运标志牌): in another
    language its translation with the Chinese in brackets, "Passenger list (旅客名单)", so the
    checkpoint and the crew name the same paper (docs/maps-and-documents.md)."""
    text = gettext_in(locale, msgid)
    if locale == DEFAULT_LOCALE:
        return text
    return f"{text} ({gettext_in(DEFAULT_LOCALE, msgid)})"


def route_summary(trip: Trip, names: Names) -> tuple[str, str, list[str]]:
    """Origin, destination and the main intermediate stops (gates and drop-offs, no rests)."""
    served = [names.stop(s) for s in trip.stops if s.kind != "rest"]
    served = list(dict.fromkeys(served))
    if not served:
        return "", "", []
    return served[0], served[-1], served[1:-1]


UNASSIGNED = "未分配"  # the default (Chinese) text of `unassigned`


def plate(trip: Trip) -> str:
    """The coach's plate when the operator assigned one, else ""."""
    return trip.crew.plate if trip.crew is not None else ""


def driver_names(trip: Trip) -> list[str]:
    """Driver names when assigned, else []."""
    return [d.name for d in trip.crew.drivers] if trip.crew is not None else []


def unassigned(locale: str = DEFAULT_LOCALE) -> str:
    """What an empty crew field reads: 未分配 / unassigned."""
    _ = texts(locale)
    return _("unassigned")


def plate_text(trip: Trip, locale: str = DEFAULT_LOCALE) -> str:
    """The plate, or 未分配 (unassigned) so a blank never looks filled."""
    return plate(trip) or unassigned(locale)


def drivers_text(trip: Trip, locale: str = DEFAULT_LOCALE) -> str:
    """Drivers with licence numbers and phones, or how many are needed and 未分配."""
    _ = texts(locale)
    if trip.crew is None:
        return _("{count} driver(s), {unassigned}", count=trip.drivers, unassigned=_("unassigned"))
    return _("; ").join(
        _(
            "{name} (licence {licence}, phone {phone})",
            name=d.name,
            licence=d.licence,
            phone=d.phone,
        )
        for d in trip.crew.drivers
    )


def escort_text(trip: Trip, locale: str = DEFAULT_LOCALE) -> str:
    """The coach captain or escort with phone, or 未分配."""
    _ = texts(locale)
    if trip.crew is None:
        return _("unassigned")
    return _("{name} (phone {phone})", name=trip.crew.escort_name, phone=trip.crew.escort_phone)


def stop_kind(stop: Stop, locale: str = DEFAULT_LOCALE) -> str:
    """The label of the stop's kind in `locale` (the 02:00-05:00 park named as such)."""
    return kind_label(stop, gettext_for(locale))
