"""Bundled scenario folders and generators of realistic seasons.

The bundled folders ship as package data beside this file (format: docs/scenarios.md):

- `cixi-2019`: Cixi's 2019 home-going season, 20,710 workers, calibrated on the real figures.
- `dispersed-stress`: 7,000 workers over hundreds of home counties with narrow windows.
- `small`: 600 workers, with a handful of deliberately bad rows (listed in its scenario.toml).
- `tiny`: 60 workers, 4 companies, 3 counties, 2 departure dates.

Regenerate any of them with `chunyun generate NAME --out scenarios/NAME` (see
`scenarios.generate.BUNDLED_SPECS`).
"""

from __future__ import annotations

from pathlib import Path

from optimizer.errors import InvalidInput

BUNDLED: list[str] = ["cixi-2019", "dispersed-stress", "small", "tiny"]

_HERE = Path(__file__).resolve().parent


def bundled_path(name: str) -> Path:
    """The folder of bundled scenario `name` (one of `BUNDLED`)."""
    if name not in BUNDLED:
        raise InvalidInput(f"no bundled scenario {name!r}; bundled: {', '.join(BUNDLED)}")
    folder = _HERE / name
    if not (folder / "scenario.toml").is_file():
        raise InvalidInput(f"bundled scenario {name!r} is missing from {folder}")
    return folder
