"""spatial.dedup_quality: pair metrics against brute force, and dedup quality on generator
data with ground truth."""

from __future__ import annotations

from itertools import combinations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from spatial.dedup import DedupConfig, incident_labels
from spatial.dedup_quality import (
    DedupQualityError,
    adjusted_rand,
    pairwise_precision_recall,
    synthetic_defect_reports,
)


def brute_force(t: list[object], p: list[object]) -> tuple[float, float]:
    pairs = list(combinations(range(len(t)), 2))
    same_t = {(i, j) for i, j in pairs if t[i] == t[j]}
    same_p = {(i, j) for i, j in pairs if p[i] == p[j]}
    common = len(same_t & same_p)
    return (
        common / len(same_p) if same_p else 1.0,
        common / len(same_t) if same_t else 1.0,
    )


@pytest.mark.parametrize("seed", range(5))
def test_pair_counts_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 6, 40).tolist()
    p = [f"i{v}" for v in rng.integers(0, 8, 40)]
    s = pairwise_precision_recall(t, p)
    bp, br = brute_force(t, p)
    assert s.precision == pytest.approx(bp) and s.recall == pytest.approx(br)
    assert adjusted_rand(t, p) == pytest.approx(adjusted_rand_score(t, p))


@pytest.mark.parametrize(
    ("t", "p", "expected"),
    [
        ([], [], (1.0, 1.0)),
        ([1], [9], (1.0, 1.0)),
        ([1, 1], [1, 2], (1.0, 0.0)),
        ([1, 2], [5, 5], (0.0, 1.0)),
    ],
)
def test_degenerate_groupings(t: list[int], p: list[int], expected: tuple[float, float]) -> None:
    s = pairwise_precision_recall(t, p)
    assert (s.precision, s.recall) == expected


def test_mismatched_or_missing_labels_refused() -> None:
    with pytest.raises(DedupQualityError, match="align both"):
        pairwise_precision_recall([1, 2], [1])
    with pytest.raises(DedupQualityError, match="missing values"):
        adjusted_rand([1, None], [1, 2])


def test_synthetic_scenario_is_seeded() -> None:
    a, ta = synthetic_defect_reports(50, seed=4)
    b, tb = synthetic_defect_reports(50, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert ta.equals(tb) and ta.nunique() > 50  # recurrences and co-located defects added


def test_quality_on_generator_data_meets_targets() -> None:
    """Default generator: pairwise precision, recall and ARI of "same incident" >= 0.95."""
    from ingest.generate import generate

    g = generate(30_000, seed=2026)
    ok = (g.truth["expected_outcome"] == "new").to_numpy()
    rep = g.reports[ok]
    reports = gpd.GeoDataFrame(
        {
            "category": g.truth["category"][ok].to_numpy(),
            "reported_at": pd.to_datetime(rep["created_at"].to_numpy(), utc=True, format="ISO8601"),
        },
        geometry=gpd.points_from_xy(rep["longitude"].astype(float), rep["latitude"].astype(float)),
        crs=4326,
    )
    truth = g.truth["defect_id"][ok].to_numpy()
    labels = incident_labels(reports, DedupConfig.from_toml())
    s = pairwise_precision_recall(truth, labels)
    assert s.precision >= 0.95, s
    assert s.recall >= 0.95, s
    assert adjusted_rand(truth, labels) >= 0.95
