"""H3 grid helpers (h3 v4: lat-first in, (lat, lng) boundaries out; we swap for shapely).

Reports store their cell at :data:`REPORT_H3_RESOLUTION`; coarser cells are its parents.
Cell ids are stored as signed BIGINT (they fit: the top bit of an H3 index is always 0).
"""

from __future__ import annotations

import geopandas as gpd
import h3
import h3.api.basic_int as h3_int
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import Polygon

from spatial.crs import STORAGE_EPSG, check_crs

REPORT_H3_RESOLUTION = 9
"""Resolution of ``reports.h3_cell`` (edge about 174 m): the finest cell the dashboard shows."""


def points_to_cells(points: gpd.GeoSeries | gpd.GeoDataFrame, resolution: int) -> pd.Series:
    """H3 cell (as int64) of each point, index-aligned; missing geometry gives <NA>.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoSeries([Point(50.58, 26.22)], crs=4326)
    >>> int(points_to_cells(s, 9).iloc[0]) > 0
    True
    """
    check_crs(points, STORAGE_EPSG, "points_to_cells")
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    arr = np.asarray(geoms.array, dtype=object)
    ok = ~shapely.is_missing(arr) & ~shapely.is_empty(arr)
    out = pd.Series(pd.NA, index=geoms.index, dtype="Int64")
    if ok.any():
        xs = shapely.get_x(arr[ok]).tolist()
        ys = shapely.get_y(arr[ok]).tolist()
        # h3's int API returns the cell id as a Python int: no hex string round trip
        cells = [h3_int.latlng_to_cell(y, x, resolution) for x, y in zip(xs, ys, strict=True)]
        out[ok] = np.asarray(cells, dtype=np.int64)
    return out


def cells_to_parents(cells: npt.ArrayLike, resolution: int) -> npt.NDArray[np.int64]:
    """Parent cell at ``resolution`` of each int64 cell id."""
    arr = np.asarray(cells, dtype=np.int64)
    return np.fromiter(
        (h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), resolution)) for c in arr),
        dtype=np.int64,
        count=arr.size,
    )


def cell_to_polygon(cell: int) -> Polygon:
    """The hexagon (or pentagon) of an int64 cell id as a lon/lat shapely polygon."""
    boundary = h3.cell_to_boundary(h3.int_to_str(int(cell)))
    return Polygon([(lng, lat) for lat, lng in boundary])


def cells_to_polygons(cells: npt.ArrayLike) -> gpd.GeoSeries:
    """Hexagons of int64 cell ids, EPSG:4326, in input order.

    Examples
    --------
    >>> c = h3.str_to_int(h3.latlng_to_cell(26.22, 50.58, 8))
    >>> cells_to_polygons([c]).iloc[0].geom_type
    'Polygon'
    """
    arr = np.asarray(cells, dtype=np.int64)
    return gpd.GeoSeries([cell_to_polygon(int(c)) for c in arr], crs=STORAGE_EPSG)
