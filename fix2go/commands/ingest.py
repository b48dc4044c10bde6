"""``fix2go ingest``, ``fix2go generate`` and ``fix2go stats``."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from fix2go.database import get_engine
from fix2go.secrets import pseudonym_key
from fix2go.settings import load
from ingest.errors import IngestError
from ingest.generate import generate
from ingest.pipeline import IngestConfig, IngestSummary, ingest_file
from ingest.readers import FORMATS, check_file
from spatial.postgis.reports import ingest_stats, read_region
from spatial.postgis.routing import read_boundary_layers


def ingest_cmd(
    files: list[Path] = typer.Argument(..., help="Input files (each one batch, one transaction)."),
    fmt: str = typer.Option(
        "auto",
        "--format",
        help="auto | csv | open311 | geojson | parquet (auto: by extension and content).",
    ),
    source: str | None = typer.Option(
        None,
        "--source",
        help="Source name of the ids (default: fix2go; open311 for Open311 files).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the batch summaries as JSON."),
    chunk_rows: int = typer.Option(
        50_000, "--chunk-rows", help="Rows read and loaded at a time.", hidden=True
    ),
) -> None:
    """Validate, redact, route and load reports; prints the batch summary.

    Takes the Fix2Go CSV export, Open311 GeoReport v2 requests.json, GeoJSON and GeoParquet.
    Every row ends as new, updated (status changed), unchanged or rejected with a reason.
    Each file is loaded in one transaction: all or nothing; re-running completes it. A file
    that cannot be read at all is refused before anything is loaded (exit status 2).
    """
    if fmt not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}", param_hint="--format")
    for f in files:  # refuse unreadable files before loading any
        check_file(f, fmt)
    settings = load()
    key = pseudonym_key(settings)
    config = IngestConfig(chunk_rows=chunk_rows, coastal_tolerance_m=settings.coastal_tolerance_m)
    engine = get_engine(settings)
    try:
        with engine.connect() as conn:
            layers = read_boundary_layers(conn, config.routing)
            region = read_region(conn, config.coastal_tolerance_m)
        err = Console(stderr=True)
        out = Console()
        summaries: list[IngestSummary] = []
        for f in files:
            with Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,} rows"),
                TimeElapsedColumn(),
                console=err,
                disable=not sys.stderr.isatty(),
                transient=True,
            ) as progress:
                task = progress.add_task(f"ingest {f.name}", total=None)

                def advance(n: int, task: TaskID = task, progress: Progress = progress) -> None:
                    progress.update(task, completed=n)

                with engine.begin() as conn:
                    summary = ingest_file(
                        conn,
                        f,
                        key=key,
                        fmt=fmt,
                        source=source,
                        config=config,
                        layers=layers,
                        region=region,
                        progress=advance,
                    )
            summaries.append(summary)
            if not as_json:
                out.print(_summary_table(summary))
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([s.as_dict() for s in summaries], indent=2))


def _summary_table(s: IngestSummary) -> Table:
    table = Table(title=f"{Path(s.file).name}: batch {s.batch_id} ({s.format}, source {s.source})")
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for name, n in (
        ("in", s.n_in),
        ("new", s.n_new),
        ("updated", s.n_updated),
        ("unchanged", s.n_unchanged),
        ("rejected", s.n_rejected),
    ):
        table.add_row(name, f"{n:,}")
    for reason, n in s.rejects_by_reason.items():
        table.add_row(f"  rejected: {reason}", f"{n:,}")
    for flag, n in s.flags.items():
        table.add_row(f"  flagged: {flag}", f"{n:,}")
    table.caption = f"{s.seconds:.1f} s, {s.n_in / max(s.seconds, 1e-9):,.0f} rows/s"
    return table


def generate_cmd(
    reports: int = typer.Option(
        ..., "--reports", help="Number of export rows (bad rows included)."
    ),
    seed: int = typer.Option(..., "--seed", help="Random seed: same seed, same file."),
    out: Path = typer.Option(
        ..., "--out", help="Export file: .csv, .json (Open311), .geojson or .parquet."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="Ground-truth CSV (report -> true defect)."
    ),
    hotspot: list[str] = typer.Option(
        [], "--hotspot", help="Planted hotspot centre LAT,LNG (repeatable)."
    ),
    bad_share: float = typer.Option(0.03, "--bad-share", help="Share of bad rows (every kind)."),
    start: str | None = typer.Option(None, "--start", help="First day, YYYY-MM-DD."),
    months: int = typer.Option(12, "--months", help="Months covered."),
) -> None:
    """Synthetic Fix2Go export for Bahrain with ground truth (report -> true defect)."""
    centres: list[tuple[float, float]] = []
    for h in hotspot:
        try:
            lat_s, lng_s = h.split(",")
            centres.append((float(lat_s), float(lng_s)))
        except ValueError as exc:
            raise typer.BadParameter(
                f"{h!r} is not LAT,LNG, e.g. 26.2,50.58", param_hint="--hotspot"
            ) from exc
    try:
        first = date.fromisoformat(start) if start else None
    except ValueError as exc:
        raise typer.BadParameter(f"{start!r} is not YYYY-MM-DD", param_hint="--start") from exc
    data = generate(
        reports, seed, planted_hotspots=centres, bad_row_share=bad_share, start=first, months=months
    )
    try:
        data.write(out, truth)
    except OSError as exc:
        raise IngestError(f"cannot write {exc.filename}: {exc.strerror}; check the path") from exc
    n_def = data.truth["defect_id"].nunique()
    n_bad = int((data.truth["expected_outcome"] != "new").sum())
    typer.echo(
        f"wrote {len(data.reports):,} reports of {n_def:,} defects ({n_bad:,} bad rows) to {out}"
    )
    if truth is not None:
        typer.echo(f"wrote the truth to {truth}")


def stats_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Counts: reports, incidents, batches, rejects by reason, reports by governorate and
    agency, triage/unroutable reports."""
    engine = get_engine()
    try:
        with engine.connect() as conn:
            stats = ingest_stats(conn)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(stats, indent=2, ensure_ascii=False))
        return
    out = Console()
    top = Table(title="Fix2Go Spatial")
    top.add_column("count")
    top.add_column("value", justify="right")
    for k in ("reports", "incidents", "batches", "triage_or_unroutable"):
        top.add_row(k.replace("_", " "), f"{stats[k]:,}")
    for k, v in stats["rows"].items():
        top.add_row(f"rows {k}", f"{v:,}")
    out.print(top)
    for key, title in (
        ("rejects_by_reason", "rejects by reason"),
        ("reports_by_governorate", "reports by governorate"),
        ("reports_by_agency", "reports by agency"),
        ("reports_by_routing_status", "reports by routing status"),
        ("flagged", "flagged reports"),
    ):
        t = Table(title=title)
        t.add_column(title.split(" by ")[-1])
        t.add_column("n", justify="right")
        for k, v in stats[key].items():
            t.add_row(k, f"{v:,}")
        out.print(t)


def register(app: typer.Typer) -> None:
    """Add ``ingest``, ``generate`` and ``stats`` to the CLI."""
    app.command("ingest")(ingest_cmd)
    app.command("generate")(generate_cmd)
    app.command("stats")(stats_cmd)
