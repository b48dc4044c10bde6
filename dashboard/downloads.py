"""Download payloads of the agency inbox (built from the rows already read under its role).

Open311 GeoReport v2 fields: ``service_request_id, status, service_code, service_name,
requested_datetime, updated_datetime, lat, long``. No personal data is in the input frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

OPEN311_STATUS = {"open": "open", "in_progress": "open", "closed": "closed"}


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


def inbox_open311(inbox: pd.DataFrame, category_names: Mapping[str, str]) -> bytes:
    """The inbox incidents as an Open311 GeoReport v2 ``requests.json`` array."""
    out = [
        {
            "service_request_id": str(r["incident_id"]),
            "status": OPEN311_STATUS.get(str(r["status"]), "open"),
            "service_code": str(r["category"]),
            "service_name": category_names.get(str(r["category"]), str(r["category"])),
            "requested_datetime": _iso(r["first_reported_at"]),
            "updated_datetime": _iso(r["last_reported_at"]),
            "lat": float(r["lat"]),
            "long": float(r["lon"]),
        }
        for _, r in inbox.iterrows()
    ]
    return json.dumps(out, ensure_ascii=False, indent=1).encode("utf-8")
