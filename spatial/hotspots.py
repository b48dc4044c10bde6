"""Incidents -> H3 hot and cold spots (Getis-Ord Gi*, FDR) with Emerging-Hot-Spot trend labels.

What is computed
----------------
For every H3 resolution, category group and period of :class:`HotspotConfig`:

1. **Lattice** (:func:`study_area_cells`): every cell within ``study_area_rings`` of a cell
   holding any incident (of any group, any time), empty cells included, so that a cold spot
   means "fewer than around here", not "outside the data".
2. **Counts**: incidents (never raw reports) per cell, by the cell of the incident's point.
3. **Gi\\*** (:func:`gi_star`): ``esda.G_Local(star=True, transform="B")`` with binary
   neighbours from ``grid_disk(cell, neighbour_rings)`` (:func:`lattice_weights`) and
   permutation inference with a fixed seed. ``gi_z`` is the Gi* z-score (esda ``Zs``, the
   z-score ArcGIS reports) and ``p_value`` its two-sided p-value (``2 * p_norm``); the
   permutation pseudo p-value is kept as ``p_sim``. Why not classify on the permutations:
   esda's *conditional* randomisation keeps a cell's own count fixed and permutes only its
   neighbours, so a hot spot that fits inside one cell (a 300 m cluster in a 0.7 km2
   resolution-8 cell) scores z ~ 0; and a pseudo p-value cannot go below
   ``1 / (permutations + 1)``, which a false-discovery-rate correction over thousands of
   cells makes unreachable.
4. **Classes** (:func:`hot_classes`), as ArcGIS's Optimized Hot Spot Analysis reports them:
   ``hot_class`` in -3..3 (``Gi_Bin``) and ``confidence`` 90/95/99: the highest level at which
   the cell is significant after ``esda.fdr`` at that level; sign of ``gi_z``.
5. **Trend** (:func:`trend_label`), simplified Emerging Hot Spot Analysis vocabulary, over
   the monthly incident counts of the cell (Bahrain time, UTC+3) within the period, tested
   with Mann-Kendall (``pymannkendall.original_test``, ``trend_alpha``). Only hot cells
   (``hot_class > 0``) get a label; every other cell gets ``"none"``. In order:

   - ``new``: every incident of the cell falls in the final monthly slice;
   - ``intensifying``: a significant increasing trend;
   - ``diminishing``: a significant decreasing trend;
   - ``persistent``: no trend, and at least ``persistent_share`` of the slices have incidents;
   - ``sporadic``: no trend, incidents on and off;
   - fewer than ``trend_min_months`` slices: ``persistent`` or ``sporadic`` by the share rule.

   (ArcGIS runs Gi* per time slice and tests the z-scores; we test the counts of the cells
   that are hot over the whole period: one Gi* per period instead of one per month.)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import pandas as pd
import pymannkendall as mk

from spatial.config import DEDUP_TOML, read_toml_table
from spatial.crs import STORAGE_EPSG, check_crs
from spatial.errors import Fix2GoError
from spatial.grid import cell_to_polygon

if TYPE_CHECKING:  # esda and libpysal take a second to import: loaded when first used
    import libpysal

DEFAULT_CONFIG_PATH = DEDUP_TOML
"""The project's dedup and hotspot configuration file."""

LOCAL_TZ = timezone(timedelta(hours=3))
"""Bahrain time (UTC+3, no daylight saving): monthly slices follow local months."""

TREND_LABELS = ("new", "intensifying", "persistent", "diminishing", "sporadic", "none")
"""Trend vocabulary (Emerging Hot Spot Analysis, simplified; see the module docstring)."""

RESULT_COLUMNS = (
    "resolution",
    "h3_cell",
    "category_group",
    "period",
    "n_incidents",
    "gi_z",
    "p_value",
    "p_sim",
    "hot_class",
    "confidence",
    "trend",
)


class HotspotError(Fix2GoError, ValueError):
    """Hotspot input or configuration is unusable."""


@dataclass(frozen=True)
class HotspotConfig:
    """Hotspot parameters (the ``[hotspots]`` table of ``data/dedup.toml``)."""

    resolutions: tuple[int, ...] = (8, 9)
    neighbour_rings: int = 1
    study_area_rings: int = 2
    permutations: int = 999
    seed: int = 20261204
    confidence_levels: tuple[int, int, int] = (90, 95, 99)
    trend_alpha: float = 0.05
    persistent_share: float = 0.9
    trend_min_months: int = 4
    periods: Mapping[str, int] = None  # type: ignore[assignment]
    category_groups: Mapping[str, tuple[str, ...]] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.periods is None:
            object.__setattr__(self, "periods", {"all": 0})
        if self.category_groups is None:
            from spatial.categories import category_codes

            object.__setattr__(self, "category_groups", {"all": category_codes()})
        if not self.resolutions or any(not 0 <= r <= 15 for r in self.resolutions):
            raise HotspotError(
                f"hotspot config: resolutions must be H3 resolutions 0-15, got "
                f"{self.resolutions!r}; e.g. [8, 9]"
            )
        if self.neighbour_rings < 1 or self.study_area_rings < 0 or self.permutations < 1:
            raise HotspotError(
                "hotspot config: need neighbour_rings >= 1, study_area_rings >= 0 and "
                f"permutations >= 1, got {self.neighbour_rings!r}, {self.study_area_rings!r}, "
                f"{self.permutations!r}; fix them"
            )
        levels = tuple(self.confidence_levels)
        if (
            len(levels) != 3
            or list(levels) != sorted(levels)
            or not 50 < levels[0] < levels[2] < 100
        ):
            raise HotspotError(
                f"hotspot config: confidence_levels must be three increasing percentages, got "
                f"{levels!r}; e.g. [90, 95, 99]"
            )
        if any(m < 0 for m in self.periods.values()):
            raise HotspotError(
                f"hotspot config: period lengths are months >= 0, got {dict(self.periods)!r}"
            )

    @classmethod
    def from_toml(cls, path: str | Path = DEFAULT_CONFIG_PATH) -> HotspotConfig:
        """Read the ``[hotspots]`` table of a TOML file.

        Examples
        --------
        >>> HotspotConfig.from_toml().resolutions
        (8, 9)
        """
        raw = read_toml_table(path, "hotspots", HotspotError)
        return cls(
            resolutions=tuple(int(r) for r in raw["resolutions"]),
            neighbour_rings=int(raw["neighbour_rings"]),
            study_area_rings=int(raw["study_area_rings"]),
            permutations=int(raw["permutations"]),
            seed=int(raw["seed"]),
            confidence_levels=tuple(int(c) for c in raw["confidence_levels"]),  # type: ignore[arg-type]
            trend_alpha=float(raw["trend_alpha"]),
            persistent_share=float(raw["persistent_share"]),
            trend_min_months=int(raw["trend_min_months"]),
            periods={str(k): int(v) for k, v in raw["periods"].items()},
            category_groups={str(k): tuple(v) for k, v in raw["category_groups"].items()},
        )


# Lattice and weights --------------------------------------------------------------------------


def points_to_cell_ids(
    points: gpd.GeoSeries | gpd.GeoDataFrame, resolution: int
) -> npt.NDArray[np.int64]:
    """H3 cell (int64) of each point at ``resolution`` (fast path of :mod:`spatial.grid`).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoSeries([Point(50.58, 26.22)], crs=4326)
    >>> points_to_cell_ids(s, 9)[0] > 0
    np.True_
    """
    check_crs(points, STORAGE_EPSG, "points_to_cell_ids")
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    xs, ys = geoms.x.to_numpy(), geoms.y.to_numpy()
    return np.fromiter(
        (h3i.latlng_to_cell(y, x, resolution) for x, y in zip(xs, ys, strict=True)),
        dtype=np.uint64,
        count=xs.size,
    ).astype(np.int64)


def study_area_cells(cells: npt.ArrayLike, rings: int) -> npt.NDArray[np.int64]:
    """Sorted unique cells within ``rings`` of any of ``cells`` (the lattice).

    Examples
    --------
    >>> c = h3i.latlng_to_cell(26.22, 50.58, 9)
    >>> study_area_cells([c], 1).size
    7
    """
    seeds = np.unique(np.asarray(cells, dtype=np.int64))
    out: set[int] = set()
    for c in seeds.tolist():
        out.update(h3i.grid_disk(c, rings))
    return np.asarray(sorted(out), dtype=np.int64)


def lattice_weights(cells: npt.ArrayLike, rings: int) -> libpysal.weights.W:
    """Binary neighbour weights between lattice cells: ``grid_disk(cell, rings)`` minus itself.

    Observations are the positions of ``cells``; cells outside the lattice are ignored, so a
    border cell has fewer neighbours.

    Examples
    --------
    >>> c = h3i.latlng_to_cell(26.22, 50.58, 9)
    >>> w = lattice_weights(study_area_cells([c], 1), 1)
    >>> sorted(w.cardinalities.values())
    [3, 3, 3, 3, 3, 3, 6]
    """
    import libpysal

    arr = np.asarray(cells, dtype=np.int64)
    pos = {int(c): i for i, c in enumerate(arr.tolist())}
    neighbours: dict[int, list[int]] = {}
    for c, i in pos.items():
        neighbours[i] = sorted(pos[d] for d in h3i.grid_disk(c, rings) if d != c and d in pos)
    return libpysal.weights.W(neighbours, id_order=list(range(arr.size)), silence_warnings=True)


# Statistics -----------------------------------------------------------------------------------


def gi_star(
    counts: npt.ArrayLike, weights: libpysal.weights.W, permutations: int, seed: int
) -> pd.DataFrame:
    """Getis-Ord Gi* of ``counts`` on ``weights``: z-score, two-sided p and permutation p.

    Returns
    -------
    pandas.DataFrame
        ``gi_z`` (esda ``Zs``), ``p_value`` (``2 * p_norm``, at most 1) and ``p_sim`` (esda's
        permutation pseudo p-value), one row per observation. A constant variable gives
        ``gi_z = 0`` and p-values 1.

    Examples
    --------
    >>> c = h3i.latlng_to_cell(26.22, 50.58, 9)
    >>> cells = study_area_cells([c], 4)
    >>> y = np.random.default_rng(0).poisson(1.0, cells.size) + 8 * np.isin(cells, h3i.grid_disk(c, 1))
    >>> r = gi_star(y, lattice_weights(cells, 1), 99, seed=1)
    >>> bool(r["gi_z"].iloc[int(np.flatnonzero(cells == c)[0])] > 3)
    True
    """
    import esda

    y = np.asarray(counts, dtype=np.float64)
    n = y.size
    if n == 0 or np.all(y == y[0]):
        return pd.DataFrame({"gi_z": np.zeros(n), "p_value": np.ones(n), "p_sim": np.ones(n)})
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # esda rebuilds the weights with self-loops (libpysal warns when the lattice has
        # several islands) and divides by a zero simulated spread for cells whose
        # neighbourhood cannot vary under permutation (z_sim, which we do not use)
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
        g = esda.G_Local(
            y, weights, transform="B", permutations=permutations, star=True, seed=seed, n_jobs=1
        )
    z = np.nan_to_num(np.asarray(g.Zs, dtype=np.float64), nan=0.0)
    p = np.minimum(1.0, 2.0 * np.asarray(g.p_norm, dtype=np.float64))
    return pd.DataFrame(
        {
            "gi_z": z,
            "p_value": np.nan_to_num(p, nan=1.0),
            "p_sim": np.asarray(g.p_sim, dtype=np.float64),
        }
    )


def hot_classes(
    gi_z: npt.ArrayLike, p_value: npt.ArrayLike, levels: tuple[int, int, int] = (90, 95, 99)
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]:
    """ArcGIS ``Gi_Bin`` classes with FDR: ``hot_class`` in -3..3 and ``confidence`` (or NaN).

    A cell is significant at level L when its p-value is at most ``esda.fdr(p, 1 - L/100)``;
    its class is the sign of ``gi_z`` times the rank (1, 2, 3) of the highest such level.

    Examples
    --------
    >>> cls, conf = hot_classes([3.5, -2.5, 0.1], [0.0004, 0.012, 0.9])
    >>> cls.tolist(), conf.tolist()
    ([3, -2, 0], [99.0, 95.0, nan])
    """
    import esda

    z = np.asarray(gi_z, dtype=np.float64)
    p = np.asarray(p_value, dtype=np.float64)
    rank = np.zeros(z.size, dtype=np.int16)
    conf = np.full(z.size, np.nan)
    if z.size == 0:
        return rank, conf
    for k, level in enumerate(levels, start=1):
        threshold = esda.fdr(p, 1 - level / 100)
        sig = p <= threshold
        rank[sig] = k
        conf[sig] = level
    return (np.sign(z).astype(np.int16) * rank).astype(np.int16), conf


def trend_label(monthly_counts: npt.ArrayLike, hot: bool, config: HotspotConfig) -> str:
    """Trend label of one cell from its monthly incident counts (oldest first).

    Examples
    --------
    >>> cfg = HotspotConfig()
    >>> trend_label([1, 2, 3, 4, 5, 6, 7, 8], True, cfg)
    'intensifying'
    >>> trend_label([0, 0, 0, 0, 0, 3], True, cfg), trend_label([2, 2, 2], False, cfg)
    ('new', 'none')
    """
    y = np.asarray(monthly_counts, dtype=np.float64)
    if not hot or y.size == 0 or not (y > 0).any():
        return "none"
    nonzero = np.flatnonzero(y > 0)
    if nonzero[0] == y.size - 1 and y.size > 1:
        return "new"
    if y.size >= config.trend_min_months and np.ptp(y) > 0:
        result = mk.original_test(y, alpha=config.trend_alpha)
        if result.trend == "increasing":
            return "intensifying"
        if result.trend == "decreasing":
            return "diminishing"
    return "persistent" if (y > 0).mean() >= config.persistent_share else "sporadic"


# The whole computation ------------------------------------------------------------------------


def _local_month(ts: pd.Series) -> pd.Series:
    local = ts.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    return local.dt.year * 12 + local.dt.month - 1


def hotspot_cells(incidents: gpd.GeoDataFrame, config: HotspotConfig) -> gpd.GeoDataFrame:
    """Gi* hot/cold spots and trends of incidents per resolution, category group and period.

    Parameters
    ----------
    incidents
        EPSG:4326 Point incidents with ``category`` and tz-aware ``first_reported_at`` (the
        incident's time), e.g. from :func:`spatial.dedup.summarise_incidents`.
    config
        Resolutions, lattice, permutations, groups, periods (:class:`HotspotConfig`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per lattice cell, resolution, group and period: the columns of
        :data:`RESULT_COLUMNS` and the cell hexagon (EPSG:4326) as geometry.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> t = pd.Timestamp("2026-03-01T08:00+03:00")
    >>> inc = gpd.GeoDataFrame({"category": ["pothole"] * 3, "first_reported_at": [t] * 3},
    ...     geometry=[Point(50.58, 26.22)] * 3, crs=4326)
    >>> cfg = HotspotConfig(resolutions=(9,), permutations=9)
    >>> out = hotspot_cells(inc, cfg)
    >>> int(out["n_incidents"].sum()), sorted(out["category_group"].unique())
    (3, ['all'])
    """
    check_crs(incidents, STORAGE_EPSG, "hotspot_cells")
    missing = {"category", "first_reported_at"} - set(incidents.columns)
    if missing:
        raise HotspotError(
            f"hotspot_cells: incidents lack column(s) {sorted(missing)!r}; pass incidents "
            "with category, first_reported_at and Point geometry"
        )
    if not isinstance(incidents["first_reported_at"].dtype, pd.DatetimeTZDtype):
        raise HotspotError(
            "hotspot_cells: first_reported_at must hold tz-aware timestamps, got dtype "
            f"{incidents['first_reported_at'].dtype!s}; parse with `pd.to_datetime(..., utc=True)`"
        )
    geoms = incidents.geometry
    if len(incidents) and (geoms.isna().any() or geoms.is_empty.any()):
        raise HotspotError(
            "hotspot_cells: some incidents have no geometry; drop or repair them first"
        )
    frames: list[pd.DataFrame] = []
    if len(incidents) == 0:
        return _empty_result()
    month = _local_month(incidents["first_reported_at"]).to_numpy()
    last_month = int(month.max())
    category = incidents["category"].to_numpy()
    import libpysal

    polygons: dict[int, object] = {}
    trend_memo: dict[bytes, str] = {}
    for res in config.resolutions:
        cell = points_to_cell_ids(incidents, res)
        lattice = study_area_cells(cell, config.study_area_rings)
        # self-weights set once per lattice (esda would add them on every call)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
            weights = libpysal.weights.fill_diagonal(
                lattice_weights(lattice, config.neighbour_rings), 1.0
            )
        cell_pos = np.searchsorted(lattice, cell)
        for group, members in config.category_groups.items():
            in_group = np.isin(category, list(members))
            for period, months_back in config.periods.items():
                first_month = int(month.min()) if months_back == 0 else last_month - months_back + 1
                sel = in_group & (month >= first_month)
                counts = np.bincount(cell_pos[sel], minlength=lattice.size)
                stats = gi_star(counts, weights, config.permutations, config.seed)
                hot_class, confidence = hot_classes(
                    stats["gi_z"].to_numpy(), stats["p_value"].to_numpy(), config.confidence_levels
                )
                n_months = last_month - first_month + 1
                trend = np.full(lattice.size, "none", dtype=object)
                hot = np.flatnonzero(hot_class > 0)
                if hot.size:
                    series = np.zeros((lattice.size, n_months))
                    np.add.at(series, (cell_pos[sel], month[sel] - first_month), 1)
                    for i in hot:
                        key = series[i].tobytes()
                        if key not in trend_memo:  # many cells share one monthly pattern
                            trend_memo[key] = trend_label(series[i], True, config)
                        trend[i] = trend_memo[key]
                frames.append(
                    pd.DataFrame(
                        {
                            "resolution": np.full(lattice.size, res, dtype=np.int16),
                            "h3_cell": lattice,
                            "category_group": group,
                            "period": period,
                            "n_incidents": counts.astype(np.int64),
                            "gi_z": stats["gi_z"].to_numpy(),
                            "p_value": stats["p_value"].to_numpy(),
                            "p_sim": stats["p_sim"].to_numpy(),
                            "hot_class": hot_class,
                            "confidence": pd.Series(confidence).round().astype("Int16"),
                            "trend": trend,
                        }
                    )
                )
        for c in lattice.tolist():
            if c not in polygons:
                polygons[c] = cell_to_polygon(c)
    out = pd.concat(frames, ignore_index=True)
    geometry = gpd.GeoSeries([polygons[c] for c in out["h3_cell"].tolist()], crs=STORAGE_EPSG)
    return gpd.GeoDataFrame(out, geometry=geometry, crs=STORAGE_EPSG)


def _empty_result() -> gpd.GeoDataFrame:
    out = pd.DataFrame(
        {
            "resolution": pd.Series(dtype=np.int16),
            "h3_cell": pd.Series(dtype=np.int64),
            "category_group": pd.Series(dtype=object),
            "period": pd.Series(dtype=object),
            "n_incidents": pd.Series(dtype=np.int64),
            "gi_z": pd.Series(dtype=np.float64),
            "p_value": pd.Series(dtype=np.float64),
            "p_sim": pd.Series(dtype=np.float64),
            "hot_class": pd.Series(dtype=np.int16),
            "confidence": pd.Series(dtype="Int16"),
            "trend": pd.Series(dtype=object),
        }
    )
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries([], crs=STORAGE_EPSG), crs=STORAGE_EPSG)
