"""Routing benchmark: the project's routing vs a plain PostGIS ``ST_Contains`` join, same points.

Run with ``fix2go bench route --reports 1000000 --seed 7`` (or ``python -m benchmarks.bench_route``).

- project: :func:`spatial.routing.assign_jurisdiction` on an in-memory GeoDataFrame (what the
  ingest pipeline does before loading). It does much more than the anchor: governorate, road
  authority with precedence, category rules with fallback, boundary band, outside-polygon
  tolerance, nearest bilingual place and a readable reason per report. Preparing the layers
  (read once from PostGIS) is timed separately.
- anchor: the same points COPYed into a table with a GiST index, then
  ``UPDATE ... FROM governorates WHERE ST_Contains(g.geom, b.geom)`` (governorate only).
  COPY and index build are timed separately; the ratio uses the UPDATE alone. The same join
  read-only (``SELECT count(*)``) is also timed, to show what the UPDATE's row writes cost.

Points: ``reports`` points drawn around the named places of ``data/places`` (Gaussian,
``CLUSTER_SIGMA_M``) and kept on land, plus ``STRAY_FRACTION`` anywhere in the bounding box
(sea: GPS errors), with random categories. One run, no repetition: figures are indicative.
"""

from __future__ import annotations

import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from fix2go.database import get_engine
from spatial.categories import category_codes
from spatial.crs import METRIC_EPSG, STORAGE_EPSG
from spatial.postgis.boundaries import read_layer
from spatial.postgis.routing import contains_join_anchor, read_boundary_layers
from spatial.routing import assign_jurisdiction

CLUSTER_SIGMA_M = 1500.0
STRAY_FRACTION = 0.02


def make_points(land: BaseGeometry, places_m: np.ndarray, n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` report points (EPSG:4326) with a ``category`` column; see the module docstring."""
    rng = np.random.default_rng(seed)
    shapely.prepare(land)
    n_stray = round(n * STRAY_FRACTION)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    need = n - n_stray
    while need > 0:
        batch = int(need * 1.6) + 100
        centre = places_m[rng.integers(0, len(places_m), batch)]
        x = centre[:, 0] + rng.normal(0.0, CLUSTER_SIGMA_M, batch)
        y = centre[:, 1] + rng.normal(0.0, CLUSTER_SIGMA_M, batch)
        keep = shapely.contains_xy(land, x, y)
        xs.append(x[keep][:need])
        ys.append(y[keep][:need])
        need -= int(min(keep.sum(), need))
    xmin, ymin, xmax, ymax = land.bounds
    xs.append(rng.uniform(xmin, xmax, n_stray))
    ys.append(rng.uniform(ymin, ymax, n_stray))
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(n)
    pts = gpd.GeoSeries(gpd.points_from_xy(x_all[order], y_all[order]), crs=METRIC_EPSG)
    categories = rng.choice(np.asarray(category_codes(), dtype=object), n)
    return gpd.GeoDataFrame({"category": categories}, geometry=pts.to_crs(STORAGE_EPSG))


def run(reports: int = 1_000_000, seed: int = 7) -> dict[str, Any]:
    """Route ``reports`` points with the project and with the PostGIS join; print and return
    the figures (seconds, points per second, ratio project / PostGIS UPDATE)."""
    engine = get_engine()
    try:
        with engine.connect() as conn:
            gov = read_layer(conn, "governorates")
            places = gpd.read_postgis(
                "SELECT geom FROM places", conn, geom_col="geom", crs=STORAGE_EPSG
            )
            land = gov.to_crs(METRIC_EPSG).union_all()
            places_m = shapely.get_coordinates(places.to_crs(METRIC_EPSG).geometry.values)
            points = make_points(land, places_m, reports, seed)

            t = time.perf_counter()
            layers = read_boundary_layers(conn)
            prepare_s = time.perf_counter() - t
            t = time.perf_counter()
            routed = assign_jurisdiction(points, layers)
            project_s = time.perf_counter() - t

            lon = points.geometry.x.to_numpy()
            lat = points.geometry.y.to_numpy()
            anchor_codes, anchor = contains_join_anchor(conn, lon, lat)
            conn.rollback()
    finally:
        engine.dispose()

    inside = pd.notna(anchor_codes)
    ours = routed["governorate_code"].to_numpy(dtype=object)
    agree = float(np.mean(ours[inside] == anchor_codes[inside])) if inside.any() else 1.0
    status = routed["routing_status"].value_counts().to_dict()
    figures: dict[str, Any] = {
        "reports": reports,
        "seed": seed,
        "project_prepare_s": round(prepare_s, 3),
        "project_route_s": round(project_s, 3),
        "postgis_copy_s": round(anchor["copy_s"], 3),
        "postgis_index_s": round(anchor["index_s"], 3),
        "postgis_update_s": round(anchor["update_s"], 3),
        "postgis_select_join_s": round(anchor["select_join_s"], 3),
        "ratio_project_to_postgis_update": round(project_s / anchor["update_s"], 3),
        "ratio_project_to_postgis_select_join": round(project_s / anchor["select_join_s"], 3),
        "project_points_per_s": round(reports / project_s),
        "postgis_points_per_s": round(reports / anchor["update_s"]),
        "governorate_agreement_inside": round(agree, 6),
        "routing_status": {str(k): int(v) for k, v in status.items()},
    }
    print(f"route benchmark: {reports} points, seed {seed}")
    print(
        f"  project  assign_jurisdiction: {project_s:8.2f} s  "
        f"(governorate, authority, agency, confidence, reason, place; "
        f"layers prepared once in {prepare_s:.2f} s)"
    )
    print(
        f"  PostGIS  UPDATE ... ST_Contains: {anchor['update_s']:8.2f} s  "
        f"(governorate only; COPY {anchor['copy_s']:.2f} s, GiST index {anchor['index_s']:.2f} s "
        "not counted)"
    )
    print(
        f"  PostGIS  same join, read-only:  {anchor['select_join_s']:8.2f} s  "
        "(SELECT count(*): the join without writing rows)"
    )
    print(
        f"  ratio project / PostGIS UPDATE: {figures['ratio_project_to_postgis_update']:.2f} "
        f"(target <= 1); project / read-only join: "
        f"{figures['ratio_project_to_postgis_select_join']:.2f}; "
        f"governorate agreement on points inside: {agree:.4%}"
    )
    return figures


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run(reports=args.reports, seed=args.seed)
