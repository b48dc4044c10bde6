"""``fix2go dedup``: merge duplicate reports into incidents (space, time and category).

Reads the eligible reports (not ``suspect_location``, not in triage or unroutable), labels
them with :func:`spatial.dedup.assign_incidents` on the chosen executor, and writes the
incidents and the report links in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import typer
from sqlalchemy.engine import Engine

from fix2go.database import get_engine
from fix2go.settings import load
from spatial.dedup import (
    DaskExecutor,
    DedupConfig,
    Executor,
    LocalExecutor,
    assign_incidents,
    summarise_incidents,
)
from spatial.errors import Fix2GoError
from spatial.grid import REPORT_H3_RESOLUTION
from spatial.postgis.incidents import IncidentWrite, read_dedup_reports, write_incidents

EXECUTORS = ("local", "dask")


class ExecutorError(Fix2GoError, ValueError):
    """The requested executor cannot be used."""


@dataclass(frozen=True)
class DedupSummary:
    """What one ``fix2go dedup`` run did."""

    reports: int
    executor: str
    write: IncidentWrite
    seconds_read: float
    seconds_cluster: float
    seconds_write: float


def check_executor(name: str, scheduler: str | None) -> None:
    """Refuse an unknown executor, or a scheduler address without ``dask``."""
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")
    if name == "local" and scheduler is not None:
        raise ExecutorError(
            "--scheduler only applies to --executor dask; drop it or add --executor dask"
        )


@contextmanager
def open_executor(name: str, scheduler: str | None = None) -> Iterator[Executor]:
    """An executor by name: ``local`` (process pool over the cores) or ``dask`` (the cluster
    at ``scheduler``, or a LocalCluster over the cores when none is given)."""
    check_executor(name, scheduler)
    if name == "local":
        yield LocalExecutor()
        return
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ExecutorError(
                f"cannot reach the dask scheduler at {scheduler!r} ({exc}); start one with "
                "`dask scheduler` (and workers) or omit --scheduler for a local cluster"
            ) from exc
        with client:
            yield DaskExecutor(client)
        return
    with (
        LocalCluster(threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield DaskExecutor(client)


def run_dedup(
    engine: Engine, executor: str = "local", scheduler: str | None = None
) -> DedupSummary:
    """Dedup every eligible stored report and write the incidents (one transaction)."""
    config = DedupConfig.from_toml(load().data_dir / "dedup.toml")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        reports = read_dedup_reports(conn)
    t1 = time.perf_counter()
    with open_executor(executor, scheduler) as ex:
        assignment = assign_incidents(reports, config, executor=ex)
    incidents = summarise_incidents(reports, assignment, REPORT_H3_RESOLUTION)
    t2 = time.perf_counter()
    with engine.begin() as conn:
        written = write_incidents(conn, assignment, incidents)
    t3 = time.perf_counter()
    return DedupSummary(len(reports), executor, written, t1 - t0, t2 - t1, t3 - t2)


def format_summary(s: DedupSummary) -> list[str]:
    """The lines ``fix2go dedup`` prints (counts only, no personal data)."""
    w = s.write
    return [
        f"reports deduplicated: {s.reports} (executor {s.executor})",
        f"incidents: {w.incidents} ({w.inserted:+d} new, {w.deleted} removed), "
        f"recurrences after closure: {w.recurrences}",
        f"report links changed: {w.reports_relinked}, cleared: {w.reports_unlinked}",
        f"time: read {s.seconds_read:.1f} s, cluster {s.seconds_cluster:.1f} s, "
        f"write {s.seconds_write:.1f} s",
    ]


def dedup(
    executor: str = typer.Option(
        "local",
        "--executor",
        help="local: a process pool over this machine's cores (serial on small inputs); "
        "dask: a dask.distributed cluster.",
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Address of a dask scheduler (e.g. tcp://10.0.0.5:8786); without it, "
        "--executor dask starts a LocalCluster.",
    ),
) -> None:
    """Merge duplicate reports into incidents: same category, within eps_m (per category,
    UTM 39N metres) and window_days, never wider than max_radius_m around the incident
    (data/dedup.toml). Suspect-location, triage and unroutable reports take no part. A report
    after its incident was closed starts a new incident recording recurrence_of."""
    check_executor(executor, scheduler)
    engine = get_engine()
    try:
        summary = run_dedup(engine, executor, scheduler)
    finally:
        engine.dispose()
    for line in format_summary(summary):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add the ``dedup`` command to the CLI."""
    app.command("dedup")(dedup)
