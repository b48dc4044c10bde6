"""``fix2go export``: an agency's reports as CSV, GeoJSON or an Open311 GeoReport v2
``requests.json`` array, read under the agency's database role (row-level security decides
which rows it may see)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import typer

from fix2go.database import get_engine
from fix2go.gis_export import check_target, export_all
from spatial.postgis.export import EXPORT_COLUMNS, ExportError, read_agency_reports

BAHRAIN_TZ = "Asia/Bahrain"
"""Timestamps are written in Bahrain time with their offset (+03:00)."""

OPEN311_FIELDS = (
    "service_request_id",
    "status",
    "service_code",
    "service_name",
    "description",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "address",
    "lat",
    "long",
    "media_url",
)
"""The GeoReport v2 service-request fields written, in the spec's order."""

OPEN311_DESCRIPTION_MAX_CHARS = 4000
"""GeoReport v2: description is free text limited to 4,000 characters."""

# GeoReport v2 knows only open and closed.
_OPEN311_STATUS = {"open": "open", "in_progress": "open", "closed": "closed"}


def _w3c(values: pd.Series) -> list[str | None]:
    ts = pd.to_datetime(values, utc=True).dt.tz_convert(BAHRAIN_TZ)
    return [None if pd.isna(t) else t.isoformat(timespec="seconds") for t in ts]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _address(place_en: object, place_ar: object) -> str | None:
    en, ar = _text(place_en), _text(place_ar)
    if en and ar and en != ar:
        return f"{en} / {ar}"
    return en or ar


def open311_requests(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """GeoReport v2 service requests (one dict per report, fields :data:`OPEN311_FIELDS`)."""
    requested = _w3c(frame["reported_at"])
    updated = _w3c(frame["updated_at"])
    out: list[dict[str, Any]] = []
    for i, row in enumerate(frame.itertuples(index=False)):
        description = _text(row.description)
        out.append(
            {
                "service_request_id": str(row.report_id),
                "status": _OPEN311_STATUS[row.status],
                "service_code": row.category,
                "service_name": row.category_name_en,
                "description": description[:OPEN311_DESCRIPTION_MAX_CHARS] if description else None,
                "agency_responsible": _text(row.agency_name_en),
                "requested_datetime": requested[i],
                "updated_datetime": updated[i],
                "address": _address(row.place_en, row.place_ar),
                "lat": float(row.geom.y),
                "long": float(row.geom.x),
                "media_url": _text(row.photo_url),
            }
        )
    return out


def write_open311(frame: gpd.GeoDataFrame, out: Path) -> None:
    """Write a GeoReport v2 ``requests.json`` array (UTF-8)."""
    out.write_text(
        json.dumps(open311_requests(frame), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


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
