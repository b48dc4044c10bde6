"""spatial.dedup: the clustering rule, its edge cases, and the exactness of partitioned,
incremental and distributed runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from spatial.dedup import (
    DedupConfig,
    DedupError,
    LocalExecutor,
    SerialExecutor,
    _ComponentTask,
    _prepare,
    _seed_pass,
    assign_incidents,
    incident_labels,
    summarise_incidents,
    update_incident_labels,
)
from spatial.dedup_quality import synthetic_defect_reports
from spatial.errors import CRSError

CFG = DedupConfig.from_toml()
T0 = pd.Timestamp("2026-03-01T08:00:00+03:00")
_FROM_UTM = Transformer.from_crs(32639, 4326, always_xy=True)
ORIGIN_UTM = (460_000.0, 2_900_000.0)  # near Manama


def frame(
    rows: list[tuple[str, float, float, float]],
    index: list[object] | None = None,
    **extra: list[object],
) -> gpd.GeoDataFrame:
    """Reports from (category, dx_m, dy_m, days after T0), offsets in UTM metres."""
    xs = [ORIGIN_UTM[0] + r[1] for r in rows]
    ys = [ORIGIN_UTM[1] + r[2] for r in rows]
    lng, lat = _FROM_UTM.transform(xs, ys)
    return gpd.GeoDataFrame(
        {
            "category": [r[0] for r in rows],
            "reported_at": [T0 + pd.Timedelta(days=r[3]) for r in rows],
            **extra,
        },
        geometry=[Point(a, b) for a, b in zip(lng, lat, strict=True)],
        crs=4326,
        index=index,
    )


def groups(labels: pd.Series) -> set[frozenset[object]]:
    """The partition of report labels, independent of label values."""
    return {frozenset(g.index) for _, g in labels.groupby(labels)}


# Configuration --------------------------------------------------------------------------------


def test_config_file_covers_every_category() -> None:
    from spatial.categories import category_codes

    assert set(CFG.eps_m) == set(category_codes())
    assert all(CFG.max_radius_m[c] <= CFG.eps_m[c] for c in CFG.eps_m)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"max_radius_m": {"sewage": 40.0}}, "same categories"),
        ({"window_days": 0.0}, "window_days must be > 0"),
        ({"eps_m": {"pothole": -1.0}}, "must be > 0"),
        ({"partition_h3_resolution": 12}, "does not cover the largest eps_m"),
        ({"halo_rings": 0}, "halo_rings >= 1"),
    ],
)
def test_config_rejects_bad_values(change: dict[str, object], match: str) -> None:
    base = {
        "eps_m": {"pothole": 60.0},
        "max_radius_m": {"pothole": 40.0},
        "merge_m": {"pothole": 30.0},
    }
    with pytest.raises(DedupError, match=match):
        DedupConfig(**{**base, **change})  # type: ignore[arg-type]


def test_config_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.toml"
    bad.write_text("[other]\n", encoding="utf-8")
    with pytest.raises(DedupError, match=r"cannot read the \[dedup\] table"):
        DedupConfig.from_toml(bad)


# Edge cases -----------------------------------------------------------------------------------


def test_empty_frame_gives_empty_labels() -> None:
    empty = frame([]).astype({"reported_at": "datetime64[ns, UTC]"})
    out = incident_labels(empty, CFG)
    assert out.empty and out.name == "incident"
    assert assign_incidents(empty, CFG).empty
    assert summarise_incidents(empty, assign_incidents(empty, CFG), 9).empty


def test_single_report_is_its_own_incident() -> None:
    out = incident_labels(frame([("pothole", 0, 0, 0)], index=[42]), CFG)
    assert out.to_dict() == {42: 42}


def test_non_default_index_is_kept_and_labels_are_seed_labels() -> None:
    r = frame(
        [("pothole", 0, 0, 1), ("pothole", 5, 0, 0), ("pothole", 500, 0, 0)],
        index=["c", "b", "a"],
    )
    out = incident_labels(r, CFG)
    assert list(out.index) == ["c", "b", "a"]
    # "b" is earlier than "c": it seeds their incident
    assert out.to_dict() == {"c": "b", "b": "b", "a": "a"}


def test_wrong_crs_is_refused() -> None:
    r = frame([("pothole", 0, 0, 0)]).to_crs(32639)
    with pytest.raises(CRSError, match="expects EPSG:4326"):
        incident_labels(r, CFG)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda r: r.drop(columns="category"), "lack column"),
        (lambda r: r.assign(category="graffiti"), "have no eps_m"),
        (lambda r: r.assign(reported_at=r["reported_at"].dt.tz_localize(None)), "tz-aware"),
        (lambda r: r.set_axis([1, 1]), "uniquely"),
        (lambda r: r.set_geometry(gpd.GeoSeries([None, Point(50.5, 26.2)], crs=4326)), "Point"),
    ],
)
def test_bad_input_is_refused(mutate, match: str) -> None:  # type: ignore[no-untyped-def]
    r = frame([("pothole", 0, 0, 0), ("pothole", 5, 0, 0)])
    with pytest.raises(DedupError, match=match):
        incident_labels(mutate(r), CFG)


# The rule -------------------------------------------------------------------------------------


def test_same_spot_same_days_is_one_incident() -> None:
    r = frame([("pothole", 0, 0, 0), ("pothole", 8, 3, 0.5), ("pothole", -6, 2, 4)])
    assert incident_labels(r, CFG).nunique() == 1


def test_categories_and_time_window_separate_incidents() -> None:
    w = CFG.window_days
    r = frame(
        [
            ("pothole", 0, 0, 0),
            ("street_light", 0, 0, 0),  # other category at the same spot
            ("pothole", 2, 0, w + 10),  # same spot, long after: a new incident
        ]
    )
    assert incident_labels(r, CFG).nunique() == 3


def test_far_apart_reports_stay_apart() -> None:
    eps = CFG.eps_m["pothole"]
    r = frame([("pothole", 0, 0, 0), ("pothole", eps + 1, 0, 0)])
    assert incident_labels(r, CFG).nunique() == 2


def test_no_chaining_along_a_street() -> None:
    """Defects every 1.5 x eps, each reported three times: one incident per defect."""
    eps = CFG.eps_m["pothole"]
    rows = []
    for k in range(10):
        for j, (dx, dy) in enumerate([(0, 0), (6, -4), (-5, 5)]):
            rows.append(("pothole", k * 1.5 * eps + dx, dy, k * 0.1 + j * 0.2))
    truth = pd.Series([k for k in range(10) for _ in range(3)])
    r = frame(rows)
    labels = incident_labels(r, CFG)
    assert groups(labels) == groups(truth)
    # whereas eps-connectivity alone (single linkage) would chain the street together:
    reports_between = frame(rows + [("pothole", (k + 0.75) * 1.5 * eps, 0, 0.5) for k in range(9)])
    assert incident_labels(reports_between, CFG).nunique() >= 10


def test_report_after_closure_starts_a_recurrence() -> None:
    closed = T0 + pd.Timedelta(days=3)
    r = frame(
        [("pothole", 0, 0, 0), ("pothole", 4, 0, 1), ("pothole", 2, 2, 5), ("pothole", 1, 0, 6)],
        index=[10, 11, 12, 13],
        closed_at=[closed, closed, pd.NaT, pd.NaT],
    )
    out = assign_incidents(r, CFG)
    assert out["incident"].to_dict() == {10: 10, 11: 10, 12: 12, 13: 12}
    assert out["recurrence_of"].isna().tolist() == [True, True, False, False]
    assert out.loc[12, "recurrence_of"] == 10


def test_summary_majority_and_status() -> None:
    r = frame(
        [("pothole", 0, 0, 0), ("pothole", 4, 0, 1), ("pothole", 2, 2, 2)],
        index=[1, 2, 3],
        agency_code=["mun_a", "mun_b", "mun_b"],
        governorate_code=["BH-13", None, "BH-13"],
        status=["open", "in_progress", "open"],
    )
    s = summarise_incidents(r, assign_incidents(r, CFG), 9)
    assert len(s) == 1
    row = s.iloc[0]
    assert (row["n_reports"], row["agency_code"], row["governorate_code"]) == (3, "mun_b", "BH-13")
    assert row["status"] == "in_progress"
    assert row["first_reported_at"] == T0 and row["last_reported_at"] == T0 + pd.Timedelta("2D")
    assert s.crs.to_epsg() == 4326 and row["h3_cell"] > 0


# Exactness ------------------------------------------------------------------------------------

SMALL_PARTITIONS = dataclasses.replace(CFG, partition_h3_resolution=8, serial_below_reports=0)


@pytest.fixture(scope="module")
def scenario() -> tuple[gpd.GeoDataFrame, pd.Series]:
    return synthetic_defect_reports(600, seed=5, noise_m=10.0)


def test_fast_path_matches_the_sequential_rule(
    scenario: tuple[gpd.GeoDataFrame, pd.Series],
) -> None:
    """Clique components labelled in one step agree with the plain sequential pass."""
    reports, _ = scenario
    from spatial.dedup import _candidate_edges

    pts, index = _prepare(reports, CFG, "test")
    edges = _candidate_edges(pts, round(CFG.window_days * 86_400e9))
    seeds = _seed_pass(_ComponentTask(pts, edges))
    plain = pd.Series(index[seeds], index=index).reindex(reports.index)
    pd.testing.assert_series_equal(incident_labels(reports, CFG), plain, check_names=False)


def test_partitioned_equals_unpartitioned(scenario: tuple[gpd.GeoDataFrame, pd.Series]) -> None:
    reports, _ = scenario
    from spatial.dedup import _partition_cells

    pts, _ = _prepare(reports, SMALL_PARTITIONS, "test")
    assert np.unique(_partition_cells(pts, 8)).size > 10  # borders are really crossed
    whole = incident_labels(reports, SMALL_PARTITIONS, partition=False)
    parts = incident_labels(reports, SMALL_PARTITIONS, partition=True)
    pd.testing.assert_series_equal(whole, parts)


def test_local_process_pool_gives_identical_incidents(
    scenario: tuple[gpd.GeoDataFrame, pd.Series],
) -> None:
    reports, _ = scenario
    expected = incident_labels(reports, SMALL_PARTITIONS, executor=SerialExecutor())
    got = incident_labels(reports, SMALL_PARTITIONS, executor=LocalExecutor(workers=2))
    pd.testing.assert_series_equal(expected, got)


def test_dask_local_cluster_gives_identical_incidents(
    scenario: tuple[gpd.GeoDataFrame, pd.Series],
) -> None:
    from dask.distributed import Client, LocalCluster

    from spatial.dedup import DaskExecutor

    reports, _ = scenario
    expected = incident_labels(reports, SMALL_PARTITIONS)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        ex = DaskExecutor(client)
        assert ex.workers == 2
        got = incident_labels(reports, SMALL_PARTITIONS, executor=ex)
    pd.testing.assert_series_equal(expected, got)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incremental_batches_in_shuffled_order_equal_full_recompute(
    scenario: tuple[gpd.GeoDataFrame, pd.Series], seed: int
) -> None:
    reports, _ = scenario
    closed = reports["reported_at"] + pd.Timedelta(days=20)
    reports = reports.assign(closed_at=closed.where(np.arange(len(reports)) % 4 == 0))
    full = incident_labels(reports, CFG)
    rng = np.random.default_rng(seed)
    batch_of = rng.integers(0, 3, len(reports))  # three batches, in random (not time) order
    labels = pd.Series(dtype="int64")
    seen = np.zeros(len(reports), dtype=bool)
    for b in rng.permutation(3):
        seen |= batch_of == b
        labels = update_incident_labels(reports[seen], labels, CFG)
    pd.testing.assert_series_equal(labels, full)
    # and the new batch attached to existing incidents rather than only creating new ones
    assert full.nunique() < len(reports)


def test_update_refuses_labels_of_unknown_reports() -> None:
    r = frame([("pothole", 0, 0, 0)], index=[1])
    with pytest.raises(DedupError, match="not in `reports`"):
        update_incident_labels(r, pd.Series({7: 7}), CFG)
