"""``fix2go hotspots``: H3 aggregates of incidents, Getis-Ord Gi* hot/cold spots with FDR,
and trend labels, written to ``hotspot_cells`` for the dashboard."""

from __future__ import annotations

import time
from dataclasses import dataclass

import typer
from sqlalchemy.engine import Engine

from fix2go.database import get_engine
from fix2go.settings import load
from spatial.hotspots import HotspotConfig, hotspot_cells
from spatial.postgis.hotspots import read_hotspot_incidents, write_hotspot_cells


@dataclass(frozen=True)
class HotspotSummary:
    """What one ``fix2go hotspots`` run did."""

    incidents: int
    rows: int
    hot: dict[int, int]  # resolution -> hot cells at >= 95 % (group "all", first period)
    cold: dict[int, int]
    seconds: float


def run_hotspots(engine: Engine) -> HotspotSummary:
    """Compute the hotspot cells of the stored incidents and replace ``hotspot_cells``."""
    config = HotspotConfig.from_toml(load().data_dir / "dedup.toml")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        incidents = read_hotspot_incidents(conn)
    cells = hotspot_cells(incidents, config)
    with engine.begin() as conn:
        rows = write_hotspot_cells(conn, cells)
    first_period = next(iter(config.periods))
    main = cells[(cells["category_group"] == "all") & (cells["period"] == first_period)]
    hot = {
        r: int(((main["resolution"] == r) & (main["hot_class"] >= 2)).sum())
        for r in config.resolutions
    }
    cold = {
        r: int(((main["resolution"] == r) & (main["hot_class"] <= -2)).sum())
        for r in config.resolutions
    }
    return HotspotSummary(len(incidents), rows, hot, cold, time.perf_counter() - t0)


def hotspots() -> None:
    """H3 aggregates of incidents (resolutions, category groups and periods of
    data/dedup.toml), Getis-Ord Gi* hot and cold spots with false-discovery-rate correction
    (hot_class -3..3 at 90/95/99 % confidence) and Mann-Kendall trend labels (new,
    intensifying, persistent, diminishing, sporadic, none); replaces hotspot_cells."""
    engine = get_engine()
    try:
        s = run_hotspots(engine)
    finally:
        engine.dispose()
    typer.echo(f"incidents: {s.incidents}; hotspot cells written: {s.rows} ({s.seconds:.1f} s)")
    for res in s.hot:
        typer.echo(
            f"resolution {res}: {s.hot[res]} hot and {s.cold[res]} cold cells at >= 95 % (all categories)"
        )


def register(app: typer.Typer) -> None:
    """Add the ``hotspots`` command to the CLI."""
    app.command("hotspots")(hotspots)
