"""The GeoAlchemy2 definitions match the migrated database, table by table, column by column."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.engine import Engine

from spatial.postgis.schema import metadata

_NOT_MIRRORED = {"schema_migrations", "spatial_ref_sys"}


def _type_name(t: sa.types.TypeEngine[object], dialect: sa.Dialect) -> str:
    if isinstance(t, Geometry):
        return f"geometry({t.geometry_type},{t.srid})"
    return t.compile(dialect=dialect).upper()


@pytest.fixture(scope="module")
def reflected(engine: Engine) -> sa.MetaData:
    md = sa.MetaData()
    md.reflect(engine, views=False)
    return md


def test_every_database_table_is_mirrored(reflected: sa.MetaData) -> None:
    in_db = set(reflected.tables) - _NOT_MIRRORED
    assert in_db == set(metadata.tables), (
        f"only in the database: {sorted(in_db - set(metadata.tables))}; "
        f"only in schema.py: {sorted(set(metadata.tables) - in_db)}"
    )


@pytest.mark.parametrize("name", sorted(metadata.tables))
def test_columns_match(name: str, reflected: sa.MetaData, engine: Engine) -> None:
    ours = metadata.tables[name]
    theirs = reflected.tables[name]
    dialect = engine.dialect
    assert [c.name for c in ours.columns] == [c.name for c in theirs.columns]
    for col in ours.columns:
        db_col = theirs.columns[col.name]
        assert _type_name(col.type, dialect) == _type_name(db_col.type, dialect), col.name
        assert col.nullable == db_col.nullable, f"{name}.{col.name} nullable"
    assert {c.name for c in ours.primary_key} == {c.name for c in theirs.primary_key}


@pytest.mark.parametrize(
    "table", ["governorates", "road_authorities", "places", "reports", "incidents"]
)
def test_geometry_columns_have_gist_index(table: str, engine: Engine) -> None:
    with engine.connect() as conn:
        n = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_indexes WHERE tablename = :t AND indexdef ILIKE '%USING gist (geom)%'"
            ),
            {"t": table},
        ).scalar_one()
    assert n == 1


def test_views_have_the_contract_columns(engine: Engine) -> None:
    insp = sa.inspect(engine)
    report = [c["name"] for c in insp.get_columns("report_view")]
    incident = [c["name"] for c in insp.get_columns("incident_view")]
    assert report == [
        "report_id", "source", "source_id", "category", "reported_at", "status",
        "governorate_code", "authority_code", "agency_code", "routing_confidence",
        "routing_reason", "incident_id", "h3_cell", "place_en", "place_ar", "geom",
    ]  # fmt: skip
    assert incident == [
        "incident_id", "category", "status", "n_reports", "first_reported_at",
        "last_reported_at", "agency_code", "governorate_code", "geom",
    ]  # fmt: skip
    assert not {"description", "reporter_pseudonym", "raw"} & set(report)
