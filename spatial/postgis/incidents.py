"""Dedup persistence: the reports dedup reads, and the incidents it writes back.

Reports flagged ``suspect_location`` and reports whose routing is ``triage`` or
``unroutable`` take no part: they are not read, and any incident link they had is cleared.

Incidents are keyed by their seed report (``incidents.seed_report_id``, migration 004), the
label :mod:`spatial.dedup` gives every report: re-running dedup updates incidents in place,
inserts new ones, and deletes those whose seed no longer starts an incident.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.crs import STORAGE_EPSG, check_crs
from spatial.postgis.engine import raw_connection

ELIGIBLE_REPORTS_SQL = """
    NOT ('suspect_location' = ANY (r.flags))
    AND coalesce(r.routing_status, 'routed') NOT IN ('triage', 'unroutable')
"""
"""Which reports take part in dedup and hotspots."""


@dataclass(frozen=True)
class IncidentWrite:
    """What one :func:`write_incidents` changed."""

    incidents: int
    inserted: int
    deleted: int
    reports_relinked: int
    reports_unlinked: int
    recurrences: int


def read_dedup_reports(conn: Connection) -> gpd.GeoDataFrame:
    """The reports dedup works on, indexed by report id.

    Columns: ``category``, ``reported_at``, ``closed_at`` (earliest time the report or its
    current incident was closed: the ``closed`` entry of ``report_status_history``, else the
    report's ``updated_at`` when it is closed, else the incident's ``updated_at`` when that is
    closed; NaT while open), ``status``, ``agency_code``, ``governorate_code`` and the Point
    geometry (EPSG:4326). Coordinates travel as floats, not WKB (faster to decode).
    """
    sql = f"""
        SELECT r.id AS report_id, r.category, r.reported_at, r.status, r.agency_code,
               r.governorate_code, ST_X(r.geom) AS lng, ST_Y(r.geom) AS lat,
               nullif(least(
                   CASE WHEN r.status = 'closed' THEN coalesce(h.closed_at, r.updated_at) END,
                   CASE WHEN i.status = 'closed' THEN coalesce(i.closed_at, i.updated_at) END,
                   'infinity'::timestamptz
               ), 'infinity'::timestamptz) AS closed_at
        FROM reports r
        LEFT JOIN (
            SELECT report_id, min(changed_at) AS closed_at
            FROM report_status_history WHERE status = 'closed' GROUP BY report_id
        ) h ON h.report_id = r.id
        LEFT JOIN incidents i ON i.id = r.incident_id
        WHERE {ELIGIBLE_REPORTS_SQL}
        ORDER BY r.id
    """
    df = pd.read_sql_query(sa.text(sql), conn)
    for col in ("reported_at", "closed_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    geometry = gpd.points_from_xy(df.pop("lng"), df.pop("lat"), crs=STORAGE_EPSG)
    out = gpd.GeoDataFrame(df, geometry=geometry, crs=STORAGE_EPSG).set_index("report_id")
    out.index = out.index.astype("int64")
    return out


def _copy_csv(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """COPY ``frame`` (columns = table columns) into ``table`` as CSV, NULL as empty."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, na_rep="")
    raw = raw_connection(conn)
    cols = ", ".join(frame.columns)
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as cp:
        cp.write(buf.getvalue())


def write_incidents(
    conn: Connection, assignment: pd.DataFrame, incidents: gpd.GeoDataFrame
) -> IncidentWrite:
    """Store dedup's result in the caller's transaction (all or nothing).

    Parameters
    ----------
    conn
        A connection inside a transaction.
    assignment
        :func:`spatial.dedup.assign_incidents` output, indexed by report id: ``incident``
        (seed report id) per eligible report.
    incidents
        :func:`spatial.dedup.summarise_incidents` output (indexed by seed report id).
    """
    check_crs(incidents, STORAGE_EPSG, "write_incidents")
    conn.execute(
        sa.text(
            """
            DROP TABLE IF EXISTS _dedup_incidents, _dedup_assign;
            CREATE TEMP TABLE _dedup_incidents (
                seed_report_id bigint PRIMARY KEY, category text, status text,
                n_reports integer, first_reported_at timestamptz, last_reported_at timestamptz,
                closed_at timestamptz, agency_code text, governorate_code text,
                recurrence_seed bigint, h3_cell bigint, lng double precision,
                lat double precision
            ) ON COMMIT DROP;
            CREATE TEMP TABLE _dedup_assign (
                report_id bigint PRIMARY KEY, seed_report_id bigint NOT NULL
            ) ON COMMIT DROP;
            """
        )
    )
    inc = pd.DataFrame(
        {
            "seed_report_id": incidents.index.to_numpy(dtype=np.int64),
            "category": incidents["category"].to_numpy(),
            "status": incidents["status"].to_numpy(),
            "n_reports": incidents["n_reports"].to_numpy(dtype=np.int64),
            "first_reported_at": incidents["first_reported_at"]
            .dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
            .to_numpy(),
            "last_reported_at": incidents["last_reported_at"]
            .dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
            .to_numpy(),
            "closed_at": incidents["closed_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z").to_numpy(),
            "agency_code": incidents["agency_code"].to_numpy(),
            "governorate_code": incidents["governorate_code"].to_numpy(),
            "recurrence_seed": pd.array(incidents["recurrence_of"].to_numpy(), dtype="Int64"),
            "h3_cell": incidents["h3_cell"].to_numpy(dtype=np.int64),
            "lng": incidents.geometry.x.to_numpy(),
            "lat": incidents.geometry.y.to_numpy(),
        }
    )
    _copy_csv(conn, "_dedup_incidents", inc)
    _copy_csv(
        conn,
        "_dedup_assign",
        pd.DataFrame(
            {
                "report_id": assignment.index.to_numpy(dtype=np.int64),
                "seed_report_id": assignment["incident"].to_numpy(dtype=np.int64),
            }
        ),
    )
    conn.execute(sa.text("ANALYZE _dedup_incidents; ANALYZE _dedup_assign"))
    # incidents whose seed no longer starts one: unlink, then delete
    stale = (
        "SELECT id FROM incidents i WHERE i.seed_report_id IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM _dedup_incidents d WHERE d.seed_report_id = i.seed_report_id)"
    )
    conn.execute(
        sa.text(f"UPDATE incidents SET recurrence_of = NULL WHERE recurrence_of IN ({stale})")
    )
    unlinked = conn.execute(
        sa.text(
            "UPDATE reports r SET incident_id = NULL WHERE r.incident_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM _dedup_assign a WHERE a.report_id = r.id)"
        )
    ).rowcount
    conn.execute(
        sa.text(f"UPDATE reports r SET incident_id = NULL WHERE r.incident_id IN ({stale})")
    )
    deleted = conn.execute(sa.text(f"DELETE FROM incidents WHERE id IN ({stale})")).rowcount
    before = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
    conn.execute(
        sa.text(
            """
            INSERT INTO incidents (seed_report_id, category, status, n_reports,
                first_reported_at, last_reported_at, closed_at, agency_code, governorate_code,
                h3_cell, updated_at, geom)
            SELECT d.seed_report_id, d.category, d.status, d.n_reports, d.first_reported_at,
                   d.last_reported_at, d.closed_at, d.agency_code, d.governorate_code,
                   d.h3_cell, now(), ST_SetSRID(ST_MakePoint(d.lng, d.lat), 4326)
            FROM _dedup_incidents d
            ON CONFLICT (seed_report_id) DO UPDATE SET
                category = EXCLUDED.category,
                -- an agency's progress on the incident is kept
                status = CASE
                    WHEN 'closed' IN (incidents.status, EXCLUDED.status) THEN 'closed'
                    WHEN 'in_progress' IN (incidents.status, EXCLUDED.status) THEN 'in_progress'
                    ELSE 'open' END,
                n_reports = EXCLUDED.n_reports,
                first_reported_at = EXCLUDED.first_reported_at,
                last_reported_at = EXCLUDED.last_reported_at,
                closed_at = coalesce(EXCLUDED.closed_at, incidents.closed_at),
                agency_code = EXCLUDED.agency_code,
                governorate_code = EXCLUDED.governorate_code,
                h3_cell = EXCLUDED.h3_cell,
                geom = EXCLUDED.geom,
                updated_at = CASE WHEN (incidents.n_reports, incidents.last_reported_at,
                                        incidents.geom) IS DISTINCT FROM
                                       (EXCLUDED.n_reports, EXCLUDED.last_reported_at,
                                        EXCLUDED.geom)
                             THEN now() ELSE incidents.updated_at END
            """
        )
    )
    total = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
    conn.execute(
        sa.text(
            """
            UPDATE incidents i SET recurrence_of = p.id
            FROM _dedup_incidents d JOIN incidents p ON p.seed_report_id = d.recurrence_seed
            WHERE i.seed_report_id = d.seed_report_id
              AND i.recurrence_of IS DISTINCT FROM p.id
            """
        )
    )
    conn.execute(
        sa.text(
            """
            UPDATE incidents i SET recurrence_of = NULL
            FROM _dedup_incidents d
            WHERE i.seed_report_id = d.seed_report_id AND d.recurrence_seed IS NULL
              AND i.recurrence_of IS NOT NULL
            """
        )
    )
    relinked = conn.execute(
        sa.text(
            """
            UPDATE reports r SET incident_id = i.id
            FROM _dedup_assign a JOIN incidents i ON i.seed_report_id = a.seed_report_id
            WHERE r.id = a.report_id AND r.incident_id IS DISTINCT FROM i.id
            """
        )
    ).rowcount
    recurrences = conn.execute(
        sa.text("SELECT count(*) FROM incidents WHERE recurrence_of IS NOT NULL")
    ).scalar_one()
    conn.execute(sa.text("DROP TABLE _dedup_incidents, _dedup_assign"))
    return IncidentWrite(
        incidents=int(total),
        inserted=int(total) - int(before),
        deleted=int(deleted),
        reports_relinked=int(relinked),
        reports_unlinked=int(unlinked),
        recurrences=int(recurrences),
    )


def incident_counts(conn: Connection) -> dict[str, int]:
    """Counts for summaries: incidents, linked reports, recurrences, open incidents."""
    row = conn.execute(
        sa.text(
            """
            SELECT (SELECT count(*) FROM incidents) AS incidents,
                   (SELECT count(*) FROM reports WHERE incident_id IS NOT NULL) AS linked_reports,
                   (SELECT count(*) FROM incidents WHERE recurrence_of IS NOT NULL) AS recurrences,
                   (SELECT count(*) FROM incidents WHERE status <> 'closed') AS open_incidents
            """
        )
    ).one()
    return dict(row._mapping)


def cluster_dbscan_anchor(
    conn: Connection, lng: np.ndarray, lat: np.ndarray, eps_m: float
) -> dict[str, float]:
    """Benchmark anchor: PostGIS ``ST_ClusterDBSCAN`` (space only, ``minpoints`` 1) on the
    same points, in UTM 39N metres. Loads them into a temporary table (geometry
    ``ST_Transform``'ed once, not timed as clustering) and times the clustering query alone.

    Returns seconds for the load and the clustering, and the number of clusters.
    """
    t0 = time.perf_counter()
    conn.execute(
        sa.text(
            "DROP TABLE IF EXISTS _bench_points; "
            "CREATE TEMP TABLE _bench_points (lng double precision, lat double precision, "
            "geom geometry(Point, 32639))"
        )
    )
    _copy_csv(conn, "_bench_points", pd.DataFrame({"lng": lng, "lat": lat}))
    conn.execute(
        sa.text(
            "UPDATE _bench_points SET geom = "
            "ST_Transform(ST_SetSRID(ST_MakePoint(lng, lat), 4326), 32639)"
        )
    )
    t1 = time.perf_counter()
    n_clusters = conn.execute(
        sa.text(
            "SELECT count(DISTINCT cid) FROM (SELECT ST_ClusterDBSCAN(geom, eps => :eps, "
            "minpoints => 1) OVER () AS cid FROM _bench_points) s"
        ),
        {"eps": float(eps_m)},
    ).scalar_one()
    t2 = time.perf_counter()
    conn.execute(sa.text("DROP TABLE _bench_points"))
    return {"seconds_load": t1 - t0, "seconds_cluster": t2 - t1, "clusters": float(n_clusters)}
