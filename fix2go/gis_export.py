"""Exports for desktop GIS: every analyst layer in one GeoPackage, or one GeoParquet per layer.

Layers (from the read API, :mod:`spatial.postgis.read`, hence from the analyst views only: no
personal data):

================== ============ ====================================================
layer              geometry     source
================== ============ ====================================================
reports            Point        ``report_view``
incidents          Point        ``incident_view``
hotspots           Polygon      ``hotspot_cells`` (empty when not computed yet)
governorates       MultiPolygon current governorate boundaries
road_authorities   MultiPolygon current road-authority boundaries
================== ============ ====================================================

Formats:

- ``gpkg``: ``OUT`` is a ``.gpkg`` file holding the five layers (replaced atomically when it
  exists). GeoPackage stores timestamps to the millisecond: they are truncated to it.
- ``parquet``: ``OUT`` is a directory (created when missing) receiving ``<layer>.parquet``
  GeoParquet files (existing files of those names are replaced).

Everything is EPSG:4326; timestamps are UTC. :func:`read_export` opens an export back with
the read API's column types (nullable int64 ids such as H3 cells stay exact).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyarrow as pa
from pandas.api.types import pandas_dtype
from sqlalchemy.engine import Connection

from spatial.crs import STORAGE_EPSG
from spatial.errors import Fix2GoError
from spatial.postgis.read import (
    BOUNDARY_COLUMNS,
    GEOM_COL,
    HOTSPOT_COLUMNS,
    INCIDENT_COLUMNS,
    REPORT_COLUMNS,
    check_no_personal_data,
    read_boundaries,
    read_hotspots,
    read_incidents,
    read_reports,
)

Format = Literal["gpkg", "parquet"]
FORMATS: tuple[Format, ...] = ("gpkg", "parquet")

LAYER_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "reports": REPORT_COLUMNS,
    "incidents": INCIDENT_COLUMNS,
    "hotspots": HOTSPOT_COLUMNS,
    "governorates": BOUNDARY_COLUMNS["governorates"],
    "road_authorities": BOUNDARY_COLUMNS["road_authorities"],
}
"""The exported layers, in order, with their columns (besides ``geom``) and dtypes."""

LAYER_GEOMETRY: Mapping[str, str] = {
    "reports": "Point",
    "incidents": "Point",
    "hotspots": "Polygon",
    "governorates": "MultiPolygon",
    "road_authorities": "MultiPolygon",
}
"""Geometry type of each layer (declared in the GeoPackage even when a layer is empty)."""

GPKG_TIME_UNIT = "ms"
"""GeoPackage datetime precision: timestamps are truncated to it."""


class GisExportError(Fix2GoError, ValueError):
    """The export cannot be written (unknown format, bad output path)."""


_READERS: Mapping[str, Callable[[Connection], gpd.GeoDataFrame]] = {
    "reports": read_reports,
    "incidents": read_incidents,
    "hotspots": read_hotspots,
    "governorates": lambda conn: read_boundaries(conn, "governorates"),
    "road_authorities": lambda conn: read_boundaries(conn, "road_authorities"),
}


def read_layers(conn: Connection) -> dict[str, gpd.GeoDataFrame]:
    """Every export layer, read through the analyst read API."""
    return {name: _READERS[name](conn) for name in LAYER_COLUMNS}


def check_target(fmt: str, out: Path) -> None:
    """Refuse an unknown format or an unusable output path (before any query runs)."""
    if fmt not in FORMATS:
        raise GisExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "gpkg":
        if out.suffix.lower() != ".gpkg":
            raise GisExportError(
                f"GeoPackage output {str(out)!r} must end in .gpkg; e.g. --out fix2go.gpkg"
            )
        if out.is_dir():
            raise GisExportError(f"{str(out)!r} is a directory; give a .gpkg file name")
        if not out.parent.is_dir():
            raise GisExportError(
                f"directory {str(out.parent)!r} of {str(out)!r} does not exist; create it first"
            )
    elif out.exists() and not out.is_dir():
        raise GisExportError(
            f"GeoParquet output {str(out)!r} is a file; --out must be a directory "
            "(one <layer>.parquet per layer), e.g. --out fix2go_parquet/"
        )


def _truncate_times(gdf: gpd.GeoDataFrame, unit: str) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.floor(unit)
    return out


def _write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], out: Path) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".gpkg", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # GDAL creates the file itself
    try:
        for name, gdf in layers.items():
            _truncate_times(gdf, GPKG_TIME_UNIT).to_file(
                tmp, layer=name, driver="GPKG", geometry_type=LAYER_GEOMETRY[name]
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _write_parquet(layers: Mapping[str, gpd.GeoDataFrame], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        gdf.to_parquet(out / f"{name}.parquet", index=False)


def export_all(conn: Connection, fmt: str, out: str | Path) -> dict[str, int]:
    """Write reports, incidents, hotspots and boundaries for desktop GIS.

    Parameters
    ----------
    conn
        A connection; the querying role's row-level security applies through the views.
    fmt
        ``gpkg`` (``out`` is a ``.gpkg`` file, one layer each) or ``parquet`` (``out`` is a
        directory receiving ``<layer>.parquet``).
    out
        Output file or directory.

    Returns
    -------
    dict
        Features written per layer, in :data:`LAYER_COLUMNS` order.
    """
    target = Path(out)
    check_target(fmt, target)
    layers = read_layers(conn)
    for gdf in layers.values():
        check_no_personal_data(gdf)
    if fmt == "gpkg":
        _write_gpkg(layers, target)
    else:
        _write_parquet(layers, target)
    return {name: len(gdf) for name, gdf in layers.items()}


def _retype(gdf: gpd.GeoDataFrame, columns: Mapping[str, str]) -> gpd.GeoDataFrame:
    geom_name = gdf.geometry.name
    out = gdf.rename_geometry(GEOM_COL) if geom_name != GEOM_COL else gdf
    for col, dtype in columns.items():
        series = out[col]
        if dtype.startswith("datetime64"):
            if not isinstance(series.dtype, pd.DatetimeTZDtype):  # empty GeoPackage layers
                series = series.dt.tz_localize("UTC")
            out[col] = series.dt.tz_convert("UTC").dt.as_unit("us")
        else:
            out[col] = series.astype(pandas_dtype(dtype))
    if out.crs is None or out.crs.to_epsg() != STORAGE_EPSG:
        raise GisExportError(
            f"export layer has CRS {out.crs!r}, expected EPSG:{STORAGE_EPSG}; "
            "was it written by `fix2go export --all`?"
        )
    return out[[*columns, GEOM_COL]]


def read_export(fmt: str, out: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """Open an export written by :func:`export_all` with the read API's column types.

    GeoPackage integers are read through Arrow as nullable ``Int64`` (plain
    ``geopandas.read_file`` turns an integer column with nulls into float64, which cannot hold
    an H3 cell id exactly) and then cast to the declared dtypes.
    """
    target = Path(out)
    if fmt not in FORMATS:
        raise GisExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    ints = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype()}
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, columns in LAYER_COLUMNS.items():
        if fmt == "gpkg":
            gdf = gpd.read_file(
                target,
                layer=name,
                use_arrow=True,
                arrow_to_pandas_kwargs={"types_mapper": ints.get},
            )
        else:
            gdf = gpd.read_parquet(target / f"{name}.parquet")
        layers[name] = _retype(gdf, columns)
    return layers
