"""The message catalogue: every msgid has a Chinese translation, the shipped .mo files match the
.po sources, and the texts users meet (service messages, row problems, unserved reasons, the
pages' own texts) are all in it."""

from __future__ import annotations

import ast
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


# --- the plan's notes ---------------------------------------------------------------------------

OPTIMIZER = Path(__file__).parents[2] / "optimizer"
SAMPLE = "7"  # what a note's value stands as when its template is checked


def _samples(node: ast.expr, names: dict[str, list[ast.expr]], unknown: list[str]) -> list[str]:
    """The texts `node` (a note as the optimizer writes it) can be, its values as `SAMPLE`:
    both sides of a conditional, each word a value is picked from, a name's assigned text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        texts = [""]
        for part in node.values:
            texts = [t + s for t in texts for s in _samples(part, names, unknown)]
        return texts
    if isinstance(node, ast.FormattedValue):
        picked = node.value
        if isinstance(picked, ast.Subscript) and isinstance(picked.value, ast.Tuple):
            return [s for e in picked.value.elts for s in _samples(e, names, unknown)]
        return [SAMPLE]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _samples(node.left, names, unknown), _samples(node.right, names, unknown)
        return [a + b for a in left for b in right]
    if isinstance(node, ast.IfExp):
        return _samples(node.body, names, unknown) + _samples(node.orelse, names, unknown)
    if isinstance(node, ast.Name) and node.id in names:
        return [s for value in names[node.id] for s in _samples(value, names, unknown)]
    unknown.append(ast.unparse(node))
    return []


def _elements(node: ast.expr, names: dict[str, list[ast.expr]]) -> list[ast.expr]:
    """The items of a `notes=` value: a tuple or list, or `tuple(name)` of a listed name (none
    for `tuple(values.get("notes", ()))`, a stored plan's notes read back)."""
    if isinstance(node, ast.Tuple | ast.List):
        return list(node.elts)
    if isinstance(node, ast.Call) and len(node.args) == 1 and isinstance(node.args[0], ast.Name):
        return [e for value in names.get(node.args[0].id, []) for e in _elements(value, names)]
    if isinstance(node, ast.Call) and len(node.args) == 1 and isinstance(node.args[0], ast.Call):
        read = node.args[0].func
        if isinstance(read, ast.Attribute) and read.attr == "get":
            return []  # notes read back from a stored plan (optimizer/write.py), made before
    return [node]


def _optimizer_notes() -> tuple[list[str], list[str], list[str]]:
    """Every note the optimizer's sources can give a plan (appended to `work.notes`, passed as
    `notes=` to `Plan(...)` or `plan.replace(...)`), every reason its LP bound gives (`note = ...`,
    `_not_computed(...)`, an `LpBound(...)`'s last value), and the expressions not understood."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in OPTIMIZER.rglob("*.py")}
    constants: dict[str, list[ast.expr]] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and target.id.isupper():
                    constants.setdefault(target.id, []).append(node.value)
    notes: list[str] = []
    lp_notes: list[str] = []
    unknown: list[str] = []
    for tree in trees.values():
        names = dict(constants)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and not target.id.isupper():
                    names.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            sinks: list[ast.expr] = []
            lp_sinks: list[ast.expr] = []
            if isinstance(node, ast.Call):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr == "append"
                    and isinstance(func.value, ast.Attribute)
                    and func.value.attr == "notes"
                ):
                    sinks.extend(node.args)
                plan = (isinstance(func, ast.Name) and func.id == "Plan") or (
                    isinstance(func, ast.Attribute) and func.attr == "replace"
                )
                for keyword in node.keywords:
                    if keyword.arg == "notes" and plan:
                        sinks.extend(_elements(keyword.value, names))
                if isinstance(func, ast.Name) and func.id == "_not_computed":
                    lp_sinks.append(node.args[0])
                if isinstance(func, ast.Name) and func.id == "LpBound" and len(node.args) == 9:
                    lp_sinks.append(node.args[-1])
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if (
                    isinstance(target, ast.Name)
                    and target.id == "note"
                    and tree is trees.get(OPTIMIZER / "lp_bound.py")
                ):
                    lp_sinks.append(node.value)
            for sink in sinks:
                if not isinstance(sink, ast.Starred):
                    notes.extend(_samples(sink, names, unknown))
            for sink in lp_sinks:
                lp_notes.extend(s for s in _samples(sink, names, unknown) if s)
    return notes, lp_notes, unknown


def test_every_note_the_optimizer_gives_a_plan_has_a_catalogue_template() -> None:
    """A note added to the optimizer without its PLAN_NOTES template (and Chinese) fails here:
    the notes are collected from the optimizer's sources, not from plans that happen to run."""
    notes, lp_notes, unknown = _optimizer_notes()
    assert not unknown, f"notes of a shape the test does not read: {unknown}"
    assert len(notes) >= 15 and len(lp_notes) >= 8, (notes, lp_notes)
    missing = [n for n in notes if i18n.match_template(n, i18n.PLAN_NOTES) is None]
    assert not missing, f"add these notes to api.i18n.PLAN_NOTES and the catalogue: {missing}"
    missing = [n for n in lp_notes if i18n.match_template(n, i18n.LP_NOTES) is None]
    assert not missing, f"add these LP notes to api.i18n.LP_NOTES and the catalogue: {missing}"
    for note in notes:
        assert CJK.search(i18n.translate_plan_note("zh_CN", note)), note
        assert i18n.translate_plan_note("en", note) == note


def test_a_short_fleet_plans_real_notes_come_out_in_chinese_with_their_values() -> None:
    from tests.web.plan_notes import short_fleet_notes

    notes = short_fleet_notes()
    assert any(n.startswith("fleet: ") for n in notes), notes
    assert any(n.startswith("lower bound parts: ") for n in notes), notes
    for note in notes:
        assert i18n.match_template(note, i18n.PLAN_NOTES) is not None, note
        shown = i18n.translate_plan_note("zh_CN", note)
        assert CJK.search(shown) and not re.search(r"\b(trips?|coaches|seated)\b", shown), shown
        # Every figure of the note is in its translation (the order may differ).
        figures = sorted(re.findall(r"\d+(?:\.\d+)?", note))
        assert sorted(re.findall(r"\d+(?:\.\d+)?", shown)) == figures, (note, shown)
    assert i18n.translate_plan_notes("en", list(notes)) == list(notes)


def test_a_note_no_template_knows_is_shown_as_it_is() -> None:
    assert i18n.translate_plan_note("zh_CN", "something new") == "something new"
    # A provider the catalogue names is shown by its words, another one by its name.
    assert i18n.translate_plan_notes(
        "zh_CN", ["something new", "distances: road-graph", "distances: valhalla"]
    ) == ["something new", "距离来源：内置路网", "距离来源：valhalla"]
    lp = (
        "lower bound parts: seats 3, county stops 2, boarding stops 1, date intervals 4, "
        "LP 5 (4.500 proven, 1.2 s, stopped after 40 round(s))"
    )
    assert i18n.translate_plan_note("zh_CN", lp).endswith("1.2 秒，40 轮后停止）")
    unknown_tail = lp.replace("stopped after 40 round(s)", "a new reason")
    assert i18n.translate_plan_note("zh_CN", unknown_tail).endswith("1.2 秒，a new reason）")


def test_every_departure_date_strategy_has_its_words() -> None:
    """The strategy named in the "departure dates" note is shown by its catalogue words."""
    tree = ast.parse((OPTIMIZER / "planning" / "demand.py").read_text(encoding="utf-8"))
    named = [
        key.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign | ast.Assign)
        and isinstance(node.value, ast.Dict)
        and "strategies" in ast.unparse(node)
        for key in node.value.keys
        if isinstance(key, ast.Constant)
    ]
    assert named and set(named) <= set(i18n.DATE_STRATEGIES), named
    for name in named:
        note = f"departure dates: {name} strategy, about 12 coaches"
        assert i18n.gettext_in("zh_CN", i18n.DATE_STRATEGIES[name]) in (
            i18n.translate_plan_note("zh_CN", note)
        )


def test_a_plans_state_inside_a_message_is_shown_in_the_readers_language() -> None:
    """A refusal naming a plan's state ("plan 5 is published; ...") says the state in Chinese
    too, not the English status word inside the Chinese sentence."""
    text = "plan 5 is published; only a finished, unpublished plan can be adjusted"
    shown = i18n.translate_detail("zh_CN", text)
    assert "已发布" in shown and "published" not in shown, shown
    running = i18n.translate_detail(
        "zh_CN", "plan 7 of season s is still running; wait for it to finish"
    )
    assert "计算中" in running and "running" not in running, running
    assert i18n.translate_detail("en", text) == text


def test_a_message_is_read_as_its_most_specific_template() -> None:
    """The text "no worker W1 in plan 3" matches both "no worker {worker}" and
    "no worker {worker} in plan {plan}"; it is shown as the longer one, not as the shorter with
    the English tail inside the worker's name (the moves route answered "没有员工 W1 in plan 3")."""
    assert i18n.translate_detail("zh_CN", "no worker W1 in plan 3") == "方案 3 中没有员工 W1"
    assert i18n.translate_detail("zh_CN", "no worker W1") == "没有员工 W1"
