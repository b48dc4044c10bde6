"""``fix2go export``: an agency's reports as CSV, GeoJSON or an Open311 GeoReport v2
``requests.json`` array, read under the agency's database role (row-level security decides
which rows it may see)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import typer

from fix2go.database import get_engine
from fix2go.gis_export import check_target, export_all
from spatial.open311 import (
    OPEN311_FIELDS,
    open311_json,
    open311_requests,
)
from spatial.open311 import w3c as _w3c
from spatial.postgis.export import EXPORT_COLUMNS, ExportError, read_agency_reports

__all__ = ["OPEN311_FIELDS", "WRITERS", "export_agency", "open311_requests", "register"]


def write_open311(frame: gpd.GeoDataFrame, out: Path) -> None:
    """Write a GeoReport v2 ``requests.json`` array (UTF-8; :mod:`spatial.open311`)."""
    out.write_text(open311_json(frame), encoding="utf-8")


def _tabular(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    table = pd.DataFrame({c: frame[c] for c in EXPORT_COLUMNS})
    for col in ("reported_at", "updated_at"):
        table[col] = _w3c(frame[col])
    return table


def write_csv(frame: gpd.GeoDataFrame, out: Path) -> None:
    """Write a UTF-8 CSV with ``lat`` and ``lon`` columns (EPSG:4326)."""
    table = _tabular(frame)
    table["lat"] = frame.geometry.y.to_numpy()
    table["lon"] = frame.geometry.x.to_numpy()
    table.to_csv(out, index=False, encoding="utf-8")


def write_geojson(frame: gpd.GeoDataFrame, out: Path) -> None:
    """Write a GeoJSON FeatureCollection of points (EPSG:4326)."""
    gdf = gpd.GeoDataFrame(_tabular(frame), geometry=frame.geometry.to_numpy(), crs=frame.crs)
    out.unlink(missing_ok=True)
    gdf.to_file(out, driver="GeoJSON", engine="pyogrio")


WRITERS: dict[str, Callable[[gpd.GeoDataFrame, Path], None]] = {
    "csv": write_csv,
    "geojson": write_geojson,
    "open311": write_open311,
}
"""Export formats; add a writer here to add a format."""


def export_agency(agency: str, fmt: str, out: Path) -> int:
    """Export ``agency``'s reports to ``out`` in ``fmt``; returns the number of reports."""
    if fmt not in WRITERS:
        raise ExportError(f"unsupported export format {fmt!r}; use one of {', '.join(WRITERS)}")
    if not out.parent.exists():
        raise ExportError(f"{out}: directory {out.parent} does not exist; create it first")
    engine = get_engine()
    try:
        with engine.connect() as conn:
            frame = read_agency_reports(conn, agency)
            conn.rollback()
    finally:
        engine.dispose()
    WRITERS[fmt](frame, out)
    return len(frame)


def export(
    agency: str | None = typer.Option(None, "--agency", help="Agency code (data/agencies.csv)."),
    all_layers: bool = typer.Option(
        False,
        "--all",
        help="Instead of --agency: every analyst layer (reports, incidents, hotspots, "
        "governorates, road_authorities) for desktop GIS.",
    ),
    fmt: str = typer.Option(
        ..., "--format", help="csv | geojson | open311 (--agency); gpkg | parquet (--all)"
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output file; with --all --format parquet a directory."
    ),
) -> None:
    """An agency's reports/incidents (its reports, each with its incident id) as CSV, GeoJSON
    or an Open311 GeoReport v2 requests.json array, read under the agency's database role:
    the database enforces the boundary. With --all: the analyst views as layers of one
    GeoPackage, or one GeoParquet file per layer in the --out directory. No personal data is
    exported."""
    if all_layers == (agency is not None):
        raise ExportError(
            "give exactly one of --agency CODE (an agency's reports) or --all (every layer)"
        )
    if agency is None:
        _export_all_layers(fmt, out)
        return
    n = export_agency(agency, fmt, out)
    typer.echo(f"exported {n} reports of {agency} to {out} ({fmt})")


def _export_all_layers(fmt: str, out: Path) -> None:
    """``--all``: every analyst layer through :func:`fix2go.gis_export.export_all`."""
    check_target(fmt, out)
    engine = get_engine()
    try:
        with engine.connect() as conn:
            counts = export_all(conn, fmt, out)
            conn.rollback()
    finally:
        engine.dispose()
    layers = ", ".join(f"{n} {name}" for name, n in counts.items())
    typer.echo(f"exported {layers} to {out} ({fmt})")


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to the CLI."""
    app.command("export")(export)
