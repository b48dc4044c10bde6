"""How good is dedup against ground truth: pairwise precision/recall and adjusted Rand index.

"Same incident" is judged on pairs of reports: a pair is a true positive when both the truth
and the prediction put the two reports in one group. Counts come from the contingency table
(sum over cells of C(n, 2)), never from enumerating pairs, so a million reports are cheap.

Also a small seeded scenario maker (:func:`synthetic_defect_reports`) for tests and
benchmarks: defects of one category 30-60 m apart, several categories at one spot, the same
spot again months later, GPS noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from spatial.crs import STORAGE_EPSG
from spatial.errors import Fix2GoError


class DedupQualityError(Fix2GoError, ValueError):
    """The truth and the prediction cannot be compared."""


@dataclass(frozen=True)
class PairScores:
    """Pairwise scores of a predicted grouping against the truth."""

    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    common_pairs: int


def _codes(labels: pd.Series | npt.ArrayLike) -> npt.NDArray[np.int64]:
    return np.asarray(pd.factorize(pd.Series(labels).to_numpy())[0], dtype=np.int64)


def _pairs(counts: npt.NDArray[np.integer]) -> int:
    c = counts.astype(np.int64)
    return int((c * (c - 1) // 2).sum())


def _check(labels_true: npt.ArrayLike, labels_pred: npt.ArrayLike) -> None:
    a, b = pd.Series(labels_true), pd.Series(labels_pred)
    if len(a) != len(b):
        raise DedupQualityError(
            f"truth has {len(a)} labels but the prediction {len(b)}; "
            "align both on the same reports first"
        )
    if a.isna().any() or b.isna().any():
        raise DedupQualityError(
            "labels contain missing values; drop the reports without a true defect first"
        )


def pairwise_precision_recall(labels_true: npt.ArrayLike, labels_pred: npt.ArrayLike) -> PairScores:
    """Pairwise precision and recall of "same incident".

    Parameters
    ----------
    labels_true, labels_pred
        Group label of each report, in the same order (any hashable labels).

    Returns
    -------
    PairScores
        ``precision`` = common / predicted pairs, ``recall`` = common / true pairs (1.0 when
        the denominator is 0).

    Examples
    --------
    >>> s = pairwise_precision_recall(["a", "a", "b", "b"], [1, 1, 1, 2])
    >>> round(s.precision, 3), round(s.recall, 3)
    (0.333, 0.5)
    """
    _check(labels_true, labels_pred)
    t, p = _codes(labels_true), _codes(labels_pred)
    if t.size == 0:
        return PairScores(1.0, 1.0, 0, 0, 0)
    true_pairs = _pairs(np.bincount(t))
    pred_pairs = _pairs(np.bincount(p))
    joint = pd.Series(t * (int(p.max()) + 1) + p).value_counts().to_numpy()
    common = _pairs(joint)
    precision = common / pred_pairs if pred_pairs else 1.0
    recall = common / true_pairs if true_pairs else 1.0
    return PairScores(precision, recall, true_pairs, pred_pairs, common)


def adjusted_rand(labels_true: npt.ArrayLike, labels_pred: npt.ArrayLike) -> float:
    """Adjusted Rand index (scikit-learn) of the prediction against the truth.

    Examples
    --------
    >>> adjusted_rand(["a", "a", "b"], [5, 5, 7])
    1.0
    """
    _check(labels_true, labels_pred)
    return float(adjusted_rand_score(_codes(labels_true), _codes(labels_pred)))


def synthetic_defect_reports(
    n_defects: int,
    seed: int,
    *,
    spacing_m: tuple[float, float] = (30.0, 60.0),
    noise_m: float = 6.0,
    max_reports: int = 8,
    spread_days: float = 10.0,
    categories: tuple[str, ...] = ("pothole", "street_light", "road_sign"),
    recur_share: float = 0.1,
    origin: tuple[float, float] = (50.55, 26.20),
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Seeded reports of known defects and the true defect of each report.

    Defects lie along east-west "streets" ``spacing_m`` apart; each street gets one category
    and a second category at the same spots on every third street; ``recur_share`` of the
    defects come back (a new defect id) four months later at the same spot. Reports get
    Gaussian GPS noise of ``noise_m`` (per axis) and times spread over ``spread_days``.

    Returns
    -------
    (reports, truth)
        EPSG:4326 reports (``category``, ``reported_at``) with a RangeIndex, and the true
        defect id of each report (same index).

    Examples
    --------
    >>> r, t = synthetic_defect_reports(5, seed=1)
    >>> len(r) == len(t) and r.crs.to_epsg() == 4326
    True
    """
    rng = np.random.default_rng(seed)
    m_per_deg_lat = 110_574.0
    m_per_deg_lng = 111_320.0 * np.cos(np.radians(origin[1]))
    per_street = 10
    streets_per_row, street_block_m, street_gap_m = 40, 1_000.0, 400.0
    dx: list[float] = []
    dy: list[float] = []
    cat: list[str] = []
    t0: list[float] = []
    for d in range(n_defects):
        street, k = divmod(d, per_street)
        if k == 0:
            x = (street % streets_per_row) * street_block_m
        else:
            x += float(rng.uniform(*spacing_m))
        dx.append(x)
        dy.append((street // streets_per_row) * street_gap_m)
        cat.append(categories[(street // 3) % len(categories)] if street % 3 else categories[0])
        t0.append(float(rng.uniform(0, 365)))
    # a second category at the same spots on every third street
    extra = [d for d in range(n_defects) if (d // per_street) % 3 == 1]
    for d in extra:
        dx.append(dx[d])
        dy.append(dy[d])
        cat.append(categories[-1] if cat[d] != categories[-1] else categories[0])
        t0.append(t0[d] + float(rng.uniform(-5, 5)))
    # the same spot months later
    n_base = len(dx)
    for d in range(n_base):
        if rng.random() < recur_share:
            dx.append(dx[d])
            dy.append(dy[d])
            cat.append(cat[d])
            t0.append(t0[d] + 120.0)
    rows_x: list[npt.NDArray[np.float64]] = []
    rows_y: list[npt.NDArray[np.float64]] = []
    rows_t: list[npt.NDArray[np.float64]] = []
    rows_d: list[npt.NDArray[np.int64]] = []
    rows_c: list[str] = []
    for d in range(len(dx)):
        n = int(min(max_reports, rng.geometric(0.4)))
        rows_x.append(dx[d] + rng.normal(0, noise_m, n))
        rows_y.append(dy[d] + rng.normal(0, noise_m, n))
        rows_t.append(t0[d] + rng.uniform(0, spread_days, n))
        rows_d.append(np.full(n, d, dtype=np.int64))
        rows_c.extend([cat[d]] * n)
    if rows_x:
        xs, ys = np.concatenate(rows_x), np.concatenate(rows_y)
        ts, ds = np.concatenate(rows_t), np.concatenate(rows_d)
    else:
        xs = ys = ts = np.empty(0)
        ds = np.empty(0, dtype=np.int64)
    start = pd.Timestamp("2026-01-01T00:00:00+03:00")
    reported = start + pd.to_timedelta(np.round(ts * 86_400), unit="s")
    reports = gpd.GeoDataFrame(
        {"category": rows_c, "reported_at": reported},
        geometry=gpd.points_from_xy(origin[0] + xs / m_per_deg_lng, origin[1] + ys / m_per_deg_lat),
        crs=STORAGE_EPSG,
    )
    return reports, pd.Series(ds, index=reports.index, name="defect_id")
