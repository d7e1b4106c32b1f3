"""The fixed vocabulary of an unserved worker's `detail`: each text the planner can give is one
of `DETAIL_TEMPLATES` (English, with `{name}` fields), or several joined by "; " (a bad row's
problems, a timetable's notes).

The planner's stages write the English text, as plan.json always held it; `detail_parts`
reads it back into message ids and the values of their fields, so a reader (the service, in
Chinese or English) shows the detail in its own language without parsing English itself, and
without the optimizer knowing any language but its own. Plans written before the ids existed
are read the same way. A text no template recognises comes back as one part `text` holding it.

The ids are a public format (docs/plan-format.md): add a template with a new id, never reuse
an id for another meaning. tests/web/test_i18n.py collects every detail the optimizer's
sources can give and fails on one no template here recognises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

# Id -> English template. A field's value is the text the planner wrote (a home or party id in
# quotes, a date as MM-DD or ISO, a list joined by ", ").
DETAIL_TEMPLATES: dict[str, str] = {
    # A bad registration row (optimizer/planning/demand.py); `reason` is a row problem.
    "row_problem": "row {row} {column}: {reason}",
    # Rows that cannot be planned (optimizer/groups.py); `problem` is a home-address answer.
    "unknown_company": "company {company}",
    "ambiguous_home": "{home} could be {codes}",
    "home_problem": "{home}: {problem}",
    "no_county_seat": "no county seat for {adcode}",
    "no_road_to_home": "no road or ferry reaches {adcode} from the origin",
    "window_misses_season": "window {earliest}..{latest} misses the season {first}..{last}",
    "seats_over_largest_coach": "needs {seats} seats, the largest coach has {largest}",
    "party_homes_differ": "party {party} members go to different counties {homes}",
    "party_companies_differ": "party {party} members board at different companies {companies}",
    "party_windows_apart": "party {party} members' windows share no date in the season",
    "party_over_largest_coach": (
        "party {party} needs {seats} seats, the largest coach has {largest}"
    ),
    # Dates and coaches (optimizer/planning/demand.py, pooling.py, ledger.py, season.py,
    # incremental.py).
    "fleet_empty": "the fleet has no coaches",
    "fleet_busy_in_window": "every coach on every date in the window is away or taken",
    "no_coach_in_window": "no coach on any date in window",
    "direct_trip_too_far": "the direct trip exceeds max_trip_km = {km}",
    "every_coach_taken_on_day": "every coach on {day} is taken",
    "no_large_coach_on_day": "no coach large enough left on {day}",
    "coaches_away_on_days": "coaches ({types}) all away or taken on {days}",
    "no_coach_free_on_day": (
        "no {vehicle_type} coach free on {day}: every one is away on other trips of the season then"
    ),
    "no_free_seat_published": "no free seat on a published trip",
    # The charter-sign rule (optimizer/charter.py `refusal_detail`).
    "charter_sign_refused": (
        "charter sign: no coach of the fleet may drive from {start} to {end}: neither end lies "
        "where {operators} is registered"
    ),
    # Coaches that cannot run (optimizer/planning/trips.py, optimizer/timetable.py).
    "below_min_load": (
        "{seats} seats on {day} to {counties}, under min_load {min_load}, and no pooling "
        "partner within the detour limit"
    ),
    "trip_too_long": "trip of {km} km exceeds max_trip_km {limit}",
    "no_legal_crew": "no legal crew",
    "crew_below_rules": "{drivers} driver(s) on a {km} km trip: the rules need {minimum}",
    "crew_over_max_drivers": (
        "a {km} km trip needs {minimum} drivers but max_drivers is {max_drivers}"
    ),
    "crew_extra_rest": "a crew of {drivers} cannot cover the driving hours: {rest} of extra rest",
    # Not a template: a text none of the others recognises, kept as it stands.
    "text": "{text}",
}

# The value of `days` in "coaches_away_on_days" when the fleet ran out on no particular date.
EVERY_DATE_OF_THE_WINDOW = "every date of the window"
PART_SEPARATOR = "; "

# Fields whose values have a fixed shape: a quoted id (Python's repr of a home or party) or a
# row number. They keep a generic template ("{home}: {problem}") from swallowing another's text.
_QUOTED = r"(?:'[^']*'|\"[^\"]*\")"
_FIELD_PATTERNS: dict[str, str] = {
    "row": r"\d+",
    "home": _QUOTED,
    "party": _QUOTED,
    "company": _QUOTED,
}
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class DetailPart:
    """One message of a detail: its id (a key of `DETAIL_TEMPLATES`) and its fields' values."""

    id: str
    args: Mapping[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The part in English, as the planner wrote it."""
        return render_part(DETAIL_TEMPLATES[self.id], self.args)


def render_part(template: str, args: Mapping[str, str]) -> str:
    """`template` with each `{name}` replaced by `args[name]` as it stands (no format specs:
    a value may hold braces)."""
    return _FIELD.sub(lambda m: args.get(m.group(1), m.group(0)), template)


def detail_text(detail_id: str, /, **args: object) -> str:
    """The English detail of message `detail_id` with `args` (each shown with `str`)."""
    return render_part(DETAIL_TEMPLATES[detail_id], {k: str(v) for k, v in args.items()})


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    compiled: list[tuple[str, re.Pattern[str]]] = []
    for detail_id, template in DETAIL_TEMPLATES.items():
        if detail_id == "text":
            continue
        parts: list[str] = []
        position = 0
        for found in _FIELD.finditer(template):
            parts.append(re.escape(template[position : found.start()]))
            name = found.group(1)
            parts.append(f"(?P<{name}>{_FIELD_PATTERNS.get(name, '.+?')})")
            position = found.end()
        parts.append(re.escape(template[position:]))
        compiled.append((detail_id, re.compile("".join(parts), re.S)))
    return tuple(compiled)


def match_part(text: str) -> DetailPart | None:
    """The message `text` is, by the first template that matches all of it; None when none."""
    for detail_id, pattern in _patterns():
        found = pattern.fullmatch(text)
        if found is not None:
            return DetailPart(detail_id, found.groupdict())
    return None


@lru_cache(maxsize=16384)
def detail_parts(detail: str) -> tuple[DetailPart, ...]:
    """`detail` (an unserved worker's English detail) as its messages, in order; () for "".

    A part may itself hold "; " (a row problem "is required; row skipped"), so the split is the
    one whose every piece a template recognises, preferring shorter first pieces. When no split
    is wholly recognised, each "; " piece a template does not recognise is a `text` part."""
    if not detail:
        return ()
    pieces = detail.split(PART_SEPARATOR)

    @cache
    def parse(start: int) -> tuple[DetailPart, ...] | None:
        if start == len(pieces):
            return ()
        for end in range(start + 1, len(pieces) + 1):
            part = match_part(PART_SEPARATOR.join(pieces[start:end]))
            if part is None:
                continue
            rest = parse(end)
            if rest is not None:
                return (part, *rest)
        return None

    parsed = parse(0)
    if parsed is not None:
        return parsed
    return tuple(match_part(p) or DetailPart("text", {"text": p}) for p in pieces)


def detail_parts_json(parts: tuple[DetailPart, ...]) -> list[dict[str, Any]]:
    """`parts` as plan.json and the service's answers carry them: `[{id, args}]`."""
    return [{"id": p.id, "args": dict(p.args)} for p in parts]
