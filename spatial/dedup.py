"""Reports -> incidents: space-time-category clustering (ST-DBSCAN family), H3-partitioned.

The rule
--------
Two reports are *candidates* (an edge of the candidate graph) when they have the same
category, lie within ``eps_m`` of each other (per category, UTM 39N metres) and within
``window_days`` of each other in time. Candidates never glue two reports together on their
own; incidents are formed by one deterministic pass over each connected component of the
candidate graph, in canonical order (``reported_at``, then the index label):

* a report may join an incident of one of its earlier candidates when
  - it lies within ``max_radius_m`` (per category) of that incident's centroid, i.e. the
    mean position of the reports already in it (**the anti-chaining bound**: an incident's
    reports stay within ``max_radius_m`` of its centre, so a street with a defect every
    1.5 x ``eps_m`` gives one incident per defect, never one per street), and
  - the incident is not closed before the report (its closure time is the earliest
    ``closed_at`` of its reports);
* among several such incidents it joins the one with the nearest centroid (ties: the
  earlier seed); otherwise it starts a new incident.

An incident's label is the index label of its first report (its *seed*), so labels do not
depend on input order, on partitioning or on the executor.

Closed incidents: a report after its incident was closed cannot join it; it starts a new
incident, and :func:`assign_incidents` records ``recurrence_of``: the most recently closed
incident of the same category whose centroid lies within ``max_radius_m`` of the new
incident's centroid and whose closure precedes the new incident's first report.

Exactness under partitioning and batching
-----------------------------------------
Incidents are subsets of candidate-graph components, and the pass over a component depends
on that component's reports only. Hence:

* partitioned: every H3 parent cell (``partition_h3_resolution``) with a halo of
  ``halo_rings`` rings (``grid_disk``) finds the candidate edges of its own reports (each
  edge is kept by exactly one partition: the owner of its earlier report); the edges are
  merged with a union-find (``scipy.sparse.csgraph.connected_components``) into global
  components: the result equals the unpartitioned one exactly;
* incremental (:func:`update_incident_labels`): only the components that contain a new
  report are recomputed; the others keep their labels: the result equals a full recompute on
  the union of the data, whatever the batch order.

Memory: candidate edges come from a k-d tree on (x, y, scaled time) with a Chebyshev radius
(``cKDTree.query_pairs``), so memory follows the *space-time* density of reports, never a
dense distance matrix. Components that are cliques with nothing closed (the common "fifty
people photographed the same pothole this week") are labelled in one vectorised step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import geopandas as gpd
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from spatial.config import DEDUP_TOML, read_toml_table
from spatial.crs import METRIC_EPSG, STORAGE_EPSG, check_crs
from spatial.errors import Fix2GoError

DEFAULT_CONFIG_PATH = DEDUP_TOML
"""The project's dedup and hotspot configuration file."""

NS_PER_DAY = 86_400 * 10**9
"""Nanoseconds in a day (timestamps are compared as int64 nanoseconds)."""

MM_PER_M = 1000.0
"""Positions are kept in integer millimetres for exact running sums."""

_TO_UTM = Transformer.from_crs(STORAGE_EPSG, METRIC_EPSG, always_xy=True)

T = TypeVar("T")
R = TypeVar("R")


class DedupError(Fix2GoError, ValueError):
    """Dedup input or configuration is unusable."""


# Configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DedupConfig:
    """Dedup parameters (see ``data/dedup.toml``).

    Attributes
    ----------
    eps_m
        Candidate radius per category code, metres.
    max_radius_m
        Anti-chaining bound per category: a report joins an incident only within this
        distance of the incident's centroid, metres.
    merge_m
        Two open incidents of one neighbourhood whose centroids come within this distance
        are merged (an early split of one defect by GPS noise), metres.
    window_days
        Candidate time window, days.
    partition_h3_resolution
        H3 resolution of the partition (parent) cells.
    halo_rings
        Rings of neighbour cells around each partition cell (must cover the largest eps).
    serial_below_reports
        The local executor runs serially on inputs smaller than this.
    """

    eps_m: Mapping[str, float]
    max_radius_m: Mapping[str, float]
    merge_m: Mapping[str, float]
    window_days: float = 30.0
    partition_h3_resolution: int = 6
    halo_rings: int = 1
    serial_below_reports: int = 200_000

    def __post_init__(self) -> None:
        if not set(self.eps_m) == set(self.max_radius_m) == set(self.merge_m):
            odd = (set(self.eps_m) | set(self.max_radius_m) | set(self.merge_m)) - (
                set(self.eps_m) & set(self.max_radius_m) & set(self.merge_m)
            )
            raise DedupError(
                "dedup config: eps_m, max_radius_m and merge_m must name the same categories, "
                f"got {sorted(odd)!r} missing from some; list every category in all three tables"
            )
        bad = {
            k: v
            for table in (self.eps_m, self.max_radius_m, self.merge_m)
            for k, v in table.items()
            if not v > 0
        }
        if bad:
            raise DedupError(f"dedup config: distances must be > 0 m, got {bad!r}; fix them")
        if not self.window_days > 0:
            raise DedupError(
                f"dedup config: window_days must be > 0, got {self.window_days!r}; fix it"
            )
        if self.halo_rings < 1 or not 0 <= self.partition_h3_resolution <= 15:
            raise DedupError(
                "dedup config: need halo_rings >= 1 and 0 <= partition_h3_resolution <= 15, got "
                f"{self.halo_rings!r} and {self.partition_h3_resolution!r}; fix them"
            )
        # A ring of cells is at least about one edge length wide (the smallest cells of a
        # resolution are about half the average size): require half an average edge per ring.
        reach_m = 0.5 * h3i.average_hexagon_edge_length(self.partition_h3_resolution, "m")
        if max(self.eps_m.values(), default=0.0) >= reach_m * self.halo_rings:
            raise DedupError(
                f"dedup config: halo of {self.halo_rings} ring(s) at H3 resolution "
                f"{self.partition_h3_resolution} (~{reach_m * self.halo_rings:.0f} m) does "
                f"not cover the largest eps_m {max(self.eps_m.values())!r}; "
                "use a coarser resolution or more halo_rings"
            )

    @classmethod
    def from_toml(cls, path: str | Path = DEFAULT_CONFIG_PATH) -> DedupConfig:
        """Read the ``[dedup]`` table of a TOML file.

        Examples
        --------
        >>> DedupConfig.from_toml().window_days
        10.0
        """
        raw = read_toml_table(path, "dedup", DedupError)
        return cls(
            eps_m={k: float(v) for k, v in raw["eps_m"].items()},
            max_radius_m={k: float(v) for k, v in raw["max_radius_m"].items()},
            merge_m={k: float(v) for k, v in raw["merge_m"].items()},
            window_days=float(raw.get("window_days", 30)),
            partition_h3_resolution=int(raw.get("partition_h3_resolution", 6)),
            halo_rings=int(raw.get("halo_rings", 1)),
            serial_below_reports=int(raw.get("serial_below_reports", 200_000)),
        )


# Executors ------------------------------------------------------------------------------------


class Executor(Protocol):
    """Runs independent tasks; results in input order."""

    workers: int

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]``, possibly in parallel."""
        ...


@dataclass
class SerialExecutor:
    """Runs every task in this process."""

    workers: int = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Run the tasks one after the other."""
        return [fn(x) for x in items]


@dataclass
class LocalExecutor:
    """A process pool over the machine's cores (``workers`` defaults to ``os.cpu_count()``)."""

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Run the tasks on a pool of ``workers`` processes (serially for one task)."""
        if self.workers <= 1 or len(items) <= 1:
            return [fn(x) for x in items]
        with ProcessPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            return list(pool.map(fn, items))


@dataclass
class DaskExecutor:
    """Tasks on a ``dask.distributed`` cluster, through an existing ``Client``."""

    client: Any
    workers: int = 0

    def __post_init__(self) -> None:
        if not self.workers:
            self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Scatter the tasks over the cluster and gather their results in order."""
        futures = self.client.map(fn, list(items), pure=False)
        return list(self.client.gather(futures))


# Input preparation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Points:
    """Reports in canonical order as plain arrays (one row per report)."""

    x: npt.NDArray[np.float64]  # UTM metres (rounded to the millimetre)
    y: npt.NDArray[np.float64]
    xi: npt.NDArray[np.int64]  # the same in integer millimetres
    yi: npt.NDArray[np.int64]
    t: npt.NDArray[np.int64]  # reported_at, ns since epoch (UTC)
    closed: npt.NDArray[np.int64]  # closed_at, ns; int64 max when not closed
    cat: npt.NDArray[np.int64]  # category number (position in config order)
    eps: npt.NDArray[np.float64]
    maxr: npt.NDArray[np.float64]
    merge: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    lng: npt.NDArray[np.float64]

    def take(self, idx: npt.NDArray[np.int64]) -> _Points:
        return _Points(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    def __len__(self) -> int:
        return int(self.x.size)


_NOT_CLOSED = np.iinfo(np.int64).max


def _ns(values: pd.Series, name: str, where: str) -> npt.NDArray[np.int64]:
    """tz-aware timestamps -> int64 ns UTC (NaT -> int64 max)."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        raise DedupError(
            f"{where}: column {name!r} must hold tz-aware timestamps, got dtype "
            f"{values.dtype!s}; parse with `pd.to_datetime(..., utc=True)`"
        )
    utc = pd.DatetimeIndex(values.dt.tz_convert("UTC")).as_unit("ns")
    out = np.asarray(utc.asi8, dtype=np.int64).copy()
    out[utc.isna()] = _NOT_CLOSED
    return out


def _prepare(
    reports: gpd.GeoDataFrame, config: DedupConfig, where: str
) -> tuple[_Points, pd.Index]:
    """Validate ``reports`` and return its arrays in canonical order, plus the sorted index."""
    check_crs(reports, STORAGE_EPSG, where)
    missing = {"category", "reported_at"} - set(reports.columns)
    if missing:
        raise DedupError(
            f"{where}: reports lack column(s) {sorted(missing)!r}; "
            "pass a frame with category, reported_at and Point geometry"
        )
    if not reports.index.is_unique:
        raise DedupError(
            f"{where}: the index must identify reports uniquely, got duplicated labels; "
            "index the frame by report id"
        )
    geoms = np.asarray(reports.geometry.array, dtype=object)
    if len(reports) and ((shapely.get_type_id(geoms) != 0).any() or shapely.is_empty(geoms).any()):
        raise DedupError(
            f"{where}: every report needs a Point geometry, got missing, empty or non-Point "
            "ones; drop or repair them first"
        )
    cats = list(config.eps_m)
    cat_all = pd.Index(cats).get_indexer(reports["category"])
    if (cat_all < 0).any():
        unknown = set(reports["category"][cat_all < 0].astype(str))
        raise DedupError(
            f"{where}: categories {sorted(unknown)!r} have no eps_m; "
            "add them to the [dedup] tables of data/dedup.toml"
        )
    t = _ns(reports["reported_at"], "reported_at", where)
    if len(reports) and (t == _NOT_CLOSED).any():
        raise DedupError(f"{where}: reported_at has missing values; drop those reports first")
    if "closed_at" in reports.columns:
        closed = _ns(reports["closed_at"], "closed_at", where)
    else:
        closed = np.full(len(reports), _NOT_CLOSED, dtype=np.int64)
    if pd.api.types.is_integer_dtype(reports.index.dtype):
        pos = np.lexsort((reports.index.to_numpy(), t))
    else:
        order = pd.DataFrame({"t": t, "k": reports.index}).sort_values(["t", "k"], kind="stable")
        pos = order.index.to_numpy()
    lng = shapely.get_x(geoms)[pos]
    lat = shapely.get_y(geoms)[pos]
    x, y = _TO_UTM.transform(lng, lat)
    # integer millimetres: running sums of positions are exact, whatever the order of work
    xi = np.round(np.asarray(x) * MM_PER_M).astype(np.int64)
    yi = np.round(np.asarray(y) * MM_PER_M).astype(np.int64)
    cat = cat_all[pos].astype(np.int64)
    eps = np.asarray([config.eps_m[c] for c in cats], dtype=np.float64)
    maxr = np.asarray([config.max_radius_m[c] for c in cats], dtype=np.float64)
    merge = np.asarray([config.merge_m[c] for c in cats], dtype=np.float64)
    pts = _Points(
        x=xi / MM_PER_M,
        y=yi / MM_PER_M,
        xi=xi,
        yi=yi,
        t=t[pos],
        closed=closed[pos],
        cat=cat,
        eps=eps[cat],
        maxr=maxr[cat],
        merge=merge[cat],
        lat=lat,
        lng=lng,
    )
    return pts, reports.index[pos]


# Candidate edges ------------------------------------------------------------------------------


def _candidate_edges(pts: _Points, window_ns: int) -> npt.NDArray[np.int64]:
    """All candidate pairs (i < j, positions in ``pts``), shape (m, 2), sorted."""
    chunks: list[npt.NDArray[np.int64]] = []
    for c in np.unique(pts.cat):
        idx = np.flatnonzero(pts.cat == c)
        if idx.size < 2:
            continue
        eps = float(pts.eps[idx[0]])
        scale = eps / window_ns  # time scaled so that the window maps to eps
        coords = np.column_stack([pts.x[idx], pts.y[idx], (pts.t[idx] - pts.t[idx[0]]) * scale])
        pairs = cKDTree(coords).query_pairs(eps * (1 + 1e-9), p=np.inf, output_type="ndarray")
        if pairs.size == 0:
            continue
        a, b = idx[pairs[:, 0]], idx[pairs[:, 1]]
        dx, dy = pts.x[a] - pts.x[b], pts.y[a] - pts.y[b]
        keep = (dx * dx + dy * dy <= eps * eps) & (np.abs(pts.t[a] - pts.t[b]) <= window_ns)
        a, b = a[keep], b[keep]
        chunks.append(np.column_stack([np.minimum(a, b), np.maximum(a, b)]))
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    edges = np.concatenate(chunks).astype(np.int64)
    return edges[np.lexsort((edges[:, 1], edges[:, 0]))]


@dataclass(frozen=True)
class _PartitionTask:
    positions: npt.NDArray[np.int64]  # global canonical positions of core + halo reports
    core: npt.NDArray[np.bool_]
    points: _Points
    window_ns: int


def _partition_edges(task: _PartitionTask) -> npt.NDArray[np.int64]:
    """Candidate edges of one partition, in global positions, each kept by one partition."""
    local = _candidate_edges(task.points, task.window_ns)
    # the earlier report's partition owns the edge (i < j locally and globally: positions
    # are sorted ascending within the task)
    local = local[task.core[local[:, 0]]]
    return task.positions[local]


def _partition_cells(pts: _Points, resolution: int) -> npt.NDArray[np.int64]:
    """H3 parent cell (int) of each point at ``resolution``."""
    return np.fromiter(
        (h3i.latlng_to_cell(la, ln, resolution) for la, ln in zip(pts.lat, pts.lng, strict=True)),
        dtype=np.uint64,
        count=len(pts),
    ).astype(np.int64)


def _partition_tasks(pts: _Points, config: DedupConfig, window_ns: int) -> list[_PartitionTask]:
    cells = _partition_cells(pts, config.partition_h3_resolution)
    uniq, inv = np.unique(cells, return_inverse=True)
    members: dict[int, npt.NDArray[np.int64]] = {}
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(uniq.size + 1))
    for k, cell in enumerate(uniq):
        members[int(cell)] = order[bounds[k] : bounds[k + 1]]
    reach = max(config.eps_m.values())
    tasks = []
    for cell, core_pos in members.items():
        # the halo: reports of the neighbour cells, but only those within reach of the core's
        # bounding box (a point within eps of a core report is always among them)
        cx, cy = pts.x[core_pos], pts.y[core_pos]
        x0, x1, y0, y1 = cx.min() - reach, cx.max() + reach, cy.min() - reach, cy.max() + reach
        parts = [core_pos]
        for c in h3i.grid_disk(cell, config.halo_rings):
            if c == cell or c not in members:
                continue
            m = members[c]
            mx, my = pts.x[m], pts.y[m]
            parts.append(m[(mx >= x0) & (mx <= x1) & (my >= y0) & (my <= y1)])
        pos = np.sort(np.concatenate(parts))
        core = np.isin(pos, core_pos, assume_unique=True)
        tasks.append(_PartitionTask(pos, core, pts.take(pos), window_ns))
    return tasks


def _all_edges(
    pts: _Points, config: DedupConfig, executor: Executor, partition: bool
) -> npt.NDArray[np.int64]:
    window_ns = round(config.window_days * NS_PER_DAY)
    if not partition or len(pts) == 0:
        return _candidate_edges(pts, window_ns)
    tasks = _partition_tasks(pts, config, window_ns)
    # big partitions first: better load balance
    tasks.sort(key=lambda tk: -tk.positions.size)
    found = [e for e in executor.map(_partition_edges, tasks) if e.size]
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    edges = np.concatenate(found)
    return edges[np.lexsort((edges[:, 1], edges[:, 0]))]


# The pass over components ---------------------------------------------------------------------


@dataclass(frozen=True)
class _ComponentTask:
    points: _Points  # reports of whole components, canonical order
    edges: npt.NDArray[np.int64]  # local positions, i < j


def _seed_pass(task: _ComponentTask) -> npt.NDArray[np.int64]:
    """Seed (local position) of each report: the sequential rule of the module docstring."""
    pts, edges = task.points, task.edges
    n = len(pts)
    if edges.size == 0:
        return np.arange(n, dtype=np.int64)
    # earlier candidates of each report (CSR by the later endpoint)
    by_j = np.argsort(edges[:, 1], kind="stable")
    starts_l = np.searchsorted(edges[by_j, 1], np.arange(n + 1)).tolist()
    earlier = edges[by_j, 0].tolist()
    xs, ys, ts = pts.xi.tolist(), pts.yi.tolist(), pts.t.tolist()
    cl = pts.closed.tolist()
    mr, mg = (pts.maxr * MM_PER_M).tolist(), (pts.merge * MM_PER_M).tolist()
    # per incident (indexed by its seed): position sums, count, closure, members
    sx = [0] * n
    sy = [0] * n
    cnt = [0] * n
    closed_at = [0] * n
    members: dict[int, list[int]] = {}
    out = list(range(n))  # always the current seed (merges relabel the absorbed members)
    for j in range(n):
        lo, hi = starts_l[j], starts_l[j + 1]
        best = -1
        best_d2 = 0.0
        xj, yj, tj = xs[j], ys[j], ts[j]
        open_cands: list[int] = []
        if lo < hi:
            r2 = mr[j] * mr[j]
            cands = (
                (out[earlier[lo]],) if hi - lo == 1 else sorted({out[i] for i in earlier[lo:hi]})
            )
            for s in cands:
                if closed_at[s] < tj:
                    continue
                open_cands.append(s)
                c = cnt[s]
                dx, dy = xj - sx[s] / c, yj - sy[s] / c
                d2 = dx * dx + dy * dy
                if d2 <= r2 and (best < 0 or d2 < best_d2):
                    best, best_d2 = s, d2
        if best < 0:
            best = j
            closed_at[j] = cl[j]
            members[j] = [j]
        else:
            members[best].append(j)
            if cl[j] < closed_at[best]:
                closed_at[best] = cl[j]
        out[j] = best
        sx[best] += xj
        sy[best] += yj
        cnt[best] += 1
        if not open_cands or (len(open_cands) == 1 and open_cands[0] == best):
            continue
        # two open incidents of this neighbourhood whose centres have come within merge_m
        # describe one defect (an early split by GPS noise): merge them into the earlier seed
        m2 = mg[j] * mg[j]
        for s in open_cands:
            if s == best or out[s] != s or closed_at[best] < tj:
                continue  # itself, absorbed by an earlier merge of this step, or closed
            bx, by = sx[best] / cnt[best], sy[best] / cnt[best]
            dx, dy = bx - sx[s] / cnt[s], by - sy[s] / cnt[s]
            if dx * dx + dy * dy <= m2:
                keep, gone = min(best, s), max(best, s)
                sx[keep] += sx[gone]
                sy[keep] += sy[gone]
                cnt[keep] += cnt[gone]
                closed_at[keep] = min(closed_at[keep], closed_at[gone])
                moved = members.pop(gone)
                for m in moved:
                    out[m] = keep
                members[keep].extend(moved)
                best = keep
    return np.asarray(out, dtype=np.int64)


def _seeds(pts: _Points, edges: npt.NDArray[np.int64], executor: Executor) -> npt.NDArray[np.int64]:
    """Seed (global position) of every report, given all candidate edges."""
    n = len(pts)
    seed = np.arange(n, dtype=np.int64)
    if edges.size == 0:
        return seed
    graph = sparse.coo_matrix(
        (np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n)
    )
    _, comp = connected_components(graph, directed=False)
    # reports grouped by component, each group in canonical order
    order = np.argsort(comp, kind="stable")
    cs = comp[order]
    run_start = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
    size = np.diff(np.r_[run_start, n])
    first = order[run_start]  # components are numbered 0..k-1: run k is component k
    min_closed = np.minimum.reduceat(pts.closed[order], run_start)
    max_t = np.maximum.reduceat(pts.t[order], run_start)
    # A component is one incident exactly when the sequential pass never opens a second
    # one: every later report has an earlier candidate and lies within max_radius_m of the
    # running centroid, and nothing closes before the last report. Checked vectorised, with
    # the same integer sums and float operations as the pass (so the same decisions).
    start_of = np.repeat(run_start, size)
    rank = np.arange(n) - start_of
    xs, ys = pts.xi[order], pts.yi[order]
    ex_x, ex_y = np.cumsum(xs) - xs, np.cumsum(ys) - ys  # exclusive running sums
    prev_x, prev_y = ex_x - ex_x[start_of], ex_y - ex_y[start_of]
    later = rank > 0
    dx = xs[later] - prev_x[later] / rank[later]
    dy = ys[later] - prev_y[later] / rank[later]
    r_mm = pts.maxr[order][later] * MM_PER_M
    has_earlier = (np.bincount(edges[:, 1], minlength=n) > 0)[order][later]
    ok = np.ones(n, dtype=bool)
    ok[later] = has_earlier & (dx * dx + dy * dy <= r_mm * r_mm)
    bad = np.bincount(cs[~ok], minlength=size.size)
    single = (bad == 0) & (min_closed >= max_t)
    fast = single[comp]
    seed[fast] = first[comp[fast]]
    slow = np.flatnonzero(~fast & (size[comp] > 1))
    if slow.size == 0:
        return seed
    # group the slow components into tasks of similar size, each component whole
    slow_comp = comp[slow]
    comps, comp_sizes = np.unique(slow_comp, return_counts=True)
    n_tasks = max(1, min(len(comps), executor.workers * 4)) if executor.workers > 1 else 1
    bucket_of_comp = np.zeros(comps.size, dtype=np.int64)
    if n_tasks > 1:
        load = np.zeros(n_tasks)
        for k in np.argsort(-comp_sizes, kind="stable"):
            b = int(np.argmin(load))
            bucket_of_comp[k] = b
            load[b] += comp_sizes[k]
    bucket = bucket_of_comp[np.searchsorted(comps, slow_comp)]
    local_of = np.full(n, -1, dtype=np.int64)
    tasks: list[_ComponentTask] = []
    members: list[npt.NDArray[np.int64]] = []
    edge_bucket = np.full(len(edges), -1, dtype=np.int64)
    is_slow = np.zeros(n, dtype=bool)
    is_slow[slow] = True
    bucket_full = np.full(n, -1, dtype=np.int64)
    bucket_full[slow] = bucket
    sel = is_slow[edges[:, 0]]
    edge_bucket[sel] = bucket_full[edges[sel, 0]]
    for b in range(n_tasks):
        mem = slow[bucket == b]
        if mem.size == 0:
            continue
        local_of[mem] = np.arange(mem.size)
        e = edges[edge_bucket == b]
        tasks.append(_ComponentTask(pts.take(mem), local_of[e]))
        members.append(mem)
    for mem, local_seed in zip(members, executor.map(_seed_pass, tasks), strict=True):
        seed[mem] = mem[local_seed]
    return seed


# Public API -----------------------------------------------------------------------------------


def _resolve(
    executor: Executor | None, partition: bool | None, n: int, config: DedupConfig
) -> tuple[Executor, bool]:
    ex: Executor = executor if executor is not None else SerialExecutor()
    if isinstance(ex, LocalExecutor) and n < config.serial_below_reports:
        ex = SerialExecutor()
    part = partition if partition is not None else ex.workers > 1
    return ex, part


def incident_labels(
    reports: gpd.GeoDataFrame,
    config: DedupConfig,
    *,
    executor: Executor | None = None,
    partition: bool | None = None,
) -> pd.Series:
    """Incident label of each report (index-aligned): the index label of the incident's seed.

    Parameters
    ----------
    reports
        EPSG:4326 Point reports with ``category`` and tz-aware ``reported_at``; optional
        tz-aware ``closed_at`` (NaT while open). The index must be unique and sortable.
    config
        Radii, window and partitioning (:class:`DedupConfig`).
    executor
        Where the tasks run (default: serially in this process).
    partition
        Split the work by H3 parent cell with a halo (default: when the executor has more
        than one worker). The labels are the same either way.

    Returns
    -------
    pandas.Series
        Named ``incident``, same index as ``reports``.

    Examples
    --------
    >>> import pandas as pd, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cfg = DedupConfig.from_toml()
    >>> t = pd.Timestamp("2026-03-01T08:00+03:00")
    >>> r = gpd.GeoDataFrame(
    ...     {"category": ["pothole"] * 3, "reported_at": [t, t + pd.Timedelta("1D"), t]},
    ...     geometry=[Point(50.58, 26.22), Point(50.58005, 26.22), Point(50.59, 26.22)],
    ...     crs=4326, index=[10, 11, 12])
    >>> incident_labels(r, cfg).tolist()
    [10, 10, 12]
    """
    pts, sorted_index = _prepare(reports, config, "incident_labels")
    ex, part = _resolve(executor, partition, len(pts), config)
    edges = _all_edges(pts, config, ex, part)
    seed = _seeds(pts, edges, ex)
    labels = pd.Series(sorted_index[seed], index=sorted_index, name="incident")
    return labels.reindex(reports.index)


def update_incident_labels(
    reports: gpd.GeoDataFrame,
    previous: pd.Series,
    config: DedupConfig,
) -> pd.Series:
    """Labels after a new batch: only components touched by new reports are recomputed.

    Parameters
    ----------
    reports
        All reports (the old ones and the new batch), as for :func:`incident_labels`.
    previous
        Incident labels of the old reports (from :func:`incident_labels` or an earlier
        update on exactly those reports); reports not in it form the new batch.
    config
        As for :func:`incident_labels`.

    Returns
    -------
    pandas.Series
        Equal to ``incident_labels(reports, config)``; the new batch attaches to existing
        incidents or creates new ones.

    Examples
    --------
    >>> import pandas as pd, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cfg = DedupConfig.from_toml()
    >>> t = pd.Timestamp("2026-03-01T08:00+03:00")
    >>> r = gpd.GeoDataFrame({"category": ["pothole"] * 2, "reported_at": [t, t]},
    ...     geometry=[Point(50.58, 26.22), Point(50.58005, 26.22)], crs=4326, index=[1, 2])
    >>> update_incident_labels(r, pd.Series({1: 1}), cfg).tolist()
    [1, 1]
    """
    extra = previous.index.difference(reports.index)
    if len(extra):
        raise DedupError(
            f"update_incident_labels: {len(extra)} previous label(s) name reports not in "
            f"`reports` (e.g. {extra[0]!r}); pass all old reports together with the new batch"
        )
    pts, sorted_index = _prepare(reports, config, "update_incident_labels")
    is_new = ~sorted_index.isin(previous.index)
    window_ns = round(config.window_days * NS_PER_DAY)
    affected = _components_of(pts, np.flatnonzero(is_new), window_ns)
    labels = previous.reindex(sorted_index).astype(object)
    if affected.size:
        sub = pts.take(affected)
        sub_seed = _seeds(sub, _candidate_edges(sub, window_ns), SerialExecutor())
        labels.iloc[affected] = sorted_index[affected[sub_seed]].to_numpy()
    out = pd.Series(labels.to_numpy(), index=sorted_index, name="incident")
    out = out.reindex(reports.index)
    return out.astype(reports.index.dtype) if len(out) else out


def _components_of(
    pts: _Points, start: npt.NDArray[np.int64], window_ns: int
) -> npt.NDArray[np.int64]:
    """Sorted positions of every report in a candidate component containing ``start``."""
    seen = np.zeros(len(pts), dtype=bool)
    seen[start] = True
    frontier = start
    trees: dict[int, tuple[cKDTree, npt.NDArray[np.int64], float]] = {}
    t0 = int(pts.t.min()) if len(pts) else 0
    for c in np.unique(pts.cat[start]):
        idx = np.flatnonzero(pts.cat == c)
        eps = float(pts.eps[idx[0]])
        coords = np.column_stack([pts.x[idx], pts.y[idx], (pts.t[idx] - t0) * (eps / window_ns)])
        trees[int(c)] = (cKDTree(coords), idx, eps)
    while frontier.size:
        nxt: list[npt.NDArray[np.int64]] = []
        for c in np.unique(pts.cat[frontier]):
            tree, idx, eps = trees[int(c)]
            f = frontier[pts.cat[frontier] == c]
            q = np.column_stack([pts.x[f], pts.y[f], (pts.t[f] - t0) * (eps / window_ns)])
            hits = tree.query_ball_point(q, eps * (1 + 1e-9), p=np.inf)
            for a, h in zip(f, hits, strict=True):
                b = idx[np.asarray(h, dtype=np.int64)]
                b = b[~seen[b]]
                if b.size == 0:
                    continue
                dx, dy = pts.x[b] - pts.x[a], pts.y[b] - pts.y[a]
                ok = (dx * dx + dy * dy <= eps * eps) & (np.abs(pts.t[b] - pts.t[a]) <= window_ns)
                b = b[ok]
                seen[b] = True
                nxt.append(b)
        frontier = np.concatenate(nxt) if nxt else np.empty(0, dtype=np.int64)
    return np.flatnonzero(seen)


def assign_incidents(
    reports: gpd.GeoDataFrame,
    config: DedupConfig,
    *,
    labels: pd.Series | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Incident and ``recurrence_of`` of each report (index-aligned).

    ``recurrence_of`` is set on every report of an incident that started after an earlier
    incident of the same category, within ``max_radius_m`` of its centroid, had been closed
    (the most recently closed such incident); otherwise it is missing.

    Parameters
    ----------
    reports
        As for :func:`incident_labels`.
    config
        As for :func:`incident_labels`.
    labels
        Precomputed incident labels (e.g. from :func:`update_incident_labels`); computed
        when omitted.
    executor
        As for :func:`incident_labels`.

    Returns
    -------
    pandas.DataFrame
        Columns ``incident`` and ``recurrence_of`` (both seed labels), same index.

    Examples
    --------
    >>> import pandas as pd, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cfg = DedupConfig.from_toml()
    >>> t = pd.Timestamp("2026-03-01T08:00+03:00")
    >>> r = gpd.GeoDataFrame({"category": ["pothole"] * 2,
    ...     "reported_at": [t, t + pd.Timedelta("3D")],
    ...     "closed_at": [t + pd.Timedelta("1D"), pd.NaT]},
    ...     geometry=[Point(50.58, 26.22), Point(50.58005, 26.22)], crs=4326, index=[1, 2])
    >>> assign_incidents(r, cfg)["recurrence_of"].tolist()
    [<NA>, 1]
    """
    pts, sorted_index = _prepare(reports, config, "assign_incidents")
    if labels is None:
        ex, part = _resolve(executor, None, len(pts), config)
        seed_pos = _seeds(pts, _all_edges(pts, config, ex, part), ex)
    else:
        lab = labels.reindex(sorted_index)
        seed_pos = sorted_index.get_indexer(pd.Index(lab))
        if lab.isna().any() or (seed_pos < 0).any():
            raise DedupError(
                "assign_incidents: `labels` miss some reports or are not seed labels; "
                "compute them with incident_labels on the same frame"
            )
    uniq, codes = np.unique(seed_pos, return_inverse=True)
    seeds = sorted_index[uniq]
    k = len(seeds)
    cnt = np.bincount(codes, minlength=k).astype(np.float64)
    cx = np.bincount(codes, weights=pts.x, minlength=k) / np.maximum(cnt, 1)
    cy = np.bincount(codes, weights=pts.y, minlength=k) / np.maximum(cnt, 1)
    first_t = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_t, codes, pts.t)
    closed = np.full(k, _NOT_CLOSED, dtype=np.int64)
    np.minimum.at(closed, codes, pts.closed)
    cat = np.zeros(k, dtype=np.int64)
    cat[codes] = pts.cat
    maxr = np.zeros(k)
    maxr[codes] = pts.maxr
    rec = np.full(k, -1, dtype=np.int64)
    for c in np.unique(cat):
        idx = np.flatnonzero(cat == c)
        if idx.size < 2 or not (closed[idx] != _NOT_CLOSED).any():
            continue
        r = float(maxr[idx[0]])
        pairs = cKDTree(np.column_stack([cx[idx], cy[idx]])).query_pairs(r, output_type="ndarray")
        if pairs.size == 0:
            continue
        a = idx[np.concatenate([pairs[:, 0], pairs[:, 1]])]
        b = idx[np.concatenate([pairs[:, 1], pairs[:, 0]])]
        ok = closed[a] < first_t[b]  # a was closed before b started
        a, b = a[ok], b[ok]
        if a.size == 0:
            continue
        # per b: the latest-closed a (ties: the earlier-starting, then first seen)
        order = np.lexsort((first_t[a], -closed[a], b))
        a, b = a[order], b[order]
        first_of_b = np.r_[True, b[1:] != b[:-1]]
        rec[b[first_of_b]] = a[first_of_b]
    seed_labels = np.asarray(seeds, dtype=object)
    rec_labels = seed_labels[np.maximum(rec, 0)].copy()
    rec_labels[rec < 0] = None
    out = pd.DataFrame(
        {"incident": sorted_index[seed_pos], "recurrence_of": rec_labels[codes]},
        index=sorted_index,
    ).reindex(reports.index)
    if pd.api.types.is_integer_dtype(reports.index.dtype):
        out["recurrence_of"] = out["recurrence_of"].astype("Int64")
    return out


def summarise_incidents(
    reports: gpd.GeoDataFrame, assignment: pd.DataFrame, h3_resolution: int
) -> gpd.GeoDataFrame:
    """One row per incident: category, counts, times, status, majority agency/governorate.

    Parameters
    ----------
    reports
        The reports given to :func:`assign_incidents` (optional columns ``status``,
        ``closed_at``, ``agency_code``, ``governorate_code``).
    assignment
        Output of :func:`assign_incidents` on ``reports``.
    h3_resolution
        Resolution of the incident's ``h3_cell`` (of its centroid).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by incident label: ``category, n_reports, first_reported_at,
        last_reported_at, status, closed_at, agency_code, governorate_code, recurrence_of,
        h3_cell`` and the centroid (EPSG:4326) as geometry.

    Examples
    --------
    >>> import pandas as pd, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cfg = DedupConfig.from_toml()
    >>> t = pd.Timestamp("2026-03-01T08:00+03:00")
    >>> r = gpd.GeoDataFrame({"category": ["pothole"] * 2, "reported_at": [t, t]},
    ...     geometry=[Point(50.58, 26.22), Point(50.58005, 26.22)], crs=4326, index=[1, 2])
    >>> summarise_incidents(r, assign_incidents(r, cfg), 9)["n_reports"].tolist()
    [2]
    """
    check_crs(reports, STORAGE_EPSG, "summarise_incidents")
    if len(reports) == 0:
        empty = gpd.GeoDataFrame(
            {
                "category": pd.Series(dtype=object),
                "n_reports": pd.Series(dtype="int64"),
                "first_reported_at": pd.Series(dtype="datetime64[ns, UTC]"),
                "last_reported_at": pd.Series(dtype="datetime64[ns, UTC]"),
                "status": pd.Series(dtype=object),
                "closed_at": pd.Series(dtype="datetime64[ns, UTC]"),
                "agency_code": pd.Series(dtype=object),
                "governorate_code": pd.Series(dtype=object),
                "recurrence_of": pd.Series(dtype=object),
                "h3_cell": pd.Series(dtype="int64"),
            },
            geometry=gpd.GeoSeries([], crs=STORAGE_EPSG),
        )
        empty.index.name = "incident"
        return empty
    x, y = _TO_UTM.transform(reports.geometry.x.to_numpy(), reports.geometry.y.to_numpy())
    status = (
        reports["status"].to_numpy()
        if "status" in reports.columns
        else np.full(len(reports), "open")
    )
    closed_at = (
        reports["closed_at"].dt.tz_convert("UTC")
        if "closed_at" in reports.columns
        else pd.Series(pd.NaT, index=reports.index, dtype="datetime64[ns, UTC]")
    )
    df = pd.DataFrame(
        {
            "incident": assignment["incident"].reindex(reports.index).to_numpy(),
            "recurrence_of": assignment["recurrence_of"].reindex(reports.index).to_numpy(),
            "category": reports["category"].to_numpy(),
            "reported_at": reports["reported_at"].dt.tz_convert("UTC").reset_index(drop=True),
            "closed_at": closed_at.reset_index(drop=True),
            "is_closed": status == "closed",
            "started": np.isin(status, ["in_progress", "closed"]),
            "x": x,
            "y": y,
        }
    )
    g = df.groupby("incident", sort=True)
    out = g.agg(
        category=("category", "first"),
        n_reports=("category", "size"),
        first_reported_at=("reported_at", "min"),
        last_reported_at=("reported_at", "max"),
        closed_at=("closed_at", "min"),
        recurrence_of=("recurrence_of", "first"),
        all_closed=("is_closed", "all"),
        any_started=("started", "any"),
        x=("x", "mean"),
        y=("y", "mean"),
    )
    out["status"] = np.where(
        out["all_closed"], "closed", np.where(out["any_started"], "in_progress", "open")
    )
    for col in ("agency_code", "governorate_code"):
        if col in reports.columns:
            out[col] = _majority(df["incident"], reports[col].to_numpy()).reindex(out.index)
        else:
            out[col] = None
    lng, lat = Transformer.from_crs(METRIC_EPSG, STORAGE_EPSG, always_xy=True).transform(
        out["x"].to_numpy(), out["y"].to_numpy()
    )
    out["h3_cell"] = np.fromiter(
        (h3i.latlng_to_cell(la, ln, h3_resolution) for la, ln in zip(lat, lng, strict=True)),
        dtype=np.uint64,
        count=len(out),
    ).astype(np.int64)
    cols = [
        "category",
        "n_reports",
        "first_reported_at",
        "last_reported_at",
        "status",
        "closed_at",
        "agency_code",
        "governorate_code",
        "recurrence_of",
        "h3_cell",
    ]
    return gpd.GeoDataFrame(
        out[cols], geometry=gpd.points_from_xy(lng, lat), crs=STORAGE_EPSG
    ).rename_axis("incident")


def _majority(groups: pd.Series, values: Iterable[Any]) -> pd.Series:
    """Most frequent non-null value per group (ties: the smallest value)."""
    df = pd.DataFrame({"g": groups.to_numpy(), "v": list(values)}).dropna()
    if df.empty:
        return pd.Series(dtype=object)
    counts = df.groupby(["g", "v"]).size().reset_index(name="n")
    counts = counts.sort_values(["g", "n", "v"], ascending=[True, False, True])
    return counts.drop_duplicates("g").set_index("g")["v"]
