"""Coach turns over adjacent peak days: keep the loads a coach can drive and be back from in time
for the next date's evening apart from those that hold it over both dates.

When the fleet binds on two adjacent dates (the home wave's peak), a coach of the first date is
worth a second trip only if it is back before the second date's last departure hour. A county
whose lone coach (leaving at the earliest hour, legal drives both ways with their layovers,
`optimizer.ledger.estimated_span`) is back by then is a *turner*; pooling a turner's remainder
with a far county's makes a trip that keeps its coach away over both dates, and the near
county's seats then cost a whole second coach-day. So on a date whose next date the fleet
spread fills (`Work.tight`), the date's routing requests are pooled in two groups, turners
among themselves and the others among themselves; every other date is pooled as before, and a
season whose fleet does not bind (nothing tight) is not touched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from optimizer.geography.distance import Location
from optimizer.ledger import Availability, estimated_span
from optimizer.model import Policy
from optimizer.planning.context import Chunk

# Switch: pool a tight date's eve in two groups (turners, the others).
TURN_POOLING = True


def turners(
    counties: Sequence[str],
    day: dt.date,
    availability: Availability,
    seats: Mapping[str, Location],
    policy: Policy,
) -> set[str]:
    """The `counties` (adcodes) whose lone coach, leaving at `day`'s earliest departure hour, is
    back at the depot, rested, by the next date's latest departure hour."""
    back_by_h = 24 + policy.latest_departure_hour - policy.earliest_departure_hour
    found: set[str] = set()
    for county in counties:
        span = estimated_span(
            availability.depot, seats[county], True, day, availability.timer, policy
        )
        if span.after <= back_by_h:
            found.add(county)
    return found


def turn_groups(
    chunks_by_day: Mapping[dt.date, list[Chunk]],
    tight: frozenset[dt.date],
    availability: Availability | None,
    seats: Mapping[str, Location],
    policy: Policy,
    home: bool,
) -> tuple[list[tuple[dt.date, list[Chunk]]], dict[dt.date, frozenset[str]]]:
    """The dates' requests in the groups pooling routes one at a time, by date: on a home-wave
    date whose next date is `tight`, turners' requests first, then the others'; and, per date
    so split, its turners' stop site keys (its full direct coaches stay as they are, so no
    model re-cuts them together, and absorbing keeps the two groups apart)."""
    groups: list[tuple[dt.date, list[Chunk]]] = []
    split: dict[dt.date, frozenset[str]] = {}
    for day, chunks in sorted(chunks_by_day.items()):
        if not TURN_POOLING or not home or availability is None:
            groups.append((day, chunks))
            continue
        if day + dt.timedelta(days=1) not in tight:
            groups.append((day, chunks))
            continue
        counties = sorted({c.far.removeprefix("county:") for c in chunks})
        quick = turners(counties, day, availability, seats, policy)
        near = [c for c in chunks if c.far.removeprefix("county:") in quick]
        rest = [c for c in chunks if c.far.removeprefix("county:") not in quick]
        if not near or not rest:
            groups.append((day, chunks))
            continue
        split[day] = frozenset(c.far for c in near)
        groups.extend([(day, near), (day, rest)])
    return groups, split


def same_side(turners: frozenset[str] | None, mine: set[str], theirs: set[str]) -> bool:
    """Whether loads to stop site keys `mine` may join a coach carrying `theirs` on a date whose
    turners are `turners` (None: the date was not split, anything goes): both all turners or
    both without a turner."""
    if turners is None:
        return True
    return mine <= turners if theirs <= turners else not (mine & turners)
