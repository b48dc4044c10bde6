"""Many polygons (H3 hexagons) sent to the browser as one compact script.

folium's ``GeoJson`` writes every vertex as a GeoJSON coordinate pair and every feature with
its properties: at a million reports the planner's hexagons (about 900 cells at resolution 8)
made 290 kB of map script, built, rendered and parsed on every run. Here a polygon is a
list of integers, its vertices in units of :data:`SCALE` degrees, the first one absolute and
each next one as the difference to the one before (hexagon edges are short, so most numbers
have three or four digits); styles are listed once and referred to by index; the browser
rebuilds the ``L.polygon`` objects with a few lines of script. The polygons, their styles and
tooltips are the same as with ``GeoJson``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

SCALE = 100_000
"""Vertex unit: 1e-5 degree (about 1 m), the precision of the other map layers."""


def encode_rings(polygons: gpd.GeoSeries, scale: int = SCALE) -> list[list[int]]:
    """Exterior rings as ``[lat0, lon0, dlat1, dlon1, ...]`` integers (closing vertex dropped).

    Examples
    --------
    >>> from shapely.geometry import Polygon
    >>> square = Polygon([(50.0, 26.0), (50.00002, 26.0), (50.00002, 26.00001), (50.0, 26.0)])
    >>> encode_rings(gpd.GeoSeries([square]))
    [[2600000, 5000000, 0, 2, 1, 0]]
    """
    if polygons.empty:
        return []
    rings = shapely.get_exterior_ring(polygons.to_numpy())
    coords, index = shapely.get_coordinates(rings, return_index=True)
    latlon = np.round(coords[:, ::-1] * scale).astype(np.int64)
    out: list[list[int]] = []
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    for start, end in zip(starts, np.r_[starts[1:], len(index)], strict=True):
        ring = latlon[start : end - 1]  # the closing vertex repeats the first
        out.append(np.vstack([ring[:1], np.diff(ring, axis=0)]).ravel().tolist())
    return out


def decode_ring(ring: Sequence[int], scale: int = SCALE) -> list[tuple[float, float]]:
    """``(lon, lat)`` vertices of an encoded ring (closed), as the browser rebuilds them.

    Examples
    --------
    >>> decode_ring([2600000, 5000000, 0, 2, 1, 0])
    [(50.0, 26.0), (50.00002, 26.0), (50.00002, 26.00001), (50.0, 26.0)]
    """
    pairs = np.cumsum(np.asarray(ring, dtype=np.int64).reshape(-1, 2), axis=0) / scale
    pts = [(float(lon), float(lat)) for lat, lon in pairs]
    return [*pts, pts[0]]


class PolygonSet(MacroElement):
    """Polygons added to the parent layer (a ``FeatureGroup``), each with a style and tooltip.

    Parameters
    ----------
    polygons
        The polygons (EPSG:4326, lon/lat).
    styles
        Leaflet path options, referred to by ``style_index``.
    style_index
        For each polygon, its style's position in ``styles``.
    tooltips
        For each polygon, the tooltip's text (escaped here: plain text, not HTML).
    tooltip_title
        Text shown in bold before every tooltip (e.g. what the number counts), or empty.
    properties
        For each polygon, what it shows (kept on the Python side only, for
        :meth:`features`).
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (group, d) {"
        " for (var i = 0; i < d.rings.length; i++) {"
        "  var r = d.rings[i], lat = 0, lon = 0, pts = [];"
        "  for (var j = 0; j < r.length; j += 2) {"
        "   lat += r[j]; lon += r[j + 1]; pts.push([lat / d.scale, lon / d.scale]);"
        "  }"
        "  L.polygon(pts, d.styles[d.style[i]])"
        "   .bindTooltip(d.title + d.tips[i], {sticky: true}).addTo(group);"
        " }"
        "})({{ this._parent.get_name() }}, {{ this.payload|tojson }});"
        "{% endmacro %}"
    )

    def __init__(
        self,
        polygons: gpd.GeoSeries,
        styles: Sequence[Mapping[str, object]],
        style_index: Sequence[int],
        tooltips: Sequence[str],
        tooltip_title: str = "",
        properties: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self._name = "PolygonSet"
        n = len(polygons)
        if not len(style_index) == len(tooltips) == n:
            raise ValueError(
                f"PolygonSet needs one style index and one tooltip per polygon: {n} polygons, "
                f"{len(style_index)} style indexes, {len(tooltips)} tooltips"
            )
        self.polygons = polygons
        self.properties = list(properties) if properties is not None else [{} for _ in range(n)]
        self.payload = {
            "scale": SCALE,
            "rings": encode_rings(polygons),
            "styles": [dict(s) for s in styles],
            "style": [int(i) for i in style_index],
            "title": f"<b>{html.escape(tooltip_title)}</b> " if tooltip_title else "",
            "tips": [html.escape(t) for t in tooltips],
        }

    def features(self) -> list[dict[str, Any]]:
        """The polygons as GeoJSON-like features: the browser's geometry (decoded from what
        is sent), the style's ``fill`` colour and the :attr:`properties`."""
        styles = self.payload["styles"]
        return [
            {
                "type": "Feature",
                "properties": {**props, "fill": styles[k].get("fillColor")},
                "geometry": {"type": "Polygon", "coordinates": [decode_ring(ring)]},
            }
            for ring, k, props in zip(
                self.payload["rings"], self.payload["style"], self.properties, strict=True
            )
        ]
