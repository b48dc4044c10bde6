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
