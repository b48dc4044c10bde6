"""GIS exports: GeoPackage layers and GeoParquet files round-trip geometry, CRS and types."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import sqlalchemy as sa
import typer
from geopandas.testing import assert_geodataframe_equal
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from fix2go.gis_export import (
    GPKG_TIME_UNIT,
    LAYER_COLUMNS,
    LAYER_GEOMETRY,
    GisExportError,
    _truncate_times,
    export_all,
    read_export,
    read_layers,
)
from spatial.postgis.export import ExportError
from spatial.postgis.read import PERSONAL_COLUMNS

SECRET = "secret-pseudonym-7f3a"
SECRET_TEXT = "ring 3999 1234 secret-text"
BIG_H3 = 617_700_169_958_293_503


@pytest.fixture
def seeded(conn: Connection) -> Connection:
    """Two reports (one with an incident, microsecond time and an exact int64 H3 cell)."""
    inc = conn.execute(
        sa.text(
            "INSERT INTO incidents (category, status, n_reports, first_reported_at, "
            "last_reported_at, agency_code, governorate_code, geom) VALUES ('pothole', 'open', 1, "
            ":t, :t, 'capital_municipality', 'BH-13', ST_SetSRID(ST_MakePoint(50.58, 26.22), 4326)) "
            "RETURNING id"
        ),
        {"t": dt.datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=dt.UTC)},
    ).scalar_one()
    for sid, inc_id, h3, lon in (("x1", inc, BIG_H3, 50.58), ("x2", None, None, 50.61)):
        conn.execute(
            sa.text(
                "INSERT INTO reports (source, source_id, category, description, "
                "reporter_pseudonym, reported_at, content_hash, governorate_code, agency_code, "
                "routing_confidence, incident_id, h3_cell, place_en, place_ar, geom) VALUES "
                "('test_export', :sid, 'pothole', :descr, :pseudo, :t, 'h', 'BH-13', "
                "'capital_municipality', 0.75, :inc, :h3, 'Manama', 'المنامة', "
                "ST_SetSRID(ST_MakePoint(:lon, 26.22), 4326))"
            ),
            {
                "sid": sid,
                "descr": SECRET_TEXT,
                "pseudo": SECRET,
                "t": dt.datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=dt.UTC),
                "inc": inc_id,
                "h3": h3,
                "lon": lon,
            },
        )
    return conn


@pytest.mark.parametrize("fmt", ["gpkg", "parquet"])
def test_export_round_trips_geometry_crs_and_types(
    seeded: Connection, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / ("fix2go.gpkg" if fmt == "gpkg" else "fix2go_parquet")
    expected = read_layers(seeded)
    counts = export_all(seeded, fmt, out)
    assert counts == {name: len(gdf) for name, gdf in expected.items()}
    assert list(counts) == list(LAYER_COLUMNS)
    assert counts["reports"] >= 2 and counts["incidents"] >= 1 and counts["governorates"] == 4
    back = read_export(fmt, out)
    for name, gdf in expected.items():
        want = _truncate_times(gdf, GPKG_TIME_UNIT) if fmt == "gpkg" else gdf
        assert_geodataframe_equal(back[name], want)
        assert back[name].crs.to_epsg() == 4326
    reports = back["reports"].set_index("source_id")
    assert reports.loc["x1", "h3_cell"] == BIG_H3
    stamp = reports.loc["x1", "reported_at"]
    assert stamp.microsecond == (123000 if fmt == "gpkg" else 123456)


def test_geopackage_as_a_desktop_gis_sees_it(seeded: Connection, tmp_path: Path) -> None:
    """Plain pyogrio/geopandas, no helper: five typed layers in EPSG:4326, no personal data."""
    out = tmp_path / "fix2go.gpkg"
    export_all(seeded, "gpkg", out)
    layers = {name: geom for name, geom in pyogrio.list_layers(out)}
    assert layers == dict(LAYER_GEOMETRY)  # declared also for a layer that may be empty
    for name, columns in LAYER_COLUMNS.items():
        info = pyogrio.read_info(out, layer=name)
        assert info["crs"] == "EPSG:4326"
        assert info["geometry_name"] == "geom"
        assert list(info["fields"]) == list(columns)
        assert not PERSONAL_COLUMNS & set(info["fields"])
    plain = gpd.read_file(out, layer="reports")
    mine = plain[plain["source"] == "test_export"].sort_values("source_id")
    assert [(p.x, p.y) for p in mine.geometry] == [(50.58, 26.22), (50.61, 26.22)]


@pytest.mark.parametrize("fmt", ["gpkg", "parquet"])
def test_no_personal_data_in_the_files(seeded: Connection, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / ("a.gpkg" if fmt == "gpkg" else "pq")
    export_all(seeded, fmt, out)
    files = [out] if fmt == "gpkg" else sorted(out.glob("*.parquet"))
    assert len(files) == (1 if fmt == "gpkg" else len(LAYER_COLUMNS))
    blob = b"".join(f.read_bytes() for f in files)
    assert b"test_export" in blob  # the data is there...
    assert SECRET.encode() not in blob and SECRET_TEXT.encode() not in blob  # ...not the PII


def test_export_replaces_an_existing_geopackage(seeded: Connection, tmp_path: Path) -> None:
    out = tmp_path / "fix2go.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([0], [0]), crs=4326).to_file(
        out, layer="stale", driver="GPKG"
    )
    export_all(seeded, "gpkg", out)
    assert [n for n, _ in pyogrio.list_layers(out)] == list(LAYER_COLUMNS)
    assert not list(tmp_path.glob(".fix2go.*"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("fmt", "name", "match"),
    [
        ("shp", "x.shp", "unknown export format 'shp'; use one of gpkg, parquet"),
        ("gpkg", "x.sqlite", "must end in .gpkg"),
        ("gpkg", "missing/x.gpkg", "does not exist; create it first"),
        ("parquet", "file.txt", "is a file; --out must be a directory"),
    ],
)
def test_bad_targets_are_refused(
    conn: Connection, tmp_path: Path, fmt: str, name: str, match: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(GisExportError, match=match):
        export_all(conn, fmt, tmp_path / name)


# --- the command line: fix2go export --all ---------------------------------------------------


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, export_app: typer.Typer) -> typer.Typer:
    """The export command alone, on the session database (reference data and boundaries)."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    return export_app


@pytest.mark.parametrize(("fmt", "name"), [("gpkg", "all.gpkg"), ("parquet", "all_parquet")])
def test_export_all_cli(cli: typer.Typer, tmp_path: Path, fmt: str, name: str) -> None:
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["export", "--all", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 governorates" in result.output and f"to {out} ({fmt})" in result.output
    back = read_export(fmt, out)
    assert list(back) == list(LAYER_COLUMNS)
    assert list(back["governorates"]["code"]) == ["BH-13", "BH-14", "BH-15", "BH-17"]
    assert all(gdf.crs.to_epsg() == 4326 for gdf in back.values())


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "gpkg", "--out", "x.gpkg"],
        ["--all", "--agency", "ewa", "--format", "gpkg", "--out", "x.gpkg"],
    ],
)
def test_export_needs_exactly_one_of_agency_or_all(cli: typer.Typer, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["export", *args])
    assert isinstance(result.exception, ExportError)
    assert "give exactly one of --agency CODE" in str(result.exception)


def test_export_all_cli_bad_format_is_a_one_line_error(cli: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", "--all", "--format", "csv", "--out", str(tmp_path / "x.csv")]
    )
    assert isinstance(result.exception, GisExportError)
    assert str(result.exception) == "unknown export format 'csv'; use one of gpkg, parquet"
