"""Published outputs in other formats: one function per format, where the documents and maps
packages plug in. JSON and CSV manifests are made here; XLSX and PDF come from `api.documents`
and maps from `maps`, when those are installed (501 with a clear message otherwise)."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from api.errors import NotAvailable
from api.i18n import DEFAULT_LOCALE, gettext_for
from optimizer import model as domain

MANIFEST_MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def manifest_csv(trip: domain.Trip, scenario: domain.Scenario, *, full_ids: bool = False) -> bytes:
    """The passenger list as CSV: the same columns and rows as the CLI's manifests (UTF-8 with
    BOM so Excel opens it right; a name like =HYPERLINK(...) stays text)."""
    from api.documents.manifest import manifest_csv_bytes

    return manifest_csv_bytes(trip, scenario, full_ids=full_ids)


def _documents() -> Any:
    try:
        import api.documents as documents
    except ImportError:
        return None
    return documents


def _write_document(
    writer_name: str,
    trip: domain.Trip,
    scenario: domain.Scenario,
    *,
    full_ids: bool,
    locale: str = DEFAULT_LOCALE,
) -> bytes:
    writer = getattr(_documents(), writer_name, None)
    if writer is None:
        kind = "XLSX" if "xlsx" in writer_name else "PDF"
        raise NotAvailable(f"{kind} manifests are not available in this build; use .csv or .json")
    suffix = ".xlsx" if "xlsx" in writer_name else ".pdf"
    with tempfile.TemporaryDirectory(prefix="chunyun-") as folder:
        path = Path(folder) / f"manifest{suffix}"
        writer(trip, scenario, path, full_ids=full_ids, locale=locale)
        return path.read_bytes()


def manifest_xlsx(
    trip: domain.Trip,
    scenario: domain.Scenario,
    *,
    full_ids: bool = False,
    locale: str = DEFAULT_LOCALE,
) -> bytes:
    """The passenger list as an Excel workbook (api.documents) in `locale`. `trip` and
    `scenario` are the caller's view: only the passengers and personal data the caller may see;
    `full_ids` for a dispatcher's unmasked (audited) download, else ID numbers are masked as on
    paper."""
    return _write_document("write_manifest_xlsx", trip, scenario, full_ids=full_ids, locale=locale)


def manifest_pdf(
    trip: domain.Trip,
    scenario: domain.Scenario,
    *,
    full_ids: bool = False,
    locale: str = DEFAULT_LOCALE,
) -> bytes:
    """The printable A4 passenger list (api.documents) in `locale`, from the caller's view as
    above."""
    return _write_document("write_manifest_pdf", trip, scenario, full_ids=full_ids, locale=locale)


def _maps() -> Any:
    try:
        import maps
    except ImportError:
        return None
    return maps


def overview_map_html(plan: domain.Plan, locale: str = DEFAULT_LOCALE) -> str:
    """The season overview map of `plan` as a standalone HTML page (from maps), its texts in
    `locale`."""
    draw = getattr(_maps(), "overview_map", None)
    if draw is None:
        raise NotAvailable("maps are not available in this build")
    return str(draw(plan, gettext=gettext_for(locale)).get_root().render())


def trip_map_html(trip: domain.Trip, locale: str = DEFAULT_LOCALE) -> str:
    """The map of one trip as a standalone HTML page (from maps), its texts in `locale`."""
    draw = getattr(_maps(), "trip_map", None)
    if draw is None:
        raise NotAvailable("maps are not available in this build")
    return str(draw(trip, gettext=gettext_for(locale)).get_root().render())


def plan_for_maps(
    *, season: str, direction: str, trips: Sequence[domain.Trip], kpis: dict[str, Any] | None
) -> domain.Plan:
    """A domain Plan rebuilt from stored trips, enough for drawing."""
    fields = dataclasses.fields(domain.Kpis)
    names = {f.name for f in fields}
    # Figures stored before a field existed take its default, or 0 when it has none.
    required = {f.name for f in fields if f.default is dataclasses.MISSING}
    values = {k: v for k, v in (kpis or {}).items() if k in names}
    if not required <= set(values):
        values = {name: 0 for name in required} | values
    return domain.Plan(
        scenario=season,
        direction=direction,  # type: ignore[arg-type]
        trips=tuple(trips),
        unserved=(),
        kpis=domain.Kpis(**values),
    )
