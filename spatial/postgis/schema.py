"""GeoAlchemy2 table definitions: the Python mirror of the ``sql/`` migrations.

The migrations are the single source of truth; these definitions exist so Python code can
build typed statements and so a test can reflect the migrated database and compare, table
by table and column by column (``tests/spatial/test_schema.py``).
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSON

metadata = MetaData()


def _geom(kind: str) -> Geometry:
    # srid and spatial_index explicit: geoalchemy2 defaults to srid=-1 and its own index names
    return Geometry(geometry_type=kind, srid=4326, spatial_index=False)


def _tz() -> DateTime:
    return DateTime(timezone=True)


categories = Table(
    "categories",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name_en", Text, nullable=False),
    Column("name_ar", Text, nullable=False),
)

agencies = Table(
    "agencies",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name_en", Text, nullable=False),
    Column("name_ar", Text, nullable=False),
    Column("kind", Text, nullable=False),
)

governorates = Table(
    "governorates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("name_ar", Text),
    Column("boundary_version", Text, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("loaded_at", _tz(), nullable=False),
    Column("geom", _geom("MULTIPOLYGON"), nullable=False),
)

road_authorities = Table(
    "road_authorities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("name_ar", Text),
    Column("kind", Text, nullable=False),
    Column("precedence", Integer, nullable=False),
    Column("default_agency", Text, nullable=False),
    Column("boundary_version", Text, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("loaded_at", _tz(), nullable=False),
    Column("geom", _geom("MULTIPOLYGON"), nullable=False),
)

routing_rules = Table(
    "routing_rules",
    metadata,
    Column("authority_code", Text, primary_key=True),
    Column("category", Text, primary_key=True),
    Column("agency_code", Text, nullable=False),
)

places = Table(
    "places",
    metadata,
    Column("wof_id", BigInteger, primary_key=True),
    Column("placetype", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("name_ar", Text),
    Column("geom", _geom("POINT"), nullable=False),
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("source", Text, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("started_at", _tz(), nullable=False),
    Column("finished_at", _tz()),
    Column("n_in", Integer, nullable=False),
    Column("n_new", Integer, nullable=False),
    Column("n_updated", Integer, nullable=False),
    Column("n_unchanged", Integer, nullable=False),
    Column("n_rejected", Integer, nullable=False),
)

ingest_rejects = Table(
    "ingest_rejects",
    metadata,
    Column("batch_id", BigInteger, primary_key=True),
    Column("row_number", Integer, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("detail", Text),
)

raw_row_blocks = Table(
    "raw_row_blocks",
    metadata,
    Column("batch_id", BigInteger, primary_key=True),
    Column("first_row", Integer, primary_key=True),
    Column("rows", JSON, nullable=False),
)
"""Restricted: the raw input rows of one loaded chunk, a JSON array in file order (read them
one per row through the ``raw_rows`` view, sql/007)."""

incidents = Table(
    "incidents",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("category", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("n_reports", Integer, nullable=False),
    Column("first_reported_at", _tz(), nullable=False),
    Column("last_reported_at", _tz(), nullable=False),
    Column("agency_code", Text),
    Column("governorate_code", Text),
    Column("recurrence_of", BigInteger),
    Column("h3_cell", BigInteger),
    Column("updated_at", _tz(), nullable=False),
    Column("geom", _geom("POINT"), nullable=False),
    # 004: the report an incident is keyed by, and the earliest closure of its reports
    Column("seed_report_id", BigInteger),
    Column("closed_at", _tz()),
)

reports = Table(
    "reports",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("source", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("description", Text),
    Column("reporter_pseudonym", Text),
    Column("channel", Text),
    Column("photo_url", Text),
    Column("status", Text, nullable=False),
    Column("reported_at", _tz(), nullable=False),
    Column("received_at", _tz(), nullable=False),
    Column("updated_at", _tz(), nullable=False),
    Column("flags", ARRAY(Text), nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("governorate_code", Text),
    Column("authority_code", Text),
    Column("agency_code", Text),
    Column("routing_confidence", Double),
    Column("routing_reason", Text),
    Column("routing_status", Text),
    Column("place_en", Text),
    Column("place_ar", Text),
    Column("h3_cell", BigInteger),
    Column("incident_id", BigInteger),
    Column("batch_id", BigInteger),
    Column("geom", _geom("POINT"), nullable=False),
)

report_status_history = Table(
    "report_status_history",
    metadata,
    Column("report_id", BigInteger, primary_key=True),
    Column("status", Text, primary_key=True),
    Column("changed_at", _tz(), primary_key=True),
    Column("batch_id", BigInteger),
)

# 003: every re-routing of a report after a boundary change
routing_audit = Table(
    "routing_audit",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("report_id", BigInteger, nullable=False),
    Column("old_governorate_code", Text),
    Column("new_governorate_code", Text),
    Column("old_authority_code", Text),
    Column("new_authority_code", Text),
    Column("old_agency_code", Text),
    Column("new_agency_code", Text),
    Column("boundary_version", Text, nullable=False),
    Column("changed_at", _tz(), nullable=False),
)

# 004: Getis-Ord Gi* per H3 cell, resolution, category group and period
hotspot_cells = Table(
    "hotspot_cells",
    metadata,
    Column("resolution", SmallInteger, primary_key=True),
    Column("h3_cell", BigInteger, primary_key=True),
    Column("category_group", Text, primary_key=True),
    Column("period", Text, primary_key=True),
    Column("n_incidents", Integer, nullable=False),
    Column("gi_z", Double, nullable=False),
    Column("p_value", Double, nullable=False),
    Column("p_sim", Double),
    Column("hot_class", SmallInteger, nullable=False),
    Column("confidence", SmallInteger),
    Column("trend", Text, nullable=False),
    Column("computed_at", _tz(), nullable=False),
    Column("geom", _geom("POLYGON"), nullable=False),
)
