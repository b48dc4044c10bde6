"""``fix2go demo``: everything ``make demo`` runs after set-up, on the Bahrain sample.

Steps, each idempotent: migrate; load the reference data and boundaries; create the agency
roles; generate the synthetic sample (once) and ingest it; dedup; hotspots; serve the
dashboard. Running it again re-ingests nothing new and recomputes incidents and hotspots.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine

from fix2go.database import get_engine
from fix2go.reference import prepare_reference
from fix2go.secrets import pseudonym_key
from fix2go.settings import load
from ingest.generate import generate, write_export
from ingest.pipeline import ingest_file
from spatial.postgis.security import ensure_agency_roles

DEMO_REPORTS = 20_000
DEMO_SEED = 2026
# Planted clusters of defects (lat, lng): Manama souq area, Isa Town, Muharraq old town.
DEMO_HOTSPOTS = ((26.2325, 50.5770), (26.1740, 50.5480), (26.2560, 50.6120))


def prepare_demo_database(engine: Engine) -> dict[str, int]:
    """Load the reference data and boundaries and create the agency roles (idempotent)."""
    with engine.begin() as conn:
        counts = prepare_reference(conn, load().data_dir)
        ensure_agency_roles(conn)
    return counts


def sample_file(n_reports: int = DEMO_REPORTS, seed: int = DEMO_SEED) -> Path:
    """The demo's synthetic Fix2Go export under FIX2GO_HOME, generated once per (n, seed)."""
    path = load().home / "sample" / f"fix2go_sample_{n_reports}_{seed}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = generate(n_reports, seed, planted_hotspots=DEMO_HOTSPOTS)
        tmp = path.with_name(path.stem + ".partial.csv")
        write_export(data.reports, tmp)
        tmp.rename(path)
    return path


def ingest_sample(engine: Engine, path: Path) -> str:
    """Ingest the sample file as one batch; a second run finds every row unchanged."""
    with engine.begin() as conn:
        summary = ingest_file(conn, path, key=pseudonym_key(), source="demo")
    return (
        f"ingested {summary.n_in} rows: {summary.n_new} new, {summary.n_updated} updated, "
        f"{summary.n_unchanged} unchanged, {summary.n_rejected} rejected"
    )


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows in the main tables after the demo (for the closing lines)."""
    with engine.connect() as conn:
        return {
            t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("reports", "incidents", "hotspot_cells", "ingest_rejects")
        }


def demo(
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Prepare the database and exit instead of serving the dashboard."
    ),
    reports: int = typer.Option(
        DEMO_REPORTS, "--reports", help="Size of the synthetic sample (generated once)."
    ),
    port: int | None = typer.Option(None, "--port", help="Dashboard port (default 8501)."),
) -> None:
    """Prepare the demo database (migrations, categories, agencies, places, governorates, road
    authorities, routing rules, agency roles), ingest a synthetic Bahrain sample, route it,
    merge duplicates into incidents, compute hotspots, and serve the dashboard at
    http://localhost:8501."""
    from fix2go.commands.dedup import format_summary, run_dedup
    from fix2go.commands.hotspots import run_hotspots

    engine = get_engine()
    try:
        for table, n in prepare_demo_database(engine).items():
            typer.echo(f"{table:>17}: {n}")
        typer.echo(ingest_sample(engine, sample_file(reports)))
        for line in format_summary(run_dedup(engine)):
            typer.echo(line)
        hot = run_hotspots(engine)
        typer.echo(f"hotspot cells: {hot.rows} from {hot.incidents} incidents")
        typer.echo(", ".join(f"{t}: {n}" for t, n in count_rows(engine).items()))
    finally:
        engine.dispose()
    if no_serve:
        typer.echo("demo database ready")
        return
    from fix2go.commands.dashboard import dashboard

    dashboard(port=port, address="localhost")


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the CLI."""
    app.command("demo")(demo)
