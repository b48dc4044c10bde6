"""Open311 GeoReport v2 ``requests.json``: one formatter for the CLI export and the dashboard.

Input: an agency's reports as read by :func:`spatial.postgis.export.read_agency_reports`
(one row per report, point geometry in EPSG:4326, no personal data). Output: one service
request per report with the 12 GeoReport v2 fields of :data:`OPEN311_FIELDS`, timestamps as
W3C date-times in Bahrain time (``+03:00``), status ``open`` or ``closed``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

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

OPEN311_STATUS: Mapping[str, str] = {"open": "open", "in_progress": "open", "closed": "closed"}
"""Fix2Go status to GeoReport v2 status (which knows only open and closed)."""

JSON_INDENT = 1


def w3c(values: pd.Series) -> list[str | None]:
    """W3C date-times (seconds) in Bahrain time; None for missing values.

    Parameters
    ----------
    values : pandas.Series
        Timestamps, naive ones taken as UTC.

    Returns
    -------
    list of str or None

    Examples
    --------
    >>> w3c(pd.Series([pd.Timestamp("2026-11-01 08:00", tz="UTC"), None]))
    ['2026-11-01T11:00:00+03:00', None]
    """
    ts = pd.to_datetime(values, utc=True).dt.tz_convert(BAHRAIN_TZ)
    return [None if pd.isna(t) else t.isoformat(timespec="seconds") for t in ts]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def address(place_en: object, place_ar: object) -> str | None:
    """The place name in English and Arabic (``"en / ar"``), either alone, or None.

    Examples
    --------
    >>> address("Riffa", "الرفاع")
    'Riffa / الرفاع'
    >>> address("Riffa", None), address(None, None)
    ('Riffa', None)
    """
    en, ar = _text(place_en), _text(place_ar)
    if en and ar and en != ar:
        return f"{en} / {ar}"
    return en or ar


def open311_requests(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """GeoReport v2 service requests, one dict per report (fields :data:`OPEN311_FIELDS`).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Rows of :func:`spatial.postgis.export.read_agency_reports` (columns ``report_id,
        status, category, category_name_en, description, agency_name_en, reported_at,
        updated_at, place_en, place_ar, photo_url`` and a point ``geom`` in EPSG:4326).

    Returns
    -------
    list of dict

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> row = dict(report_id=7, status="in_progress", category="pothole",
    ...            category_name_en="Pothole", description="deep hole",
    ...            agency_name_en="Works", reported_at=pd.Timestamp("2026-11-01", tz="UTC"),
    ...            updated_at=pd.Timestamp("2026-11-02", tz="UTC"), place_en="Riffa",
    ...            place_ar=None, photo_url=None, geom=Point(50.58, 26.22))
    >>> req = open311_requests(gpd.GeoDataFrame([row], geometry="geom", crs=4326))[0]
    >>> req["status"], req["requested_datetime"], req["lat"], req["long"]
    ('open', '2026-11-01T03:00:00+03:00', 26.22, 50.58)
    """
    requested = w3c(frame["reported_at"])
    updated = w3c(frame["updated_at"])
    out: list[dict[str, Any]] = []
    for i, row in enumerate(frame.itertuples(index=False)):
        description = _text(row.description)
        out.append(
            {
                "service_request_id": str(row.report_id),
                "status": OPEN311_STATUS[row.status],
                "service_code": row.category,
                "service_name": row.category_name_en,
                "description": description[:OPEN311_DESCRIPTION_MAX_CHARS] if description else None,
                "agency_responsible": _text(row.agency_name_en),
                "requested_datetime": requested[i],
                "updated_datetime": updated[i],
                "address": address(row.place_en, row.place_ar),
                "lat": float(row.geom.y),
                "long": float(row.geom.x),
                "media_url": _text(row.photo_url),
            }
        )
    return out


def open311_json(frame: gpd.GeoDataFrame) -> str:
    """The ``requests.json`` document (a JSON array, non-ASCII kept, newline at the end).

    Examples
    --------
    >>> open311_json(gpd.GeoDataFrame({"report_id": [], "reported_at": [], "updated_at": []}))
    '[]\\n'
    """
    return json.dumps(open311_requests(frame), ensure_ascii=False, indent=JSON_INDENT) + "\n"
