"""Coordinate reference systems: the storage CRS, the metric CRS, and the check every public
spatial function runs on entry."""

from __future__ import annotations

import geopandas as gpd

from spatial.errors import CRSError

STORAGE_EPSG = 4326
"""WGS84 lon/lat: how geometries are stored and exchanged."""

METRIC_EPSG = 32639
"""UTM zone 39N: metres, for every distance, buffer and area in Bahrain."""


def check_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, epsg: int, where: str) -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in ``EPSG:epsg``.

    Parameters
    ----------
    gdf
        The frame or series to check.
    epsg
        The EPSG code the caller expects.
    where
        The caller's name, for the message.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> check_crs(gpd.GeoSeries([Point(50.5, 26.1)], crs=4326), 4326, "demo")
    """
    crs = gdf.crs
    if crs is None:
        raise CRSError(
            f"{where} expects EPSG:{epsg}, got a frame with no CRS; "
            f"set it with `gdf.set_crs({epsg})` if the coordinates are already EPSG:{epsg}"
        )
    if crs.to_epsg() != epsg:
        raise CRSError(
            f"{where} expects EPSG:{epsg}, got {crs.to_string()}; call `gdf.to_crs({epsg})` first"
        )


def to_metric(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Project a lon/lat frame to UTM 39N metres (checks it is EPSG:4326 first)."""
    check_crs(gdf, STORAGE_EPSG, "to_metric")
    return gdf.to_crs(METRIC_EPSG)
