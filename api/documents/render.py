"""Everything that leaves the product for one plan, written into one folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from api.documents.manifest import write_manifest_csv, write_manifest_pdf, write_manifest_xlsx
from api.documents.notices import (
    safe_name,
    worker_notices,
    write_company_notices,
    write_notices_csv,
)
from api.documents.trip_sheet import write_trip_sheet_pdf
from api.i18n import DEFAULT_LOCALE, gettext_for
from maps import overview_map, trip_map
from maps.geography import provider_for
from optimizer.geography.distance import DistanceProvider
from optimizer.model import Plan, Scenario


@dataclass
class RenderedFiles:
    """The files `render_plan` wrote, by kind (paths inside `out_dir`)."""

    out_dir: Path
    overview: Path | None = None
    trip_maps: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    trip_sheets: list[Path] = field(default_factory=list)
    notices: Path | None = None
    company_notices: list[Path] = field(default_factory=list)

    def all(self) -> list[Path]:
        """Every written file."""
        singles = [p for p in (self.overview, self.notices) if p is not None]
        return singles + self.trip_maps + self.manifests + self.trip_sheets + self.company_notices


# The generated files `render_plan` owns in an output folder (nothing else is ever removed).
GENERATED = (
    ("trips", "*.html"),
    ("manifests", "*.pdf"),
    ("manifests", "*.xlsx"),
    ("manifests", "*.csv"),
    ("trip_sheets", "*.pdf"),
    ("notices", "*.csv"),
)


def _remove_stale(out: Path) -> None:
    for folder, pattern in GENERATED:
        for path in (out / folder).glob(pattern):
            path.unlink()


def render_plan(
    plan: Plan,
    scenario: Scenario,
    out_dir: str | Path,
    provider: DistanceProvider | None = None,
    *,
    contact_phone: str = "",
    maps: bool = True,
    locale: str = DEFAULT_LOCALE,
) -> RenderedFiles:
    """Write the plan's maps and papers into `out_dir` (created if needed):

    `map.html`, `trips/<trip_id>.html`, `manifests/<trip_id>.{pdf,xlsx,csv}`,
    `trip_sheets/<trip_id>.pdf`, `notices.csv` and `notices/<company_id>.csv`. Documents of an
    earlier render are removed first, so no paper of a trip that no longer exists survives.
    `provider` gives road lines for the maps (default: the one the plan was made with, see
    `maps.geography.provider_for`);
    `contact_phone` is printed in every worker's SMS; `maps=False` skips the HTML maps.
    `locale` is the language of the maps, the manifests' XLSX and PDF and the trip sheets (the
    dispatcher's); the CSV files keep their fixed Chinese headings for the programs that read
    them, and the workers' SMS are in Chinese, the workers' language (docs/maps-and-documents.md).
    """
    gettext = gettext_for(locale)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale(out)
    result = RenderedFiles(out_dir=out)
    if maps:
        provider = provider or provider_for(plan)
        result.overview = out / "map.html"
        overview_map(plan, provider=provider, origins=scenario.origins, gettext=gettext).save(
            str(result.overview)
        )
        (out / "trips").mkdir(exist_ok=True)
        for trip in plan.trips:
            path = out / "trips" / f"{safe_name(trip.trip_id)}.html"
            trip_map(trip, provider=provider, gettext=gettext).save(str(path))
            result.trip_maps.append(path)
    for trip in plan.trips:
        stem = safe_name(trip.trip_id)
        result.manifests.append(
            write_manifest_pdf(trip, scenario, out / "manifests" / f"{stem}.pdf", locale=locale)
        )
        result.manifests.append(
            write_manifest_xlsx(trip, scenario, out / "manifests" / f"{stem}.xlsx", locale=locale)
        )
        result.manifests.append(
            write_manifest_csv(trip, scenario, out / "manifests" / f"{stem}.csv")
        )
        result.trip_sheets.append(
            write_trip_sheet_pdf(trip, scenario, out / "trip_sheets" / f"{stem}.pdf", locale=locale)
        )
    rows = worker_notices(plan, scenario, contact_phone=contact_phone)
    result.notices = write_notices_csv(rows, out / "notices.csv")
    result.company_notices = write_company_notices(rows, out / "notices")
    return result
