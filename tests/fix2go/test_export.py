"""``fix2go export``: an agency's reports under its own role; Open311 validated against the
GeoReport v2 field list and types."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
import typer
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from fix2go.commands import export as export_cmd
from spatial.postgis.engine import make_engine
from spatial.postgis.export import ExportError, read_agency_reports

OWN, OTHER = "capital_municipality", "mow_roads"
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")
# GeoReport v2 "GET Service Requests" response fields (open311_georeport_v2.md) and JSON types
OPEN311_TYPES: dict[str, tuple[type, ...]] = {
    "service_request_id": (str,),
    "status": (str,),
    "service_code": (str,),
    "service_name": (str,),
    "description": (str, type(None)),
    "agency_responsible": (str, type(None)),
    "requested_datetime": (str,),
    "updated_datetime": (str,),
    "address": (str, type(None)),
    "lat": (float,),
    "long": (float,),
    "media_url": (str, type(None)),
}


def seed(conn: Connection) -> dict[str, int]:
    rows = [
        ("own-open", OWN, "open", "pothole", 50.58, 26.22, "deep hole [phone]", "https://x/1.jpg"),
        ("own-prog", OWN, "in_progress", "sidewalk", 50.581, 26.221, None, None),
        ("own-closed", OWN, "closed", "debris", 50.582, 26.222, "rocks", None),
        ("other-1", OTHER, "open", "pothole", 50.56, 26.16, "other agency", None),
        ("other-2", OTHER, "open", "damaged_road", 50.561, 26.161, None, None),
    ]
    for sid, agency, status, cat, x, y, desc, photo in rows:
        conn.execute(
            sa.text(
                "INSERT INTO reports (source, source_id, category, status, reported_at, "
                "content_hash, agency_code, description, photo_url, place_en, place_ar, "
                "reporter_pseudonym, geom) VALUES ('test', :sid, :cat, :st, "
                "'2026-03-14T08:21:05+03:00', :sid, :a, :d, :p, 'Manama', 'المنامة', "
                "'pseudo-secret', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"sid": sid, "cat": cat, "st": status, "a": agency, "d": desc, "p": photo, "x": x,
             "y": y},
        )  # fmt: skip
    counts = conn.execute(
        sa.text("SELECT agency_code, count(*) FROM reports GROUP BY agency_code")
    ).all()
    return {str(a): int(n) for a, n in counts}


def test_read_agency_reports_only_own_rows(conn: Connection) -> None:
    counts = seed(conn)
    frame = read_agency_reports(conn, OWN)
    assert len(frame) == counts[OWN] >= 3
    assert set(frame["agency_code"]) == {OWN}
    assert "reporter_pseudonym" not in frame.columns
    other = read_agency_reports(conn, OTHER)
    assert set(other["agency_code"]) == {OTHER}
    assert not set(frame["report_id"]) & set(other["report_id"])
    # the role is restored after the read: the application sees every row again
    total = conn.execute(sa.text("SELECT count(*) FROM reports")).scalar_one()
    assert total == sum(counts.values())


def test_unknown_agency_refused(conn: Connection) -> None:
    with pytest.raises(ExportError, match="unknown agency 'nope'; use one of"):
        read_agency_reports(conn, "nope")


def test_open311_requests_match_the_spec(conn: Connection) -> None:
    seed(conn)
    frame = read_agency_reports(conn, OWN)
    requests = export_cmd.open311_requests(frame)
    assert len(requests) == len(frame)
    for req in requests:
        assert tuple(req) == export_cmd.OPEN311_FIELDS
        for field, value in req.items():
            assert isinstance(value, OPEN311_TYPES[field]), (field, value)
        assert req["status"] in {"open", "closed"}
        for field in ("requested_datetime", "updated_datetime"):
            assert W3C.match(req[field]), req[field]
            assert datetime.fromisoformat(req[field]).utcoffset() is not None
        assert -90 <= req["lat"] <= 90 and -180 <= req["long"] <= 180
        assert req["agency_responsible"] == "Capital Municipality"
    by_id = {r["service_request_id"]: r for r in requests}
    ids = dict(zip(frame["source_id"], frame["report_id"].astype(str), strict=True))
    assert by_id[ids["own-prog"]]["status"] == "open"  # in_progress is open in GeoReport v2
    assert by_id[ids["own-closed"]]["status"] == "closed"
    first = by_id[ids["own-open"]]
    assert first["requested_datetime"] == "2026-03-14T08:21:05+03:00"
    assert first["service_code"] == "pothole" and first["service_name"] == "Pothole"
    assert first["address"] == "Manama / المنامة"
    assert first["media_url"] == "https://x/1.jpg"
    assert first["lat"] == pytest.approx(26.22) and first["long"] == pytest.approx(50.58)


@pytest.fixture(scope="module")
def export_db(new_database: Callable[..., str]) -> Iterator[str]:
    """One committed, seeded throw-away database for the CLI tests (read-only for them)."""
    url = new_database(reference=True)
    engine = make_engine(url)
    with engine.begin() as conn:
        seed(conn)
    engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        yield url


@pytest.fixture
def cli(export_app: typer.Typer) -> typer.Typer:
    return export_app


def test_export_cli_all_formats(cli: typer.Typer, export_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    outs = {}
    for fmt, name in (("csv", "r.csv"), ("geojson", "r.geojson"), ("open311", "requests.json")):
        out = tmp_path / name
        result = runner.invoke(cli, ["export", "--agency", OWN, "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert f"exported 3 reports of {OWN}" in result.output
        outs[fmt] = out

    csv = pd.read_csv(outs["csv"])
    assert set(csv["agency_code"]) == {OWN} and len(csv) == 3
    assert not {"reporter_pseudonym", "raw"} & set(csv.columns)
    assert "pseudo-secret" not in outs["csv"].read_text(encoding="utf-8")

    gj = gpd.read_file(outs["geojson"])
    assert gj.crs.to_epsg() == 4326
    assert set(gj["agency_code"]) == {OWN} and len(gj) == 3
    assert set(gj.geom_type) == {"Point"}

    requests = json.loads(outs["open311"].read_text(encoding="utf-8"))
    assert isinstance(requests, list) and len(requests) == 3
    assert all(tuple(r) == export_cmd.OPEN311_FIELDS for r in requests)
    assert all(r["agency_responsible"] == "Capital Municipality" for r in requests)

    other = tmp_path / "other.json"
    runner.invoke(cli, ["export", "--agency", OTHER, "--format", "open311", "--out", str(other)])
    other_ids = {r["service_request_id"] for r in json.loads(other.read_text(encoding="utf-8"))}
    assert len(other_ids) == 2
    assert not other_ids & {r["service_request_id"] for r in requests}


def test_export_cli_errors(cli: typer.Typer, export_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["export", "--agency", OWN, "--format", "xml", "--out", "x.xml"])
    assert isinstance(bad.exception, ExportError)
    assert "unsupported export format 'xml'" in str(bad.exception)
    missing = tmp_path / "nope" / "x.csv"
    res = runner.invoke(cli, ["export", "--agency", OWN, "--format", "csv", "--out", str(missing)])
    assert isinstance(res.exception, ExportError) and "does not exist" in str(res.exception)
