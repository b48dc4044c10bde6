"""``fix2go demo``: everything ``make demo`` runs after set-up, on the Bahrain sample."""

from __future__ import annotations

import typer

from fix2go.database import get_engine
from fix2go.reference import prepare_reference
from fix2go.settings import load


def prepare_demo_database() -> dict[str, int]:
    """Migrate and load the reference data and boundaries (idempotent); returns row counts."""
    engine = get_engine()
    try:
        with engine.begin() as conn:
            counts = prepare_reference(conn, load().data_dir)
    finally:
        engine.dispose()
    return counts


def demo(
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Prepare the database and exit instead of serving the dashboard."
    ),
) -> None:
    """Prepare the demo database (migrations, categories, agencies, places, governorates, road
    authorities, routing rules) and serve the dashboard at http://localhost:8501."""
    counts = prepare_demo_database()
    for table, n in counts.items():
        typer.echo(f"{table:>17}: {n}")
    if no_serve:
        typer.echo("demo database ready")
        return


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the CLI."""
    app.command("demo")(demo)
