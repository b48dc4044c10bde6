"""Hotspot persistence: the incidents hotspots read, and the ``hotspot_cells`` they write.

``hotspot_cells`` (migration 004) is replaced as a whole in the caller's transaction, so the
dashboard sees either the previous run or the new one, never a mix.
"""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.crs import STORAGE_EPSG, check_crs
from spatial.hotspots import RESULT_COLUMNS
from spatial.postgis.engine import raw_connection

HOTSPOT_TABLE_COLUMNS = (*RESULT_COLUMNS, "computed_at", "geom")
"""Columns of ``hotspot_cells`` written by :func:`write_hotspot_cells`."""


def read_hotspot_incidents(conn: Connection) -> gpd.GeoDataFrame:
    """Incidents as hotspot input, indexed by incident id: ``category``,
    ``first_reported_at`` and the Point geometry (EPSG:4326)."""
    df = pd.read_sql_query(
        sa.text(
            "SELECT id AS incident_id, category, first_reported_at, "
            "ST_X(geom) AS lng, ST_Y(geom) AS lat FROM incidents ORDER BY id"
        ),
        conn,
    )
    df["first_reported_at"] = pd.to_datetime(df["first_reported_at"], utc=True)
    geometry = gpd.points_from_xy(df.pop("lng"), df.pop("lat"), crs=STORAGE_EPSG)
    out = gpd.GeoDataFrame(df, geometry=geometry, crs=STORAGE_EPSG).set_index("incident_id")
    out.index = out.index.astype("int64")
    return out


def write_hotspot_cells(conn: Connection, cells: gpd.GeoDataFrame) -> int:
    """Replace the contents of ``hotspot_cells`` with ``cells`` (from
    :func:`spatial.hotspots.hotspot_cells`); returns the rows written. ``computed_at`` is the
    transaction's time."""
    check_crs(cells, STORAGE_EPSG, "write_hotspot_cells")
    computed_at = conn.execute(sa.text("SELECT now()")).scalar_one()
    geoms = shapely.set_srid(cells.geometry.to_numpy(), STORAGE_EPSG)
    frame = pd.DataFrame(
        {
            "resolution": cells["resolution"].to_numpy(),
            "h3_cell": cells["h3_cell"].to_numpy(),
            "category_group": cells["category_group"].to_numpy(),
            "period": cells["period"].to_numpy(),
            "n_incidents": cells["n_incidents"].to_numpy(),
            "gi_z": cells["gi_z"].to_numpy(),
            "p_value": cells["p_value"].to_numpy(),
            "p_sim": cells["p_sim"].to_numpy(),
            "hot_class": cells["hot_class"].to_numpy(),
            "confidence": cells["confidence"].reset_index(drop=True),
            "trend": cells["trend"].to_numpy(),
            "computed_at": computed_at.isoformat(),
            "geom": shapely.to_wkb(geoms, hex=True, include_srid=True),
        }
    )
    conn.execute(sa.text("DELETE FROM hotspot_cells"))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, na_rep="", float_format="%.17g")
    raw = raw_connection(conn)
    cols = ", ".join(HOTSPOT_TABLE_COLUMNS)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY hotspot_cells ({cols}) FROM STDIN (FORMAT csv)") as cp,
    ):
        cp.write(buf.getvalue())
    return len(frame)
