"""Command-line tests commit real batches through subprocesses, so each test module here gets
its own throw-away database instead of the session's shared one (which other packages' tests
expect to hold only the reference data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Connection, Engine

from spatial.postgis.engine import make_engine


@pytest.fixture(scope="module")
def db_url(new_database: Callable[..., str]) -> str:
    """A migrated database with reference data, private to this test module."""
    return new_database(reference=True)


@pytest.fixture(scope="module")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            if trans.is_active:
                trans.rollback()
