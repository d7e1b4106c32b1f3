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

from api.documents.context import texts
from api.documents.pdf import CONTENT_WIDTH, build_pdf, grid_table, key_value_table, para, styles
from api.i18n import DEFAULT_LOCALE, N_, gettext_in
from optimizer.costs import CompanyStatement, SeasonCosts, rmb, statement_rows
from optimizer.model import Trip

# Row keys and their headings (English msgids of the catalogue), in print order.
STATEMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("trip_id", N_("Trip")),
    ("date", N_("Departure date")),
    ("passengers", N_("Riders")),
    ("passenger_km", N_("Passenger-km")),
    ("trip_cost", N_("Trip cost (RMB)")),
    ("share", N_("This company's share (RMB)")),
)
METHOD = N_(
    "How it is shared: each trip's cost is split over the companies in proportion to their "
    "passengers' passenger-km (road km from pickup to drop-off times seats taken), to the fen; "
    "the companies' shares add up to the trip's cost."
)


def statement_headings(locale: str = DEFAULT_LOCALE) -> list[str]:
    """The per-trip table's headings in `locale`."""
    return [gettext_in(locale, msgid) for _key, msgid in STATEMENT_COLUMNS]


def _summary(
    statement: CompanyStatement, costs: SeasonCosts, company_name: str, locale: str
) -> list[tuple[str, str]]:
    _ = texts(locale)
    cap = costs.rule.cap_per_company
    share = f"{costs.rule.share:.0%}"
    rule = (
        _("{share}, at most {cap} RMB per company", share=share, cap=f"{cap:,.2f}")
        if cap is not None
        else _("{share}, no cap", share=share)
    )
    return [
        (
            _("Company"),
            _("{name} ({code})", name=company_name, code=statement.company_id),
        ),
        (_("Number of trips"), str(len(statement.trips))),
        (_("Riders"), str(statement.passengers)),
        (_("Passenger-km"), f"{statement.passenger_km:,.1f}"),
        (_("Charter cost in all (RMB)"), rmb(statement.cost_fen)),
        (_("Subsidy rule"), rule),
        (_("Subsidy (RMB)"), rmb(statement.subsidy_fen)),
        (_("Payable by the company (RMB)"), rmb(statement.payable_fen)),
    ]


def statement_xlsx_bytes(
    statement: CompanyStatement,
    costs: SeasonCosts,
    trips: Sequence[Trip],
    company_name: str,
    locale: str = DEFAULT_LOCALE,
) -> bytes:
    """The statement as a workbook in `locale`: summary, then one row per trip (cells are
    text)."""
    _ = texts(locale)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Statement")
    sheet.append([_("{title}  {company}", title=_("Charter cost statement"), company=company_name)])
    sheet["A1"].font = Font(size=14, bold=True)
    for label, value in _summary(statement, costs, company_name, locale):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(statement_headings(locale))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in statement_rows(statement, trips):
        sheet.append([row[key] for key, _msgid in STATEMENT_COLUMNS])
    sheet.append([])
    sheet.append([_(METHOD)])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"
    for column in range(1, len(STATEMENT_COLUMNS) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 20
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def statement_pdf_bytes(
    statement: CompanyStatement,
    costs: SeasonCosts,
    trips: Sequence[Trip],
    company_name: str,
    locale: str = DEFAULT_LOCALE,
) -> bytes:
    """The statement as an A4 PDF in `locale`."""
    _ = texts(locale)
    style = styles()
    title = _("Charter cost statement")
    table: list[list[Any]] = [list(statement_headings(locale))]
    table += [
        [r[key] for key, _msgid in STATEMENT_COLUMNS] for r in statement_rows(statement, trips)
    ]
    widths = [w * mm for w in (40, 24, 18, 24, 28, 30)]
    scale = CONTENT_WIDTH / sum(widths)
    story = [
        para(title, style["title"]),
        para(company_name, style["subtitle"]),
        Spacer(1, 4 * mm),
        key_value_table(_summary(statement, costs, company_name, locale), 2, style["cell"]),
        Spacer(1, 4 * mm),
        grid_table(table, [w * scale for w in widths], style=style["cell"]),
        Spacer(1, 3 * mm),
        para(_(METHOD), style["small"]),
    ]
    buffer = io.BytesIO()
    build_pdf(
        buffer,
        story,
        title=f"{title} {statement.company_id}",
        footer=f"{title} · {company_name}",
        locale=locale,
    )
    return buffer.getvalue()
