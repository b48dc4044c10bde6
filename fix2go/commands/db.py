"""``fix2go db``: the embedded PostGIS cluster, or the server in ``DATABASE_URL``."""

from __future__ import annotations

import typer

from fix2go import embedded
from fix2go.database import database_url, drop_database, ensure_database, get_engine
from fix2go.settings import SQL_DIR, load
from spatial.postgis.engine import check_connection, make_engine
from spatial.postgis.migrate import migrate

db_app = typer.Typer(
    help="The embedded PostGIS cluster (or the server in DATABASE_URL): start, stop, status, "
    "migrate, url, reset.",
    no_args_is_help=True,
)


@db_app.command()
def start() -> None:
    """Initialise (first time) and start the embedded cluster; create the database."""
    settings = load()
    if not settings.embedded:
        typer.echo("DATABASE_URL is set: using that server, nothing to start.")
        engine = make_engine(settings.database_url or "")
        typer.echo(f"postgis {check_connection(engine)} reachable")
        engine.dispose()
        return
    cluster = embedded.cluster_for(settings)
    started = embedded.start(cluster)
    ensure_database(cluster.url("postgres"), embedded.DATABASE)
    typer.echo(
        f"{'started' if started else 'already running'}: embedded PostGIS on "
        f"127.0.0.1:{cluster.port()} (data {cluster.datadir}, log {cluster.logfile})"
    )


@db_app.command()
def stop() -> None:
    """Stop the embedded cluster (fast shutdown)."""
    settings = load()
    if not settings.embedded:
        typer.echo("DATABASE_URL is set: fix2go does not stop external servers.")
        return
    stopped = embedded.stop(embedded.cluster_for(settings))
    typer.echo("stopped" if stopped else "not running")


@db_app.command()
def status() -> None:
    """Say whether the database is up, where, and which migrations are applied; exit 1 if down."""
    settings = load()
    if settings.embedded:
        cluster = embedded.cluster_for(settings)
        if not embedded.is_running(cluster):
            typer.echo(f"embedded cluster: down ({cluster.datadir}); start: fix2go db start")
            raise typer.Exit(1)
        typer.echo(f"embedded cluster: up on 127.0.0.1:{cluster.port()} ({cluster.datadir})")
    url = database_url(settings, start=False)
    engine = make_engine(url)
    version = check_connection(engine)
    typer.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    typer.echo(f"postgis: {version}")
    from spatial.postgis.migrate import applied_migrations, migration_files

    applied = applied_migrations(engine)
    pending = [p.name for p in migration_files(SQL_DIR) if p.name not in applied]
    typer.echo(f"migrations: {len(applied)} applied, {len(pending)} pending")


@db_app.command("migrate")
def migrate_cmd() -> None:
    """Apply the sql/ migrations not yet applied (each once, each in one transaction)."""
    engine = get_engine(migrated=False)
    applied = migrate(engine, SQL_DIR)
    typer.echo(f"applied {len(applied)}: {', '.join(applied)}" if applied else "up to date")


@db_app.command()
def url() -> None:
    """Print the SQLAlchemy URL of the database (for notebooks, QGIS, psql)."""
    typer.echo(database_url())


@db_app.command()
def reset(
    yes: bool = typer.Option(False, "--yes", help="Confirm: every table's data is lost."),
) -> None:
    """Drop the fix2go database and recreate it, migrated (embedded cluster only)."""
    settings = load()
    if not settings.embedded:
        raise typer.BadParameter(
            "refusing to drop a database named by DATABASE_URL; drop it with your own tools",
            param_hint="DATABASE_URL",
        )
    if not yes:
        raise typer.BadParameter("this deletes all data; add --yes to confirm", param_hint="--yes")
    cluster = embedded.cluster_for(settings)
    embedded.start(cluster)
    drop_database(cluster.url("postgres"), embedded.DATABASE)
    ensure_database(cluster.url("postgres"), embedded.DATABASE)
    applied = migrate(make_engine(cluster.url()), SQL_DIR)
    typer.echo(
        f"reset: database {embedded.DATABASE!r} recreated, {len(applied)} migrations applied"
    )


def register(app: typer.Typer) -> None:
    """Add the ``db`` group to the CLI."""
    app.add_typer(db_app, name="db")
