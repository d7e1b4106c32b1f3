"""The message catalogue: every msgid has a Chinese translation, the shipped .mo files match the
.po sources, and the texts users meet (service messages, row problems, unserved reasons, the
pages' own texts) are all in it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from api import i18n
from api.errors import MESSAGES
from optimizer.intake import parse_workers
from optimizer.model import UnservedReason
from optimizer.read import resolve_homes

CJK = re.compile(r"[\u4e00-\u9fff]")
FIELD = re.compile(r"\{(\w+)")


def _catalogue(locale: str, kind: str) -> dict[str, str]:
    path = i18n.LOCALE_DIR / locale / "LC_MESSAGES" / f"chunyun.{kind}"
    with path.open("rb") as handle:
        catalog = read_po(handle) if kind == "po" else read_mo(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_every_msgid_has_a_chinese_translation_with_the_same_placeholders() -> None:
    zh = _catalogue("zh_CN", "po")
    assert len(zh) > 50
    for msgid, msgstr in zh.items():
        assert msgstr.strip(), f"no Chinese for {msgid!r}"
        assert CJK.search(msgstr) or not CJK.search(msgid), msgid
        assert set(FIELD.findall(msgstr)) == set(FIELD.findall(msgid)), msgid


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_shipped_mo_files_match_their_po_sources(locale: str) -> None:
    # `make catalogue` recompiles; a stale .mo would show old texts to users.
    translated = {k: v for k, v in _catalogue(locale, "po").items() if v}
    assert _catalogue(locale, "mo") == translated
    assert set(_catalogue("en", "po")) == set(_catalogue("zh_CN", "po"))


def test_every_marked_text_in_code_and_templates_is_in_the_catalogue() -> None:
    zh = _catalogue("zh_CN", "po")
    root = Path(i18n.__file__).parent
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found = [
        (path, message)
        for path, _line, message, _comments, _context in extract_from_dir(
            root, method_map, keywords={"_": None, "N_": None}
        )
    ]
    assert found
    missing = [(path, m) for path, m in found if isinstance(m, str) and m not in zh]
    assert not missing


def test_service_messages_and_unserved_reasons_are_catalogued() -> None:
    zh = _catalogue("zh_CN", "po")
    for text in MESSAGES.values():
        assert text in zh, text
    for reason in UnservedReason:
        assert CJK.search(i18n.unserved_reason("zh_CN", reason))
        assert CJK.search(i18n.unserved_fix("zh_CN", reason))
        assert not CJK.search(i18n.unserved_reason("en", reason))


def test_the_optimizers_row_problems_come_out_in_chinese() -> None:
    good = "340121199001010018"
    rows = [
        {"worker_id": "", "name": "甲"},
        {"worker_id": "A1", "name": "", "id_number": "123", "phone": "12"},
        {"worker_id": "A1"},
        {
            "worker_id": "A2",
            "name": "乙",
            "id_number": "34012119900101001X",
            "phone": "13900000000",
            "home": "341221",
            "earliest": "2027/13/40",
        },
        {
            "worker_id": "A3",
            "name": "丙",
            "id_number": "3401211990010100AA",
            "phone": "13900000000",
            "home": "",
            "seats": "0",
        },
        {
            "worker_id": "A4",
            "name": "丁",
            "id_number": "340121199013010018",
            "phone": "13900000000",
            "home": "不存在的地方xyz",
            "seats": "1.5",
        },
        {
            "worker_id": "A5",
            "name": "戊",
            "id_number": good,
            "phone": "13900000000",
            "home": "341221",
            "earliest": "2026-02-10",
            "latest": "2026-02-06",
            "seats": "x",
        },
        {
            "worker_id": "A6",
            "name": "己",
            "id_number": "340121199001010018",
            "phone": "13900000000",
            "home": "341221",
            "company_id": "nope",
        },
    ]
    columns = [
        "worker_id",
        "company_id",
        "name",
        "id_number",
        "phone",
        "home",
        "earliest",
        "latest",
        "party",
        "seats",
    ]
    frame = pd.DataFrame(
        [{c: r.get(c, "C1" if c == "company_id" else "") for c in columns} for r in rows], dtype=str
    )
    _workers, problems = parse_workers(
        frame,
        first_departure=dt.date(2026, 2, 5),
        last_departure=dt.date(2026, 2, 14),
        company_ids={"C1"},
        resolutions=resolve_homes(frame["home"].tolist()),
    )
    assert len(problems) >= 10
    for problem in problems:
        text = i18n.translate_reason("zh_CN", problem.reason)
        assert CJK.search(text), problem.reason
        assert i18n.translate_reason("en", problem.reason) == problem.reason


def test_values_are_carried_into_the_translation() -> None:
    text = i18n.translate_reason(
        "zh_CN", "check digit is wrong (expected 7): please re-type the number"
    )
    assert text == "校验位错误（应为 7）：请重新输入号码"
    assert i18n.translate_reason("zh_CN", "no such template, kept as is") == (
        "no such template, kept as is"
    )
    assert i18n.translate("zh_CN", MESSAGES["too_many_attempts"], minutes=3) == (
        "登录失败次数过多；请等待 3 分钟后再试"
    )


def test_locale_choice() -> None:
    assert i18n.api_locale(None) == "en"
    assert i18n.api_locale("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert i18n.api_locale("en-US,zh;q=0.5") == "en"
    assert i18n.normalise_locale("en-GB") == "en"
    assert i18n.normalise_locale("fr") == "zh_CN"


def test_the_services_other_answers_come_out_in_chinese() -> None:
    cases = {
        "season 'cixi-2027' is closed for registration": "季度 'cixi-2027' 已截止登记",
        "plan 7 has no trip 'T1'": "方案 7 中没有车次 'T1'",
        "only a dispatcher may do this": "只有调度员可以进行此操作",
        "x.txt: send a .csv or .xlsx file (the template is an .xlsx)": (
            "x.txt：请上传 .csv 或 .xlsx 文件（模板是 .xlsx）"
        ),
    }
    for english, chinese in cases.items():
        assert i18n.translate_detail("zh_CN", english) == chinese


def test_unserved_details_of_the_optimizer_come_out_in_chinese() -> None:
    """The details the optimizer gives unserved workers of the bundled small season (unknown and
    ambiguous homes, unknown company, dates outside the season) are shown in Chinese with their
    values, and a bad row's detail keeps its row and column with the reason translated."""
    from optimizer.groups import build_units
    from optimizer.places import county_seats
    from optimizer.read import read_scenario

    scenario = read_scenario(Path(__file__).parents[2] / "scenarios" / "small")
    homes = {w.home_adcode for w in scenario.workers if w.home_adcode}
    _, unserved = build_units(scenario, list(scenario.workers), county_seats(homes), 53)
    assert {u.reason for u in unserved} >= {
        UnservedReason.UNKNOWN_HOME,
        UnservedReason.AMBIGUOUS_HOME,
        UnservedReason.UNKNOWN_COMPANY,
        UnservedReason.NO_DATE_IN_WINDOW,
    }
    for u in unserved:
        shown = i18n.translate_unserved_detail("zh_CN", u.detail)
        assert CJK.search(shown), (u.detail, shown)
        assert i18n.translate_unserved_detail("en", u.detail) == u.detail
    # Values survive: the window's dates and the ambiguous home's candidate codes.
    window = next(u for u in unserved if u.reason is UnservedReason.NO_DATE_IN_WINDOW)
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", window.detail)
    assert (
        re.findall(r"\d{4}-\d{2}-\d{2}", i18n.translate_unserved_detail("zh_CN", window.detail))
        == dates
    )

    problem = next(p for p in scenario.problems if p.worker_id)
    detail = f"row {problem.row} {problem.column}: {problem.reason}"
    shown = i18n.translate_unserved_detail("zh_CN", detail)
    assert shown.startswith(f"第 {problem.row} 行 {problem.column}：")
    assert shown.endswith(i18n.translate_reason("zh_CN", problem.reason))
    # A text no template knows stays as it is rather than being guessed at.
    assert i18n.translate_unserved_detail("zh_CN", "something new") == "something new"
