"""``fix2go route``: dry-run diff counts match a direct computation; --replay applies them
with audit rows; without --replay, never-routed reports are routed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from fix2go.commands import route as route_cmd
from spatial.postgis.engine import make_engine
from spatial.postgis.routing import audit_rows, read_boundary_layers, replay_diff
from tests.spatial.test_postgis_routing import load_legacy_layout, seed_routed_reports


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    route_cmd.register(app)

    @app.callback()
    def _root() -> None:  # keep `route` a sub-command
        pass

    return app


@pytest.fixture(scope="module")
def route_db(new_database: Callable[..., str]) -> Iterator[str]:
    """One committed throw-away database for this module; the CLI finds it via DATABASE_URL."""
    url = new_database(reference=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        yield url


def test_replay_dry_run_then_apply(cli: typer.Typer, route_db: str) -> None:
    engine = make_engine(route_db)
    try:
        with engine.begin() as conn:
            seed_routed_reports(conn, 120, seed=11)
            load_legacy_layout(conn)
        with engine.connect() as conn:
            direct = replay_diff(conn, read_boundary_layers(conn))
        expected = direct.counts()
        assert len(direct.changes) > 0

        runner = CliRunner()
        dry = runner.invoke(cli, ["route", "--replay", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert f"examined {direct.n_examined} open reports" in dry.output
        assert f"{len(direct.changes)} would change" in dry.output
        for row in expected.itertuples(index=False):
            assert f"  {row.old_agency} -> {row.new_agency}: {row.n} (#" in dry.output
        assert "dry run: nothing written" in dry.output
        with engine.connect() as conn:
            assert len(audit_rows(conn)) == 0  # the dry run wrote nothing
            assert len(replay_diff(conn, read_boundary_layers(conn)).changes) == len(direct.changes)

        applied = runner.invoke(cli, ["route", "--replay"])
        assert applied.exit_code == 0, applied.output
        n = len(direct.changes)
        assert f"written: {n} reports updated, {n} audit rows" in applied.output
        assert "run `fix2go dedup`" in applied.output
        with engine.connect() as conn:
            audit = audit_rows(conn)
            assert sorted(audit["report_id"]) == sorted(direct.changes["report_id"])
            assert set(audit["boundary_version"]) == {direct.version}
            assert replay_diff(conn, read_boundary_layers(conn)).changes.empty

        again = runner.invoke(cli, ["route", "--replay", "--dry-run"])
        assert "0 would change" in again.output
    finally:
        engine.dispose()


def test_route_never_routed(cli: typer.Typer, route_db: str) -> None:
    engine = make_engine(route_db)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO reports (source, source_id, category, reported_at, "
                    "content_hash, geom) VALUES ('t', 'a', 'sewage', now(), 'h', "
                    "ST_SetSRID(ST_MakePoint(50.58, 26.22), 4326))"
                )
            )
        result = CliRunner().invoke(cli, ["route"])
        assert result.exit_code == 0, result.output
        assert "examined 1 never-routed reports; 1 changed" in result.output
        assert "- -> mow_sanitary: 1" in result.output
        with engine.connect() as conn:
            rid, agency = conn.execute(
                sa.text("SELECT id, agency_code FROM reports WHERE source_id = 'a'")
            ).one()
            assert agency == "mow_sanitary"
            assert rid not in set(audit_rows(conn)["report_id"])  # first routing: no audit
    finally:
        engine.dispose()


def test_bench_route_runs_on_a_small_sample(route_db: str) -> None:
    from benchmarks.bench_route import run

    figures = run(reports=400, seed=1)
    assert figures["reports"] == 400
    assert sum(figures["routing_status"].values()) == 400
    # the project and the PostGIS join agree on every point inside a governorate
    assert figures["governorate_agreement_inside"] == 1.0
    assert figures["project_route_s"] > 0 and figures["postgis_update_s"] > 0
