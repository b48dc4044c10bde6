"""Export queries: an agency's reports, read under the agency's own database role.

The queries carry no agency filter on purpose: row-level security (``sql/003``) limits them to
the agency's rows, so the database, not the exporter, enforces the boundary. No personal data
is selected (descriptions are already redacted; the reporter pseudonym is not exported).
"""

from __future__ import annotations

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.crs import STORAGE_EPSG
from spatial.errors import Fix2GoError
from spatial.postgis.security import as_agency

EXPORT_COLUMNS = (
    "report_id",
    "source",
    "source_id",
    "category",
    "category_name_en",
    "category_name_ar",
    "reported_at",
    "updated_at",
    "status",
    "description",
    "photo_url",
    "governorate_code",
    "authority_code",
    "agency_code",
    "agency_name_en",
    "agency_name_ar",
    "routing_confidence",
    "routing_status",
    "incident_id",
    "place_en",
    "place_ar",
)
"""Columns of :func:`read_agency_reports` (plus ``geom``), in order."""

_SELECT_REPORTS = sa.text(
    "SELECT v.report_id, v.source, v.source_id, v.category, "
    "c.name_en AS category_name_en, c.name_ar AS category_name_ar, v.reported_at, r.updated_at, "
    "v.status, r.description, r.photo_url, v.governorate_code, v.authority_code, "
    "v.agency_code, a.name_en AS agency_name_en, a.name_ar AS agency_name_ar, "
    "v.routing_confidence, r.routing_status, v.incident_id, v.place_en, v.place_ar, v.geom "
    "FROM report_view v "
    "JOIN reports r ON r.id = v.report_id "
    "JOIN categories c ON c.code = v.category "
    "LEFT JOIN agencies a ON a.code = v.agency_code "
    "ORDER BY v.report_id"
)


class ExportError(Fix2GoError, ValueError):
    """An export cannot be produced (unknown agency, unsupported format)."""


def agency_codes(conn: Connection) -> list[str]:
    """The codes of the agencies table, sorted."""
    return list(conn.execute(sa.text("SELECT code FROM agencies ORDER BY code")).scalars())


def read_agency_reports(conn: Connection, agency_code: str) -> gpd.GeoDataFrame:
    """The reports routed to ``agency_code``, read under that agency's role (EPSG:4326).

    Raises
    ------
    ExportError
        When the agency is not in the agencies table.
    """
    known = agency_codes(conn)
    if agency_code not in known:
        raise ExportError(
            f"unknown agency {agency_code!r}; use one of {', '.join(known)} "
            "(the codes of data/agencies.csv)"
        )
    with as_agency(conn, agency_code):
        return gpd.read_postgis(_SELECT_REPORTS, conn, geom_col="geom", crs=STORAGE_EPSG)
