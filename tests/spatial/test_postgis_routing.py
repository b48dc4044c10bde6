"""Routing against the real PostGIS: reading the boundary layers, replaying a boundary change."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point
from sqlalchemy.engine import Connection

from spatial.postgis.routing import current_boundary_version, read_boundary_layers
from spatial.routing import RoutingConfig, assign_jurisdiction


def test_read_boundary_layers_routes_like_the_files(conn: Connection) -> None:
    layers = read_boundary_layers(conn, RoutingConfig(boundary_band_m=10.0))
    assert sorted(layers.gov_codes) == ["BH-13", "BH-14", "BH-15", "BH-17"]
    assert "zone_airport" in layers.authority_codes
    assert layers.config.boundary_band_m == 10.0
    assert layers.version == current_boundary_version(conn)
    reports = gpd.GeoDataFrame(
        {"category": ["pothole", "street_light"]},
        geometry=[Point(50.58, 26.22), Point(50.63, 26.265)],
        crs=4326,
    )
    out = assign_jurisdiction(reports, layers)
    assert out["governorate_code"].tolist() == ["BH-13", "BH-15"]
    assert out["agency_code"].tolist() == ["capital_municipality", "ewa"]
    assert out["place_en"].notna().all()
