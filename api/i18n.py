"""The one message catalogue: every text a clerk or dispatcher can meet, in Chinese (the
default) and English.

The catalogue is gettext: `api/locale/<locale>/LC_MESSAGES/chunyun.po` holds the translations
(msgids are the English texts, with `{name}` placeholders), and the compiled `chunyun.mo` next
to it ships as package data (`make catalogue` recompiles it; a test checks the two agree and
that every msgid has a Chinese translation).

Where the texts come from:
- the service's own messages (`api.errors.MESSAGES`, by key);
- the optimizer's row problems and home-address answers, which stay language-free English in
  `optimizer/`: the api layer recognises each fixed template (`ROW_REASONS`) and fills the
  translated one with the same values;
- unserved reasons by their code (`UNSERVED`), with what would fix each;
- the optimizer's details of unserved workers, by the message ids and values the optimizer
  gives them (`optimizer.details`), a bad row's detail with its reason translated;
- the pages' own texts (`_()` in `api/web/templates`).

The JSON API answers in English unless the request asks for Chinese (`Accept-Language: zh`);
the pages answer in Chinese unless the user chose English (docs/web.md).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from optimizer.details import DETAIL_TEMPLATES, DetailPart, detail_parts, detail_parts_json
from optimizer.model import UnservedReason

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "chunyun"
DEFAULT_LOCALE = "zh_CN"
ENGLISH = "en"
LOCALES = (DEFAULT_LOCALE, ENGLISH)


def N_(msgid: str) -> str:
    """Marks `msgid` for the catalogue where it is defined; translated where it is shown."""
    return msgid


@cache
def _translations(locale: str) -> gettext.NullTranslations:
    if locale == ENGLISH:
        # The msgids are English; the English catalogue exists for completeness and overrides.
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[ENGLISH], fallback=True)
    # No fallback: a Chinese catalogue missing from an installation is an error, not English.
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale])


def normalise_locale(value: str | None) -> str:
    """`zh`, `zh-CN`, `zh_CN` ... -> zh_CN; `en*` -> en; anything else -> the default."""
    text = (value or "").strip().lower().replace("-", "_")
    if text.startswith("en"):
        return ENGLISH
    return DEFAULT_LOCALE


def api_locale(accept_language: str | None) -> str:
    """The JSON API's language: English unless the first language asked for is Chinese."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip().lower()
    return DEFAULT_LOCALE if first.startswith("zh") else ENGLISH


def gettext_in(locale: str, msgid: str) -> str:
    """`msgid` in `locale` (unformatted)."""
    return _translations(locale).gettext(msgid)


def gettext_for(locale: str) -> Callable[[str], str]:
    """The catalogue's translator for `locale` (msgid -> text, unformatted): what the map
    builders take as `gettext` (maps/ cannot import the catalogue, see maps/texts.py)."""
    return _translations(locale).gettext


def document_locale(lang: str | None = None, accept_language: str | None = None) -> str:
    """The language of a document or map the service sends (manifests, trip sheets,
    statements, maps): `?lang=` when given, else the first language of Accept-Language, else
    Chinese. Unlike the JSON API's answers (English unless asked), papers default to Chinese:
    they are printed for crews and checkpoints, and a client that asks for nothing gets them
    as it always has (docs/maps-and-documents.md)."""
    if lang:
        return normalise_locale(lang)
    first = (accept_language or "").split(",")[0].split(";")[0].strip()
    return normalise_locale(first) if first and first != "*" else DEFAULT_LOCALE


def translate(locale: str, msgid: str, /, **values: Any) -> str:
    """`msgid` in `locale`, its `{name}` placeholders filled from `values`."""
    text = gettext_in(locale, msgid)
    return text.format(**values) if values else text


# --- texts made elsewhere in English, recognised by their fixed template -----------------------

# The optimizer's row problems (optimizer/intake.py, optimizer/identity.py), home-address answers
# (optimizer/geography/resolve.py) and the service's own row checks (api/intake.py).
ROW_REASONS: tuple[str, ...] = (
    N_("required column {column} is missing from the header"),
    N_("must be a number"),
    N_("is required"),
    N_("must be a finite number"),
    N_("must be a whole number"),
    N_("must be at least {minimum}"),
    N_("longitude must lie in China (73 to 136 east); lon/lat swapped?"),
    N_("latitude must lie in China (3 to 54 north); lon/lat swapped?"),
    N_("must be yes/no (1/0, true/false); read as no"),
    N_("{column} {value} appears on an earlier row; row skipped"),
    N_("must not be negative"),
    N_("must be a date written YYYY-MM-DD"),
    N_("is required; row skipped"),
    N_("is required (real-name ticketing)"),
    N_("latest is before earliest ({earliest})"),
    N_("is not a company_id of companies.csv (or that company's row is invalid)"),
    N_("is not one of the season's origin counties"),
    N_("is not a county, prefecture or province"),
    N_("home is empty"),
    N_("home was not resolved"),
    N_("matches several counties"),
    N_("matches no county"),
    N_("an ID number has 18 characters, this one has {length}"),
    N_("an ID number is 17 digits followed by a digit or X"),
    N_("characters 7-14 must be a birth date, {digits} is not a date"),
    N_("birth date {date} is not plausible"),
    N_("check digit is wrong (expected {expected}): please re-type the number"),
    N_("a mainland mobile number has 11 digits and starts with 13 to 19"),
    N_("empty address"),
    N_("no county, current or retired, has the code {code}"),
    N_("{text} is not a county code (6 digits, or 12 ending 000000)"),
    N_("no county, prefecture or province name found in {query}"),
    N_("the places named in {query} do not fit together"),
    N_("{names} matches several places; add the province or prefecture"),
    N_("{names} in {query} is not in {place}; which place is meant?"),
    N_("no county found in {query}: only {place} was recognised, not {rest}"),
    N_("{place} in {query} may be the town {town}; which county is meant?"),
    N_("{place} in {query} is a prefecture and its seat county {county}; which county is meant?"),
    N_("is {length} characters long; at most {limit}"),
    N_("holds a NUL character; retype the value"),
    N_("at most {limit} seats per row (a person and their children)"),
    N_("must lie inside the season's departures, {first} to {last}"),
    N_("the same ID number is on row {row}; one row per person"),
)

# A bad scenario.toml `[policy]`, `[solver]` or `[subsidy]` value (optimizer.errors.SettingError
# and the unknown keys of optimizer/model.py `_from_mapping`), for the season routes and the
# command line alike. The longer templates win over the row reason "must not be negative".
SETTING_TEXTS: tuple[str, ...] = (
    N_("[{table}] has unknown key(s) {keys}; known: {known}"),
    N_("[{table}] {key} = {value} must be true or false"),
    N_("[{table}] {key} = {value} must be a whole number"),
    N_("[{table}] {key} = {value} must be a number"),
    N_("[{table}] {key} = {value} must be text"),
    N_("[{table}] {key} = {value} must be at least {minimum}"),
    N_("[{table}] {key} = {value} must not be negative"),
    N_("[{table}] {key} = {value} must be positive"),
    N_("[{table}] {key} = {value} must be a clock hour from 0 to 23"),
    N_("[{table}] {key} = {value} must not be after {other} = {limit}"),
    N_("[{table}] {key} = {value} must be from {low} to {high}"),
    N_("[{table}] {key} = {value} must be more than 0 and at most 1"),
)

# Further fixed English texts of the service, registered by the modules that raise them
# (`recognise`), so an answer made in English is shown in the user's language.
_RECOGNISED: list[str] = []


def recognise(*templates: str) -> None:
    """Register fixed English texts (with `{name}` placeholders) that `translate_detail` and
    `translate_reason` show in the user's language."""
    _RECOGNISED.extend(t for t in templates if t not in _RECOGNISED)


recognise(*SETTING_TEXTS)


# The service's other fixed answers (api/crud.py, api/intake.py, api/routes/, api/jobs.py).
SERVICE_TEXTS: tuple[str, ...] = (
    N_("only a dispatcher may do this"),
    N_("only an employer may do this"),
    N_("no rows to register"),
    N_("no season is open; a dispatcher opens one with POST /api/seasons"),
    N_("several seasons are open ({names}); name one with ?season=NAME"),
    N_("no season called {name}"),
    N_("no season {season}"),
    N_("season {season} already exists"),
    N_("season {season} is closed for registration"),
    N_("no company {company} in season {season}"),
    N_("company {company} still has registered workers; remove them first"),
    N_("no hub {hub} in season {season}"),
    N_("no coach type {vehicle_type} in season {season}"),
    N_("no worker {worker}"),
    N_("no worker {worker} in plan {plan}"),
    N_("no plan {plan}"),
    N_("plan {plan} has no trip {trip}"),
    N_("plan {plan} has no trips yet ({state})"),
    N_("plan {plan} is {state}; only a finished plan can be published"),
    N_(
        "plan {plan} was made before plan {current} was published and may move its locked "
        "trips; start a new plan and publish that"
    ),
    N_("plan {plan} of season {season} is still {state}; wait for it to finish"),
    N_("another plan of season {season} is already running"),
    N_("the server stopped while this plan was being made; start the plan again"),
    # The job queue (api/crud.py, api/jobs.py).
    N_("plan {plan} is {state}; only a queued or running job can be cancelled"),
    N_("cancelled by a dispatcher"),
    N_("cancelling: the worker stops at its next progress report"),
    N_("queued again: the worker planning it was shut down"),
    N_("queued again: the worker planning it stopped (attempt {attempt} of {attempts})"),
    N_(
        "planning failed: the worker planning it stopped {attempts} time(s), so it is not tried "
        "again; start the plan again (with a shorter time limit if it keeps happening)"
    ),
    N_("{filename} is neither UTF-8 nor GB18030 text"),
    N_("{filename} is not a readable CSV table: {error}"),
    N_("{filename}: send a .csv or .xlsx file (the template is an .xlsx)"),
    N_("{filename} is not a readable Excel workbook (.xlsx)"),
    N_("{kind} manifests are not available in this build; use .csv or .json"),
    N_("maps are not available in this build"),
    N_("no list for company {company}"),
    # FastAPI's and Starlette's own refusals (api/errors.py shows them like the service's).
    N_("Not authenticated"),
    N_("Not Found"),
    N_("Method Not Allowed"),
)

# The planner's progress texts (optimizer/solve.py, optimizer/season.py): the command line's
# progress bar and a plan's `message` on the pages and in the JSON answers.
PROGRESS_TEXTS: tuple[str, ...] = (
    N_("grouping workers"),
    N_("travel matrix and departure dates"),
    N_("full coaches"),
    N_("pooling remainders"),
    N_("pooled part {part}"),
    N_("timetabled {count}"),
    N_("coach duties"),
    N_("done"),
)
recognise(*PROGRESS_TEXTS)
# A season's waves report their progress under the wave's direction (optimizer/season.py), and
# a failed job says why (api/jobs.py).
PROGRESS_WAVES: dict[str, str] = {"home": N_("home-bound wave"), "return": N_("return wave")}
_WAVE_PROGRESS = re.compile(r"(?P<wave>home|return): (?P<message>.+)", re.S)
_WAVE_PROGRESS_TEXT = N_("{wave}: {message}")
PLANNING_FAILED = N_("planning failed: {error}")
PLANNING_FAILED_INTERNAL = N_("planning failed with an internal error ({error})")

# Suffixes the intake appends to a home problem.
_HOME_SUFFIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^(?P<base>.*) \(candidates: (?P<candidates>.*)\)$", re.S),
        N_(" (candidates: {candidates})"),
    ),
    (
        re.compile(r"^(?P<base>.*) \(did you mean: (?P<names>.*)\?\)$", re.S),
        N_(" (did you mean: {names}?)"),
    ),
)

_FIELD = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for field in _FIELD.finditer(template):
        parts.append(re.escape(template[position : field.start()]))
        name = field.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        position = field.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.S)


def _fill(template: str, values: Mapping[str, str]) -> str:
    """`template` with each `{name...}` replaced by the text `values[name]` as it stands."""
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def match_template(text: str, templates: tuple[str, ...]) -> tuple[str, dict[str, str]] | None:
    """The one of `templates` that `text` is (with `{name}` fields standing for any text), and
    the values of its fields in `text`; None when none is. When several match, the one with the
    most fixed text wins (among equals the first): "no worker W1 in plan 3" is "no worker
    {worker} in plan {plan}", not "no worker {worker}" with "W1 in plan 3" as the worker."""
    best: tuple[int, str, dict[str, str]] | None = None
    for template in templates:
        match = _pattern(template).fullmatch(text)
        if match is not None:
            fixed = len(_FIELD.sub("", template))
            if best is None or fixed > best[0]:
                best = (fixed, template, match.groupdict())
    return None if best is None else (best[1], best[2])


# A plan's state as the messages' `{state}` field names it (api.models.JOB_STATUSES, and a
# published plan): a word of the catalogue, shown in the reader's language like the text around it.
PLAN_STATES: tuple[str, ...] = (
    N_("queued"),
    N_("running"),
    N_("succeeded"),
    N_("failed"),
    N_("cancelled"),
    N_("published"),
)


def _recognise(locale: str, text: str, templates: tuple[str, ...]) -> str | None:
    found = match_template(text, templates)
    if found is None:
        return None
    template, values = found
    if values.get("state") in PLAN_STATES:
        values["state"] = gettext_in(locale, values["state"])
    return _fill(gettext_in(locale, template), values)


def translate_known(locale: str, text: str, templates: tuple[str, ...]) -> str | None:
    """`text` (English) in `locale` when one of `templates` recognises it, else None; the values
    of its fields are carried over as they stand."""
    return _recognise(locale, text, templates)


def translate_reason(locale: str, reason: str) -> str:
    """A row problem's reason (English, from the optimizer or the service) in `locale`; a text
    no template recognises is returned as it stands."""
    if locale == ENGLISH:
        return reason
    for suffix, template in _HOME_SUFFIXES:
        match = suffix.fullmatch(reason)
        if match is not None:
            values = match.groupdict()
            return translate_reason(locale, values.pop("base")) + _fill(
                gettext_in(locale, template), values
            )
    from api.errors import MESSAGES

    known = ROW_REASONS + tuple(MESSAGES.values()) + SERVICE_TEXTS + tuple(_RECOGNISED)
    found = _recognise(locale, reason, known)
    return reason if found is None else found


def translate_detail(locale: str, detail: str) -> str:
    """An error answer's `detail` (English) in `locale`: a service message or a row reason."""
    return translate_reason(locale, detail)


# --- unserved reasons, by code ------------------------------------------------------------------

UNSERVED: dict[UnservedReason, tuple[str, str]] = {
    UnservedReason.INVALID_ROW: (
        N_("the registration row is not valid"),
        N_("correct the row (see the row problems) and upload it again"),
    ),
    UnservedReason.UNKNOWN_HOME: (
        N_("the home address matches no county"),
        N_("write the home as province, prefecture and county, or the 6-digit county code"),
    ),
    UnservedReason.AMBIGUOUS_HOME: (
        N_("the home address matches several counties"),
        N_("add the province or prefecture to the home address"),
    ),
    UnservedReason.UNKNOWN_COMPANY: (
        N_("the company is not registered for this season"),
        N_("add the company (with its gate) before planning"),
    ),
    UnservedReason.PARTY_CONFLICT: (
        N_("party members' dates, homes or companies do not agree"),
        N_("give the party members the same home and overlapping dates"),
    ),
    UnservedReason.PARTY_TOO_LARGE: (
        N_("the party needs more seats than the largest coach"),
        N_("split the party into smaller groups"),
    ),
    UnservedReason.NO_DATE_IN_WINDOW: (
        N_("the worker's dates miss the season's departure dates"),
        N_("widen the worker's earliest/latest dates into the season"),
    ),
    UnservedReason.NO_COACH_IN_WINDOW: (
        N_("no coach is available on any date the worker can leave"),
        N_("add coaches on those dates, or widen the worker's dates"),
    ),
    UnservedReason.FLEET_EXHAUSTED: (
        N_("every coach on the worker's dates is taken"),
        N_("add coaches to the fleet, or widen the worker's dates"),
    ),
    UnservedReason.BELOW_MIN_LOAD: (
        N_("too few passengers for a coach, and no partner within the detour limit"),
        N_("lower the minimum load or allow a longer detour in the season's policy"),
    ),
    UnservedReason.TOO_FAR: (
        N_("the trip would be too long, or no legal timetable exists"),
        N_("raise the longest trip in the policy, or arrange other transport"),
    ),
    UnservedReason.UNREACHABLE: (
        N_("no road connection to the home county"),
        N_("check the home address; otherwise arrange other transport"),
    ),
    UnservedReason.CHARTER_SIGN: (
        N_(
            "no coach may legally drive the worker's trip: no operator is registered at either "
            "end of its route (charter sign)"
        ),
        N_(
            "add coaches of an operator registered in the prefecture of the worker's gate, or "
            "correct the operators' registration place in the fleet"
        ),
    ),
}


def unserved_reason(locale: str, reason: UnservedReason | str) -> str:
    """Why a worker has no seat, in `locale`."""
    return gettext_in(locale, UNSERVED[UnservedReason(reason)][0])


def unserved_fix(locale: str, reason: UnservedReason | str) -> str:
    """What would give the worker a seat, in `locale`."""
    return gettext_in(locale, UNSERVED[UnservedReason(reason)][1])


# The optimizer's details of an unserved worker are its fixed messages (optimizer.details): each
# part of a detail comes with its message id and values, and is shown by its template's
# translation; a field that is itself a fixed English text (a row problem, a home-address
# answer, "every date of the window") is translated too. tests/web/test_unserved_details.py
# collects the details from the optimizer's sources and fails on one no template recognises,
# and on a template without Chinese.
EVERY_DATE_OF_THE_WINDOW = N_("every date of the window")


def _every_date(locale: str, days: str) -> str:
    return gettext_in(locale, days) if days == EVERY_DATE_OF_THE_WINDOW else days


_DETAIL_FIELDS: dict[str, Callable[[str, str], str]] = {
    "reason": translate_reason,
    "problem": translate_reason,
    "days": _every_date,
}


def render_detail_part(locale: str, part: DetailPart) -> str:
    """One message of an unserved worker's detail in `locale`, its values filled in (a part the
    optimizer's templates do not know, id `text`, as a row problem or as it stands)."""
    if part.id == "text":
        return translate_reason(locale, part.args.get("text", ""))
    values = {
        name: _DETAIL_FIELDS[name](locale, value) if name in _DETAIL_FIELDS else value
        for name, value in part.args.items()
    }
    return _fill(gettext_in(locale, DETAIL_TEMPLATES[part.id]), values)


def translate_unserved_detail(locale: str, detail: str) -> str:
    """An unserved worker's detail (English, from the optimizer) in `locale`: each of its
    messages (`optimizer.details.detail_parts`) by its template; English as it stands."""
    if locale == ENGLISH or not detail:
        return detail
    return "；".join(render_detail_part(locale, p) for p in detail_parts(detail))


def unserved_public(locale: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """A stored unserved entry (`{worker, reason, detail}`) as the JSON API answers it: `detail`
    in `locale` (English unchanged) and `detail_parts`, the detail's message ids and values
    (docs/plan-format.md)."""
    detail = str(entry.get("detail", ""))
    return {
        **entry,
        "detail": translate_unserved_detail(locale, detail),
        "detail_parts": detail_parts_json(detail_parts(detail)),
    }


# --- the plan's notes ---------------------------------------------------------------------------

# Why the LP bound stopped where it did (optimizer/lp_bound.py, optimizer/solve.py), the tail of
# the "lower bound parts" note.
LP_NOTES: tuple[str, ...] = (
    N_("not run: no time reserved"),
    N_("no seated demand"),
    N_("sites without travel times: {sites}"),
    N_("drop_radius_km > 0: alighting counties are not fixed"),
    N_("no time left after the travel matrix"),
    N_("time limit reached before the LP converged"),
    N_("time limit reached inside the LP solver"),
    N_("time limit reached while pricing"),
    N_("time limit reached while closing the travel times"),
    N_("bound equals the master's value rounded up"),
    N_("stopped after {rounds} round(s)"),
    N_("proven by the LP without pickup rows"),
)

# The departure-date strategies the demand stage compares (optimizer/planning/demand.py).
DATE_STRATEGIES: dict[str, str] = {
    "county": N_("each county alone"),
    "province": N_("counties of a province together"),
    "season": N_("the whole season together"),
}

# The optimizer's notes on a plan (optimizer/solve.py, season.py, ledger.py, planning/*.py),
# recognised by template like the row problems and shown in the reader's language; a field
# named in `_NOTE_FIELDS` is itself translated. tests/web/test_i18n.py collects the notes from
# the optimizer's sources and fails on one no template here recognises.
PLAN_NOTES: tuple[str, ...] = (
    N_("distances: {provider}"),
    N_(
        "lower bound parts: seats {seats}, county stops {county_stops}, boarding stops "
        "{boarding_stops}, date intervals {dates}, LP {lp} ({value} proven, {seconds} s, "
        "converged)"
    ),
    N_(
        "lower bound parts: seats {seats}, county stops {county_stops}, boarding stops "
        "{boarding_stops}, date intervals {dates}, LP {lp} ({value} proven, {seconds} s, "
        "{lp_note})"
    ),
    N_(
        "lower bound parts: seats {seats}, county stops {county_stops}, boarding stops "
        "{boarding_stops}, date intervals {dates}, LP {lp} ({value} proven, {seconds} s)"
    ),
    N_(
        "LP bound: pickup rows for {limited} of {seats} seat(s); the others may board at a hub, "
        "so their pickup stops are left out"
    ),
    N_("departure dates: {strategy} strategy, about {coaches} coaches"),
    N_(
        "fleet: dates kept as without a fleet (only the realistic estimate says the fleet "
        "binds); the exact chaining decides"
    ),
    N_(
        "fleet: departure dates spread over the coaches free, {moved} seat(s) moved to other "
        "dates of their windows, {dropped} unit(s) left out"
    ),
    N_(
        "fleet: {merged} county date(s) given up, their workers gathered onto another date of "
        "their county and window, so they share its stop"
    ),
    N_(
        "fleet: route-pattern spread, {placed} seat(s) placed by its LP over {columns} coach "
        "column(s), {kept} kept on whole units, {seconds} s"
    ),
    N_(
        "{removed} part-full coach(es) shared out among other coaches ({days} receiving "
        "coach(es) on another date of the windows)"
    ),
    N_("LP seeds: the seeded cover promised fewer coaches on {days} of {dates} date(s)"),
    N_("LP seeds: {coaches} coach(es) on {days} of {tried} date(s) whose LP converged"),
    N_("routing saved {coaches} coach(es) over the greedy pooling"),
    N_(
        "fleet: {dates} date(s) before a date whose coaches are all needed pooled in two "
        "groups, the {counties} county(ies) whose coach is back by that date's evening apart "
        "from the others"
    ),
    N_(
        "routing improved the greedy's coaches on {parts} part(s) where it found no solution "
        "of its own in time"
    ),
    N_("routing: the model did not accept the greedy's coaches on {parts} part(s)"),
    N_(
        "fleet: {cancelled} trip(s) cancelled, {reseated} of their {riders} worker(s) re-seated "
        "on other trips, {left} unserved as fleet_exhausted"
    ),
    N_("fleet: {moved} trip(s) moved to a larger coach type"),
    N_(
        "crews: {coaches} coach(es) changed crews on the origin side (fresh_crew_at_origin): "
        "book their spare drivers"
    ),
    N_(
        "fleet: {retimed} trip(s) re-timed to a later departure on their date, for a coach "
        "back in time"
    ),
    N_(
        "fleet: {evening} trip(s) moved to an evening departure on their date, for a coach "
        "back from the day before"
    ),
    N_(
        "fleet: {placed} trip(s) put into a coach's free time on another date or hour of their "
        "riders' windows, {shifted} other trip(s) re-timed to make room"
    ),
    N_(
        "fleet: planned twice, the second time with the coach-days the first plan's trips "
        "took: {first} then {second} seated, the first plan kept"
    ),
    N_(
        "fleet: planned twice, the second time with the coach-days the first plan's trips "
        "took: {first} then {second} seated, the second plan kept"
    ),
    N_(
        "fleet: planned once more with the dates of planning without a fleet, the exact "
        "chaining choosing the trips: {seated} seated, this plan kept"
    ),
    N_(
        "fleet: planned once more with the dates of planning without a fleet, the exact "
        "chaining choosing the trips: {seated} seated, not kept"
    ),
    N_(
        "fleet: servable bound by its first version, the tightened LP not solved within {seconds} s"
    ),
    N_(
        "fleet: top-up of the unseated workers on the coach time left free ({rounds} "
        "round(s)): {seated} more seated"
    ),
    N_(
        "fleet: {emptied} thin trip(s) emptied onto other trips of their riders' windows, "
        "{seated} fleet_exhausted worker(s) seated on the seats left free"
    ),
    N_(
        "fleet: {given} thin trip(s) given up and their riders planned again with the "
        "fleet_exhausted workers on the coach time they held ({rounds} round(s)): {seated} more "
        "seated"
    ),
    N_(
        "fleet: lower bounds over the {seated} worker(s) the plan seats: {trips} trip(s), {km} "
        "coach-km by counting; the planning pass's less the trips cancelled: {less} trip(s), "
        "{less_km} coach-km; the larger of each kept"
    ),
    N_(
        "charter sign: {moved} trip(s) moved to an operator registered at one end, {refused} "
        "trip(s) no operator may drive, {left} worker(s) unserved"
    ),
)


# The distance providers a plan's "distances: {provider}" note names (optimizer/geography).
DISTANCE_PROVIDERS: dict[str, str] = {
    "road-graph": N_("the shipped road graph"),
    "great-circle": N_("great-circle distance times a detour factor"),
    "matrix-file": N_("the user's distance matrix file"),
    "osrm": N_("OSRM on the user's road network"),
}


def _provider(locale: str, name: str) -> str:
    return gettext_in(locale, DISTANCE_PROVIDERS[name]) if name in DISTANCE_PROVIDERS else name


def _lp_note(locale: str, note: str) -> str:
    found = _recognise(locale, note, LP_NOTES)
    return note if found is None else found


def _strategy(locale: str, name: str) -> str:
    return gettext_in(locale, DATE_STRATEGIES[name]) if name in DATE_STRATEGIES else name


_NOTE_FIELDS: dict[str, Callable[[str, str], str]] = {
    "lp_note": _lp_note,
    "strategy": _strategy,
    "provider": _provider,
}


def translate_plan_note(locale: str, note: str) -> str:
    """One of a plan's notes (English, from the optimizer) in `locale`; a note no template
    recognises is shown as it stands (English), never dropped."""
    if locale == ENGLISH:
        return note
    found = match_template(note, PLAN_NOTES)
    if found is None:
        return note
    template, values = found
    for name, translator in _NOTE_FIELDS.items():
        if name in values:
            values[name] = translator(locale, values[name])
    return _fill(gettext_in(locale, template), values)


def translate_plan_notes(locale: str, notes: Sequence[str]) -> list[str]:
    """A plan's notes in `locale`, in their order."""
    return [translate_plan_note(locale, str(n)) for n in notes]


def json_locale(lang: str | None = None, accept_language: str | None = None) -> str:
    """The language of a JSON answer that carries texts for people (a plan's notes, a charter
    sign): `?lang=` when given, else English unless Accept-Language asks for Chinese first."""
    return normalise_locale(lang) if lang else api_locale(accept_language)


# --- the audit log ------------------------------------------------------------------------------

# What each audit entry says was done (api/crud.py, api/operations.py, api/routes/, api/web/,
# api/cli/), stored in English and shown on the audit page in the reader's language; a field
# named `action` is itself one of these. Of two templates that could both match, the longer
# comes first. tests/web/test_language_audit.py collects the actions from the sources.
AUDIT_ACTIONS: tuple[str, ...] = (
    N_("list workers"),
    N_("read worker"),
    N_("register workers (JSON)"),
    N_("register workers (upload {filename})"),
    N_("edit worker (page)"),
    N_("SMS notice list of plan {plan}"),
    N_("notices of plan {plan}"),
    N_("manifest of plan {plan} trip {trip}"),
    N_("documents zip of plan {plan} company {company}"),
    N_("documents zip of plan {plan}"),
    N_("{action}: plan {plan}, {count} trip(s)"),
    N_("assign crew"),
    N_("clear crew"),
    N_("import crews"),
    N_("import crews (command line)"),
    N_("place late registrations: plan {plan}, {count} seated"),
    N_("confirm changes: plan {plan}, {count} change(s)"),
    N_("moved worker(s) {workers} of plan {plan} from trip {from_trip} to {to_trip}"),
    N_("locked trip {trip} of plan {plan}"),
    N_("unlocked trip {trip} of plan {plan}"),
)


def translate_audit_action(locale: str, action: str) -> str:
    """An audit entry's action (English, as stored) in `locale`; as it stands when no template
    recognises it."""
    if locale == ENGLISH:
        return action
    found = match_template(action, AUDIT_ACTIONS)
    if found is None:
        return action
    template, values = found
    if "action" in values:
        values["action"] = translate_audit_action(locale, values["action"])
    return _fill(gettext_in(locale, template), values)


def translate_progress(locale: str, message: str) -> str:
    """A planning job's `message` (the planner's progress, or why the job failed) in `locale`."""
    if locale == ENGLISH or not message:
        return message
    wave = _WAVE_PROGRESS.fullmatch(message)
    if wave is not None:
        return _fill(
            gettext_in(locale, _WAVE_PROGRESS_TEXT),
            {
                "wave": gettext_in(locale, PROGRESS_WAVES[wave["wave"]]),
                "message": translate_progress(locale, wave["message"]),
            },
        )
    failed = match_template(message, (PLANNING_FAILED_INTERNAL, PLANNING_FAILED))
    if failed is not None and translate_detail(locale, message) == message:
        template, values = failed
        if template == PLANNING_FAILED:
            values["error"] = translate_detail(locale, values["error"])
        return _fill(gettext_in(locale, template), values)
    return translate_detail(locale, message)


# --- a request the schema refused (422) -----------------------------------------------------------

VALIDATION_FAILED = N_("the request is not valid: {problems}")
VALIDATION_WHERE = N_("{where}: {problem}")
# Pydantic's texts for the checks the API's schemas make, most specific first (the last one,
# "Input should be {expected}", is a literal's or an enum's list of values).
VALIDATION_MESSAGES: tuple[str, ...] = (
    N_("Field required"),
    N_("Extra inputs are not permitted"),
    N_("JSON decode error"),
    N_("Input should be a valid dictionary or object to extract fields from"),
    N_("Input should be a valid dictionary"),
    N_("Input should be a valid list"),
    N_("Input should be a valid string"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid integer, got a number with a fractional part"),
    N_("Input should be a valid integer"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid number"),
    N_("Input should be a finite number"),
    N_("Input should be a valid boolean, unable to interpret input"),
    N_("Input should be a valid boolean"),
    N_("Input should be a valid date or datetime, {reason}"),
    N_("Input should be a valid date in the format YYYY-MM-DD, {reason}"),
    N_("Input should be a valid date"),
    N_("Input should be greater than or equal to {limit}"),
    N_("Input should be greater than {limit}"),
    N_("Input should be less than or equal to {limit}"),
    N_("Input should be less than {limit}"),
    N_("String should have at most {limit} characters"),
    N_("String should have at most {limit} character"),
    N_("String should have at least {limit} characters"),
    N_("String should have at least {limit} character"),
    N_("String should match pattern {pattern}"),
    N_("List should have at most {limit} items after validation, not {count}"),
    N_("List should have at least {limit} items after validation, not {count}"),
    N_("Value error, {message}"),
    N_("Input should be {expected}"),
)


def _validation_problem(locale: str, text: str) -> str:
    found = match_template(text, VALIDATION_MESSAGES)
    if found is None:
        return translate_reason(locale, text)
    template, values = found
    if "message" in values:
        values["message"] = translate_reason(locale, values["message"])
    if "expected" in values:  # "'json', 'csv', 'xlsx' or 'pdf'"
        values["expected"] = re.sub(r"(?<=') or (?=')", ", ", values["expected"])
    return _fill(gettext_in(locale, template), values)


def translate_validation(locale: str, problems: Sequence[tuple[str, str]]) -> str:
    """A 422 answer's `detail`: each (where, pydantic's text) of the refused request, in
    `locale` (English: "the request is not valid: body.x: Field required; ...")."""
    if locale == ENGLISH:
        return "the request is not valid: " + "; ".join(
            f"{where}: {text}" if where else text for where, text in problems
        )
    parts = [
        _fill(gettext_in(locale, VALIDATION_WHERE), {"where": where, "problem": shown})
        if where
        else shown
        for where, text in problems
        for shown in [_validation_problem(locale, text)]
    ]
    return _fill(gettext_in(locale, VALIDATION_FAILED), {"problems": "；".join(parts)})
