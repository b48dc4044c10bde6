"""Migrations: each file once, each in one transaction, failures named and rolled back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from fix2go.settings import SQL_DIR
from spatial.errors import MigrationError
from spatial.postgis.engine import make_engine
from spatial.postgis.migrate import applied_migrations, migrate, migration_files, split_statements


def test_split_respects_quotes_dollar_bodies_and_comments() -> None:
    sql = (
        "CREATE TABLE a (x text DEFAULT ';');\n"
        "-- a comment; with a semicolon\n"
        "DO $$ BEGIN PERFORM 1; END $$;\n"
        "/* block; comment */ SELECT 'it''s; fine';\n"
        'SELECT 1 AS "semi;colon"'
    )
    stmts = split_statements(sql)
    assert [s.sql.split()[0] for s in stmts] == ["CREATE", "DO", "SELECT", "SELECT"]
    assert stmts[1].sql == "DO $$ BEGIN PERFORM 1; END $$"
    assert [s.line for s in stmts] == [1, 3, 4, 5]


def test_bad_file_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNN_snake_case\.sql"):
        migration_files(tmp_path)


def test_migrate_twice_is_a_noop(new_database: Callable[..., str]) -> None:
    engine = make_engine(new_database(reference=False))
    try:
        before = applied_migrations(engine)
        assert set(before) == {p.name for p in migration_files(SQL_DIR)}
        assert migrate(engine, SQL_DIR) == []
        assert applied_migrations(engine) == before
    finally:
        engine.dispose()


def test_broken_migration_rolls_back_and_names_file_and_statement(
    new_database: Callable[..., str], tmp_path: Path
) -> None:
    engine = make_engine(new_database(reference=False))
    try:
        for p in migration_files(SQL_DIR):
            (tmp_path / p.name).write_bytes(p.read_bytes())
        (tmp_path / "900_broken.sql").write_text(
            "CREATE TABLE should_vanish (id int);\n"
            "INSERT INTO should_vanish VALUES (1);\n"
            "SELECT * FROM no_such_table;\n"
        )
        with pytest.raises(
            MigrationError,
            match=r"900_broken.sql: statement 3 \(line 3: 'SELECT \* FROM no_such_table'\) failed: "
            r".*no_such_table.*nothing from this file was applied",
        ):
            migrate(engine, tmp_path)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT to_regclass('should_vanish')")).scalar() is None
        assert "900_broken.sql" not in applied_migrations(engine)
    finally:
        engine.dispose()


def test_edited_applied_migration_is_refused(
    new_database: Callable[..., str], tmp_path: Path
) -> None:
    engine = make_engine(new_database(reference=False))
    try:
        for p in migration_files(SQL_DIR):
            (tmp_path / p.name).write_bytes(p.read_bytes())
        first = migration_files(tmp_path)[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            migrate(engine, tmp_path)
    finally:
        engine.dispose()


def test_schema_enforces_srid_and_geometry_type(conn: sa.Connection) -> None:
    with pytest.raises(sa.exc.DataError):
        conn.execute(
            sa.text(
                "INSERT INTO places (wof_id, placetype, name_en, geom) "
                "VALUES (1, 'locality', 'x', ST_SetSRID(ST_MakePoint(50.5, 26.1), 3857))"
            )
        )
