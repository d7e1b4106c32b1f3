"""A4 page set-up shared by the printed documents: styles, tables, page numbers."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from api.documents.fonts import markup, register_fonts
from api.i18n import DEFAULT_LOCALE, ENGLISH, translate

MARGIN = 14 * mm
CONTENT_WIDTH = A4[0] - 2 * MARGIN
GRID = colors.HexColor("#555555")
SHADE = colors.HexColor("#eeeeee")
PARK_SHADE = colors.HexColor("#dde3f5")


def long_time(moment: dt.datetime, locale: str = DEFAULT_LOCALE) -> str:
    """A date and time written out in `locale`: 2019年01月28日 08:00 / 2019-01-28 08:00."""
    _ = functools.partial(translate, locale)
    return _(
        "{year}-{month}-{day} {time}",
        year=f"{moment:%Y}",
        month=f"{moment:%m}",
        day=f"{moment:%d}",
        time=f"{moment:%H:%M}",
    )


def styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles in the embedded CJK font."""
    font = register_fonts()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=11, leading=15, alignment=TA_CENTER
        ),
        "heading": ParagraphStyle("heading", parent=base, fontSize=11, leading=16, spaceBefore=6),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "cell_bold": ParagraphStyle("cell_bold", parent=base, fontSize=8.5, leading=10.5),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10),
    }


def para(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped; rare characters set in the fallback font)."""
    return Paragraph(markup("" if text is None else str(text)), style)


def grid_table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    shaded_rows: Sequence[int] = (),
    style: ParagraphStyle,
) -> Table:
    """A ruled table of paragraphs; header rows shaded and repeated on every page."""
    data = [[para(cell, style) for cell in row] for row in rows]
    table = Table(data, colWidths=list(widths), repeatRows=header_rows)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), SHADE))
    for row in shaded_rows:
        commands.append(("BACKGROUND", (0, row), (-1, row), PARK_SHADE))
    table.setStyle(TableStyle(commands))
    return table


def key_value_table(pairs: Sequence[tuple[str, Any]], columns: int, style: ParagraphStyle) -> Table:
    """Label/value pairs laid out `columns` pairs per row, labels shaded."""
    rows: list[list[Any]] = []
    for start in range(0, len(pairs), columns):
        chunk = list(pairs[start : start + columns])
        chunk += [("", "")] * (columns - len(chunk))
        rows.append([item for pair in chunk for item in pair])
    label_width = 22 * mm
    value_width = CONTENT_WIDTH / columns - label_width
    widths = [label_width, value_width] * columns
    table = Table([[para(cell, style) for cell in row] for row in rows], colWidths=widths)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for column in range(0, 2 * columns, 2):
        commands.append(("BACKGROUND", (column, 0), (column, -1), SHADE))
    table.setStyle(TableStyle(commands))
    return table


def _numbered_canvas(footer: str, locale: str = DEFAULT_LOCALE) -> type[Canvas]:
    """A canvas class that stamps `footer` and "第 n 页 / 共 m 页" (in `locale`) on every page."""
    _ = functools.partial(translate, locale)

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(register_fonts(), 7.5)
                self.setFillColor(colors.HexColor("#444444"))
                self.drawString(MARGIN, 8 * mm, footer)
                self.drawRightString(
                    A4[0] - MARGIN,
                    8 * mm,
                    _("page {page} of {pages}", page=self._pageNumber, pages=total),
                )
                super().showPage()
            super().save()

    return NumberedCanvas


def build_pdf(
    target: Path | BinaryIO,
    story: list[Flowable],
    *,
    title: str,
    footer: str,
    locale: str = DEFAULT_LOCALE,
) -> None:
    """Write `story` to a file path or binary stream as an A4 portrait PDF, CJK font embedded
    (names stay Chinese in any language); `locale` is the document's language."""
    register_fonts()
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    document = SimpleDocTemplate(
        str(target) if isinstance(target, Path) else target,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=title,
        author="chunyun",
        subject=title,
        lang="en" if locale == ENGLISH else "zh-CN",
    )
    document.build(story, canvasmaker=_numbered_canvas(footer, locale))
