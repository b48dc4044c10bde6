"""Boundary layers in the database: versioned governorates and road authorities."""

from __future__ import annotations

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.boundaries import Layer
from spatial.crs import STORAGE_EPSG, check_crs
from spatial.errors import BoundaryError

_COLUMNS: dict[str, tuple[str, ...]] = {
    "governorates": ("code", "name_en", "name_ar"),
    "road_authorities": ("code", "name_en", "name_ar", "kind", "precedence", "default_agency"),
}


def load_boundary_layer(conn: Connection, gdf: gpd.GeoDataFrame, layer: Layer, version: str) -> int:
    """Insert a validated layer as ``version`` and make it the current one.

    Earlier versions are kept (``is_current = false``). Loading a version that exists
    already replaces that version's rows. Runs in the caller's transaction: on error the
    loaded layer is untouched.

    Returns
    -------
    int
        The number of features loaded.
    """
    check_crs(gdf, STORAGE_EPSG, "load_boundary_layer")
    columns = _COLUMNS[layer]
    if layer == "road_authorities":
        known = set(conn.execute(sa.text("SELECT code FROM agencies")).scalars())
        unknown = sorted(set(gdf["default_agency"]) - known)
        if unknown:
            raise BoundaryError(
                f"road_authorities: default_agency {', '.join(unknown)} not in the agencies "
                "table; load the agencies first (fix2go demo --no-serve) or fix the codes"
            )
    conn.execute(sa.text(f"DELETE FROM {layer} WHERE boundary_version = :v"), {"v": version})
    conn.execute(sa.text(f"UPDATE {layer} SET is_current = false WHERE is_current"))
    names = ", ".join(columns)
    params = ", ".join(f":{c}" for c in columns)
    stmt = sa.text(
        f"INSERT INTO {layer} ({names}, boundary_version, is_current, geom) "
        f"VALUES ({params}, :version, true, ST_GeomFromWKB(:wkb, {STORAGE_EPSG}))"
    )
    rows = []
    for rec, geom in zip(gdf[list(columns)].to_dict("records"), gdf.geometry, strict=True):
        rec = {k: (None if v is None or v != v else v) for k, v in rec.items()}
        rec.update(version=version, wkb=geom.wkb)
        rows.append(rec)
    conn.execute(stmt, rows)
    return len(rows)


def boundary_versions(conn: Connection, layer: Layer) -> list[tuple[str, int, bool]]:
    """``(version, features, is_current)`` for each loaded version of ``layer``, oldest first."""
    rows = conn.execute(
        sa.text(
            f"SELECT boundary_version, count(*) AS n, bool_or(is_current) AS cur "
            f"FROM {layer} GROUP BY boundary_version ORDER BY min(loaded_at), boundary_version"
        )
    )
    return [(r.boundary_version, int(r.n), bool(r.cur)) for r in rows]


def read_layer(conn: Connection, layer: Layer, *, current: bool = True) -> gpd.GeoDataFrame:
    """The (current) features of a boundary layer as a GeoDataFrame in EPSG:4326."""
    where = "WHERE is_current" if current else ""
    return gpd.read_postgis(
        sa.text(f"SELECT * FROM {layer} {where} ORDER BY code"),
        conn,
        geom_col="geom",
        crs=STORAGE_EPSG,
    )
