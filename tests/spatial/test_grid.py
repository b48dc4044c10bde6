"""spatial.grid: H3 cells of points (int API) agree with h3's string API."""

from __future__ import annotations

import geopandas as gpd
import h3
import pandas as pd
import pytest
from shapely.geometry import Point

from spatial.errors import CRSError
from spatial.grid import cells_to_parents, points_to_cells


def test_points_to_cells_matches_the_string_api() -> None:
    pts = [Point(50.58, 26.22), Point(50.4501, 25.9999), Point(-0.1, 51.5), Point(0.0, 0.0)]
    s = gpd.GeoSeries(pts, crs=4326)
    got = points_to_cells(s, 9).tolist()
    want = [h3.str_to_int(h3.latlng_to_cell(p.y, p.x, 9)) for p in pts]
    assert got == want


def test_points_to_cells_missing_and_empty_geometry_non_default_index() -> None:
    s = gpd.GeoSeries([Point(50.58, 26.22), None, Point()], index=[10, 20, 30], crs=4326)
    out = points_to_cells(s, 8)
    assert out.index.tolist() == [10, 20, 30]
    assert str(out.dtype) == "Int64"
    assert out.isna().tolist() == [False, True, True]
    assert cells_to_parents([out[10]], 7)[0] == h3.str_to_int(
        h3.cell_to_parent(h3.latlng_to_cell(26.22, 50.58, 8), 7)
    )


def test_points_to_cells_empty_frame() -> None:
    out = points_to_cells(gpd.GeoDataFrame(geometry=[], crs=4326), 9)
    assert len(out) == 0


def test_points_to_cells_wrong_crs() -> None:
    with pytest.raises(CRSError, match="EPSG:4326"):
        points_to_cells(gpd.GeoSeries([Point(500000, 2900000)], crs=32639), 9)


def test_points_to_cells_is_index_aligned_series() -> None:
    s = gpd.GeoSeries([Point(50.58, 26.22)], crs=4326)
    assert isinstance(points_to_cells(s, 9), pd.Series)
