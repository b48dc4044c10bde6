"""Agency inbox downloads: CSV and GeoJSON from the inbox rows; Open311 GeoReport v2 from the
agency's reports, identical to ``fix2go export --format open311``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import downloads
from fix2go.commands import export as export_cmd


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


def test_empty_inbox() -> None:
    empty = _inbox().iloc[:0]
    assert json.loads(downloads.inbox_geojson(empty))["features"] == []


@pytest.mark.parametrize("agency", ["capital_municipality", "ewa"])
def test_open311_download_equals_cli_export(
    agency: str,
    seeded_url: str,
    seeded_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with seeded_engine.connect() as conn:
        payload = downloads.agency_open311(conn, agency)
        conn.rollback()
        n_own = conn.execute(
            sa.text("SELECT count(*) FROM reports WHERE agency_code = :a"), {"a": agency}
        ).scalar_one()
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    out = tmp_path / "requests.json"
    assert export_cmd.export_agency(agency, "open311", out) == n_own
    assert payload == out.read_bytes()
    reqs = json.loads(payload)
    assert len(reqs) == n_own > 0  # the agency's reports, no other agency's
    assert all(tuple(r) == export_cmd.OPEN311_FIELDS for r in reqs)
    assert {r["status"] for r in reqs} <= {"open", "closed"}
