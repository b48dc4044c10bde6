"""spatial.postgis.incidents / hotspots against a real PostGIS (rolled back after each test)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy.engine import Connection

from spatial.dedup import DedupConfig, assign_incidents, summarise_incidents
from spatial.hotspots import HotspotConfig, hotspot_cells
from spatial.postgis.hotspots import read_hotspot_incidents, write_hotspot_cells
from spatial.postgis.incidents import IncidentWrite, read_dedup_reports, write_incidents

CFG = DedupConfig.from_toml()
T0 = pd.Timestamp("2026-03-01T08:00:00+03:00")
_FROM_UTM = Transformer.from_crs(32639, 4326, always_xy=True)
SPOT_A = (460_000.0, 2_900_000.0)
SPOT_B = (462_000.0, 2_900_000.0)
SPOT_C = (464_000.0, 2_901_000.0)


def add_report(
    conn: Connection,
    sid: str,
    spot: tuple[float, float],
    days: float,
    *,
    agency: str | None = None,
    category: str = "pothole",
    status: str = "open",
    routing_status: str | None = "routed",
    flags: list[str] | None = None,
    governorate: str | None = "BH-13",
    dx: float = 0.0,
) -> int:
    lng, lat = _FROM_UTM.transform(spot[0] + dx, spot[1])
    return int(
        conn.execute(
            sa.text(
                """
                INSERT INTO reports (source, source_id, category, status, reported_at,
                    content_hash, agency_code, governorate_code, routing_status, flags, geom)
                VALUES ('test', :sid, :cat, :status, :t, :sid, :agency, :gov, :rs,
                        CAST(:flags AS text[]), ST_SetSRID(ST_MakePoint(:lng, :lat), 4326))
                RETURNING id
                """
            ),
            {
                "sid": sid,
                "cat": category,
                "status": status,
                "t": (T0 + pd.Timedelta(days=days)).to_pydatetime(),
                "agency": agency,
                "gov": governorate,
                "rs": routing_status,
                "flags": flags or [],
                "lng": lng,
                "lat": lat,
            },
        ).scalar_one()
    )


def run_dedup(conn: Connection) -> IncidentWrite:
    reports = read_dedup_reports(conn)
    assignment = assign_incidents(reports, CFG)
    return write_incidents(conn, assignment, summarise_incidents(reports, assignment, 9))


@pytest.fixture
def agencies(conn: Connection) -> list[str]:
    codes = conn.execute(sa.text("SELECT code FROM agencies ORDER BY code LIMIT 2")).scalars().all()
    assert len(codes) == 2, "reference data must hold agencies"
    return list(codes)


@pytest.fixture
def seeded(conn: Connection, agencies: list[str]) -> dict[str, int]:
    a, b = agencies
    ids = {
        "a1": add_report(conn, "a1", SPOT_A, 0, agency=a),
        "a2": add_report(conn, "a2", SPOT_A, 1, agency=b, dx=8),
        "a3": add_report(conn, "a3", SPOT_A, 2, agency=b, dx=-6),
        "a_triage": add_report(conn, "a_triage", SPOT_A, 1, routing_status="triage"),
        "a_suspect": add_report(conn, "a_suspect", SPOT_A, 1, flags=["suspect_location"]),
        "b1": add_report(conn, "b1", SPOT_B, 3, agency=a, category="flooding"),
        "c1": add_report(conn, "c1", SPOT_C, 0, agency=a, status="closed"),
        "c2": add_report(conn, "c2", SPOT_C, 10, agency=a, dx=3),
    }
    conn.execute(
        sa.text(
            "INSERT INTO report_status_history (report_id, status, changed_at) "
            "VALUES (:id, 'closed', :t)"
        ),
        {"id": ids["c1"], "t": (T0 + pd.Timedelta(days=2)).to_pydatetime()},
    )
    return ids


def incident_of(conn: Connection) -> dict[int, int | None]:
    rows = conn.execute(sa.text("SELECT id, incident_id FROM reports")).all()
    return {r.id: r.incident_id for r in rows}


def test_read_excludes_triage_and_suspect_reports(conn: Connection, seeded: dict[str, int]) -> None:
    r = read_dedup_reports(conn)
    assert set(r.index) == {v for k, v in seeded.items() if k not in ("a_triage", "a_suspect")}
    assert r.crs.to_epsg() == 4326
    assert r.loc[seeded["c1"], "closed_at"] == T0 + pd.Timedelta(days=2)
    assert pd.isna(r.loc[seeded["a1"], "closed_at"])


def test_write_incidents(conn: Connection, seeded: dict[str, int], agencies: list[str]) -> None:
    result = run_dedup(conn)
    assert (result.incidents, result.inserted, result.deleted) == (4, 4, 0)
    assert result.recurrences == 1
    links = incident_of(conn)
    assert links[seeded["a1"]] == links[seeded["a2"]] == links[seeded["a3"]] is not None
    assert links[seeded["a_triage"]] is None and links[seeded["a_suspect"]] is None
    assert links[seeded["c1"]] != links[seeded["c2"]]
    inc = conn.execute(
        sa.text(
            "SELECT n_reports, agency_code, governorate_code, seed_report_id, h3_cell, "
            "ST_SRID(geom) AS srid FROM incidents WHERE id = :i"
        ),
        {"i": links[seeded["a1"]]},
    ).one()
    assert inc.n_reports == 3 and inc.agency_code == agencies[1]  # majority of a1..a3
    assert inc.governorate_code == "BH-13" and inc.seed_report_id == seeded["a1"]
    assert inc.h3_cell > 0 and inc.srid == 4326
    rec = conn.execute(
        sa.text("SELECT recurrence_of FROM incidents WHERE id = :i"), {"i": links[seeded["c2"]]}
    ).scalar_one()
    assert rec == links[seeded["c1"]]
    view = conn.execute(sa.text("SELECT count(*) FROM incident_view")).scalar_one()
    assert view == 4


def test_rerun_is_stable_and_follows_new_reports(conn: Connection, seeded: dict[str, int]) -> None:
    run_dedup(conn)
    before = incident_of(conn)
    again = run_dedup(conn)
    assert (again.inserted, again.deleted, again.reports_relinked) == (0, 0, 0)
    assert incident_of(conn) == before
    # a report of spot A dated before a1 becomes the seed: A's incident is replaced
    early = add_report(conn, "a0", SPOT_A, -1, dx=2)
    third = run_dedup(conn)
    assert (third.inserted, third.deleted) == (1, 1)
    after = incident_of(conn)
    assert after[early] == after[seeded["a1"]] != before[seeded["a1"]]
    assert after[seeded["b1"]] == before[seeded["b1"]]
    # a report now flagged suspect leaves its incident
    conn.execute(
        sa.text("UPDATE reports SET flags = '{suspect_location}' WHERE id = :i"), {"i": early}
    )
    fourth = run_dedup(conn)
    assert fourth.reports_unlinked == 1 and incident_of(conn)[early] is None


def test_hotspot_cells_round_trip(conn: Connection, seeded: dict[str, int]) -> None:
    run_dedup(conn)
    incidents = read_hotspot_incidents(conn)
    assert len(incidents) == 4
    cfg = dataclasses.replace(HotspotConfig.from_toml(), permutations=9, periods={"all": 0})
    cells = hotspot_cells(incidents, cfg)
    n = write_hotspot_cells(conn, cells)
    assert n == len(cells)
    stored = conn.execute(
        sa.text(
            "SELECT count(*) AS n, sum(n_incidents) AS inc, "
            "bool_and(ST_GeometryType(geom) = 'ST_Polygon' AND ST_SRID(geom) = 4326) AS poly, "
            "count(DISTINCT computed_at) AS runs FROM hotspot_cells "
            "WHERE category_group = 'all' AND period = 'all'"
        )
    ).one()
    assert stored.inc == 4 * len(cfg.resolutions)
    assert stored.poly and stored.runs == 1
    # a second write replaces the first
    assert write_hotspot_cells(conn, cells.iloc[:5]) == 5
    assert conn.execute(sa.text("SELECT count(*) FROM hotspot_cells")).scalar_one() == 5
