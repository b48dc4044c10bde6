"""`fix2go demo --no-serve` leaves a fully prepared database, and a second run adds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from spatial.postgis.engine import make_engine


def _demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fix2go", "demo", "--no-serve", "--reports", "1500"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_demo_prepares_everything_and_is_idempotent(
    new_database: Callable[..., str], tmp_path: Path
) -> None:
    url = new_database(reference=False)
    env = {**os.environ, "DATABASE_URL": url, "FIX2GO_HOME": str(tmp_path)}
    first = _demo(env)
    assert first.returncode == 0, first.stderr
    assert "demo database ready" in first.stdout
    engine = make_engine(url)
    try:
        with engine.connect() as conn:

            def count(sql: str) -> int:
                return int(conn.execute(sa.text(sql)).scalar_one())

            assert count("SELECT count(*) FROM governorates WHERE is_current") == 4
            assert count("SELECT count(*) FROM road_authorities WHERE is_current") >= 5
            assert count("SELECT count(*) FROM agencies") == 8
            assert count("SELECT count(*) FROM routing_rules") > 0
            n_reports = count("SELECT count(*) FROM reports")
            assert 1300 < n_reports <= 1500
            assert (
                count(
                    "SELECT count(*) FROM reports WHERE agency_code IS NULL AND routing_status = 'routed'"
                )
                == 0
            )
            n_incidents = count("SELECT count(*) FROM incidents")
            assert 0 < n_incidents < n_reports
            assert count("SELECT count(*) FROM hotspot_cells") > 0
            assert count("SELECT sum(n_in) FROM ingest_batches") == 1500
        second = _demo(env)
        assert second.returncode == 0, second.stderr
        assert "0 new, 0 updated" in second.stdout
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM reports")).scalar_one() == n_reports
            assert (
                conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one() == n_incidents
            )
    finally:
        engine.dispose()
    # the sample file and the pseudonym key live under FIX2GO_HOME, the key private
    key_files = [p for p in tmp_path.rglob("*") if "key" in p.name]
    assert key_files and all((p.stat().st_mode & 0o077) == 0 for p in key_files)
