"""A company's charter statement (包车费用结算单): its share of every trip it rode, the
subsidy under the season's rule and what is left to pay; XLSX and an A4 PDF (CJK font
embedded). Amounts come from optimizer/costs.py, in fen, printed as RMB with two decimals."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from api.documents.pdf import CONTENT_WIDTH, build_pdf, grid_table, key_value_table, para, styles
from optimizer.costs import CompanyStatement, SeasonCosts, rmb, statement_rows
from optimizer.model import Trip

STATEMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("trip_id", "车次"),
    ("date", "发车日期"),
    ("passengers", "乘车人数"),
    ("passenger_km", "人公里"),
    ("trip_cost", "车次费用(元)"),
    ("share", "本单位分摊(元)"),
)
METHOD = (
    "分摊方法：每车次费用按各单位乘客的人公里（上车点至下车点道路里程×占座数）比例分摊，"
    "精确到分，各单位分摊之和等于车次费用。"
)


def _summary(
    statement: CompanyStatement, costs: SeasonCosts, company_name: str
) -> list[tuple[str, str]]:
    cap = costs.rule.cap_per_company
    rule = f"{costs.rule.share:.0%}" + (
        f"，每单位最高 {cap:,.2f} 元" if cap is not None else "，不设上限"
    )
    return [
        ("单位", f"{company_name}（{statement.company_id}）"),
        ("车次数", str(len(statement.trips))),
        ("乘车人数", str(statement.passengers)),
        ("人公里", f"{statement.passenger_km:,.1f}"),
        ("包车费用合计(元)", rmb(statement.cost_fen)),
        ("补贴规则", rule),
        ("补贴(元)", rmb(statement.subsidy_fen)),
        ("单位应付(元)", rmb(statement.payable_fen)),
    ]


def statement_xlsx_bytes(
    statement: CompanyStatement, costs: SeasonCosts, trips: Sequence[Trip], company_name: str
) -> bytes:
    """The statement as a workbook: summary, then one row per trip (cells are text)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "结算单"
    sheet.append([f"包车费用结算单  {company_name}"])
    sheet["A1"].font = Font(size=14, bold=True)
    for label, value in _summary(statement, costs, company_name):
        sheet.append([label, value])
    sheet.append([])
    sheet.append([label for _, label in STATEMENT_COLUMNS])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in statement_rows(statement, trips):
        sheet.append([row[key] for key, _ in STATEMENT_COLUMNS])
    sheet.append([])
    sheet.append([METHOD])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"
    for column in range(1, len(STATEMENT_COLUMNS) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 20
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def statement_pdf_bytes(
    statement: CompanyStatement, costs: SeasonCosts, trips: Sequence[Trip], company_name: str
) -> bytes:
    """The statement as an A4 PDF."""
    style = styles()
    table: list[list[Any]] = [[label for _, label in STATEMENT_COLUMNS]]
    table += [[r[key] for key, _ in STATEMENT_COLUMNS] for r in statement_rows(statement, trips)]
    widths = [w * mm for w in (40, 24, 18, 24, 28, 30)]
    scale = CONTENT_WIDTH / sum(widths)
    story = [
        para("包车费用结算单", style["title"]),
        para(company_name, style["subtitle"]),
        Spacer(1, 4 * mm),
        key_value_table(_summary(statement, costs, company_name), 2, style["cell"]),
        Spacer(1, 4 * mm),
        grid_table(table, [w * scale for w in widths], style=style["cell"]),
        Spacer(1, 3 * mm),
        para(METHOD, style["small"]),
    ]
    buffer = io.BytesIO()
    build_pdf(
        buffer,
        story,
        title=f"包车费用结算单 {statement.company_id}",
        footer=f"包车费用结算单 · {company_name}",
    )
    return buffer.getvalue()
