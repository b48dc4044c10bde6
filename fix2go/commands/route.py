"""``fix2go route``: route stored reports, or replay routing of open reports after a boundary
update (with ``--dry-run``: print the diff only)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import typer

from fix2go.database import get_engine
from spatial.postgis.routing import ReplayDiff, apply_routing, read_boundary_layers, routing_diff

EXAMPLES_PER_PAIR = 3
"""Example reports shown per (old agency -> new agency) pair (ids, category, place only)."""


@dataclass(frozen=True)
class RouteSummary:
    """What one ``fix2go route`` run found and did."""

    replay: bool
    dry_run: bool
    version: str
    examined: int
    changed: int
    governorate_changes: int
    authority_changes: int
    agency_changes: int
    refreshed: int  # same governorate, authority and agency; new confidence/reason/place
    written: int
    counts: pd.DataFrame  # old_agency, new_agency, n, examples


def _examples(diff: ReplayDiff, per_pair: int) -> pd.DataFrame:
    ch = diff.changes.assign(
        old_agency=diff.changes["old_agency_code"].astype(object).fillna("-"),
        new_agency=diff.changes["new_agency_code"].astype(object).fillna("-"),
        example=[
            f"#{rid} {cat}" + (f" ({place})" if isinstance(place, str) else "")
            for rid, cat, place in zip(
                diff.changes["report_id"],
                diff.changes["category"],
                diff.changes["new_place_en"],
                strict=True,
            )
        ],
    )
    ex = (
        ch.sort_values("report_id")
        .groupby(["old_agency", "new_agency"])["example"]
        .agg(lambda s: ", ".join(s.head(per_pair)))
        .reset_index()
    )
    return diff.counts().merge(ex, on=["old_agency", "new_agency"], how="left")


def run_route(*, replay: bool, dry_run: bool, examples: int = EXAMPLES_PER_PAIR) -> RouteSummary:
    """Compute (and unless ``dry_run`` apply, in one transaction) the routing of the stored
    reports: never-routed reports, or with ``replay`` every open or in-progress report."""
    engine = get_engine()
    try:
        with engine.connect() as conn:
            layers = read_boundary_layers(conn)
            diff = routing_diff(conn, layers, replay=replay)
            if dry_run:
                written = 0
                conn.rollback()
            else:
                written = apply_routing(conn, diff, audit=replay)
                conn.commit()
    finally:
        engine.dispose()
    return RouteSummary(
        replay=replay,
        dry_run=dry_run,
        version=diff.version,
        examined=diff.n_examined,
        changed=len(diff.changes),
        governorate_changes=diff.n_changed("governorate_code") if len(diff.changes) else 0,
        authority_changes=diff.n_changed("authority_code") if len(diff.changes) else 0,
        agency_changes=diff.n_changed("agency_code") if len(diff.changes) else 0,
        refreshed=len(diff.refresh),
        written=written,
        counts=_examples(diff, examples)
        if len(diff.changes)
        else pd.DataFrame(columns=["old_agency", "new_agency", "n", "example"]),
    )


def format_summary(s: RouteSummary) -> list[str]:
    """The lines ``fix2go route`` prints."""
    what = "open reports (replay)" if s.replay else "never-routed reports"
    verb = "would change" if s.dry_run else "changed"
    lines = [
        f"boundary version: {s.version}",
        f"examined {s.examined} {what}; {s.changed} {verb}: governorate {s.governorate_changes}, "
        f"authority {s.authority_changes}, agency {s.agency_changes}",
    ]
    if s.refreshed:
        lines.append(
            f"{s.refreshed} more {'would get' if s.dry_run else 'got'} a new confidence, "
            "reason or place only (same governorate, authority and agency; not audited)"
        )
    if len(s.counts):
        lines.append("old agency -> new agency: reports (examples)")
        for row in s.counts.itertuples(index=False):
            lines.append(f"  {row.old_agency} -> {row.new_agency}: {row.n} ({row.example})")
    if s.dry_run:
        lines.append("dry run: nothing written")
    else:
        audit = f", {s.changed} audit rows" if s.replay else ""
        lines.append(f"written: {s.written} reports updated{audit}, in one transaction")
        if s.agency_changes:
            lines.append(
                "incidents take their agency from their reports: run `fix2go dedup` to carry "
                "the new agencies over"
            )
    return lines


def route(
    replay: bool = typer.Option(
        False,
        "--replay",
        help="Re-route every open or in-progress report with the current boundaries and "
        "record each change in the routing audit table.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the diff (per old agency -> new agency) only."
    ),
) -> None:
    """Re-route open reports, e.g. after a boundary update; --dry-run prints the diff only.

    Without --replay, routes the reports that were never routed. Counts per (old agency ->
    new agency) with example report ids (no personal data)."""
    for line in format_summary(run_route(replay=replay, dry_run=dry_run)):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add the ``route`` command to the CLI."""
    app.command("route")(route)
