"""``fix2go dedup`` and ``fix2go hotspots`` against a throw-away PostGIS database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
import typer
from sqlalchemy.engine import Connection, Engine
from typer.testing import CliRunner

from fix2go.commands import dedup as dedup_cmd
from fix2go.commands import hotspots as hotspots_cmd
from spatial.dedup import DedupConfig, incident_labels
from spatial.dedup_quality import synthetic_defect_reports
from spatial.postgis.engine import make_engine


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    dedup_cmd.register(app)
    hotspots_cmd.register(app)
    return app


@pytest.fixture
def dedup_db(new_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = new_database(reference=True)
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def insert_reports(conn: Connection, reports: gpd.GeoDataFrame) -> list[int]:
    rows = [
        {
            "sid": f"s{i}",
            "cat": cat,
            "t": t.to_pydatetime(),
            "lng": g.x,
            "lat": g.y,
        }
        for i, (cat, t, g) in enumerate(
            zip(reports["category"], reports["reported_at"], reports.geometry, strict=True)
        )
    ]
    conn.execute(
        sa.text(
            "INSERT INTO reports (source, source_id, category, reported_at, content_hash, "
            "routing_status, geom) VALUES ('cli', :sid, :cat, :t, :sid, 'routed', "
            "ST_SetSRID(ST_MakePoint(:lng, :lat), 4326))"
        ),
        rows,
    )
    ids = conn.execute(
        sa.text("SELECT id FROM reports WHERE source = 'cli' ORDER BY substr(source_id, 2)::int")
    ).scalars()
    return list(ids)


def stored_groups(engine: Engine) -> set[frozenset[int]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, incident_id FROM reports")).all()
    df = pd.DataFrame(rows, columns=["id", "incident"])
    return {frozenset(g["id"]) for _, g in df.groupby("incident")}


def test_dedup_local_then_dask_then_hotspots(cli: typer.Typer, dedup_db: Engine) -> None:
    reports, _ = synthetic_defect_reports(60, seed=9)
    with dedup_db.begin() as conn:
        ids = insert_reports(conn, reports)
    expected_labels = incident_labels(reports.set_axis(ids), DedupConfig.from_toml())
    expected = {frozenset(g.index) for _, g in expected_labels.groupby(expected_labels)}

    runner = CliRunner()
    local = runner.invoke(cli, ["dedup"])
    assert local.exit_code == 0, local.output
    assert f"reports deduplicated: {len(reports)} (executor local)" in local.output
    assert f"incidents: {len(expected)} (+{len(expected)} new, 0 removed)" in local.output
    assert stored_groups(dedup_db) == expected

    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        dask_run = runner.invoke(
            cli, ["dedup", "--executor", "dask", "--scheduler", cluster.scheduler_address]
        )
    assert dask_run.exit_code == 0, dask_run.output
    assert "(+0 new, 0 removed)" in dask_run.output
    assert stored_groups(dedup_db) == expected

    hot = runner.invoke(cli, ["hotspots"])
    assert hot.exit_code == 0, hot.output
    with dedup_db.connect() as conn:
        n, total = conn.execute(
            sa.text(
                "SELECT count(*), sum(n_incidents) FILTER (WHERE category_group = 'all' "
                "AND period = 'all' AND resolution = 9) FROM hotspot_cells"
            )
        ).one()
    assert n > 0 and total == len(expected)
    assert f"incidents: {len(expected)}; hotspot cells written: {n}" in hot.output


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["dedup", "--executor", "spark"], "unknown executor 'spark'"),
        (["dedup", "--scheduler", "tcp://x:1"], "only applies to --executor dask"),
    ],
)
def test_bad_executor_options(cli: typer.Typer, args: list[str], match: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, dedup_cmd.ExecutorError)
    assert match in str(result.exception)
