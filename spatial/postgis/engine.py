"""Engines and connections: the only place that creates SQLAlchemy engines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from spatial.errors import DatabaseError


def make_engine(url: str | sa.URL, **kwargs: object) -> Engine:
    """Create an engine for ``url`` (``postgresql+psycopg://``), checking connections on use.

    Raises
    ------
    DatabaseError
        When the URL does not use the psycopg 3 driver.
    """
    if isinstance(url, sa.URL):
        url = url.render_as_string(hide_password=False)
    if not url.startswith("postgresql+psycopg://"):
        raise DatabaseError(
            f"database URL must start with 'postgresql+psycopg://', got {url.split('://')[0]!r}://...; "
            "spell it postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB"
        )
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def check_connection(engine: Engine, *, postgis: bool = True) -> str:
    """Connect once and return the PostGIS (or, with ``postgis=False``, the server) version.

    Raises
    ------
    DatabaseError
        One line saying what failed and how to start or fix the database.
    """
    query = "SELECT postgis_lib_version()" if postgis else "SHOW server_version"
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text(query)).scalar_one())
    except sa.exc.OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to {engine.url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0]}; start it with `fix2go db start` "
            "(embedded) or check DATABASE_URL"
        ) from exc
    except sa.exc.ProgrammingError as exc:
        raise DatabaseError(
            f"{engine.url.render_as_string(hide_password=True)} has no PostGIS: "
            "run `fix2go db migrate` (it creates the extension) or `CREATE EXTENSION postgis`"
        ) from exc


def raw_connection(conn: Connection) -> psycopg.Connection[object]:
    """The psycopg 3 connection under a SQLAlchemy connection (for COPY), same transaction."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise DatabaseError("expected a psycopg 3 connection; use a postgresql+psycopg:// URL")
    return driver


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back on any error."""
    with engine.begin() as conn:
        yield conn
