"""Agency inbox downloads: CSV, GeoJSON and Open311 GeoReport v2 from the inbox rows."""

from __future__ import annotations

import io
import json

import pandas as pd

from dashboard import downloads


def _inbox() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [7, 9],
            "category": ["pothole", "flooding"],
            "status": ["open", "in_progress"],
            "n_reports": [3, 1],
            "age_days": [10.5, 2.0],
            "recurrence": [False, True],
            "first_reported_at": pd.to_datetime(["2026-11-01T08:00Z", "2026-12-01T09:30Z"]),
            "last_reported_at": pd.to_datetime(["2026-11-20T08:00Z", "2026-12-01T09:30Z"]),
            "lat": [26.22, 26.1],
            "lon": [50.58, 50.55],
        }
    )


def test_csv_has_bom_and_every_row() -> None:
    raw = downloads.inbox_csv(_inbox())
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert list(back["incident_id"]) == [7, 9]
    assert list(back.columns) == list(_inbox().columns)


def test_geojson_points_in_lon_lat() -> None:
    fc = json.loads(downloads.inbox_geojson(_inbox()))
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    first = fc["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [50.58, 26.22]}
    assert first["properties"]["first_reported_at"].startswith("2026-11-01T08:00:00")
    assert "lat" not in first["properties"]


def test_open311_requests() -> None:
    reqs = json.loads(downloads.inbox_open311(_inbox(), {"pothole": "حفرة في الطريق"}))
    assert [r["service_request_id"] for r in reqs] == ["7", "9"]
    assert reqs[0]["service_name"] == "حفرة في الطريق"
    assert reqs[1]["service_name"] == "flooding"  # no name known: the code
    assert [r["status"] for r in reqs] == ["open", "open"]  # in_progress is open in Open311
    assert reqs[0]["lat"] == 26.22 and reqs[0]["long"] == 50.58
    assert set(reqs[0]) == {
        "service_request_id",
        "status",
        "service_code",
        "service_name",
        "requested_datetime",
        "updated_datetime",
        "lat",
        "long",
    }


def test_empty_inbox() -> None:
    empty = _inbox().iloc[:0]
    assert json.loads(downloads.inbox_open311(empty, {})) == []
    assert json.loads(downloads.inbox_geojson(empty))["features"] == []
