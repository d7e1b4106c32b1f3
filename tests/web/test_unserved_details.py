"""Every detail the optimizer can give an unserved worker is one of its fixed messages
(optimizer.details), each message has Chinese in the catalogue, and a detail reads back into the
same ids and values it was written from. The details are collected from the optimizer's
sources, not from plans that happen to run, so a new detail without its template fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from api import i18n
from optimizer.details import DETAIL_TEMPLATES, DetailPart, detail_parts, match_part
from tests.web.test_i18n import CJK, _catalogue

OPTIMIZER = Path(__file__).parents[2] / "optimizer"
SAMPLE = "7"
QUOTED_FIELDS = {"home", "party", "company"}  # written with !r: a quoted id
TEMPLATE_IDS = [i for i in DETAIL_TEMPLATES if i != "text"]


class _Module:
    """One optimizer module: the values assigned to each name, and its functions; `others` are
    the public functions of all modules (a detail made by a function another module imports)."""

    def __init__(
        self, tree: ast.Module, others: dict[str, tuple[_Module, ast.FunctionDef]] | None = None
    ) -> None:
        self.assigned: dict[str, list[ast.expr]] = {}
        self.others = others if others is not None else {}
        self.functions = {
            n.name: n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name):
                self.assigned.setdefault(target.id, []).append(value)
            elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
                for name, item in zip(target.elts, value.elts, strict=False):
                    if isinstance(name, ast.Name):
                        self.assigned.setdefault(name.id, []).append(item)

    def samples(self, node: ast.expr, unknown: list[str]) -> list[str]:
        """The texts `node` (a detail as the optimizer writes it) can be, values as `SAMPLE`
        (quoted when written with !r). A detail passed on (a parameter, a loop variable, an
        attribute of another object) is where it was made, so it gives nothing here."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            texts = [""]
            for part in node.values:
                texts = [t + s for t in texts for s in self.samples(part, unknown)]
            return texts
        if isinstance(node, ast.FormattedValue):
            return [repr(SAMPLE) if node.conversion == ord("r") else SAMPLE]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.samples(node.left, unknown), self.samples(node.right, unknown)
            return [a + b for a in left for b in right]
        if isinstance(node, ast.IfExp):
            return self.samples(node.body, unknown) + self.samples(node.orelse, unknown)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.samples(node.value, unknown)  # cut to a column's length
        if isinstance(node, ast.BoolOp):
            return [s for value in node.values for s in self.samples(value, unknown)]
        if isinstance(node, ast.Name) and node.id in self.functions:
            return self._returns(node.id, unknown)  # a detail function (season's _no_coach)
        if isinstance(node, ast.Name):
            values = self.assigned.get(node.id, [])
            return [s for value in values for s in self.samples(value, unknown)]
        if isinstance(node, ast.Attribute):
            return []
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "join"
                and isinstance(func.value, ast.Constant)
            ):
                if func.value.value != "; ":
                    return [SAMPLE]  # a list of values ("02-13, 02-14")
                return [
                    s for item in self._items(node.args[0]) for s in self.samples(item, unknown)
                ]
            if isinstance(func, ast.Attribute) and func.attr == "get":
                return []  # a detail read back from a stored plan (optimizer/write.py)
            if isinstance(func, ast.Name):
                if func.id in self.functions:
                    return self._returns(func.id, unknown)
                if func.id in self.others:
                    module, _ = self.others[func.id]
                    return module._returns(func.id, unknown)  # imported (charter's refusal)
                return []  # a detail function passed in (cancel_trips' `detail`)
        unknown.append(ast.unparse(node))
        return []

    def _returns(self, function: str, unknown: list[str]) -> list[str]:
        made = self.functions[function]
        returns = [n.value for n in ast.walk(made) if isinstance(n, ast.Return) and n.value]
        return [s for value in returns for s in self.samples(value, unknown)]

    def _items(self, node: ast.expr) -> list[ast.expr]:
        """The parts a "; ".join(...) joins (each is a message of its own)."""
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            return [node.elt]
        if isinstance(node, ast.List | ast.Tuple):
            return list(node.elts)
        if isinstance(node, ast.Name):
            return [i for value in self.assigned.get(node.id, []) for i in self._items(value)]
        return []  # e.g. a timetable's notes, collected where they are appended


def _sinks(path: Path, tree: ast.Module) -> list[ast.expr]:
    """The expressions that become an unserved worker's detail in one module."""
    sinks: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            attr = func.attr if isinstance(func, ast.Attribute) else None
            position = {"Unserved": 2, "TripRefused": 1, "cancel_trips": 2}.get(name or "")
            if attr == "drop":
                position = 2
            if position is not None and len(node.args) > position:
                sinks.append(node.args[position])
            sinks.extend(k.value for k in node.keywords if k.arg == "detail")
        # The fleet spread's details, by unit (optimizer/ledger.py).
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Subscript)
            and isinstance(node.targets[0].value, ast.Name)
            and node.targets[0].value.id == "dropped"
        ):
            sinks.append(node.value)
    if path.name == "timetable.py":
        # A timetable's notes: an illegal coach's riders get them as their detail.
        built = next(
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef) and n.name == "build_timetable"
        )
        for node in ast.walk(built):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "notes"
            ):
                sinks.extend(node.args)
    return sinks


def _optimizer_details() -> tuple[list[str], list[str]]:
    """Every detail text the optimizer's sources can give (values as samples), and the
    expressions the collector did not understand."""
    details: list[str] = []
    unknown: list[str] = []
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(OPTIMIZER.rglob("*.py"))
        if path.name != "details.py"
    }
    others: dict[str, tuple[_Module, ast.FunctionDef]] = {}
    modules = {path: _Module(tree, others) for path, tree in trees.items()}
    for module in modules.values():
        for name, function in module.functions.items():
            if isinstance(function, ast.FunctionDef) and not name.startswith("_"):
                others.setdefault(name, (module, function))
    for path, tree in trees.items():
        for sink in _sinks(path, tree):
            details.extend(s for s in modules[path].samples(sink, unknown) if s)
    return details, unknown


def test_every_detail_the_optimizer_gives_has_a_template() -> None:
    """A detail added to the optimizer without its template in optimizer.details fails here."""
    details, unknown = _optimizer_details()
    assert not unknown, f"details of a shape the test does not read: {unknown}"
    assert len(details) >= 25, details
    missing = [d for d in details if match_part(d) is None]
    assert not missing, (
        f"add these to optimizer.details.DETAIL_TEMPLATES and the catalogue: {missing}"
    )
    found = {part.id for d in details if (part := match_part(d)) is not None}
    # Every template is one the optimizer gives (a stale template is a stale translation).
    assert found == set(TEMPLATE_IDS), set(TEMPLATE_IDS) ^ found


@pytest.mark.parametrize("detail_id", TEMPLATE_IDS)
def test_every_detail_template_has_chinese_and_reads_back_to_its_id(detail_id: str) -> None:
    """Each message: its template is a catalogue msgid with Chinese, a text written from it
    reads back to the same id and values (no other template shadows it), and it is shown in
    Chinese with its values, in English as written."""
    template = DETAIL_TEMPLATES[detail_id]
    zh = _catalogue("zh_CN", "po")
    # A template of values and punctuation only ("{home}: {problem}") has Chinese punctuation.
    worded = bool(re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", template)))
    chinese = zh.get(template, "")
    assert CJK.search(chinese) if worded else chinese not in ("", template), template
    names = re.findall(r"\{(\w+)\}", template)
    values = {
        n: repr(f"{SAMPLE}{i}") if n in QUOTED_FIELDS else f"{SAMPLE}{i}"
        for i, n in enumerate(names)
    }
    text = DetailPart(detail_id, values).text()
    assert detail_parts(text) == (DetailPart(detail_id, values),)
    shown = i18n.translate_unserved_detail("zh_CN", text)
    assert shown != text and all(v in shown for v in values.values()), shown
    assert CJK.search(shown) or not worded, shown
    assert i18n.translate_unserved_detail("en", text) == text


def test_joined_details_read_back_part_by_part() -> None:
    """A bad row's problems and a timetable's notes are joined with "; "; a row problem may
    itself hold "; " ("is required; row skipped") and stays one part."""
    detail = (
        "row 3 name: is required; row skipped; "
        "row 3 phone: a mainland mobile number has 11 digits and starts with 13 to 19"
    )
    parts = detail_parts(detail)
    assert [p.id for p in parts] == ["row_problem", "row_problem"]
    assert parts[0].args["reason"] == "is required; row skipped"
    shown = i18n.translate_unserved_detail("zh_CN", detail)
    assert shown.count("第 3 行") == 2 and "；" in shown and "row" not in shown, shown
    notes = (
        "a 2100 km trip needs 3 drivers but max_drivers is 2; "
        "a crew of 2 cannot cover the driving hours: 05:00 of extra rest"
    )
    assert [p.id for p in detail_parts(notes)] == ["crew_over_max_drivers", "crew_extra_rest"]
    assert "; ".join(p.text() for p in detail_parts(notes)) == notes


def test_fields_that_are_fixed_texts_are_translated_too() -> None:
    """A home-address answer, a row problem and "every date of the window" inside a detail
    come out in Chinese; an unknown text stays as it is."""
    home = i18n.translate_unserved_detail("zh_CN", "'阜阳xx': matches no county")
    assert home.startswith("'阜阳xx'：") and "matches" not in home, home
    window = i18n.translate_unserved_detail(
        "zh_CN", "coaches (C53) all away or taken on every date of the window"
    )
    assert "C53" in window and not re.search(r"\b(every|date|window)\b", window), window
    assert i18n.translate_unserved_detail("zh_CN", "something new") == "something new"
    assert detail_parts("something new") == (DetailPart("text", {"text": "something new"}),)


def test_a_plans_input_problems_come_in_the_answers_language() -> None:
    """The JSON API shows a plan's stored input problems with their reason in its language."""
    from api.convert import problem_public

    stored = {
        "table": "workers",
        "row": 3,
        "column": "phone",
        "value": "12",
        "reason": ("a mainland mobile number has 11 digits and starts with 13 to 19"),
    }
    chinese = problem_public("zh_CN", stored)
    assert CJK.search(chinese["reason"]) and chinese["row"] == 3 and chinese["value"] == "12"
    assert problem_public("en", stored) == stored
