"""Routing in the database: read the current boundary layers, replay routing of open reports
after a boundary change (diff, then apply with an audit trail)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.crs import STORAGE_EPSG
from spatial.errors import BoundaryError
from spatial.routing import BoundaryLayers, RoutingConfig, assign_jurisdiction, prepare_layers

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


# --- replay ---------------------------------------------------------------------------------

_ROUTING_FIELDS = (
    "governorate_code",
    "authority_code",
    "agency_code",
    "routing_confidence",
    "routing_reason",
    "routing_status",
    "place_en",
    "place_ar",
)


@dataclass(frozen=True)
class ReplayDiff:
    """The reports a replay would change (only those whose governorate, authority or agency
    changes), with old and new values; ``new`` holds every routing column."""

    version: str
    n_open: int
    changes: pd.DataFrame  # report_id, category, old_*/new_* governorate/authority/agency, ...

    def counts(self) -> pd.DataFrame:
        """Changed reports per (old agency -> new agency), most first."""
        if self.changes.empty:
            return pd.DataFrame(columns=["old_agency", "new_agency", "n"])
        return (
            self.changes.fillna({"old_agency_code": "-", "new_agency_code": "-"})
            .groupby(["old_agency_code", "new_agency_code"], dropna=False)
            .size()
            .rename("n")
            .reset_index()
            .rename(columns={"old_agency_code": "old_agency", "new_agency_code": "new_agency"})
            .sort_values(["n", "old_agency", "new_agency"], ascending=[False, True, True])
            .reset_index(drop=True)
        )


def read_open_reports(conn: Connection) -> gpd.GeoDataFrame:
    """Open and in-progress reports with their current routing (no personal data)."""
    return gpd.read_postgis(
        sa.text(
            "SELECT id AS report_id, category, governorate_code, authority_code, agency_code, "
            "geom FROM reports WHERE status = ANY(:statuses) ORDER BY id"
        ),
        conn,
        geom_col="geom",
        crs=STORAGE_EPSG,
        params={"statuses": list(OPEN_STATUSES)},
    )


def replay_diff(conn: Connection, layers: BoundaryLayers) -> ReplayDiff:
    """Route the open reports again with ``layers`` and return what would change."""
    reports = read_open_reports(conn)
    routed = assign_jurisdiction(reports, layers)
    old = reports[["governorate_code", "authority_code", "agency_code"]]
    changed = pd.Series(False, index=reports.index)
    for col in ("governorate_code", "authority_code", "agency_code"):
        before = old[col].astype(object).where(old[col].notna(), None)
        after = routed[col].astype(object).where(routed[col].notna(), None)
        changed |= before.to_numpy() != after.to_numpy()
    sel = reports[changed.to_numpy()]
    changes = pd.DataFrame(
        {
            "report_id": sel["report_id"].astype("int64").to_numpy(),
            "category": sel["category"].to_numpy(),
            "old_governorate_code": sel["governorate_code"].to_numpy(),
            "old_authority_code": sel["authority_code"].to_numpy(),
            "old_agency_code": sel["agency_code"].to_numpy(),
            **{f"new_{c}": routed.loc[sel.index, c].to_numpy() for c in _ROUTING_FIELDS},
        }
    )
    return ReplayDiff(version=layers.version or "unknown", n_open=len(reports), changes=changes)


def apply_replay(conn: Connection, diff: ReplayDiff) -> int:
    """Write the new routing of the changed reports and one audit row each, in the caller's
    transaction (so all or nothing). Returns the number of reports updated."""
    if diff.changes.empty:
        return 0
    rows = []
    for rec in diff.changes.to_dict("records"):
        row = {str(k): (None if v is None or v != v else v) for k, v in rec.items()}
        row["report_id"] = int(row["report_id"])  # type: ignore[arg-type]
        row["version"] = diff.version
        rows.append(row)
    conn.execute(
        sa.text(
            "UPDATE reports SET governorate_code = :new_governorate_code, "
            "authority_code = :new_authority_code, agency_code = :new_agency_code, "
            "routing_confidence = :new_routing_confidence, routing_reason = :new_routing_reason, "
            "routing_status = :new_routing_status, place_en = :new_place_en, "
            "place_ar = :new_place_ar, updated_at = now() WHERE id = :report_id"
        ),
        rows,
    )
    conn.execute(
        sa.text(
            "INSERT INTO routing_audit (report_id, old_governorate_code, new_governorate_code, "
            "old_authority_code, new_authority_code, old_agency_code, new_agency_code, "
            "boundary_version) VALUES (:report_id, :old_governorate_code, "
            ":new_governorate_code, :old_authority_code, :new_authority_code, "
            ":old_agency_code, :new_agency_code, :version)"
        ),
        rows,
    )
    return len(rows)
