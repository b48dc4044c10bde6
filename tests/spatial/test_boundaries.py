"""Boundary layers: validation (pure) and loading into PostGIS (versioned)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from sqlalchemy.engine import Connection

from fix2go.reference import GOVERNORATES_FILE, load_boundary_file
from fix2go.settings import load
from spatial.boundaries import validate_layer
from spatial.errors import BoundaryError
from spatial.io import read_boundary_file
from spatial.postgis.boundaries import boundary_versions, read_layer

DATA = load().data_dir


def _layer(
    geoms: list[object], codes: list[str | None] | None = None, crs: object = 4326
) -> gpd.GeoDataFrame:
    codes = codes if codes is not None else [f"X{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame(
        {"code": codes, "name_en": [f"Area {c}" for c in codes]}, geometry=geoms, crs=crs
    )


def test_valid_polygons_become_multipolygons_with_non_default_index() -> None:
    gdf = _layer([box(50.5, 26.0, 50.6, 26.1), MultiPolygon([box(50.7, 26.0, 50.8, 26.1)])])
    gdf.index = [10, 20]
    out = validate_layer(gdf, "governorates", "t.geojson")
    assert list(out.frame.geometry.geom_type) == ["MultiPolygon", "MultiPolygon"]
    assert list(out.frame["code"]) == ["X0", "X1"]
    assert out.notes == []


def test_invalid_bowtie_is_repaired_and_reported() -> None:
    bowtie = Polygon([(50.5, 26.0), (50.6, 26.1), (50.6, 26.0), (50.5, 26.1), (50.5, 26.0)])
    out = validate_layer(_layer([bowtie]), "governorates", "t.geojson")
    assert out.frame.geometry.is_valid.all()
    assert any("make_valid" in n for n in out.notes)


def test_projected_layer_is_reprojected_to_4326() -> None:
    gdf = _layer([box(450000, 2890000, 460000, 2900000)], crs=32639)
    out = validate_layer(gdf, "governorates", "t.geojson")
    assert out.frame.crs.to_epsg() == 4326
    minx, miny, _, _ = out.frame.total_bounds
    assert 50 < minx < 51 and 26 < miny < 27
    assert any("reprojected" in n for n in out.notes)


@pytest.mark.parametrize(
    ("gdf", "match"),
    [
        (_layer([]), "no features"),
        (_layer([Point(50.5, 26.0)]), "polygons only, found Point"),
        (_layer([LineString([(50.5, 26.0), (50.6, 26.1)])]), "polygons only"),
        (_layer([box(50.5, 26.0, 50.6, 26.1)], crs=None), "no CRS"),
        (_layer([None]), "without geometry"),
        (
            _layer([box(0, 0, 1, 1), box(1, 1, 2, 2)], codes=["A", "A"]),
            "must be unique, repeated: A",
        ),
        (_layer([box(0, 0, 1, 1)], codes=[None]), "empty 'code'"),
    ],
    ids=["empty", "points", "lines", "no-crs", "none-geometry", "dup-code", "no-code"],
)
def test_bad_layers_are_refused(gdf: gpd.GeoDataFrame, match: str) -> None:
    with pytest.raises(BoundaryError, match=match):
        validate_layer(gdf, "governorates", "bad.geojson")


def test_road_authorities_need_their_attributes() -> None:
    with pytest.raises(BoundaryError, match=r"missing attribute.*kind, precedence, default_agency"):
        validate_layer(_layer([box(0, 0, 1, 1)]), "road_authorities", "ra.geojson")


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "broken.geojson"
    bad.write_text("{ not json")
    with pytest.raises(BoundaryError, match=r"broken.geojson: cannot be read"):
        read_boundary_file(bad)
    with pytest.raises(BoundaryError, match="no such file"):
        read_boundary_file(tmp_path / "missing.geojson")


def test_shipped_governorates_load_with_iso_codes_and_areas(conn: Connection) -> None:
    rows = conn.execute(
        sa.text(
            "SELECT code, name_en, name_ar, ST_Area(ST_Transform(geom, 32639)) / 1e6 AS km2 "
            "FROM governorates WHERE is_current ORDER BY code"
        )
    ).all()
    expected = {"BH-13": 75.0, "BH-14": 491.8, "BH-15": 64.9, "BH-17": 147.5}
    assert [r.code for r in rows] == sorted(expected)
    for r in rows:
        assert r.km2 == pytest.approx(expected[r.code], rel=0.02), r.code
        assert r.name_en and r.name_ar and not r.name_en.startswith("[")


def test_new_version_keeps_the_old_one(conn: Connection, tmp_path: Path) -> None:
    gdf = read_boundary_file(DATA / GOVERNORATES_FILE)
    shifted = gdf.copy()
    shifted["geometry"] = shifted.geometry.translate(xoff=0.001)
    path = tmp_path / "shifted.geojson"
    shifted.to_file(path, driver="GeoJSON")
    before = boundary_versions(conn, "governorates")
    result = load_boundary_file(conn, path, "governorates", "2026-test")
    assert result.features == 4
    after = boundary_versions(conn, "governorates")
    assert len(after) == len(before) + 1
    assert [v for v, _, cur in after if cur] == ["2026-test"]
    assert len(read_layer(conn, "governorates")) == 4
    assert len(read_layer(conn, "governorates", current=False)) == 4 * len(after)


def test_bad_layer_leaves_loaded_layer_untouched(conn: Connection, tmp_path: Path) -> None:
    before = boundary_versions(conn, "governorates")
    path = tmp_path / "points.geojson"
    _layer([Point(50.5, 26.0)]).to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError, match=r"points.geojson: a boundary layer must hold polygons"):
        load_boundary_file(conn, path, "governorates")
    assert boundary_versions(conn, "governorates") == before


def test_road_authority_with_unknown_agency_is_refused(conn: Connection, tmp_path: Path) -> None:
    gdf = _layer([box(50.5, 26.0, 50.6, 26.1)])
    gdf["kind"], gdf["precedence"], gdf["default_agency"] = "corridor", 20, "no_such_agency"
    path = tmp_path / "ra.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError, match="no_such_agency not in the agencies table"):
        load_boundary_file(conn, path, "road_authorities")
