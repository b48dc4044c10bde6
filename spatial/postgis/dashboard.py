"""Dashboard queries: KPIs, H3 aggregates, hotspots, trends, agency inbox and data quality.

Every figure the dashboard shows is computed here, in SQL, from the prepared tables
(``incidents``, ``hotspot_cells``, ``ingest_batches``...); no function returns raw report
points for the whole territory. Functions take a ``Connection`` and return small frames.
Tables that a later migration adds (``hotspot_cells``) may be missing: their readers then
return an empty frame of the right shape.

No personal data: the reporter pseudonym and the raw input rows are never selected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

HIGH_CONFIDENCE_MIN = 0.8
"""A report counts as "routed with high confidence" at or above this routing confidence
(the same threshold is written in ``sql/005_dashboard.sql``; a test checks they agree)."""

LOW_CONFIDENCE_MAX = 0.5
"""Routed reports below this confidence join the triage queue."""

TRIAGE_CANDIDATE_DISTANCE_M = 2000.0
"""Road authorities within this distance of a triage report give its candidate agencies."""

GOVERNORATE_SIMPLIFY_DEG = 0.0005
"""Outline simplification for display (about 50 m)."""

H3_MAX_RESOLUTION = 15


@dataclass(frozen=True)
class Filters:
    """Sidebar filters. ``None`` or empty means "all"; dates are inclusive calendar days (UTC)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    categories: tuple[str, ...] = ()
    governorate: str | None = None
    agency: str | None = None
    statuses: tuple[str, ...] = ()


def _where(f: Filters, *, alias: str, time_cols: tuple[str, str]) -> tuple[str, dict[str, Any]]:
    """SQL condition and parameters for ``f`` on a table aliased ``alias``.

    ``time_cols`` is (start, end) of the row's time span: a row matches a date range when its
    span overlaps it (for reports both are ``reported_at``).
    """
    parts = ["true"]
    params: dict[str, Any] = {}
    start, end = time_cols
    if f.date_from is not None:
        parts.append(f"{alias}.{end} >= :date_from")
        params["date_from"] = dt.datetime.combine(f.date_from, dt.time(), tzinfo=dt.UTC)
    if f.date_to is not None:
        parts.append(f"{alias}.{start} < :date_to_excl")
        params["date_to_excl"] = dt.datetime.combine(
            f.date_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC
        )
    if f.categories:
        parts.append(f"{alias}.category = ANY(:categories)")
        params["categories"] = list(f.categories)
    if f.governorate:
        parts.append(f"{alias}.governorate_code = :governorate")
        params["governorate"] = f.governorate
    if f.agency:
        parts.append(f"{alias}.agency_code = :agency")
        params["agency"] = f.agency
    if f.statuses:
        parts.append(f"{alias}.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    return " AND ".join(parts), params


def _incident_where(f: Filters) -> tuple[str, dict[str, Any]]:
    return _where(f, alias="i", time_cols=("first_reported_at", "last_reported_at"))


def _frame(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    result = conn.execute(sa.text(sql), params or {})
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def table_exists(conn: Connection, name: str) -> bool:
    """True when ``public.<name>`` exists (a later migration may not be applied yet)."""
    return (
        conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": f"public.{name}"}).scalar()
        is not None
    )


VERSION_TABLES = ("reports", "incidents", "hotspot_cells", "ingest_batches")
"""Tables whose writes change :func:`data_version`."""


def data_version(conn: Connection) -> str:
    """A cheap token that changes whenever the dashboard's source tables are written.

    Built from the latest batch id and the cumulative insert/update/delete counters of
    :data:`VERSION_TABLES` (``pg_stat_user_tables``: a writing session publishes them when
    its transaction ends, or at the latest about 10 s later when it stays idle), so it costs
    no table scan even at a million reports.
    """
    row = conn.execute(
        sa.text(
            "SELECT (SELECT coalesce(max(id), 0) FROM ingest_batches), "
            "(SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            " FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = ANY(:t))"
        ),
        {"t": list(VERSION_TABLES)},
    ).one()
    return f"{row[0]}:{row[1]}"


def h3_parent_sql(cell: str, resolution: int) -> str:
    """SQL expression: the parent at ``resolution`` of the int64 H3 cell expression ``cell``.

    Sets the index's resolution field (bits 52-55) and fills the digits finer than the
    parent with 7 (the H3 index layout), so no H3 extension is needed in the database.

    Examples
    --------
    >>> h3_parent_sql("c", 7)
    '(((c) & ~(15::bigint << 52)) | (7::bigint << 52) | 16777215::bigint)'
    """
    if not 0 <= resolution <= H3_MAX_RESOLUTION:
        raise ValueError(f"H3 resolution must be 0..15, got {resolution!r}; pick e.g. 7, 8 or 9")
    fill = (1 << (3 * (H3_MAX_RESOLUTION - resolution))) - 1
    return f"((({cell}) & ~(15::bigint << 52)) | ({resolution}::bigint << 52) | {fill}::bigint)"


# --- Reference lists for the filters ----------------------------------------------------------


def categories(conn: Connection) -> pd.DataFrame:
    """``code, name_en, name_ar`` of the categories."""
    return _frame(conn, "SELECT code, name_en, name_ar FROM categories ORDER BY code")


def agencies(conn: Connection) -> pd.DataFrame:
    """``code, name_en, name_ar, kind`` of the agencies."""
    return _frame(conn, "SELECT code, name_en, name_ar, kind FROM agencies ORDER BY code")


def governorate_list(conn: Connection) -> pd.DataFrame:
    """``code, name_en, name_ar`` of the current governorates."""
    return _frame(
        conn,
        "SELECT code, name_en, COALESCE(name_ar, name_en) AS name_ar FROM governorates "
        "WHERE is_current ORDER BY code",
    )


def governorate_outlines(
    conn: Connection, simplify_deg: float = GOVERNORATE_SIMPLIFY_DEG
) -> gpd.GeoDataFrame:
    """Current governorates, simplified for display: ``code, name_en, name_ar, geom``."""
    sql = (
        "SELECT code, name_en, COALESCE(name_ar, name_en) AS name_ar, "
        "ST_SimplifyPreserveTopology(geom, :tol) AS geom "
        "FROM governorates WHERE is_current ORDER BY code"
    )
    return gpd.read_postgis(
        sa.text(sql), conn, geom_col="geom", crs=4326, params={"tol": simplify_deg}
    )


def report_date_bounds(conn: Connection) -> tuple[dt.date | None, dt.date | None]:
    """First and last report day (UTC), or (None, None) when there are no reports."""
    row = conn.execute(
        sa.text(
            "SELECT (min(reported_at) AT TIME ZONE 'UTC')::date, "
            "(max(reported_at) AT TIME ZONE 'UTC')::date FROM reports"
        )
    ).one()
    return row[0], row[1]


# --- Planner ----------------------------------------------------------------------------------


def _day_where(f: Filters) -> tuple[str, dict[str, Any]]:
    """Condition on ``dashboard_report_days`` (alias ``d``) for the report filters ``f``."""
    parts = ["true"]
    params: dict[str, Any] = {}
    if f.date_from is not None:
        parts.append("d.day >= :date_from")
        params["date_from"] = f.date_from
    if f.date_to is not None:
        parts.append("d.day <= :date_to")
        params["date_to"] = f.date_to
    if f.categories:
        parts.append("d.category = ANY(:categories)")
        params["categories"] = list(f.categories)
    if f.governorate:
        parts.append("d.governorate_code = :governorate")
        params["governorate"] = f.governorate
    if f.agency:
        parts.append("d.agency_code = :agency")
        params["agency"] = f.agency
    if f.statuses:
        parts.append("d.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    return " AND ".join(parts), params


def refresh_aggregates(conn: Connection) -> None:
    """Recompute ``dashboard_report_days`` (sql/005) from ``reports``.

    Readers keep seeing the previous contents until the refresh commits (``CONCURRENTLY``),
    except on the very first refresh of an unpopulated view.
    """
    populated = conn.execute(
        sa.text("SELECT ispopulated FROM pg_matviews WHERE matviewname = 'dashboard_report_days'")
    ).scalar()
    mode = "CONCURRENTLY " if populated else ""
    conn.execute(sa.text(f"REFRESH MATERIALIZED VIEW {mode}dashboard_report_days"))


def kpis(conn: Connection, f: Filters) -> dict[str, float | int | None]:
    """The planner's four figures under the filters ``f``.

    - ``open_incidents``: incidents with status ``open`` (category, governorate, agency and
      date filters apply; the status filter does not: the figure is about open ones);
    - ``reports_in_period``: reports matching every filter;
    - ``median_age_open_days``: median days since the first report of those open incidents
      (None when there are none);
    - ``high_confidence_share``: share (0-1) of the period's reports routed (``routed``) with
      a confidence of at least :data:`HIGH_CONFIDENCE_MIN` (None when there are no reports).

    Report figures come from ``dashboard_report_days`` (see :func:`refresh_aggregates`).
    """
    inc_f = Filters(f.date_from, f.date_to, f.categories, f.governorate, f.agency, ("open",))
    iw, ip = _incident_where(inc_f)
    dw, dp = _day_where(f)
    inc = conn.execute(
        sa.text(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP "
            "(ORDER BY extract(epoch FROM now() - i.first_reported_at) / 86400.0) "
            f"FROM incidents i WHERE {iw}"
        ),
        ip,
    ).one()
    rep = conn.execute(
        sa.text(
            "SELECT coalesce(sum(d.n_reports), 0), coalesce(sum(d.n_high_confidence), 0) "
            f"FROM dashboard_report_days d WHERE {dw}"
        ),
        dp,
    ).one()
    n_reports = int(rep[0])
    return {
        "open_incidents": int(inc[0]),
        "reports_in_period": n_reports,
        "median_age_open_days": None if inc[1] is None else float(inc[1]),
        "high_confidence_share": None if n_reports == 0 else int(rep[1]) / n_reports,
    }


def incident_cells(conn: Connection, f: Filters, resolution: int) -> pd.DataFrame:
    """Incidents aggregated to H3 cells at ``resolution``: ``h3_cell, n_incidents, n_reports``.

    Uses ``incidents.h3_cell`` (report resolution) and its parent computed in SQL.
    """
    w, p = _incident_where(f)
    parent = h3_parent_sql("i.h3_cell", resolution)
    return _frame(
        conn,
        f"SELECT {parent} AS h3_cell, count(*)::int AS n_incidents, "
        "sum(i.n_reports)::int AS n_reports "
        f"FROM incidents i WHERE i.h3_cell IS NOT NULL AND {w} "
        "GROUP BY 1 ORDER BY 1",
        p,
    )


def incidents_in_view(
    conn: Connection,
    f: Filters,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
) -> pd.DataFrame:
    """At most ``limit`` + 1 incidents (``incident_id, lat, lon, category, n_reports, status``).

    ``bbox`` is (min_lon, min_lat, max_lon, max_lat) or None for everywhere. One row more than
    ``limit`` tells the caller there are too many to draw individually.
    """
    w, p = _incident_where(f)
    if bbox is not None:
        w += " AND i.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
        p.update(dict(zip(("x0", "y0", "x1", "y1"), bbox, strict=True)))
    return _frame(
        conn,
        "SELECT i.id AS incident_id, ST_Y(i.geom) AS lat, ST_X(i.geom) AS lon, i.category, "
        f"i.n_reports, i.status FROM incidents i WHERE {w} "
        "ORDER BY i.n_reports DESC, i.id LIMIT :lim",
        {**p, "lim": limit + 1},
    )


HOTSPOT_COLUMNS = ["h3_cell", "n_incidents", "gi_z", "p_value", "hot_class", "confidence", "trend"]


def hotspot_groups(conn: Connection) -> pd.DataFrame:
    """Available ``resolution, category_group, period`` of the computed hotspot cells."""
    if not table_exists(conn, "hotspot_cells"):
        return pd.DataFrame(columns=["resolution", "category_group", "period"])
    return _frame(
        conn,
        "SELECT DISTINCT resolution, category_group, period FROM hotspot_cells ORDER BY 1, 2, 3",
    )


def hotspot_cells(
    conn: Connection, resolution: int, category_group: str | None, period: str | None
) -> pd.DataFrame:
    """Significant Gi* cells (``hot_class`` != 0) of one resolution/group/period."""
    if not table_exists(conn, "hotspot_cells"):
        return pd.DataFrame(columns=HOTSPOT_COLUMNS)
    return _frame(
        conn,
        f"SELECT {', '.join(HOTSPOT_COLUMNS)} FROM hotspot_cells "
        "WHERE resolution = :res AND hot_class <> 0 "
        "AND (CAST(:grp AS text) IS NULL OR category_group = :grp) "
        "AND (CAST(:per AS text) IS NULL OR period = :per) ORDER BY h3_cell",
        {"res": resolution, "grp": category_group, "per": period},
    )


def top_hotspots(
    conn: Connection,
    resolution: int,
    category_group: str | None,
    period: str | None,
    limit: int,
) -> pd.DataFrame:
    """The hottest cells with their nearest place name.

    Columns ``h3_cell, place_en, place_ar, n_incidents, trend, confidence, gi_z, lat, lon``,
    ordered by class then z-score (highest first).
    """
    cols = ["h3_cell", "place_en", "place_ar", "n_incidents", "trend", "confidence", "gi_z"]
    if not table_exists(conn, "hotspot_cells"):
        return pd.DataFrame(columns=[*cols, "lat", "lon"])
    return _frame(
        conn,
        "SELECT h.h3_cell, p.name_en AS place_en, COALESCE(p.name_ar, p.name_en) AS place_ar, "
        "h.n_incidents, h.trend, h.confidence, h.gi_z, "
        "ST_Y(ST_Centroid(h.geom)) AS lat, ST_X(ST_Centroid(h.geom)) AS lon "
        "FROM hotspot_cells h "
        "LEFT JOIN LATERAL (SELECT name_en, name_ar FROM places "
        "  ORDER BY places.geom <-> ST_Centroid(h.geom) LIMIT 1) p ON true "
        "WHERE h.resolution = :res AND h.hot_class > 0 "
        "AND (CAST(:grp AS text) IS NULL OR h.category_group = :grp) "
        "AND (CAST(:per AS text) IS NULL OR h.period = :per) "
        "ORDER BY h.hot_class DESC, h.gi_z DESC LIMIT :lim",
        {"res": resolution, "grp": category_group, "per": period, "lim": limit},
    )


def weekly_trend(conn: Connection, f: Filters) -> pd.DataFrame:
    """Reports per ISO week (Monday, UTC) and category: ``week, category, n_reports``."""
    w, p = _day_where(f)
    return _frame(
        conn,
        "SELECT date_trunc('week', d.day)::date AS week, d.category, "
        "sum(d.n_reports)::int AS n_reports "
        f"FROM dashboard_report_days d WHERE {w} GROUP BY 1, 2 ORDER BY 1, 2",
        p,
    )


# --- Agency inbox (run inside agency_scope) ---------------------------------------------------


def row_level_security_available() -> bool:
    """True when the routing layer's agency roles (``spatial.postgis.security``) exist."""
    try:
        from spatial.postgis import security
    except ImportError:
        return False
    return hasattr(security, "as_agency")


@contextmanager
def agency_scope(conn: Connection, agency_code: str) -> Iterator[Connection]:
    """Run the block under the agency's database role (row-level security).

    Uses ``spatial.postgis.security.as_agency`` (SET LOCAL ROLE, in the caller's transaction)
    when the routing layer provides it. The inbox queries also filter on ``agency_code``
    explicitly, so they return only that agency's rows in every case.
    """
    if not row_level_security_available():
        yield conn
        return
    from spatial.postgis.security import as_agency

    with as_agency(conn, agency_code):
        yield conn


def agency_boundary(conn: Connection, agency_code: str) -> gpd.GeoDataFrame:
    """The union of the current road authorities an agency answers for (default or by rule)."""
    sql = (
        "SELECT ST_Multi(ST_Union(ra.geom)) AS geom FROM road_authorities ra "
        "WHERE ra.is_current AND (ra.default_agency = :a OR EXISTS ("
        " SELECT 1 FROM routing_rules rr WHERE rr.authority_code = ra.code"
        " AND rr.agency_code = :a)) HAVING count(*) > 0"
    )
    return gpd.read_postgis(
        sa.text(sql), conn, geom_col="geom", crs=4326, params={"a": agency_code}
    )


def agency_incidents(conn: Connection, agency_code: str, limit: int) -> pd.DataFrame:
    """The agency's open incidents by priority: most reports, then oldest, then recurring.

    Columns ``incident_id, category, status, n_reports, age_days, recurrence,
    first_reported_at, last_reported_at, lat, lon``.
    """
    return _frame(
        conn,
        "SELECT i.id AS incident_id, i.category, i.status, i.n_reports, "
        "round((extract(epoch FROM now() - i.first_reported_at) / 86400.0)::numeric, 1)::float"
        " AS age_days, (i.recurrence_of IS NOT NULL) AS recurrence, "
        "i.first_reported_at, i.last_reported_at, ST_Y(i.geom) AS lat, ST_X(i.geom) AS lon "
        "FROM incidents i WHERE i.agency_code = :a AND i.status <> 'closed' "
        "ORDER BY i.n_reports DESC, i.first_reported_at ASC, (i.recurrence_of IS NOT NULL) DESC,"
        " i.id LIMIT :lim",
        {"a": agency_code, "lim": limit},
    )


def incident_reports(conn: Connection, agency_code: str, incident_id: int) -> pd.DataFrame:
    """An incident's reports: ``report_id, category, status, reported_at, channel,
    description`` (redacted at ingest), ``photo_url``. Never the reporter pseudonym."""
    return _frame(
        conn,
        "SELECT r.id AS report_id, r.category, r.status, r.reported_at, r.channel, "
        "r.description, r.photo_url FROM reports r "
        "WHERE r.incident_id = :i AND r.agency_code = :a ORDER BY r.reported_at",
        {"i": incident_id, "a": agency_code},
    )


# --- Data quality -----------------------------------------------------------------------------


def ingest_batches(conn: Connection, limit: int) -> pd.DataFrame:
    """Latest ingest batches with their counts (no file contents)."""
    return _frame(
        conn,
        "SELECT id AS batch_id, source, file_name, format, started_at, finished_at, n_in, "
        "n_new, n_updated, n_unchanged, n_rejected FROM ingest_batches "
        "ORDER BY id DESC LIMIT :lim",
        {"lim": limit},
    )


def rejects_by_reason(conn: Connection) -> pd.DataFrame:
    """``reason, n_rejects`` over every batch, most frequent first."""
    return _frame(
        conn,
        "SELECT reason, count(*)::int AS n_rejects FROM ingest_rejects "
        "GROUP BY reason ORDER BY 2 DESC, 1",
    )


def reject_rows(conn: Connection, reason: str | None, limit: int) -> pd.DataFrame:
    """Rejected rows by batch and row number with reason code and detail (never the raw row)."""
    return _frame(
        conn,
        "SELECT batch_id, row_number, reason, detail FROM ingest_rejects "
        "WHERE CAST(:reason AS text) IS NULL OR reason = :reason "
        "ORDER BY batch_id DESC, row_number LIMIT :lim",
        {"reason": reason, "lim": limit},
    )


def triage_queue(
    conn: Connection,
    limit: int,
    low_confidence_max: float = LOW_CONFIDENCE_MAX,
    candidate_distance_m: float = TRIAGE_CANDIDATE_DISTANCE_M,
) -> pd.DataFrame:
    """Unroutable, triage and low-confidence reports with candidate agencies nearby.

    Columns ``report_id, category, reported_at, routing_status, routing_confidence,
    routing_reason, agency_code, candidates`` (comma-separated agency codes of the road
    authorities within ``candidate_distance_m``), ``lat, lon``.
    """
    return _frame(
        conn,
        "SELECT r.id AS report_id, r.category, r.reported_at, r.routing_status, "
        "r.routing_confidence, r.routing_reason, r.agency_code, "
        "(SELECT string_agg(DISTINCT COALESCE(rr.agency_code, ra.default_agency), ', ') "
        "   FROM road_authorities ra LEFT JOIN routing_rules rr "
        "     ON rr.authority_code = ra.code AND rr.category = r.category "
        "   WHERE ra.is_current AND ST_DWithin(ra.geom::geography, r.geom::geography, :d)"
        ") AS candidates, ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon "
        "FROM reports r WHERE r.routing_status IN ('triage', 'unroutable') "
        "OR r.routing_status IS NULL "
        "OR (r.routing_status = 'routed' AND r.routing_confidence < :lc) "
        "ORDER BY r.reported_at DESC, r.id LIMIT :lim",
        {"lim": limit, "lc": low_confidence_max, "d": candidate_distance_m},
    )


def triage_count(conn: Connection, low_confidence_max: float = LOW_CONFIDENCE_MAX) -> int:
    """How many reports :func:`triage_queue` would list without a limit."""
    return int(
        conn.execute(
            sa.text(
                "SELECT count(*) FROM reports r WHERE r.routing_status IN "
                "('triage', 'unroutable') OR r.routing_status IS NULL "
                "OR (r.routing_status = 'routed' AND r.routing_confidence < :lc)"
            ),
            {"lc": low_confidence_max},
        ).scalar_one()
    )


def suspect_locations(conn: Connection, limit: int) -> pd.DataFrame:
    """Reports flagged ``suspect_location`` or ``swapped_coordinates`` at ingest."""
    return _frame(
        conn,
        "SELECT r.id AS report_id, r.category, r.reported_at, array_to_string(r.flags, ', ') "
        "AS flags, r.governorate_code, ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon "
        "FROM reports r WHERE r.flags && ARRAY['suspect_location', 'swapped_coordinates'] "
        "ORDER BY r.reported_at DESC, r.id LIMIT :lim",
        {"lim": limit},
    )
