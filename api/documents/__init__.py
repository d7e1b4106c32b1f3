"""Printable and exportable documents of a plan: manifests, trip sheets, worker notices.

PDFs are A4 with an embedded CJK font (WenQuanYi Micro Hei, shipped in `fonts/`), so they print
the same on any machine with no font installed.
"""

from api.documents.manifest import (
    MANIFEST_COLUMNS,
    manifest_csv_text,
    manifest_pdf_bytes,
    manifest_rows,
    manifest_xlsx_bytes,
    read_manifest_csv,
    read_manifest_xlsx,
    write_manifest_csv,
    write_manifest_pdf,
    write_manifest_xlsx,
)
from api.documents.notices import (
    NOTICE_COLUMNS,
    notices_by_company,
    worker_notices,
    write_company_notices,
    write_notices_csv,
)
from api.documents.render import RenderedFiles, render_plan
from api.documents.trip_sheet import (
    sign_fields,
    timetable_rows,
    trip_sheet_pdf_bytes,
    write_trip_sheet_pdf,
)

__all__ = [
    "MANIFEST_COLUMNS",
    "NOTICE_COLUMNS",
    "RenderedFiles",
    "manifest_csv_text",
    "manifest_pdf_bytes",
    "manifest_rows",
    "manifest_xlsx_bytes",
    "notices_by_company",
    "read_manifest_csv",
    "read_manifest_xlsx",
    "render_plan",
    "sign_fields",
    "timetable_rows",
    "trip_sheet_pdf_bytes",
    "worker_notices",
    "write_company_notices",
    "write_manifest_csv",
    "write_manifest_pdf",
    "write_manifest_xlsx",
    "write_notices_csv",
    "write_trip_sheet_pdf",
]
