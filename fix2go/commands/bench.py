"""``fix2go bench``: the side-by-side benchmarks of ``benchmarks/``.

Each subcommand runs ``benchmarks.bench_<name>.run(reports=N, seed=S)`` which measures the
project and its anchor (raw COPY, a PostGIS join, ``ST_ClusterDBSCAN``, scikit-learn) in the
same run on the same data, prints both times and their ratio, and returns the figures.
"""

from __future__ import annotations

import importlib
import json

import typer

bench_app = typer.Typer(
    help="Benchmarks: the project side by side with its anchor, in one run, as ratios.",
    no_args_is_help=True,
)

BENCHMARKS = {
    "ingest": "full ingest vs a plain COPY of the same prepared rows into the same indexed table",
    "route": "routing vs a PostGIS UPDATE ... FROM governorates WHERE ST_Contains join",
    "dedup": "space-time-category dedup vs PostGIS ST_ClusterDBSCAN and scikit-learn DBSCAN",
    "dashboard": "planner page first render and filter change in a real browser",
}


# the options every benchmark takes (one definition, shared by the commands below)
REPORTS = typer.Option(1_000_000, "--reports", help="Generated reports to use.")
SEED = typer.Option(7, "--seed", help="Generator seed.")
AS_JSON = typer.Option(False, "--json", help="Print the figures as JSON.")


def _echo_json(figures: object, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(figures, indent=2, default=str))


def _make(name: str, summary: str) -> None:
    def command(reports: int = REPORTS, seed: int = SEED, as_json: bool = AS_JSON) -> None:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        _echo_json(module.run(reports=reports, seed=seed), as_json)

    command.__doc__ = f"Benchmark: {summary}."
    bench_app.command(name)(command)


for _name, _summary in BENCHMARKS.items():
    if _name not in ("dashboard", "ingest"):
        _make(_name, _summary)


@bench_app.command("ingest")
def ingest(
    reports: int = REPORTS,
    seed: int = SEED,
    as_json: bool = AS_JSON,
    runs: int = typer.Option(
        1, "--runs", min=1, help="Measured pairs (full ingest, floor) on the same file; medians."
    ),
    chunk_rows: int = typer.Option(
        50_000, "--chunk-rows", min=1, help="Rows per chunk of the full ingest."
    ),
) -> None:
    """Benchmark: full ingest vs a plain COPY of the same prepared rows into the same indexed
    table."""
    module = importlib.import_module("benchmarks.bench_ingest")
    _echo_json(module.run(reports=reports, seed=seed, runs=runs, chunk_rows=chunk_rows), as_json)


@bench_app.command("dashboard")
def dashboard(
    reports: int = REPORTS,
    seed: int = SEED,
    as_json: bool = AS_JSON,
    keep: bool = typer.Option(
        False, "--keep", help="Keep the bench database afterwards (for a later --reuse)."
    ),
    reuse: bool = typer.Option(
        False,
        "--reuse",
        help="Measure on the kept bench database when it was prepared with the same --reports "
        "and --seed (else prepare it); keeps it.",
    ),
    runs: int = typer.Option(
        1, "--runs", min=1, help="Browser measurements on the same database (medians printed)."
    ),
    drop: bool = typer.Option(False, "--drop", help="Only drop the kept bench database."),
) -> None:
    """Benchmark: planner page first render and filter change in a real browser."""
    module = importlib.import_module("benchmarks.bench_dashboard")
    if drop:
        module.drop()
        return
    figures = module.run(reports=reports, seed=seed, reuse=reuse, keep=keep, runs=runs)
    _echo_json(figures, as_json)


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group to the CLI."""
    app.add_typer(bench_app, name="bench")
