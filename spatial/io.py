"""Reading spatial files (boundary layers): the only file I/O of ``spatial``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from spatial.errors import BoundaryError

BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")


def read_boundary_file(path: Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage or Shapefile as a GeoDataFrame.

    Raises
    ------
    BoundaryError
        When the file is missing or cannot be read as a vector layer.
    """
    if not path.exists():
        raise BoundaryError(f"{path}: no such file; check the path")
    if path.suffix.lower() not in BOUNDARY_SUFFIXES:
        raise BoundaryError(
            f"{path}: unsupported file type {path.suffix!r}; "
            f"use one of {', '.join(BOUNDARY_SUFFIXES)} (GeoJSON, GeoPackage, Shapefile)"
        )
    try:
        return gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several DataSourceError/FieldError types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BoundaryError(
            f"{path}: cannot be read as a vector layer ({reason}); "
            "export it again as GeoJSON, GeoPackage or Shapefile"
        ) from exc
