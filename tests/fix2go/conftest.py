"""Command-line tests commit real batches through subprocesses, so each test module here gets
its own throw-away database instead of the session's shared one (which other packages' tests
expect to hold only the reference data). The root ``conn`` fixture then opens its rolled-back
transaction on this module's engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import typer
from sqlalchemy.engine import Engine

from fix2go.commands import export as export_cmd
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
def export_app() -> typer.Typer:
    """The ``export`` command alone on a Typer app (the callback keeps it a sub-command)."""
    app = typer.Typer()
    export_cmd.register(app)

    @app.callback()
    def _root() -> None:
        pass

    return app
