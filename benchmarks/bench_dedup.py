"""Dedup benchmark: the project's dedup vs PostGIS ``ST_ClusterDBSCAN`` and scikit-learn DBSCAN.

Run with ``fix2go bench dedup --reports 1000000 --seed 7`` (or
``python -m benchmarks.bench_dedup --reports N --seed S``).

One generated file (:func:`ingest.generate.generate`, its usable rows: ``expected_outcome ==
"new"``) is written once as Parquet; every contender reads the same points:

- project (serial and local process pool): :func:`spatial.dedup.assign_incidents` (space,
  time and category, anti-chaining, closures, recurrences) from an in-memory GeoDataFrame,
  UTM projection included; each in its own subprocess, so its peak RSS is its own;
- PostGIS: ``ST_ClusterDBSCAN(geom, eps, minpoints 1) OVER ()`` on a temporary table whose
  geometry was ``ST_Transform``'ed to UTM 39N beforehand (not timed): space only, one eps;
- scikit-learn: ``DBSCAN(eps, min_samples=1, algorithm="kd_tree")`` on UTM coordinates
  (projection not timed), in its own subprocess: space only, one eps.

The anchors use one eps: the project's eps for potholes (the commonest category). They solve
an easier problem (no time, no category, chaining allowed), so a ratio above 1 means the
project does more work in less time. Quality: pairwise precision/recall and ARI of the
project's incidents against the generator's truth. One run, no repetition: figures are
indicative.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

BENCH_EPS_CATEGORY = "pothole"
"""The category whose eps_m the space-only anchors use."""


def reports_from_generated(
    reports: pd.DataFrame, truth: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Usable generated rows as dedup input (true category codes, parsed times and
    coordinates) and their true defect ids, index = position in the export."""
    ok = (truth["expected_outcome"] == "new").to_numpy()
    rep = reports[ok]
    frame = gpd.GeoDataFrame(
        {
            "category": truth["category"][ok].to_numpy(),
            "reported_at": pd.to_datetime(rep["created_at"].to_numpy(), utc=True, format="ISO8601"),
        },
        geometry=gpd.points_from_xy(rep["longitude"].astype(float), rep["latitude"].astype(float)),
        crs=4326,
        index=pd.RangeIndex(int(ok.sum())),
    )
    return frame, pd.Series(truth["defect_id"][ok].to_numpy(), index=frame.index, name="defect_id")


def _peak_rss_mb() -> dict[str, float]:
    """Peak RSS of this process (``VmHWM``: its own address space, unlike ``ru_maxrss``,
    which a child inherits from the parent that forked it) and the largest child's
    ``ru_maxrss`` (an upper bound: it includes what a pool worker inherited at fork)."""
    own = 0.0
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": own, "peak_rss_children_mb": children}


def _read(path: Path) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    df = pd.read_parquet(path)
    frame = gpd.GeoDataFrame(
        {"category": df["category"], "reported_at": df["reported_at"]},
        geometry=gpd.points_from_xy(df["lng"], df["lat"]),
        crs=4326,
    )
    return frame, df["defect_id"].to_numpy()


def _worker(kind: str, path: Path) -> dict[str, Any]:
    """One contender in this (fresh) process; returns its figures."""
    frame, truth = _read(path)
    gc.collect()
    from spatial.dedup import DedupConfig, LocalExecutor, SerialExecutor, assign_incidents

    config = DedupConfig.from_toml()
    eps = config.eps_m[BENCH_EPS_CATEGORY]
    if kind in ("project_serial", "project_local"):
        ex = SerialExecutor() if kind == "project_serial" else LocalExecutor()
        if kind == "project_local":
            import dataclasses

            config = dataclasses.replace(config, serial_below_reports=0)
        t0 = time.perf_counter()
        out = assign_incidents(frame, config, executor=ex)
        seconds = time.perf_counter() - t0
        from spatial.dedup_quality import adjusted_rand, pairwise_precision_recall

        scores = pairwise_precision_recall(truth, out["incident"])
        return {
            "seconds": seconds,
            "workers": ex.workers,
            "incidents": int(out["incident"].nunique()),
            "recurrences": int(out.drop_duplicates("incident")["recurrence_of"].notna().sum()),
            "precision": scores.precision,
            "recall": scores.recall,
            "ari": adjusted_rand(truth, out["incident"]),
            **_peak_rss_mb(),
        }
    if kind == "sklearn":
        from sklearn.cluster import DBSCAN

        from spatial.crs import METRIC_EPSG

        utm = frame.to_crs(METRIC_EPSG)
        xy = np.column_stack([utm.geometry.x.to_numpy(), utm.geometry.y.to_numpy()])
        del utm, frame
        gc.collect()
        t0 = time.perf_counter()
        labels = DBSCAN(eps=eps, min_samples=1, algorithm="kd_tree").fit(xy).labels_
        seconds = time.perf_counter() - t0
        return {
            "seconds": seconds,
            "clusters": int(np.unique(labels).size),
            "eps_m": eps,
            **_peak_rss_mb(),
        }
    raise ValueError(f"unknown contender {kind!r}")


def _run_worker(kind: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_dedup", "--worker", kind, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed: {proc.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run(reports: int, seed: int) -> dict[str, Any]:
    """Generate ``reports`` rows with ``seed``, run every contender, print and return figures."""
    from ingest.generate import generate
    from spatial.dedup import DedupConfig

    eps = DedupConfig.from_toml().eps_m[BENCH_EPS_CATEGORY]
    with tempfile.TemporaryDirectory(prefix="bench_dedup_") as tmp:
        path = Path(tmp) / "points.parquet"
        t0 = time.perf_counter()
        g = generate(reports, seed)
        frame, truth = reports_from_generated(g.reports, g.truth)
        del g
        pd.DataFrame(
            {
                "category": frame["category"].to_numpy(),
                "reported_at": frame["reported_at"],
                "lng": frame.geometry.x.to_numpy(),
                "lat": frame.geometry.y.to_numpy(),
                "defect_id": truth.to_numpy(),
            }
        ).to_parquet(path)
        n = len(frame)
        lng, lat = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
        del frame, truth
        gc.collect()
        print(f"generated {reports} rows ({n} usable points) in {time.perf_counter() - t0:.1f} s")

        figures: dict[str, Any] = {"reports": reports, "points": n, "seed": seed, "eps_m": eps}
        figures["project_serial"] = _run_worker("project_serial", path)
        figures["project_local"] = _run_worker("project_local", path)
        figures["sklearn"] = _run_worker("sklearn", path)

        from fix2go.database import get_engine
        from spatial.postgis.incidents import cluster_dbscan_anchor

        engine = get_engine()
        try:
            with engine.begin() as conn:
                figures["postgis"] = cluster_dbscan_anchor(conn, lng, lat, eps)
        finally:
            engine.dispose()

    best = min(figures["project_serial"]["seconds"], figures["project_local"]["seconds"])
    figures["ratio_postgis_over_project"] = figures["postgis"]["seconds_cluster"] / best
    figures["ratio_sklearn_over_project"] = figures["sklearn"]["seconds"] / best
    _print(figures)
    return figures


def _print(f: dict[str, Any]) -> None:
    ps, pl, sk, pg = f["project_serial"], f["project_local"], f["sklearn"], f["postgis"]
    print(f"points: {f['points']} (from {f['reports']} generated rows, seed {f['seed']})")
    print(
        f"project dedup, serial        : {ps['seconds']:7.2f} s  peak RSS {ps['peak_rss_mb']:.0f} MB"
        f"  incidents {ps['incidents']}, recurrences {ps['recurrences']}"
    )
    print(
        f"project dedup, local x{pl['workers']}      : {pl['seconds']:7.2f} s  peak RSS "
        f"{pl['peak_rss_mb']:.0f} MB (+ workers {pl['peak_rss_children_mb']:.0f} MB each at most)"
    )
    print(
        f"PostGIS ST_ClusterDBSCAN     : {pg['seconds_cluster']:7.2f} s  (eps {f['eps_m']:.0f} m, "
        f"space only; load + ST_Transform {pg['seconds_load']:.1f} s not counted)"
    )
    print(
        f"scikit-learn DBSCAN kd-tree  : {sk['seconds']:7.2f} s  peak RSS {sk['peak_rss_mb']:.0f} MB"
        f" (eps {f['eps_m']:.0f} m, space only)"
    )
    print(
        f"ratios (anchor / project best): PostGIS {f['ratio_postgis_over_project']:.2f}x, "
        f"scikit-learn {f['ratio_sklearn_over_project']:.2f}x"
    )
    print(
        f"quality vs truth: precision {ps['precision']:.4f}, recall {ps['recall']:.4f}, "
        f"ARI {ps['ari']:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        os.environ.setdefault("PYTHONWARNINGS", "ignore")
        print(json.dumps(_worker(args.worker[0], Path(args.worker[1]))))
        return
    run(args.reports, args.seed)


if __name__ == "__main__":
    main()
