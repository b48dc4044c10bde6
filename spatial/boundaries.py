"""Validate a boundary layer before it is loaded (pure: GeoDataFrame in, GeoDataFrame out).

Two layers exist: ``governorates`` (code, English and Arabic names) and ``road_authorities``
(code, names, kind, precedence, default agency). A layer must be polygons only, non-empty,
in a known CRS (reprojected to EPSG:4326), valid (invalid rings are repaired with
``make_valid`` and reported), with a unique, non-empty code per feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from spatial.crs import STORAGE_EPSG
from spatial.errors import BoundaryError

Layer = Literal["governorates", "road_authorities"]
LAYERS: tuple[Layer, ...] = ("governorates", "road_authorities")
AUTHORITY_KINDS = ("municipal_area", "corridor", "special_zone")

# Who's On First stores the ISO code and preferred names in nested or list-valued properties.
_WOF_CODE = "wof:concordances"
_WOF_NAME_EN = "name:eng_x_preferred"
_WOF_NAME_AR = "name:ara_x_preferred"


@dataclass
class ValidatedLayer:
    """A layer ready to load, with what was repaired on the way."""

    frame: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)


def _first(value: object) -> object:
    if isinstance(value, list | tuple | np.ndarray):
        return value[0] if len(value) else None
    return value


def _wof_iso_code(value: object) -> object:
    if isinstance(value, str):  # GDAL may hand nested objects over as JSON text
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value.get("iso:code") if isinstance(value, dict) else None


def _normalise_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Map Who's On First properties onto ``code``, ``name_en`` and ``name_ar`` when absent."""
    out = gdf.copy()
    if "code" not in out.columns and _WOF_CODE in out.columns:
        out["code"] = out[_WOF_CODE].map(_wof_iso_code)
    if "name_en" not in out.columns:
        for col in (_WOF_NAME_EN, "wof:name", "name"):
            if col in out.columns:
                out["name_en"] = out[col].map(_first)
                break
    if "name_ar" not in out.columns and _WOF_NAME_AR in out.columns:
        out["name_ar"] = out[_WOF_NAME_AR].map(_first)
    return out


def _to_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Keep the polygonal part of a (repaired) geometry as one MultiPolygon."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polys: list[Polygon] = []
    for p in parts:
        polys.extend(p.geoms if isinstance(p, MultiPolygon) else [p])
    return MultiPolygon(polys)


def validate_layer(gdf: gpd.GeoDataFrame, layer: Layer, source: str) -> ValidatedLayer:
    """Check and normalise a boundary layer; raise :class:`BoundaryError` when it cannot load.

    Parameters
    ----------
    gdf
        The layer as read from its file.
    layer
        ``"governorates"`` or ``"road_authorities"``.
    source
        The file name, for messages.

    Returns
    -------
    ValidatedLayer
        Columns ``code, name_en, name_ar, geometry`` (plus ``kind, precedence,
        default_agency`` for road authorities), EPSG:4326 MultiPolygons, and notes on repairs.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"code": ["A"], "name_en": ["Area"]}, geometry=[box(50.5, 26.0, 50.6, 26.1)], crs=4326)
    >>> validate_layer(g, "governorates", "demo.geojson").frame.geometry.iloc[0].geom_type
    'MultiPolygon'
    """
    if layer not in LAYERS:
        raise BoundaryError(f"{source}: unknown layer {layer!r}; use one of {', '.join(LAYERS)}")
    if len(gdf) == 0:
        raise BoundaryError(
            f"{source}: the layer has no features; export it again with its polygons"
        )
    if gdf.crs is None:
        raise BoundaryError(
            f"{source}: the layer has no CRS, so its coordinates cannot be placed; "
            "save it with its CRS (e.g. EPSG:4326) and load it again"
        )
    notes: list[str] = []
    gdf = _normalise_columns(gdf)
    if gdf.crs.to_epsg() != STORAGE_EPSG:
        notes.append(f"reprojected from {gdf.crs.to_string()} to EPSG:{STORAGE_EPSG}")
        gdf = gdf.to_crs(STORAGE_EPSG)

    geoms = gdf.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        rows = ", ".join(str(i) for i in gdf.index[missing][:5])
        raise BoundaryError(
            f"{source}: {int(missing.sum())} feature(s) without geometry (rows {rows}); "
            "remove them or give them polygons"
        )
    kinds = set(geoms.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        other = sorted(kinds - {"Polygon", "MultiPolygon"})
        raise BoundaryError(
            f"{source}: a boundary layer must hold polygons only, found {', '.join(other)}; "
            "export only the polygon features"
        )

    required = ["code", "name_en"]
    if layer == "road_authorities":
        required += ["kind", "precedence", "default_agency"]
    absent = [c for c in required if c not in gdf.columns]
    if absent:
        raise BoundaryError(
            f"{source}: missing attribute(s) {', '.join(absent)} for layer {layer!r}; "
            f"add them (required: {', '.join(required)})"
        )
    codes = gdf["code"].astype("string").str.strip()
    if codes.isna().any() or (codes == "").any():
        raise BoundaryError(f"{source}: some features have an empty 'code'; give each a code")
    dupes = sorted(set(codes[codes.duplicated()]))
    if dupes:
        raise BoundaryError(
            f"{source}: 'code' must be unique, repeated: {', '.join(dupes[:5])}; "
            "merge those features or give them distinct codes"
        )
    if layer == "road_authorities":
        bad_kind = sorted(set(gdf["kind"]) - set(AUTHORITY_KINDS))
        if bad_kind:
            raise BoundaryError(
                f"{source}: unknown 'kind' {', '.join(map(str, bad_kind))}; "
                f"use one of {', '.join(AUTHORITY_KINDS)}"
            )
        precedence = pd.to_numeric(gdf["precedence"], errors="coerce")
        if precedence.isna().any():
            raise BoundaryError(f"{source}: 'precedence' must be an integer on every feature")

    invalid = ~geoms.is_valid
    if invalid.any():
        names = ", ".join(codes[invalid].head(5))
        notes.append(
            f"repaired {int(invalid.sum())} invalid geometr(y/ies) with make_valid: {names}"
        )
        geoms = geoms.where(~invalid, shapely.make_valid(geoms.to_numpy()))
    multi = gpd.GeoSeries([_to_multipolygon(g) for g in geoms], index=gdf.index, crs=STORAGE_EPSG)
    if (shapely.area(multi.to_numpy()) == 0).any():  # lon/lat area: only zero matters
        raise BoundaryError(f"{source}: a feature has no area after repair; fix its rings")

    out = pd.DataFrame(
        {"code": codes.astype(str), "name_en": gdf["name_en"].astype(str)}, index=gdf.index
    )
    out["name_ar"] = gdf["name_ar"] if "name_ar" in gdf.columns else None
    if layer == "road_authorities":
        out["kind"] = gdf["kind"].astype(str)
        out["precedence"] = pd.to_numeric(gdf["precedence"]).astype("int64")
        out["default_agency"] = gdf["default_agency"].astype(str)
    frame = gpd.GeoDataFrame(out, geometry=multi, crs=STORAGE_EPSG).reset_index(drop=True)
    return ValidatedLayer(frame=frame, notes=notes)
