"""Which database the app uses, and getting it ready: the one place that wires settings to
the embedded cluster and to the ``spatial.postgis`` gateway."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from fix2go import embedded
from fix2go.settings import SQL_DIR, Settings, load
from spatial.postgis.engine import make_engine
from spatial.postgis.migrate import migrate


def database_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The SQLAlchemy URL of the app's database.

    With ``DATABASE_URL`` set, that URL (nothing is started). Otherwise the embedded
    cluster's ``fix2go`` database, starting the cluster and creating the database when
    ``start`` is true.
    """
    settings = settings or load()
    if settings.database_url is not None:
        return settings.database_url
    cluster = embedded.cluster_for(settings)
    if start:
        embedded.start(cluster)
        ensure_database(cluster.url("postgres"), embedded.DATABASE)
    return cluster.url()


def admin_url(settings: Settings | None = None) -> str:
    """URL of the server's ``postgres`` maintenance database (for CREATE/DROP DATABASE):
    the server of ``DATABASE_URL``, or the embedded cluster (started when down)."""
    settings = settings or load()
    if settings.database_url is not None:
        url = make_url(settings.database_url).set(database="postgres")
        return url.render_as_string(hide_password=False)
    cluster = embedded.cluster_for(settings)
    embedded.start(cluster)
    return cluster.url("postgres")


def ensure_database(admin_url: str, name: str) -> bool:
    """Create database ``name`` through ``admin_url`` when it does not exist, with PostGIS
    enabled; True if created."""
    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    db = make_engine(make_url(admin_url).set(database=name), isolation_level="AUTOCOMMIT")
    try:
        with db.connect() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    finally:
        db.dispose()
    return not exists


def create_database(admin_url: str, name: str, *, reference: bool = True) -> str:
    """Database ``name`` on the server of ``admin_url`` (created when missing, see
    :func:`ensure_database`) with every migration applied and, with ``reference``, the
    reference data, boundaries and agency roles; returns its URL. For throw-away databases
    (tests, benchmarks)."""
    ensure_database(admin_url, name)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate(engine, SQL_DIR)
        if reference:
            # imported here: the reference loader pulls in geopandas, which the CLI's start-up
            # does not need
            from fix2go.reference import prepare_reference
            from spatial.postgis.security import ensure_agency_roles

            with engine.begin() as conn:
                prepare_reference(conn, load().data_dir)
                ensure_agency_roles(conn)
    finally:
        engine.dispose()
    return url


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name`` (closing its other connections first)."""
    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


def get_engine(settings: Settings | None = None, *, migrated: bool = True) -> Engine:
    """An engine on the app's database, started and (by default) migrated to the latest schema."""
    engine = make_engine(database_url(settings))
    if migrated:
        migrate(engine, SQL_DIR)
    return engine
