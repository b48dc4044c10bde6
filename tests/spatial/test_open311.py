"""spatial.open311: the one GeoReport v2 formatter of the CLI export and the dashboard."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from spatial import open311


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "report_id": [11, 12, 13],
            "status": ["open", "in_progress", "closed"],
            "category": ["pothole", "sidewalk", "debris"],
            "category_name_en": ["Pothole", "Sidewalk", "Debris"],
            "description": ["x" * 5000, "", None],
            "agency_name_en": ["Capital Municipality", None, "Capital Municipality"],
            "reported_at": pd.to_datetime(
                ["2026-03-14T05:21:05Z", "2026-03-14T21:30:00Z", "2026-03-15T00:00:00Z"]
            ),
            "updated_at": pd.to_datetime(["2026-03-14T05:21:05Z", None, "2026-03-16T12:00:00Z"]),
            "place_en": ["Manama", "Riffa", None],
            "place_ar": ["المنامة", None, None],
            "photo_url": ["https://x/1.jpg", None, ""],
        },
        geometry=[Point(50.58, 26.22), Point(50.55, 26.13), Point(50.6, 26.2)],
        crs=4326,
    ).rename_geometry("geom")


def test_requests_fields_status_and_order() -> None:
    reqs = open311.open311_requests(_frame())
    assert [tuple(r) for r in reqs] == [open311.OPEN311_FIELDS] * 3
    assert [r["service_request_id"] for r in reqs] == ["11", "12", "13"]
    assert [r["status"] for r in reqs] == ["open", "open", "closed"]
    assert reqs[0]["lat"] == 26.22 and reqs[0]["long"] == 50.58


def test_times_in_bahrain_time_with_offset() -> None:
    reqs = open311.open311_requests(_frame())
    assert reqs[0]["requested_datetime"] == "2026-03-14T08:21:05+03:00"
    assert reqs[1]["requested_datetime"] == "2026-03-15T00:30:00+03:00"  # next day in Bahrain
    assert reqs[1]["updated_datetime"] is None


def test_text_fields_trimmed_and_empty_as_null() -> None:
    reqs = open311.open311_requests(_frame())
    assert len(reqs[0]["description"]) == open311.OPEN311_DESCRIPTION_MAX_CHARS
    assert reqs[1]["description"] is None and reqs[2]["description"] is None
    assert reqs[0]["address"] == "Manama / المنامة"
    assert reqs[1]["address"] == "Riffa" and reqs[2]["address"] is None
    assert reqs[1]["agency_responsible"] is None
    assert reqs[0]["media_url"] == "https://x/1.jpg" and reqs[2]["media_url"] is None


def test_json_document() -> None:
    doc = open311.open311_json(_frame())
    assert doc.endswith("]\n") and "المنامة" in doc  # Arabic kept, not \\u-escaped
    assert json.loads(doc) == json.loads(json.dumps(open311.open311_requests(_frame())))
    assert json.loads(open311.open311_json(_frame().iloc[:0])) == []
