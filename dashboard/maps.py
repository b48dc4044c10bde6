"""Map builders: folium objects from prepared, aggregated frames (no SQL, no Streamlit).

Every builder takes small frames computed in SQL (H3 aggregates, hotspot cells, heat weights
per cell, a bounded list of incidents) and returns folium layers; nothing here ships raw report
points to the browser. Layer names come from the caller (already translated), so the same
builders serve English and Arabic pages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from dashboard.polygons import PolygonSet
from spatial.grid import cells_to_polygons

BAHRAIN_CENTER = (26.07, 50.55)
"""Map centre (lat, lon) when there is nothing to fit."""

DEFAULT_ZOOM = 10
FOCUS_ZOOM = 15
"""Zoom used when a hotspot row focuses the map."""

MAX_INCIDENT_MARKERS = 500
"""Individual incidents are drawn only when at most this many are in view."""

HEX_COLORS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
"""Sequential fill for incident counts (light to dark)."""

HOT_COLORS: Mapping[int, str] = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}
"""Gi* class (sign = hot/cold, magnitude = 90/95/99 % confidence) to fill colour."""

CATEGORY_COLORS: Mapping[str, str] = {
    "pothole": "#e41a1c",
    "damaged_road": "#984ea3",
    "sidewalk": "#a65628",
    "street_light": "#ffbf00",
    "traffic_signal": "#ff7f00",
    "road_sign": "#4daf4a",
    "flooding": "#377eb8",
    "sewage": "#6a3d9a",
    "debris": "#666666",
    "abandoned_vehicle": "#1b9e77",
}


@dataclass(frozen=True)
class LayerNames:
    """Display names of the map layers (translated by the caller)."""

    governorates: str = "Governorates"
    hexagons: str = "Incidents per hexagon"
    hotspots: str = "Hot and cold spots (Gi*)"
    heat: str = "Heat map"
    incidents: str = "Incidents"
    boundary: str = "Agency boundary"
    triage: str = "Triage queue"


def base_map(
    basemap_url: str | None = None,
    attribution: str = "",
    center: tuple[float, float] = BAHRAIN_CENTER,
    zoom: int = DEFAULT_ZOOM,
) -> folium.Map:
    """An empty map with the configured basemap, or none (outlines only).

    With a tile URL, the browser removes the tile layer on its first failed tile, so a closed
    network falls back to the no-basemap mode by itself.

    Examples
    --------
    >>> m = base_map(None)
    >>> "tile.openstreetmap" in m.get_root().render()
    False
    """
    m = folium.Map(location=list(center), zoom_start=zoom, tiles=None, control_scale=True)
    if basemap_url:
        tiles = folium.TileLayer(tiles=basemap_url, attr=attribution or " ", name="basemap")
        tiles.add_to(m)
        _DropTilesOnError(m.get_name(), tiles.get_name()).add_to(m)
    return m


class _DropTilesOnError(MacroElement):
    """Script removing the basemap on its first failed tile (closed network: outlines only)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.tiles }}.once('tileerror', function() {"
        " {{ this.map }}.removeLayer({{ this.tiles }}); });"
        "{% endmacro %}"
    )

    def __init__(self, map_name: str, tiles_name: str) -> None:
        super().__init__()
        self._name = "DropTilesOnError"
        self.map = map_name
        self.tiles = tiles_name


def _hex_classes(values: npt.NDArray[np.float64], vmax: float) -> list[int]:
    """Index into :data:`HEX_COLORS` of each value: five equal steps of ``[0, vmax]``."""
    if vmax <= 0:
        return [0] * len(values)
    idx = (values / vmax * len(HEX_COLORS)).astype(np.int64)  # truncates, as int() did
    return np.clip(idx, 0, len(HEX_COLORS) - 1).tolist()


COORD_DECIMALS = 5
"""Coordinates sent to the browser are rounded to 1e-5 degree (about 1 m): a third of the
GeoJSON text of full precision, with no visible difference."""


HEAT_WEIGHT_DECIMALS = 3
"""Heat weights (0-1) are sent to the browser with this many decimals."""


def _feature_collection(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    rounded = gdf.set_geometry(
        shapely.transform(gdf.geometry.array, lambda xy: np.round(xy, COORD_DECIMALS))
    )
    out: dict[str, Any] = json.loads(rounded.to_json(drop_id=True))
    return out


def governorate_layer(
    governorates: gpd.GeoDataFrame, name: str, name_column: str = "name"
) -> folium.FeatureGroup:
    """Outlines of the governorates (no fill), with their (translated) name as tooltip."""
    group = folium.FeatureGroup(name=name, show=True)
    if governorates.empty:
        return group
    gdf = governorates[[name_column, governorates.geometry.name]].rename(
        columns={name_column: "name"}
    )
    folium.GeoJson(
        _feature_collection(gdf),
        style_function=lambda _f: {"color": "#333333", "weight": 2, "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(group)
    return group


def hexagon_layer(
    cells: pd.DataFrame, name: str, value_column: str = "n_incidents", label: str = ""
) -> folium.FeatureGroup:
    """One hexagon per row of ``cells`` (``h3_cell`` int64 and ``value_column``), shaded by value.

    The hexagons go to the browser as one compact :class:`dashboard.polygons.PolygonSet`;
    the tooltip shows ``label`` (default: the column name) and the value.

    Examples
    --------
    >>> import h3
    >>> c = h3.str_to_int(h3.latlng_to_cell(26.22, 50.58, 8))
    >>> g = hexagon_layer(pd.DataFrame({"h3_cell": [c], "n_incidents": [3]}), "hex")
    >>> len(hexagon_features(g))
    1
    """
    group = folium.FeatureGroup(name=name, show=True)
    if cells.empty:
        return group
    values = cells[value_column].astype(float).to_numpy()
    vmax = float(values.max())
    style = {"color": "#7f0000", "weight": 0.5, "fillOpacity": 0.6}
    PolygonSet(
        cells_to_polygons(cells["h3_cell"].to_numpy()),
        styles=[{**style, "fillColor": c} for c in HEX_COLORS],
        style_index=_hex_classes(values, vmax),
        tooltips=[f"{v:,.0f}" for v in values],
        tooltip_title=label or value_column,
        properties=[
            {"h3_cell": int(c), "value": float(v)}
            for c, v in zip(cells["h3_cell"], values, strict=True)
        ],
    ).add_to(group)
    return group


def hotspot_layer(
    spots: pd.DataFrame, name: str, trend_labels: Mapping[str, str] | None = None
) -> folium.FeatureGroup:
    """Significant Gi* cells (``h3_cell``, ``hot_class`` -3..3, ``confidence``, ``trend``).

    Cells with ``hot_class`` 0 are not drawn. The tooltip shows the confidence and the
    (translated) trend label.
    """
    group = folium.FeatureGroup(name=name, show=True)
    if spots.empty:
        return group
    spots = spots[spots["hot_class"].fillna(0).astype(int) != 0]
    if spots.empty:
        return group
    trend_labels = trend_labels or {}
    trends = spots["trend"].fillna("").astype(str) if "trend" in spots else [""] * len(spots)
    classes = sorted(HOT_COLORS)
    hot = spots["hot_class"].astype(int).tolist()
    confidence = [f"{int(v)} %" for v in spots["confidence"].fillna(0)]
    labels = [trend_labels.get(t, t) for t in trends]
    PolygonSet(
        cells_to_polygons(spots["h3_cell"].to_numpy()),
        styles=[
            {"weight": 1, "fillOpacity": 0.7, "color": HOT_COLORS[k], "fillColor": HOT_COLORS[k]}
            for k in classes
        ],
        style_index=[classes.index(k) for k in hot],
        tooltips=[f"{c} · {t}" if t else c for c, t in zip(confidence, labels, strict=True)],
        properties=[
            {"hot_class": k, "confidence": c, "trend": t}
            for k, c, t in zip(hot, confidence, labels, strict=True)
        ],
    ).add_to(group)
    return group


class _StartHidden(MacroElement):
    """Script keeping a layer off the map until the user ticks it in the layer control.

    folium leaves a layer with ``show=False`` out of the map, but streamlit-folium adds every
    layer it is given (``feature_group_to_add``). This skips the layer's first addition (its
    content is not drawn) and takes it off the map right after, so the layer control shows
    it unticked; ticking it adds it normally.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (group) {"
        " var onAdd = group.onAdd;"
        " group.onAdd = function (map) {"
        "  group.onAdd = onAdd;"
        "  setTimeout(function () { map.removeLayer(group); }, 0);"
        " };"
        "})({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "StartHidden"


def heat_layer(weights: pd.DataFrame, name: str) -> folium.FeatureGroup:
    """Heat map of aggregated weights (``lat``, ``lon``, ``weight`` per cell centre).

    Off when the map opens (drawing it costs the browser more than the hexagons); the layer
    control turns it on.
    """
    group = folium.FeatureGroup(name=name, show=False)
    _StartHidden().add_to(group)
    if weights.empty:
        return group
    vmax = float(weights["weight"].max()) or 1.0
    arr = weights[["lat", "lon", "weight"]].to_numpy(dtype=float, copy=True)
    arr[:, :2] = np.round(arr[:, :2], COORD_DECIMALS)
    arr[:, 2] = np.round(arr[:, 2] / vmax, HEAT_WEIGHT_DECIMALS)
    data = arr.tolist()
    folium.plugins.HeatMap(data, radius=14, blur=18, min_opacity=0.3).add_to(group)
    return group


def cell_weights(cells: pd.DataFrame, value_column: str = "n_reports") -> pd.DataFrame:
    """Heat-map input from H3 aggregates: cell centre ``lat, lon`` and ``weight`` per cell.

    Examples
    --------
    >>> import h3
    >>> c = h3.str_to_int(h3.latlng_to_cell(26.22, 50.58, 8))
    >>> w = cell_weights(pd.DataFrame({"h3_cell": [c], "n_reports": [5]}))
    >>> round(float(w["lat"].iloc[0]), 2), float(w["weight"].iloc[0])
    (26.22, 5.0)
    """
    if cells.empty:
        return pd.DataFrame({"lat": [], "lon": [], "weight": []})
    centres = [h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells["h3_cell"]]
    return pd.DataFrame(
        {
            "lat": [lat for lat, _ in centres],
            "lon": [lon for _, lon in centres],
            "weight": cells[value_column].astype(float).to_numpy(),
        }
    )


def incident_layer(
    incidents: pd.DataFrame,
    name: str,
    max_markers: int = MAX_INCIDENT_MARKERS,
    category_labels: Mapping[str, str] | None = None,
) -> folium.FeatureGroup:
    """Individual incidents (``incident_id``, ``lat``, ``lon``, ``category``, ``n_reports``).

    Drawn as light circle markers, and only when there are at most ``max_markers`` of them
    (otherwise the layer stays empty: the hexagons carry the information). Tooltips show the
    category through ``category_labels`` (code -> translated name) when given.
    """
    labels = category_labels or {}
    group = folium.FeatureGroup(name=name, show=True)
    if incidents.empty or len(incidents) > max_markers:
        return group
    rows = zip(
        incidents["incident_id"].astype("int64").tolist(),
        incidents["lat"].astype(float).tolist(),
        incidents["lon"].astype(float).tolist(),
        incidents["category"].astype(str).tolist(),
        incidents["n_reports"].astype("int64").tolist(),
        strict=True,
    )
    for incident_id, lat, lon, category, n_reports in rows:
        folium.CircleMarker(
            location=[lat, lon],
            radius=4 + min(n_reports, 10),
            color=CATEGORY_COLORS.get(category, "#333333"),
            fill=True,
            fill_opacity=0.8,
            weight=1,
            tooltip=f"#{incident_id} · {labels.get(category, category)} · {n_reports}",
        ).add_to(group)
    return group


def polygon_layer(gdf: gpd.GeoDataFrame, name: str, color: str = "#1f78b4") -> folium.FeatureGroup:
    """Outline of one or more polygons (an agency's boundary)."""
    group = folium.FeatureGroup(name=name, show=True)
    if gdf.empty:
        return group
    folium.GeoJson(
        _feature_collection(gdf[[gdf.geometry.name]]),
        style_function=lambda _f: {"color": color, "weight": 2, "fillOpacity": 0.05},
    ).add_to(group)
    return group


def fit_to(m: folium.Map, gdf: gpd.GeoDataFrame) -> None:
    """Fit the map view to the bounds of ``gdf`` (no-op when empty)."""
    if gdf.empty:
        return
    minx, miny, maxx, maxy = (float(v) for v in gdf.total_bounds)
    m.fit_bounds([[miny, minx], [maxy, maxx]])


def finish(m: folium.Map, layers: list[folium.FeatureGroup]) -> folium.Map:
    """Add ``layers`` in order and a layer control."""
    for layer in layers:
        layer.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def hexagon_features(group: folium.FeatureGroup) -> list[dict[str, Any]]:
    """The GeoJSON(-like) features inside a layer built here (for tests and focus lookups)."""
    out: list[dict[str, Any]] = []
    for child in group._children.values():
        if isinstance(child, folium.GeoJson):
            out.extend(child.data.get("features", []))
        elif isinstance(child, PolygonSet):
            out.extend(child.features())
    return out
