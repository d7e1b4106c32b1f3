"""Free-text addresses to current counties: forms, codes, retired names, ambiguity, batches."""

from __future__ import annotations

import random

import pytest

from optimizer.errors import AmbiguousPlace, UnknownPlace
from optimizer.geography.gazetteer import MUNICIPALITY_ADCODES, load_gazetteer
from optimizer.geography.resolve import resolve, resolve_county, resolve_many


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


@pytest.mark.parametrize(
    ("text", "adcode"),
    [
        ("安徽省阜阳市临泉县", "341221"),
        ("安徽阜阳临泉", "341221"),
        ("安徽临泉", "341221"),
        ("临泉县", "341221"),
        ("威宁", "520526"),
        ("贵州威宁县", "520526"),
        ("威宁彝族回族苗族自治县", "520526"),
        ("重庆梁平", "500155"),
        ("重庆市梁平区", "500155"),
        ("河南固始", "411525"),
        ("四川渠县", "511725"),
        ("北京朝阳", "110105"),
        ("江苏南京鼓楼区", "320106"),
        ("江西吉安吉州区", "360802"),  # 西吉 across 江西|吉安 is not 宁夏西吉县
        ("山西省阳泉市郊区", "140311"),
        ("上海浦东", "310115"),
        ("湖北恩施州利川市", "422802"),
        ("湖北仙桃", "429004"),  # a province-administered county-level city
        ("广东东莞", "441900"),  # a prefecture city without counties is its own unit
        ("云南镇雄", "530627"),  # 镇 here starts a county name, not a town
        ("吉林省镇赉县", "220821"),
        ("海南屯昌", "469022"),
        ("  安徽 阜阳-临泉 ", "341221"),
        ("中国安徽省阜阳市临泉县", "341221"),
    ],
)
def test_full_and_short_forms(text: str, adcode: str) -> None:
    """Full names, short names and mixes resolve to the named county."""
    resolution = resolve(text)
    assert resolution.ok, resolution.error
    assert resolution.adcode == adcode
    assert resolution.level == "county"
    assert resolution.query == text


@pytest.mark.parametrize(
    ("text", "adcode"),
    [
        ("安徽省阜阳市临泉县谭棚镇王庄村", "341221"),
        ("临泉县城关镇人民路8号", "341221"),
        ("四川省达州市渠县三汇镇", "511725"),
        ("湖北长阳新集镇", "420528"),  # not 阳新县 across 长阳|新集镇
        ("江苏盐城滨海新集镇", "320922"),
        ("广东东莞长安镇", "441900"),  # 长安 is a district elsewhere
        ("安徽阜阳临泉县阜南路", "341221"),  # 阜南 is a neighbouring county
        ("山东青岛市南区重庆路", "370202"),  # 重庆 in a street name; 市 shared with 市南区
        ("四川乐山市中", "511102"),  # 乐山市|市中区 share the 市
        ("浙江宁波市北仑区", "330206"),  # but 宁波市|北仑区 is not 宁波|市北
        ("贵州黔西南安龙城关镇红星村181号", "522328"),  # not 黔西|南安|龙城
    ],
)
def test_town_and_village_after_the_county_do_not_disturb(text: str, adcode: str) -> None:
    """Text after the county (town, village, street) is ignored even when it names a place."""
    assert resolve(text).adcode == adcode


def test_every_county_resolves_by_full_name_with_a_town(gazetteer) -> None:
    """For all 2,850 units, the full name (with and without a town after it) finds the unit."""
    for county in gazetteer:
        for text in (county.full_name, county.full_name + "城关镇新华村"):
            assert resolve(text).adcode == county.adcode, text


@pytest.mark.parametrize(
    ("code", "adcode", "level"),
    [
        ("520581", "520581", "code"),
        ("522423", "520581", "retired_code"),  # 黔西县, 毕节地区
        ("520522", "520581", "retired_code"),  # 黔西县, 毕节市
        ("500228", "500155", "retired_code"),  # 梁平县
        ("330282000000", "330282", "code"),  # 12-digit statistical code
        ("５２０５８１", "520581", "code"),  # full-width digits
    ],
)
def test_adcodes_current_and_retired(code: str, adcode: str, level: str) -> None:
    """Six-digit codes resolve; retired ones to today's unit with a note naming the change."""
    resolution = resolve(code)
    assert (resolution.adcode, resolution.level) == (adcode, level)
    if level == "retired_code":
        assert "黔西县" in resolution.note or "梁平县" in resolution.note
        assert f"is now {adcode}" in resolution.note


def test_unknown_code_is_an_error() -> None:
    """A code that is neither current nor retired is reported, never guessed."""
    resolution = resolve("999999")
    assert not resolution.ok
    assert resolution.error == "no county, current or retired, has the code 999999"
    with pytest.raises(UnknownPlace, match="no county, current or retired"):
        resolve_county("999999")


@pytest.mark.parametrize(
    ("text", "adcode", "note"),
    [
        ("湖北省襄樊市襄阳县", "420607", "襄阳县 is the former name of 襄州区"),
        ("湖北襄樊襄阳区", "420607", "襄阳区 is the former name of 襄州区"),  # renamed in place
        ("广西南宁地区崇左县", "451402", "崇左县 is the former name of 江州区"),
        ("四川达县", "511703", "达县 is the former name of 达川区"),
        ("河北邢台桥西区", "130503", "桥西区 is the former name of 信都区"),  # 桥西区 elsewhere
        ("湖北襄樊", "420602", "prefecture 襄樊市 (now 襄阳市) resolved to its seat county 襄城区"),
        ("内蒙古伊克昭盟达拉特旗", "150621", ""),
    ],
)
def test_names_from_id_cards_issued_years_ago(text: str, adcode: str, note: str) -> None:
    """Former county and prefecture names, as printed on old ID cards, lead to today's unit."""
    resolution = resolve(text)
    assert (resolution.adcode, resolution.note) == (adcode, note)


@pytest.mark.parametrize(
    ("text", "adcode", "former"),
    [("黔西县", "520581", "黔西县"), ("贵州省毕节地区黔西县", "520581", "黔西县"),
     ("重庆梁平县", "500155", ""), ("贵州省黔西南州兴仁县", "522302", "兴仁县")],
)  # fmt: skip
def test_retired_names_lead_to_the_current_unit(text: str, adcode: str, former: str) -> None:
    """Former county names (county became city or district) resolve and say so."""
    resolution = resolve(text)
    assert resolution.adcode == adcode
    if former:
        assert resolution.note == f"{former} is the former name of {resolution.name}"


FUYANG = "prefecture 阜阳市 resolved to its seat county 颍州区"
ANHUI = "province 安徽省 resolved to its seat county 合肥市包河区"
QIANXINAN = "prefecture 黔西南布依族苗族自治州 resolved to its seat county 兴义市"


@pytest.mark.parametrize(
    ("text", "level", "seat", "note"),
    [
        ("阜阳市", "prefecture", "341202", FUYANG),
        ("安徽阜阳", "prefecture", "341202", FUYANG),
        ("341200", "prefecture", "341202", FUYANG),
        ("安徽", "province", "340111", ANHUI),
        ("340000", "province", "340111", ANHUI),
        ("黔西南州", "prefecture", "522301", QIANXINAN),
    ],
)
def test_prefectures_and_provinces_resolve_to_their_seat(
    text: str, level: str, seat: str, note: str
) -> None:
    """A prefecture or province resolves to the county holding its government, and says so."""
    resolution = resolve(text)
    assert (resolution.adcode, resolution.level, resolution.note) == (seat, level, note)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("鼓楼", {"320106", "320302", "350102", "410204"}),
        ("朝阳", {"110105", "220104", "211321", "211302"}),  # 211302: seat of 朝阳市
        ("长安区", {"130102", "610116"}),
        ("江西吉安", {"360821", "360802"}),  # 吉安县, or 吉安市 (seat 吉州区)
        ("滨海", {"120116", "320922"}),
    ],
)
def test_ambiguous_names_list_every_candidate(text: str, expected: set[str]) -> None:
    """An ambiguous name is an error listing all candidates, never a silent choice."""
    resolution = resolve(text)
    assert not resolution.ok and resolution.adcode is None
    assert resolution.ambiguous
    assert resolution.error is not None and "matches several places" in resolution.error
    assert {code for code, _ in resolution.candidates} == expected
    with pytest.raises(AmbiguousPlace, match="matches several places") as raised:
        resolve_county(text)
    assert {code for code, _ in raised.value.candidates} == expected


def test_candidates_carry_full_names(gazetteer) -> None:
    """Each candidate is (adcode, full name) so a user can pick one."""
    candidates = dict(resolve("鼓楼").candidates)
    assert candidates["320106"] == "江苏省南京市鼓楼区"
    assert candidates["350102"] == gazetteer["350102"].full_name


@pytest.mark.parametrize(
    ("text", "includes"),
    [
        ("安徽鼓楼", {"320106", "350102"}),  # there is no 鼓楼 in Anhui
        ("安徽合肥临泉", {"341221"}),  # 临泉 is in 阜阳, not 合肥
    ],
)
def test_places_that_do_not_fit_together_are_questions(text: str, includes: set[str]) -> None:
    """A county that contradicts the province or prefecture before it is not dropped silently."""
    resolution = resolve(text)
    assert not resolution.ok and resolution.ambiguous
    assert includes <= {code for code, _ in resolution.candidates}


@pytest.mark.parametrize(
    ("text", "suggested"),
    [("安徽临全县", "341221"), ("湖北火星", None), ("安徽阜阳城关镇", None)],
)
def test_a_county_part_not_understood_is_not_replaced_by_the_seat(
    text: str, suggested: str | None
) -> None:
    """Province or prefecture plus unknown text is an error (with near names), not the seat."""
    resolution = resolve(text)
    assert not resolution.ok
    assert resolution.error is not None and "was recognised" in resolution.error
    if suggested:
        assert suggested in {code for code, _ in resolution.candidates}


def test_a_contradicted_county_is_offered_when_the_province_is_ambiguous() -> None:
    """河南 is a province and a Qinghai county; 临泉 (Anhui) is offered too."""
    resolution = resolve("河南临泉")
    assert resolution.ambiguous
    assert {"341221", "632324"} <= {code for code, _ in resolution.candidates}


@pytest.mark.parametrize("text", ["火星基地", "", "   ", "12345"])
def test_unknown_text_is_an_error(text: str) -> None:
    """Text naming no known place is an UnknownPlace error."""
    resolution = resolve(text)
    assert not resolution.ok and not resolution.ambiguous
    with pytest.raises(UnknownPlace):
        resolve_county(text)


def test_unknown_text_suggests_near_names() -> None:
    """A misspelt county name comes back with suggestions."""
    resolution = resolve("临全县")
    assert resolution.error is not None and "no county, prefecture or province" in resolution.error
    assert resolution.candidates


def test_resolve_county_returns_the_county(gazetteer) -> None:
    """resolve_county gives the gazetteer's County object."""
    assert resolve_county("安徽临泉") == gazetteer["341221"]


def _written(county, gazetteer, rng: random.Random) -> str:
    province = gazetteer.provinces[county.province_adcode]
    prefecture = gazetteer.prefectures[county.prefecture_adcode]
    in_municipality = county.prefecture_adcode in MUNICIPALITY_ADCODES
    prefix = province.short_name + ("" if in_municipality else prefecture.short_name)
    return rng.choice([county.full_name, prefix + county.name]) + rng.choice(
        ["", "城关镇", "新集镇王庄村", "长安镇新华村12号"]
    )


def test_batch_of_twenty_thousand_resolves_correctly(gazetteer) -> None:
    """20,000 addresses in one batch: in order, each its own county, duplicates answered alike."""
    rng = random.Random(11)
    counties = [c for c in gazetteer if c.province in ("安徽省", "四川省", "贵州省", "河南省")]
    chosen = [rng.choice(counties) for _ in range(20_000)]
    texts = [_written(c, gazetteer, rng) for c in chosen]
    results = resolve_many(texts)
    assert len(results) == len(texts)
    assert [r.query for r in results] == texts
    assert [r.adcode for r in results] == [c.adcode for c in chosen]
    assert resolve_many([texts[0], texts[0]])[0] is resolve_many([texts[0]])[0]


TOWN_TEXTS = ("", "城关镇", "新集镇王庄村", "长安镇新华村12号", "镇南街道", "和平路8号", "新华乡",
              "东风村", "红旗社区", "前进村3组")  # fmt: skip


def test_no_written_form_is_silently_mapped_to_another_county(gazetteer) -> None:
    """Seven written forms of every county, each with town text that itself looks like places:
    the answer is that county or a question, never a different county."""
    rng = random.Random(5)
    wrong = []
    for county in gazetteer:
        province = gazetteer.provinces[county.province_adcode]
        prefecture = gazetteer.prefectures[county.prefecture_adcode]
        own_prefecture = (
            county.prefecture_adcode in MUNICIPALITY_ADCODES or not prefecture.short_name
        )
        short = county.short_name if len(county.short_name) > 1 else county.name
        prefix = province.short_name + ("" if own_prefecture else prefecture.short_name)
        prefecture_name = "" if own_prefecture else prefecture.name
        forms = [
            county.full_name,
            province.short_name + short,
            short,
            county.name,
            prefix + short,
            province.name + county.name,
            prefecture_name + county.name,
        ]
        for form in forms:
            text = form + rng.choice(TOWN_TEXTS)
            resolution = resolve(text)
            if resolution.ok and resolution.adcode != county.adcode:
                wrong.append((text, county.full_name, resolution.adcode))
    # One known trap: 鄂托克前进村 reads as 鄂托克前(旗) + 进村 as well as 鄂托克(旗) + 前进村.
    assert [w for w in wrong if not w[0].startswith("内蒙古鄂托克前进村")] == []
