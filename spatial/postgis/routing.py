"""Routing in the database: read the current boundary layers, replay routing of open reports
after a boundary change (diff, then apply with an audit trail)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.crs import STORAGE_EPSG
from spatial.errors import BoundaryError
from spatial.postgis.engine import raw_connection
from spatial.routing import (
    ROUTING_COLUMNS,
    BoundaryLayers,
    RoutingConfig,
    assign_jurisdiction,
    prepare_layers,
)

OPEN_STATUSES = ("open", "in_progress")
"""Reports in these statuses are re-routed by a replay; closed ones keep their history."""


def current_boundary_version(conn: Connection) -> str:
    """Label of the current boundary versions, e.g. ``governorates=v1;road_authorities=v2``."""
    parts = []
    for layer in ("governorates", "road_authorities"):
        versions = (
            conn.execute(
                sa.text(
                    f"SELECT DISTINCT boundary_version FROM {layer} "
                    "WHERE is_current ORDER BY boundary_version"
                )
            )
            .scalars()
            .all()
        )
        parts.append(f"{layer}={'+'.join(versions) or 'none'}")
    return ";".join(parts)


def read_boundary_layers(conn: Connection, config: RoutingConfig | None = None) -> BoundaryLayers:
    """The current governorates, road authorities, routing rules and places, prepared once.

    Raises
    ------
    BoundaryError
        When no governorate or road authority is loaded.
    """
    governorates = gpd.read_postgis(
        sa.text("SELECT code, name_en, name_ar, geom FROM governorates WHERE is_current"),
        conn,
        geom_col="geom",
        crs=STORAGE_EPSG,
    )
    authorities = gpd.read_postgis(
        sa.text(
            "SELECT code, name_en, name_ar, kind, precedence, default_agency, geom "
            "FROM road_authorities WHERE is_current"
        ),
        conn,
        geom_col="geom",
        crs=STORAGE_EPSG,
    )
    for frame, layer in ((governorates, "governorates"), (authorities, "road_authorities")):
        if frame.empty:
            raise BoundaryError(
                f"no current {layer} in the database; load them with "
                f"`fix2go boundaries load FILE --layer {layer}` (or `fix2go demo --no-serve`)"
            )
    rules = pd.read_sql(
        sa.text("SELECT authority_code, category, agency_code FROM routing_rules"), conn
    )
    places = gpd.read_postgis(
        sa.text("SELECT name_en, name_ar, geom FROM places ORDER BY wof_id"),
        conn,
        geom_col="geom",
        crs=STORAGE_EPSG,
    )
    return prepare_layers(
        governorates,
        authorities,
        rules,
        places,
        config,
        version=current_boundary_version(conn),
    )


# --- replay and routing of stored reports ---------------------------------------------------

ROUTING_FIELDS = ROUTING_COLUMNS
_KEY_FIELDS = ("governorate_code", "authority_code", "agency_code")


@dataclass(frozen=True)
class ReplayDiff:
    """What a routing run would change: one row per report whose governorate, authority or
    agency changes (``report_id``, ``category``, ``old_<key>`` and ``new_<column>`` for every
    routing column), plus how many reports were examined."""

    version: str
    n_examined: int
    changes: pd.DataFrame
    #: reports whose governorate, authority and agency stay but whose confidence, reason,
    #: status or place change (``report_id`` and ``new_<column>``): written, not audited
    refresh: pd.DataFrame = field(default_factory=pd.DataFrame)

    def counts(self) -> pd.DataFrame:
        """Changed reports per (old agency -> new agency), most first (``-`` for none)."""
        if self.changes.empty:
            return pd.DataFrame({"old_agency": [], "new_agency": [], "n": []})
        pairs = pd.DataFrame(
            {
                "old_agency": self.changes["old_agency_code"].astype(object).fillna("-"),
                "new_agency": self.changes["new_agency_code"].astype(object).fillna("-"),
            }
        )
        return (
            pairs.groupby(["old_agency", "new_agency"])
            .size()
            .rename("n")
            .reset_index()
            .sort_values(["n", "old_agency", "new_agency"], ascending=[False, True, True])
            .reset_index(drop=True)
        )

    def n_changed(self, key: str) -> int:
        """Number of reports whose ``key`` (governorate_code, authority_code, agency_code)
        changes."""
        old = self.changes[f"old_{key}"].astype(object)
        new = self.changes[f"new_{key}"].astype(object)
        return int((old.fillna("\0") != new.fillna("\0")).sum())


def read_reports_to_route(conn: Connection, *, replay: bool) -> gpd.GeoDataFrame:
    """Reports to (re-)route, with their current routing (no personal data).

    ``replay=True``: the open and in-progress reports (after a boundary change);
    ``replay=False``: the reports never routed (``routing_status IS NULL``).
    """
    where = "status = ANY(:statuses)" if replay else "routing_status IS NULL"
    return gpd.read_postgis(
        sa.text(
            f"SELECT id AS report_id, category, {', '.join(ROUTING_FIELDS)}, geom "
            f"FROM reports WHERE {where} ORDER BY id"
        ),
        conn,
        geom_col="geom",
        crs=STORAGE_EPSG,
        params={"statuses": list(OPEN_STATUSES)} if replay else {},
    )


def routing_diff(conn: Connection, layers: BoundaryLayers, *, replay: bool = True) -> ReplayDiff:
    """Route the selected reports (see :func:`read_reports_to_route`) with ``layers`` and
    return those whose governorate, authority or agency would change (for never-routed
    reports: all of them)."""
    reports = read_reports_to_route(conn, replay=replay)
    routed = assign_jurisdiction(reports, layers)
    key_changed = np.zeros(len(reports), dtype=bool)
    any_changed = np.zeros(len(reports), dtype=bool)
    for col in ROUTING_FIELDS:
        before = reports[col].astype(object).fillna("\0").to_numpy()
        after = routed[col].astype(object).fillna("\0").to_numpy()
        differs = before != after
        any_changed |= differs
        if col in _KEY_FIELDS:
            key_changed |= differs
    if not replay:
        key_changed[:] = True
    sel = reports.index[key_changed]
    changes = pd.DataFrame(
        {
            "report_id": reports.loc[sel, "report_id"].astype("int64").to_numpy(),
            "category": reports.loc[sel, "category"].astype(object).to_numpy(),
            **{f"old_{c}": reports.loc[sel, c].astype(object).to_numpy() for c in _KEY_FIELDS},
            **{f"new_{c}": routed.loc[sel, c].to_numpy() for c in ROUTING_FIELDS},
        }
    )
    rest = reports.index[any_changed & ~key_changed]
    refresh = pd.DataFrame(
        {
            "report_id": reports.loc[rest, "report_id"].astype("int64").to_numpy(),
            **{f"new_{c}": routed.loc[rest, c].to_numpy() for c in ROUTING_FIELDS},
        }
    )
    return ReplayDiff(
        version=layers.version or "unknown",
        n_examined=len(reports),
        changes=changes,
        refresh=refresh,
    )


def replay_diff(conn: Connection, layers: BoundaryLayers) -> ReplayDiff:
    """Re-route the open reports with ``layers`` and return what would change."""
    return routing_diff(conn, layers, replay=True)


def _copy_rows(conn: Connection, table: str, columns: tuple[str, ...], frame: pd.DataFrame) -> None:
    raw = raw_connection(conn)
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in frame[list(columns)].itertuples(index=False, name=None):
            cp.write_row([None if v is None or v != v else v for v in row])


def apply_routing(conn: Connection, diff: ReplayDiff, *, audit: bool = True) -> int:
    """Write the new routing of the reports in ``diff.changes`` (with ``audit``: one
    ``routing_audit`` row each) and ``diff.refresh`` (not audited) in the caller's
    transaction: all or nothing.

    Returns
    -------
    int
        The number of reports updated.
    """
    columns = ("report_id", *(f"new_{c}" for c in ROUTING_FIELDS))
    frames = [f for f in (diff.changes, diff.refresh) if len(f)]
    if not frames:
        return 0
    rows = pd.concat([f[list(columns)] for f in frames], ignore_index=True)
    rows["audited"] = np.arange(len(rows)) < len(diff.changes)
    conn.execute(
        sa.text(
            "CREATE TEMP TABLE _routing_new (report_id bigint PRIMARY KEY, "
            + ", ".join(
                f"new_{c} {'double precision' if c == 'routing_confidence' else 'text'}"
                for c in ROUTING_FIELDS
            )
            + ", audited boolean NOT NULL) ON COMMIT DROP"
        )
    )
    _copy_rows(conn, "_routing_new", (*columns, "audited"), rows)
    if audit:
        conn.execute(
            sa.text(
                "INSERT INTO routing_audit (report_id, old_governorate_code, "
                "new_governorate_code, old_authority_code, new_authority_code, old_agency_code, "
                "new_agency_code, boundary_version) "
                "SELECT r.id, r.governorate_code, n.new_governorate_code, r.authority_code, "
                "n.new_authority_code, r.agency_code, n.new_agency_code, :version "
                "FROM reports r JOIN _routing_new n ON n.report_id = r.id "
                "WHERE n.audited ORDER BY r.id"
            ),
            {"version": diff.version},
        )
    updated = conn.execute(
        sa.text(
            "UPDATE reports r SET "
            + ", ".join(f"{c} = n.new_{c}" for c in ROUTING_FIELDS)
            + ", updated_at = now() FROM _routing_new n WHERE n.report_id = r.id"
        )
    ).rowcount
    conn.execute(sa.text("DROP TABLE _routing_new"))
    return int(updated)


def apply_replay(conn: Connection, diff: ReplayDiff) -> int:
    """Apply a replay diff with its audit rows (see :func:`apply_routing`)."""
    return apply_routing(conn, diff, audit=True)


def audit_rows(conn: Connection, *, version: str | None = None) -> pd.DataFrame:
    """The routing audit trail (optionally of one boundary version), oldest first."""
    where = "WHERE boundary_version = :v" if version is not None else ""
    return pd.read_sql(
        sa.text(
            "SELECT report_id, old_governorate_code, new_governorate_code, old_authority_code, "
            "new_authority_code, old_agency_code, new_agency_code, boundary_version, changed_at "
            f"FROM routing_audit {where} ORDER BY id"
        ),
        conn,
        params={"v": version} if version is not None else {},
    )


# --- the anchor of `fix2go bench route` -------------------------------------------------------


def contains_join_anchor(
    conn: Connection, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.object_], dict[str, float]]:
    """Route points the plain PostGIS way: COPY into a temporary table, GiST index, then
    ``UPDATE ... FROM governorates WHERE ST_Contains``. Returns each point's governorate code
    (None outside every polygon) and the seconds of each step (``copy_s``, ``index_s``,
    ``select_join_s``: the same join read-only, ``update_s``). The temporary table is dropped at the end (the caller's transaction)."""
    raw = raw_connection(conn)
    timings: dict[str, float] = {}
    conn.execute(
        sa.text(
            "CREATE TEMP TABLE _bench_route (id bigint PRIMARY KEY, "
            "geom geometry(Point, 4326) NOT NULL, governorate_code text)"
        )
    )
    t = time.perf_counter()
    with raw.cursor() as cur, cur.copy("COPY _bench_route (id, geom) FROM STDIN") as cp:
        for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
            cp.write_row((i, f"SRID={STORAGE_EPSG};POINT({x!r} {y!r})"))
    timings["copy_s"] = time.perf_counter() - t
    t = time.perf_counter()
    conn.execute(sa.text("CREATE INDEX ON _bench_route USING gist (geom)"))
    conn.execute(sa.text("ANALYZE _bench_route"))
    timings["index_s"] = time.perf_counter() - t
    t = time.perf_counter()
    conn.execute(
        sa.text(
            "SELECT count(*) FROM _bench_route b JOIN governorates g "
            "ON g.is_current AND ST_Contains(g.geom, b.geom)"
        )
    ).scalar_one()
    timings["select_join_s"] = time.perf_counter() - t
    t = time.perf_counter()
    conn.execute(
        sa.text(
            "UPDATE _bench_route b SET governorate_code = g.code FROM governorates g "
            "WHERE g.is_current AND ST_Contains(g.geom, b.geom)"
        )
    )
    timings["update_s"] = time.perf_counter() - t
    codes = np.full(len(lon), None, dtype=object)
    for i, code in conn.execute(
        sa.text("SELECT id, governorate_code FROM _bench_route WHERE governorate_code IS NOT NULL")
    ):
        codes[i] = code
    conn.execute(sa.text("DROP TABLE _bench_route"))
    return codes, timings
