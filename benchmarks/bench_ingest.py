"""Ingest benchmark: the full ingest against the database's own floor, same file, one run.

Run with ``fix2go bench ingest --reports 1000000 --seed 7`` (or
``python -m benchmarks.bench_ingest 1000000``).

Set-up (not timed): a throw-away database gets the reference data and boundaries; a child
process writes the synthetic Fix2Go CSV export (``ingest.generate``).

Measured, in this order, on that file:

- ``full_s``: ``ingest.pipeline.ingest_file`` in one transaction: read, validate, redact,
  pseudonymise, route, H3, COPY to staging, merge into ``reports`` (indexed), rejects and the
  raw rows into the restricted ``raw_rows``, commit;
- ``floor_s``: the database's floor: the same report rows, already prepared (geometry as hex
  EWKB, timestamps as text, every column computed), COPied from a file into
  ``reports_floor`` (``LIKE reports INCLUDING ALL``: same columns, same indexes), commit;
- ``floor_with_fks_s``: the same COPY into a copy that also has the four foreign keys
  ``reports`` carried before sql/007 and sql/008 (category, agency, incident, batch): what
  the per-row reference checks cost, for comparison.

Also: rows/s of both, the ratio full/floor (target: within 2x), and the peak RSS of this
process during the full ingest (Linux ``VmHWM``, reset just before it).
One run per figure: indicative, not statistics.
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from fix2go.database import admin_url, create_database, drop_database
from ingest.pipeline import IngestConfig, ingest_file
from spatial.postgis.engine import make_engine, raw_connection

BENCH_DB = f"fix2go_bench_ingest_{os.getpid()}"
"""Throw-away database, one per process (two benchmarks or a test may run at once)."""
BENCH_KEY = b"benchmark-only-key-0123456789abcdef"
COPY_BLOCK_BYTES = 8 << 20
REPORT_COLUMNS = (
    "source, source_id, category, description, reporter_pseudonym, channel, photo_url, status, "
    "reported_at, received_at, updated_at, flags, content_hash, governorate_code, "
    "authority_code, agency_code, routing_confidence, routing_reason, routing_status, "
    "place_en, place_ar, h3_cell, incident_id, batch_id, geom"
)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> None:
    # not Linux, or not permitted: the peak then covers the whole process
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _timed_copy(engine: Engine, table: str, prepared: Path) -> float:
    """Seconds to COPY the prepared report rows of ``prepared`` into ``table`` and commit."""
    t0 = time.perf_counter()
    with engine.begin() as conn:
        raw = raw_connection(conn)
        with (
            raw.cursor() as cur,
            prepared.open("rb") as fh,
            cur.copy(f"COPY {table} ({REPORT_COLUMNS}) FROM STDIN") as cp,
        ):
            while block := fh.read(COPY_BLOCK_BYTES):
                cp.write(block)
    return time.perf_counter() - t0


def _generate(path: Path, reports: int, seed: int) -> float:
    """Write the export in a child process (keeps its memory out of this one)."""
    t0 = time.perf_counter()
    code = (
        "import sys; from ingest.generate import generate; "
        "generate(int(sys.argv[1]), int(sys.argv[2])).write(sys.argv[3])"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(reports), str(seed), str(path)],
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return time.perf_counter() - t0


def _fresh_database(admin: str) -> Engine:
    """The throw-away bench database, new: migrated, reference data and boundaries loaded."""
    drop_database(admin, BENCH_DB)
    return make_engine(create_database(admin, BENCH_DB))


def _measure_once(admin: str, csv: Path, tmp: Path, chunk_rows: int) -> dict[str, Any]:
    """One full ingest and the two floors on ``csv``, in a new database, with the load
    average of the machine just before."""
    load_average = os.getloadavg()[0]
    engine = _fresh_database(admin)
    try:
        # --- the full ingest ----------------------------------------------------------
        gc.collect()
        rss_before_kb = _status_kb("VmRSS")
        _reset_peak_rss()
        t0 = time.perf_counter()
        with engine.begin() as conn:
            summary = ingest_file(
                conn, csv, key=BENCH_KEY, config=IngestConfig(chunk_rows=chunk_rows)
            )
        full_s = time.perf_counter() - t0
        peak_kb = _status_kb("VmHWM")

        # --- the floor: the same prepared rows, plain COPY -------------------------------
        prepared = tmp / "prepared.tsv"
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS reports_floor")
            conn.exec_driver_sql("CREATE TABLE reports_floor (LIKE reports INCLUDING ALL)")
            raw = raw_connection(conn)
            with raw.cursor() as cur, prepared.open("wb") as fh:
                sql = f"COPY (SELECT {REPORT_COLUMNS} FROM reports) TO STDOUT"
                with cur.copy(sql) as cp:
                    for block in cp:
                        fh.write(block)
        floor_s = _timed_copy(engine, "reports_floor", prepared)

        # --- the same floor with the four foreign keys reports had before sql/007-008 ------
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS reports_floor_fk")
            conn.exec_driver_sql(
                "CREATE TABLE reports_floor_fk (LIKE reports INCLUDING ALL, "
                "FOREIGN KEY (category) REFERENCES categories (code), "
                "FOREIGN KEY (agency_code) REFERENCES agencies (code), "
                "FOREIGN KEY (incident_id) REFERENCES incidents (id), "
                "FOREIGN KEY (batch_id) REFERENCES ingest_batches (id))"
            )
        floor_fk_s = _timed_copy(engine, "reports_floor_fk", prepared)
        with engine.connect() as conn:
            n_floor = int(conn.execute(sa.text("SELECT count(*) FROM reports_floor")).scalar_one())
    finally:
        engine.dispose()
        drop_database(admin, BENCH_DB)
    return {
        "load_average": round(load_average, 2),
        "full_s": round(full_s, 2),
        "full_rows_per_s": round(summary.n_in / full_s),
        "floor_s": round(floor_s, 2),
        "floor_rows": n_floor,
        "floor_rows_per_s": round(n_floor / floor_s),
        "ratio_full_to_floor": round(full_s / floor_s, 2),
        "floor_with_fks_s": round(floor_fk_s, 2),
        "ratio_full_to_floor_with_fks": round(full_s / floor_fk_s, 2),
        "peak_rss_mb": round(peak_kb / 1024),
        "rss_before_mb": round(rss_before_kb / 1024),
        "summary": {
            "in": summary.n_in,
            "new": summary.n_new,
            "updated": summary.n_updated,
            "unchanged": summary.n_unchanged,
            "rejected": summary.n_rejected,
        },
        "phases_s": {k: round(v, 2) for k, v in summary.timings.items()},
    }


def run(
    reports: int = 1_000_000,
    seed: int = 7,
    runs: int = 1,
    chunk_rows: int = IngestConfig.chunk_rows,
) -> dict[str, Any]:
    """Run the benchmark ``runs`` times on one generated file; print and return the figures.

    Each run is a new database, the full ingest, then the floors (see the module docstring).
    With several runs the medians are printed too: on a shared machine the ratio of one run
    moves with the load of the others (each run's load average is given).
    """
    admin = admin_url()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "export.csv"
        gen_s = _generate(csv, reports, seed)
        size_mb = csv.stat().st_size / 1e6
        per_run = []
        for i in range(runs):
            one = _measure_once(admin, csv, Path(tmp), chunk_rows)
            per_run.append(one)
            print(
                f"run {i + 1}/{runs} (load average {one['load_average']:.1f}): "
                f"full ingest {one['full_s']:.2f} s, COPY floor {one['floor_s']:.2f} s, "
                f"ratio {one['ratio_full_to_floor']:.2f}x; with FKs {one['floor_with_fks_s']:.2f} s",
                flush=True,
            )
    figures: dict[str, Any] = {
        "reports": reports,
        "seed": seed,
        "chunk_rows": chunk_rows,
        "file_mb": round(size_mb, 1),
        "generate_s": round(gen_s, 2),
        **{k: v for k, v in per_run[-1].items()},
    }
    if runs > 1:
        figures["runs"] = per_run
        for key in ("full_s", "floor_s", "floor_with_fks_s", "ratio_full_to_floor"):
            figures[f"median_{key}"] = round(statistics.median(r[key] for r in per_run), 2)
    last = per_run[-1]
    print(
        f"ingest of {reports:,} generated reports ({figures['file_mb']} MB CSV), "
        f"chunks of {chunk_rows:,} rows; last run:\n"
        f"  full ingest : {last['full_s']:8.2f} s  {last['full_rows_per_s']:>10,} rows/s  "
        f"(peak RSS {last['peak_rss_mb']:,} MB)\n"
        f"  COPY floor  : {last['floor_s']:8.2f} s  {last['floor_rows_per_s']:>10,} rows/s  "
        f"({last['floor_rows']:,} prepared rows into the same indexed table)\n"
        f"  COPY + FKs  : {last['floor_with_fks_s']:8.2f} s  "
        "(the same, with the 4 foreign keys reports had before sql/007-008)\n"
        f"  ratio       : {last['ratio_full_to_floor']:.2f}x (target <= 2x); "
        f"{last['ratio_full_to_floor_with_fks']:.2f}x against the floor with FKs\n"
        f"  phases      : " + ", ".join(f"{k} {v:.2f} s" for k, v in last["phases_s"].items())
    )
    if runs > 1:
        print(
            f"  medians of {runs} runs: full ingest {figures['median_full_s']:.2f} s, "
            f"COPY floor {figures['median_floor_s']:.2f} s, "
            f"ratio {figures['median_ratio_full_to_floor']:.2f}x"
        )
    return figures


if __name__ == "__main__":  # pragma: no cover
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    pd.set_option("display.width", 120)
    run(n, int(os.environ.get("SEED", "7")), runs=int(os.environ.get("RUNS", "1")))
