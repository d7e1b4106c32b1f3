"""All documents of a plan as one zip: what `chunyun plan` writes (api/documents/render.py:
manifests as PDF, XLSX and CSV, trip sheets, the SMS notice list, one notice list per company)
plus the service's maps (the season overview and one map per trip)."""

from __future__ import annotations

import dataclasses
import io
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from api import outputs
from api.i18n import DEFAULT_LOCALE
from optimizer import model as domain


def documents_zip(
    plan: domain.Plan,
    scenario: domain.Scenario,
    *,
    folder: str,
    maps: bool = True,
    locale: str = DEFAULT_LOCALE,
) -> bytes:
    """The zip of every document of `plan` (from the caller's view: `scenario` carries only
    the workers the caller may see, masked or not), files under `folder/`; papers and maps in
    `locale` (as `render_plan`)."""
    from api.documents.render import render_plan

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="chunyun-zip-") as work:
        out = Path(work) / "out"
        render_plan(plan, scenario, out, maps=False, locale=locale)
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{folder}/{path.relative_to(out).as_posix()}")
            if maps and plan.trips:
                archive.writestr(f"{folder}/map.html", outputs.overview_map_html(plan, locale))
                for trip in plan.trips:
                    archive.writestr(
                        f"{folder}/trips/{_safe(trip.trip_id)}.html",
                        outputs.trip_map_html(trip, locale),
                    )
    return buffer.getvalue()


def plan_of(
    *,
    season: str,
    direction: str,
    trips: Sequence[domain.Trip],
    kpis: dict[str, object] | None,
    unserved: Sequence[domain.Unserved],
) -> domain.Plan:
    """A domain Plan rebuilt from stored trips and unserved workers, enough for documents."""
    drawn = outputs.plan_for_maps(season=season, direction=direction, trips=trips, kpis=kpis)
    return dataclasses.replace(drawn, unserved=tuple(unserved))


def _safe(identifier: str) -> str:
    from api.documents.notices import safe_name

    return safe_name(identifier)
