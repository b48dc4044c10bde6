"""Shared fixtures: a real PostGIS, never a mock, never a silent skip.

The suite uses the server in ``DATABASE_URL`` when set, otherwise it starts (or reuses) the
embedded cluster. It creates throw-away databases named ``fix2go_test_<pid>_<n>``, migrates
them, and drops them at the end. If no server can be reached the run fails with a message
saying how to start one.

Fixtures
--------
admin_url       URL of the server's ``postgres`` database (for CREATE/DROP DATABASE)
new_database    factory: a fresh migrated database's URL (optionally with reference data)
db_url          one migrated database with reference data and boundaries (session)
engine          an engine on ``db_url`` (session)
conn            a connection on ``db_url`` inside a transaction rolled back after the test
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from itertools import count

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from fix2go.database import admin_url as database_admin_url
from fix2go.database import create_database, drop_database
from fix2go.settings import load
from spatial.errors import Fix2GoError
from spatial.postgis.engine import check_connection, make_engine

HOW_TO_START = (
    "start the embedded PostGIS with `.venv/bin/fix2go db start` (after `make setup`), "
    "or point DATABASE_URL at a PostgreSQL server with PostGIS"
)

_counter = count()


@pytest.fixture(scope="session")
def admin_url() -> str:
    """URL of the maintenance database of the test server (started when embedded)."""
    try:
        admin = database_admin_url(load())
        probe = make_engine(admin)
        try:
            check_connection(probe, postgis=False)
        finally:
            probe.dispose()
    except Fix2GoError as exc:
        pytest.fail(f"cannot reach PostGIS for the tests: {exc}; {HOW_TO_START}", pytrace=False)
    return admin


@pytest.fixture(scope="session")
def new_database(admin_url: str) -> Iterator[Callable[..., str]]:
    """Factory of throw-away migrated databases, all dropped at the end of the session."""
    created: list[str] = []

    def factory(*, reference: bool = True) -> str:
        name = f"fix2go_test_{os.getpid()}_{next(_counter)}"
        created.append(name)
        return create_database(admin_url, name, reference=reference)

    yield factory
    for name in created:
        drop_database(admin_url, name)


@pytest.fixture(scope="session")
def db_url(new_database: Callable[..., str]) -> str:
    """A migrated database holding the reference data and the Bahrain boundaries."""
    return new_database(reference=True)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            if trans.is_active:
                trans.rollback()


def scalar(conn: Connection, sql: str, **params: object) -> object:
    """Run one query and return its single value (test helper)."""
    return conn.execute(sa.text(sql), params).scalar_one()
