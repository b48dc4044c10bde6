"""Download payloads of the agency inbox (built from the rows already read under its role).

CSV and GeoJSON: the inbox incidents. Open311 GeoReport v2: the agency's reports, formatted
by :mod:`spatial.open311` exactly as ``fix2go export --format open311`` writes them. No
personal data is in the input frames.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy.engine import Connection

from spatial.open311 import open311_json
from spatial.postgis.export import read_agency_reports


def _iso(v: object) -> str | None:
    if v is None:
        return None
    ts = pd.Timestamp(v)  # type: ignore[arg-type]
    return None if ts is pd.NaT else ts.isoformat()


def inbox_csv(inbox: pd.DataFrame) -> bytes:
    """The inbox table as UTF-8 CSV (with BOM, so spreadsheet programs read Arabic)."""
    return inbox.to_csv(index=False).encode("utf-8-sig")


def inbox_geojson(inbox: pd.DataFrame) -> bytes:
    """The inbox incidents as a GeoJSON FeatureCollection of points (EPSG:4326)."""
    props = inbox.drop(columns=["lat", "lon"]).copy()
    for col in ("first_reported_at", "last_reported_at"):
        if col in props:
            props[col] = props[col].map(_iso)
    gdf = gpd.GeoDataFrame(props, geometry=gpd.points_from_xy(inbox["lon"], inbox["lat"]), crs=4326)
    return gdf.to_json(drop_id=True).encode("utf-8")


def agency_open311(conn: Connection, agency_code: str) -> bytes:
    """The agency's reports as an Open311 GeoReport v2 ``requests.json`` (UTF-8), read under
    the agency's role: the same document as ``fix2go export --format open311``."""
    frame = read_agency_reports(conn, agency_code)
    return open311_json(frame).encode("utf-8")
