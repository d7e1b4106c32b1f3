"""Maps that render with no internet: Leaflet served from the package, coordinates made safe.

Leaflet's JS and CSS are vendored from the npm registry (`npm pack leaflet@1.9.4`, BSD-2-Clause,
licence in `maps/static/LICENSE-leaflet.txt`) and inlined into every page, so a saved HTML file
opens on an intranet PC or from a USB stick. folium's other default assets (jQuery, Bootstrap,
Font Awesome, awesome-markers) are not used: markers are `DivIcon`s and popups are bound with
Leaflet's own `bindPopup`, so nothing on the page asks a CDN for anything.

Coordinates: the plan and the shipped geography are WGS-84. OpenStreetMap tiles are WGS-84 too and
need no correction. Chinese web-map tiles (AutoNavi/Gaode 高德, Tencent) are drawn in GCJ-02, which
is offset from WGS-84 by 100-700 m inside China; on such tiles every point is shifted with
`wgs84_to_gcj02` before it is drawn, and the whole map then uses GCJ-02.
"""

from __future__ import annotations

import base64
import functools
import html
import math
from collections.abc import Callable
from importlib import resources
from typing import Any, Literal

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from maps.texts import Gettext, Texts

LEAFLET_VERSION = "1.9.4"

TileChoice = Literal["osm", "amap"]
Transform = Callable[[float, float], tuple[float, float]]

# name -> (url template, attribution, coordinate system of the tiles)
ONLINE_TILES: dict[str, tuple[str, str, str]] = {
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
        "WGS-84",
    ),
    "amap": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi",
        "GCJ-02",
    ),
}


def _static(name: str) -> bytes:
    return resources.files("maps").joinpath("static", name).read_bytes()


@functools.cache
def leaflet_js() -> str:
    """The vendored Leaflet JavaScript (minified)."""
    return _static("leaflet.js").decode("utf-8")


@functools.cache
def leaflet_css() -> str:
    """The vendored Leaflet stylesheet, its layer-control icons inlined as data URIs."""
    css = _static("leaflet.css").decode("utf-8")
    for image in ("layers-2x.png", "layers.png"):
        data = base64.b64encode(_static(f"images/{image}")).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{data})")
    return css


class _RawHeader(Element):
    """A header element emitted verbatim (never parsed as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class OfflineMap(folium.Map):
    """A folium Map that carries Leaflet inline and loads nothing from a CDN."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - folium's own attribute
    default_css: list[tuple[str, str]] = []  # noqa: RUF012

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        assert isinstance(figure, Figure)
        figure.header.add_child(_RawHeader(f"<style>{leaflet_css()}</style>"), name="leaflet_css")
        figure.header.add_child(_RawHeader(f"<script>{leaflet_js()}</script>"), name="leaflet")
        return super().render(**kwargs)  # type: ignore[no-untyped-call]


class HtmlPopup(MacroElement):
    """A popup bound with Leaflet's `bindPopup` (folium's Popup needs jQuery)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }},
                {"maxWidth": {{ this.max_width }}});
        {% endmacro %}
        """
    )

    def __init__(self, html: str, max_width: int = 360) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "HtmlPopup"
        self.html = html
        self.max_width = max_width


class Legend(MacroElement):
    """A fixed box in a map corner listing colours and what they stand for."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="chunyun-legend" style="position: absolute; z-index: 1000; bottom: 24px;
             right: 10px; background: rgba(255,255,255,0.92); padding: 6px 10px;
             border: 1px solid #999; border-radius: 4px; font: 12px/1.5 sans-serif;
             max-height: 45%; overflow-y: auto;">
          <div style="font-weight: bold; margin-bottom: 2px;">{{ this.title }}</div>
          {% for colour, label in this.entries %}
          <div><span style="display: inline-block; width: 18px; height: 4px; margin: 0 6px 3px 0;
               background: {{ colour }};"></span>{{ label }}</div>
          {% endfor %}
          {% for text in this.notes %}<div style="color: #555;">{{ text }}</div>{% endfor %}
        </div>
        {% endmacro %}
        """
    )

    def __init__(
        self, title: str, entries: list[tuple[str, str]], notes: list[str] | None = None
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Legend"
        # Jinja in branca does not escape; titles and labels may carry user-supplied names.
        self.title = html.escape(title)
        self.entries = [(html.escape(colour), html.escape(label)) for colour, label in entries]
        self.notes = [html.escape(text) for text in notes or []]


def _out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 ("Mars") position of a WGS-84 point, as Chinese web-map tiles draw it.

    Outside mainland China's bounding box the point is returned unchanged, as the published
    algorithm does. Parameters and result are (lon, lat) in degrees.
    """
    if _out_of_china(lon, lat):
        return lon, lat
    semi_major = 6378245.0
    eccentricity_sq = 0.00669342162296594323
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - eccentricity_sq * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    meridian_radius = semi_major * (1 - eccentricity_sq) / (magic * sqrt_magic)
    d_lat = (d_lat * 180.0) / (meridian_radius * math.pi)
    d_lon = (d_lon * 180.0) / (semi_major / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def _identity(lon: float, lat: float) -> tuple[float, float]:
    return lon, lat


def resolve_tiles(online_tiles: bool | str) -> tuple[str | None, Transform]:
    """Which online tile set to add (None for none) and the coordinate transform it needs.

    `online_tiles` is False (offline, outlines only), True or "osm" (OpenStreetMap, WGS-84, no
    shift) or "amap" (Gaode, GCJ-02: every point is shifted to match the tiles).
    """
    if online_tiles is False or online_tiles is None:
        return None, _identity
    choice = "osm" if online_tiles is True else str(online_tiles)
    if choice not in ONLINE_TILES:
        raise ValueError(
            f"online_tiles must be False, True, or one of {', '.join(ONLINE_TILES)}; got {choice!r}"
        )
    transform: Transform = wgs84_to_gcj02 if ONLINE_TILES[choice][2] == "GCJ-02" else _identity
    return choice, transform


def new_map(
    online_tiles: bool | str = False, title: str = "", gettext: Gettext | None = None
) -> tuple[OfflineMap, Transform]:
    """An empty offline map (no tiles unless asked) and the transform to apply to WGS-84 points.

    `title` becomes the page title (the browser tab) when the map is saved as HTML; `gettext`
    names the online tile layer in the reader's language (default Chinese, maps/texts.py).
    """
    choice, transform = resolve_tiles(online_tiles)
    fmap = OfflineMap(
        location=[32.0, 112.0],
        zoom_start=5,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,
    )
    # A pale sea-blue background so an offline map without tiles does not look broken.
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.title = html.escape(title)
    root.header.add_child(
        _RawHeader("<style>.folium-map.leaflet-container { background: #eef3f7; }</style>"),
        name="chunyun_background",
    )
    if choice is not None:
        url, attribution, crs = ONLINE_TILES[choice]
        folium.TileLayer(
            tiles=url,
            attr=attribution,
            name=Texts(gettext)("online base map ({tiles}, {crs})", tiles=choice, crs=crs),
            subdomains="1234" if choice == "amap" else "abc",
            max_zoom=18,
            overlay=False,
            control=True,
        ).add_to(fmap)
    return fmap, transform


def simplify_line(
    points: list[tuple[float, float]], tolerance_deg: float
) -> list[tuple[float, float]]:
    """The line with points dropped (Ramer-Douglas-Peucker) where they deviate < tolerance.

    Keeps map files small: a road line of thousands of vertices becomes a few hundred.
    """
    if len(points) <= 2 or tolerance_deg <= 0:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy)
        worst, worst_index = -1.0, -1
        for index in range(first + 1, last):
            px, py = points[index]
            if norm == 0:
                distance = math.hypot(px - x1, py - y1)
            else:
                distance = abs(dy * px - dx * py + x2 * y1 - y2 * x1) / norm
            if distance > worst:
                worst, worst_index = distance, index
        if worst > tolerance_deg and worst_index > 0:
            keep[worst_index] = True
            stack.append((first, worst_index))
            stack.append((worst_index, last))
    return [p for p, k in zip(points, keep, strict=True) if k]
