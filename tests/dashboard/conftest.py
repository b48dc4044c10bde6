"""Dashboard fixtures: a seeded database and an empty one (each migrated, with reference data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from spatial.postgis.engine import make_engine
from tests.dashboard.seed import seed


@pytest.fixture(scope="session")
def seeded_url(new_database: Callable[..., str]) -> str:
    """A database holding the rows of ``tests.dashboard.seed``."""
    url = new_database(reference=True)
    engine = make_engine(url)
    try:
        seed(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def seeded_engine(seeded_url: str) -> Iterator[Engine]:
    eng = make_engine(seeded_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def empty_url(new_database: Callable[..., str]) -> str:
    """A migrated database with reference data and boundaries but no reports."""
    return new_database(reference=True)


GENERATED_REPORTS = 1_500
GENERATED_SEED = 20261204
HOTSPOT_PERMUTATIONS = 99  # classes come from z-scores; fewer permutations keep it quick


@pytest.fixture(scope="session")
def generated_url(
    new_database: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database filled through the real pipeline: generate, ingest, dedup, hotspots."""
    from dataclasses import replace

    from fix2go.commands.dedup import run_dedup
    from ingest.generate import generate
    from ingest.pipeline import ingest_file
    from spatial.hotspots import HotspotConfig, hotspot_cells
    from spatial.postgis.hotspots import read_hotspot_incidents, write_hotspot_cells

    url = new_database(reference=True)
    export = tmp_path_factory.mktemp("dashboard_data") / "reports.csv"
    generate(GENERATED_REPORTS, seed=GENERATED_SEED).write(export)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            ingest_file(conn, export, key=b"dashboard-tests-only")
        run_dedup(engine)
        full = HotspotConfig.from_toml()
        config = replace(
            full,
            permutations=HOTSPOT_PERMUTATIONS,
            category_groups={"all": full.category_groups["all"]},
            periods={"all": 0},
        )
        with engine.connect() as conn:
            incidents = read_hotspot_incidents(conn)
        with engine.begin() as conn:
            write_hotspot_cells(conn, hotspot_cells(incidents, config))
    finally:
        engine.dispose()
    return url
