"""Jurisdiction routing: each report to its governorate, road authority and competent agency.

Pure functions (no SQL, no file I/O). The boundary layers are prepared once
(:func:`prepare_layers`: UTM 39N copies, STRtrees, the rule table) and then applied to frames of
any size (:func:`assign_jurisdiction`); a single report and a batch take the same code path.

Rules, in order:

1. Road authority: of the authorities containing the point, the highest ``precedence`` wins
   (a Ministry of Works corridor or special zone over the municipal area under it); ties
   (a point exactly on a shared edge) go to the smallest code.
2. Agency: the rule ``(authority, category) -> agency``; a category with no rule for that
   authority falls back to the authority's ``default_agency`` and the reason says so.
3. Near a boundary between two *different* agencies (for that category), the confidence drops
   linearly from 1 at ``boundary_band_m`` to ``boundary_confidence_floor`` on the boundary; the
   reason names both candidates.
4. Outside every authority: the nearest one within ``outside_tolerance_m`` is used with a low
   confidence (``outside_confidence_at_edge`` down to ``outside_confidence_at_tolerance``);
   beyond it, or with no geometry, the report is ``unroutable``.
5. ``routing_status`` is ``routed`` at or above ``min_confidence``, else ``triage``
   (``unroutable`` when no agency could be found).
6. The nearest named place (English and Arabic) within ``place_max_distance_m``.

Governorates are matched the same way (containment, else nearest within the tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.strtree import STRtree

from spatial.crs import METRIC_EPSG, STORAGE_EPSG, check_crs
from spatial.errors import Fix2GoError

ROUTING_COLUMNS = (
    "governorate_code",
    "authority_code",
    "agency_code",
    "routing_confidence",
    "routing_reason",
    "routing_status",
    "place_en",
    "place_ar",
)
"""The columns :func:`assign_jurisdiction` returns, in order (those of the ``reports`` table)."""

STATUS_ROUTED = "routed"
STATUS_TRIAGE = "triage"
STATUS_UNROUTABLE = "unroutable"

_GOVERNORATE_COLUMNS = ("code", "name_en", "name_ar")
_AUTHORITY_COLUMNS = ("code", "name_en", "name_ar", "kind", "precedence", "default_agency")
_RULE_COLUMNS = ("authority_code", "category", "agency_code")
_PLACE_COLUMNS = ("name_en", "name_ar")


class RoutingError(Fix2GoError, ValueError):
    """Routing inputs are unusable (missing columns, bad configuration, non-point reports)."""


@dataclass(frozen=True)
class RoutingConfig:
    """Tolerances and thresholds of :func:`assign_jurisdiction` (distances in metres).

    Attributes
    ----------
    boundary_band_m
        Within this distance of a boundary between two different agencies the confidence drops.
    outside_tolerance_m
        A point outside every polygon goes to the nearest one within this distance (low
        confidence); beyond it the report is unroutable.
    min_confidence
        Below this confidence the routing status is ``triage``.
    boundary_confidence_floor
        Confidence of a point exactly on a boundary between two different agencies.
    outside_confidence_at_edge, outside_confidence_at_tolerance
        Confidence of a point outside every polygon, just off its edge and at the tolerance
        (linear in between).
    place_max_distance_m
        The nearest named place is reported only within this distance.
    """

    boundary_band_m: float = 25.0
    outside_tolerance_m: float = 300.0
    min_confidence: float = 0.5
    boundary_confidence_floor: float = 0.4
    outside_confidence_at_edge: float = 0.45
    outside_confidence_at_tolerance: float = 0.1
    place_max_distance_m: float = 5000.0

    def __post_init__(self) -> None:
        for name in ("boundary_band_m", "outside_tolerance_m", "place_max_distance_m"):
            if not getattr(self, name) > 0:
                raise RoutingError(
                    f"RoutingConfig.{name} must be > 0 metres, got {getattr(self, name)!r}; "
                    "pass a positive distance"
                )
        for name in (
            "min_confidence",
            "boundary_confidence_floor",
            "outside_confidence_at_edge",
            "outside_confidence_at_tolerance",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise RoutingError(
                    f"RoutingConfig.{name} must be in [0, 1], got {value!r}; "
                    "pass a confidence between 0 and 1"
                )


SLACK_M = 1e-6
"""Added to search distances of candidate look-ups, so that rounding never drops a candidate
(the exact distance test that follows decides)."""

SUBDIVIDE_CELL_M = 1000.0
"""Polygons are cut into pieces on a grid of this cell size (metres) before indexing, so each
containment or distance test touches a few dozen vertices instead of a whole coastline."""


@dataclass(frozen=True, eq=False)
class PieceIndex:
    """Polygons cut into small pieces (UTM 39N), indexed by an STRtree; ``owner[i]`` is the row
    of the polygon that piece ``i`` belongs to."""

    pieces: npt.NDArray[np.object_]
    owner: npt.NDArray[np.int64]
    n_owners: int
    tree: STRtree

    @classmethod
    def build(cls, polygons_m: npt.NDArray[np.object_], cell_m: float) -> PieceIndex:
        """Cut ``polygons_m`` on a ``cell_m`` grid and index the pieces."""
        n = len(polygons_m)
        if n == 0:
            empty = np.empty(0, dtype=object)
            return cls(empty, np.empty(0, dtype=np.int64), 0, STRtree(empty))
        xmin, ymin, xmax, ymax = shapely.total_bounds(polygons_m)
        xs = np.arange(np.floor(xmin / cell_m) * cell_m, xmax + cell_m, cell_m)
        ys = np.arange(np.floor(ymin / cell_m) * cell_m, ymax + cell_m, cell_m)
        gx, gy = np.meshgrid(xs[:-1], ys[:-1])
        cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
        cell_idx, poly_idx = STRtree(polygons_m).query(cells, predicate="intersects")
        clipped = shapely.intersection(polygons_m[poly_idx], cells[cell_idx])
        parts, part_of = shapely.get_parts(clipped, return_index=True)
        keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (
            shapely.area(parts) > 0
        )
        pieces = np.asarray(parts[keep], dtype=object)
        shapely.prepare(pieces)
        owner = poly_idx[part_of[keep]].astype(np.int64)
        return cls(pieces, owner, n, STRtree(pieces))

    def owners_at(
        self, points: npt.NDArray[np.object_]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The smallest and second-smallest owner intersecting each point (-1 if none)."""
        first = np.full(len(points), -1, dtype=np.int64)
        second = np.full(len(points), -1, dtype=np.int64)
        if len(points) == 0 or self.n_owners == 0:
            return first, second
        pi, ti = self.tree.query(points, predicate="intersects")
        key = _sorted_unique(pi.astype(np.int64) * self.n_owners + self.owner[ti])
        pi, own = key // self.n_owners, key % self.n_owners
        is_first = np.ones(len(key), dtype=bool)
        is_first[1:] = pi[1:] != pi[:-1]
        first[pi[is_first]] = own[is_first]
        is_second = np.zeros(len(key), dtype=bool)
        is_second[1:] = ~is_first[1:] & is_first[:-1]
        second[pi[is_second]] = own[is_second]
        return first, second

    def nearest(
        self, points: npt.NDArray[np.object_], max_distance_m: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Nearest owner within ``max_distance_m`` of each point (-1 if none) and its distance;
        equidistant owners resolve to the smallest."""
        idx = np.full(len(points), -1, dtype=np.int64)
        dist = np.full(len(points), np.nan)
        if len(points) == 0 or self.n_owners == 0:
            return idx, dist
        (pi, ti), d = self.tree.query_nearest(
            points, max_distance=max_distance_m, return_distance=True, all_matches=True
        )
        own = self.owner[ti]
        order = np.lexsort((own, d, pi))
        pi, own, d = pi[order], own[order], d[order]
        keep = np.ones(len(pi), dtype=bool)
        keep[1:] = pi[1:] != pi[:-1]
        idx[pi[keep]] = own[keep]
        dist[pi[keep]] = d[keep]
        return idx, dist


@dataclass(frozen=True, eq=False)
class BoundaryLayers:
    """Boundary layers prepared once for routing (build with :func:`prepare_layers`).

    Geometries are kept in UTM 39N (metres) and indexed with STRtrees; the rules are a dense
    ``authority x category`` table of agency indices.
    """

    config: RoutingConfig
    gov_codes: npt.NDArray[np.object_]
    governorates: PieceIndex
    auth: pd.DataFrame  # code, name_en, name_ar, kind, precedence, default_agency (0..n-1 index)
    authorities: PieceIndex
    #: where each authority wins (its polygon minus higher-precedence ones): boundaries
    #: between agencies are edges of these
    effective: PieceIndex
    #: the envelopes of the ``effective`` pieces grown by ``config.boundary_band_m`` (plus
    #: :data:`SLACK_M`), same order: a piece can be within the band of a point only if its
    #: grown envelope holds the point
    band_boxes: STRtree
    categories: tuple[str, ...]  # column k of the tables; column len(categories) = unknown
    agencies: tuple[str, ...]
    agency_table: npt.NDArray[np.int64]  # [authority, category] -> index into agencies
    has_rule: npt.NDArray[np.bool_]  # [authority, category] -> an explicit rule exists
    place_en: npt.NDArray[np.object_]
    place_ar: npt.NDArray[np.object_]
    place_xy: npt.NDArray[np.float64]  # UTM 39N coordinates of the places
    place_tree: cKDTree
    version: str | None = field(default=None)

    @property
    def authority_codes(self) -> tuple[str, ...]:
        """The authority codes, in the layers' internal order."""
        return tuple(self.auth["code"])


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RoutingError(
            f"prepare_layers: {what} lacks column(s) {missing!r} (has {list(frame.columns)!r}); "
            f"provide {list(columns)!r}"
        )


def _sorted_unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` by sorting (faster than hashing for mostly-distinct int64 keys)."""
    values = np.sort(values, kind="stable")
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


@cache
def _to_metric() -> Transformer:
    return Transformer.from_crs(STORAGE_EPSG, METRIC_EPSG, always_xy=True)


def _points_to_metric(
    points: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """Project lon/lat shapely points to UTM 39N (vectorised, no GeoSeries): the points and
    their ``(n, 2)`` coordinates."""
    xy = shapely.get_coordinates(points)
    x, y = _to_metric().transform(xy[:, 0], xy[:, 1])
    return np.asarray(shapely.points(x, y), dtype=object), np.column_stack((x, y))


def _present(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """True where a geometry is neither missing nor empty."""
    return ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def _polygons_m(gdf: gpd.GeoDataFrame, what: str) -> npt.NDArray[np.object_]:
    check_crs(gdf, STORAGE_EPSG, f"prepare_layers ({what})")
    geoms = gdf.geometry
    arr = np.asarray(geoms.array, dtype=object)
    polygonal = np.isin(
        shapely.get_type_id(arr),
        [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON],
    )
    bad = ~_present(arr) | ~polygonal
    if bad.any():
        raise RoutingError(
            f"prepare_layers: {what} has {int(bad.sum())} row(s) without a (Multi)Polygon "
            f"geometry (first at index {gdf.index[np.flatnonzero(bad)[0]]!r}); drop or repair them"
        )
    projected = np.asarray(geoms.to_crs(METRIC_EPSG).make_valid().values, dtype=object)
    shapely.prepare(projected)
    return projected


def prepare_layers(
    governorates: gpd.GeoDataFrame,
    authorities: gpd.GeoDataFrame,
    rules: pd.DataFrame,
    places: gpd.GeoDataFrame,
    config: RoutingConfig | None = None,
    version: str | None = None,
) -> BoundaryLayers:
    """Prepare the boundary layers once for :func:`assign_jurisdiction`.

    Parameters
    ----------
    governorates
        ``code, name_en, name_ar, geometry`` ((Multi)Polygon, EPSG:4326).
    authorities
        ``code, name_en, name_ar, kind, precedence, default_agency, geometry`` (EPSG:4326).
    rules
        ``authority_code, category, agency_code``: at most one row per (authority, category).
    places
        ``name_en, name_ar, geometry`` (Point, EPSG:4326): named places for addresses.
    config
        Tolerances and thresholds (default :class:`RoutingConfig()`).
    version
        Optional label of the boundary version (recorded by callers, e.g. the replay audit).

    Returns
    -------
    BoundaryLayers

    Raises
    ------
    CRSError
        When a layer is not in EPSG:4326.
    RoutingError
        When a column is missing, a geometry is not a polygon, codes repeat or rules conflict.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> gov = gpd.GeoDataFrame({"code": ["BH-X"], "name_en": ["X"], "name_ar": ["س"]},
    ...                        geometry=[box(50.5, 26.0, 50.6, 26.1)], crs=4326)
    >>> auth = gpd.GeoDataFrame({"code": ["muni_x"], "name_en": ["X"], "name_ar": ["س"],
    ...     "kind": ["municipal_area"], "precedence": [10], "default_agency": ["muni"]},
    ...     geometry=[box(50.5, 26.0, 50.6, 26.1)], crs=4326)
    >>> rules = pd.DataFrame({"authority_code": ["muni_x"], "category": ["street_light"],
    ...                       "agency_code": ["ewa"]})
    >>> places = gpd.GeoDataFrame({"name_en": ["Town"], "name_ar": ["بلدة"]},
    ...                           geometry=[Point(50.55, 26.05)], crs=4326)
    >>> layers = prepare_layers(gov, auth, rules, places)
    >>> layers.authority_codes
    ('muni_x',)
    """
    config = RoutingConfig() if config is None else config
    _require_columns(governorates, _GOVERNORATE_COLUMNS, "governorates")
    _require_columns(authorities, _AUTHORITY_COLUMNS, "authorities")
    _require_columns(rules, _RULE_COLUMNS, "rules")
    _require_columns(places, _PLACE_COLUMNS, "places")
    for frame, what in ((governorates, "governorates"), (authorities, "authorities")):
        dup = frame["code"][frame["code"].duplicated()]
        if len(dup):
            raise RoutingError(
                f"prepare_layers: {what} code {dup.iloc[0]!r} appears more than once; "
                "pass only the current version of each code"
            )

    # Governorates, sorted by code so that ties on shared edges resolve to the smallest code.
    gov = governorates.sort_values("code", kind="stable")
    gov_geoms_m = _polygons_m(gov, "governorates")

    # Authorities: highest precedence first, then code (the order ties resolve in).
    auth_sorted = authorities.assign(precedence=authorities["precedence"].astype(np.int64))
    auth_sorted = auth_sorted.sort_values(
        ["precedence", "code"], ascending=[False, True], kind="stable"
    )
    auth_geoms_m = _polygons_m(auth_sorted, "authorities")
    auth = pd.DataFrame(
        {c: auth_sorted[c].to_numpy() for c in _AUTHORITY_COLUMNS},
        index=pd.RangeIndex(len(auth_sorted)),
    )
    # Effective area of each authority: its polygon minus those ranked before it.
    effective = np.empty(len(auth_geoms_m), dtype=object)
    covered = shapely.Polygon()
    for j, geom in enumerate(auth_geoms_m):
        effective[j] = shapely.make_valid(shapely.difference(geom, covered))
        covered = shapely.union(covered, geom)

    # Rules: dense [authority, category] table; an extra last column for unknown categories.
    dup_rules = rules.duplicated(["authority_code", "category"])
    if dup_rules.any():
        first = rules[dup_rules].iloc[0]
        raise RoutingError(
            f"prepare_layers: two rules for authority {first['authority_code']!r} and category "
            f"{first['category']!r}; keep one agency per (authority, category)"
        )
    categories = tuple(sorted(set(rules["category"].astype(str))))
    agencies = tuple(
        sorted(set(rules["agency_code"].astype(str)) | set(auth["default_agency"].astype(str)))
    )
    agency_index = {a: i for i, a in enumerate(agencies)}
    auth_index = {c: j for j, c in enumerate(auth["code"])}
    cat_index = {c: k for k, c in enumerate(categories)}
    defaults = np.array([agency_index[a] for a in auth["default_agency"]], dtype=np.int64)
    agency_table = np.repeat(defaults[:, None], len(categories) + 1, axis=1)
    has_rule = np.zeros(agency_table.shape, dtype=bool)
    for a_code, cat, agency in rules[list(_RULE_COLUMNS)].itertuples(index=False):
        if a_code not in auth_index:
            continue  # a rule for an authority not in this layer version: ignored
        agency_table[auth_index[a_code], cat_index[cat]] = agency_index[agency]
        has_rule[auth_index[a_code], cat_index[cat]] = True

    # Places: named points for bilingual addresses.
    check_crs(places, STORAGE_EPSG, "prepare_layers (places)")
    places_ok = places[_present(np.asarray(places.geometry.array, dtype=object))]
    place_xy = shapely.get_coordinates(places_ok.geometry.to_crs(METRIC_EPSG).values)
    # places at the same spot: the first one names it (the KD-tree would pick any of them)
    _, first_at = np.unique(place_xy, axis=0, return_index=True)
    first_at = np.sort(first_at)
    places_ok, place_xy = places_ok.iloc[first_at], place_xy[first_at]

    effective_pieces = PieceIndex.build(effective, SUBDIVIDE_CELL_M)
    grow = config.boundary_band_m + SLACK_M
    env = shapely.bounds(effective_pieces.pieces).reshape(-1, 4)
    band_boxes = STRtree(
        shapely.box(env[:, 0] - grow, env[:, 1] - grow, env[:, 2] + grow, env[:, 3] + grow)
    )

    return BoundaryLayers(
        config=config,
        gov_codes=gov["code"].astype(str).to_numpy(dtype=object),
        governorates=PieceIndex.build(gov_geoms_m, SUBDIVIDE_CELL_M),
        auth=auth,
        authorities=PieceIndex.build(auth_geoms_m, SUBDIVIDE_CELL_M),
        effective=effective_pieces,
        band_boxes=band_boxes,
        categories=categories,
        agencies=agencies,
        agency_table=agency_table,
        has_rule=has_rule,
        place_en=_nullable_strings(places_ok["name_en"]),
        place_ar=_nullable_strings(places_ok["name_ar"]),
        place_xy=place_xy,
        place_tree=cKDTree(place_xy),
        version=version,
    )


def _nullable_strings(series: pd.Series) -> npt.NDArray[np.object_]:
    values = series.astype(object).to_numpy(dtype=object)
    return np.array([v if isinstance(v, str) and v else None for v in values], dtype=object)


def _fmt_m(values: npt.ArrayLike) -> pd.Series:
    return pd.Series(np.round(np.asarray(values, dtype=float), 1)).map("{:.1f} m".format)


def assign_jurisdiction(reports: gpd.GeoDataFrame, layers: BoundaryLayers) -> pd.DataFrame:
    """Governorate, road authority, agency, confidence, reason, status and place per report.

    Parameters
    ----------
    reports
        Point geometries in EPSG:4326 and a ``category`` column (a category code). Rows with no
        (or an empty) geometry are ``unroutable``.
    layers
        The boundary layers from :func:`prepare_layers` (or
        ``spatial.postgis.routing.read_boundary_layers``).

    Returns
    -------
    pandas.DataFrame
        Index-aligned with ``reports``, columns :data:`ROUTING_COLUMNS`: ``governorate_code``,
        ``authority_code``, ``agency_code`` (None when unroutable), ``routing_confidence``
        (float in [0, 1]), ``routing_reason`` (readable text), ``routing_status``
        (``routed`` | ``triage`` | ``unroutable``), ``place_en``, ``place_ar``.

    Raises
    ------
    CRSError
        When ``reports`` is not in EPSG:4326 (the message gives the fix).
    RoutingError
        When the ``category`` column is missing or a geometry is not a point.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> gov = gpd.GeoDataFrame({"code": ["BH-X"], "name_en": ["X"], "name_ar": ["س"]},
    ...                        geometry=[box(50.5, 26.0, 50.6, 26.1)], crs=4326)
    >>> auth = gpd.GeoDataFrame({"code": ["muni_x"], "name_en": ["X"], "name_ar": ["س"],
    ...     "kind": ["municipal_area"], "precedence": [10], "default_agency": ["muni"]},
    ...     geometry=[box(50.5, 26.0, 50.6, 26.1)], crs=4326)
    >>> rules = pd.DataFrame({"authority_code": ["muni_x"], "category": ["street_light"],
    ...                       "agency_code": ["ewa"]})
    >>> places = gpd.GeoDataFrame({"name_en": ["Town"], "name_ar": ["بلدة"]},
    ...                           geometry=[Point(50.55, 26.05)], crs=4326)
    >>> layers = prepare_layers(gov, auth, rules, places)
    >>> reports = gpd.GeoDataFrame({"category": ["street_light", "pothole"]},
    ...                            geometry=[Point(50.55, 26.05)] * 2, crs=4326)
    >>> out = assign_jurisdiction(reports, layers)
    >>> out[["agency_code", "routing_status", "place_en"]].values.tolist()
    [['ewa', 'routed', 'Town'], ['muni', 'routed', 'Town']]
    """
    check_crs(reports, STORAGE_EPSG, "assign_jurisdiction")
    if "category" not in reports.columns:
        raise RoutingError(
            "assign_jurisdiction: reports lack a 'category' column; "
            "add the category code of each report"
        )
    cfg = layers.config
    n = len(reports)
    geoms = reports.geometry
    arr = np.asarray(geoms.array, dtype=object)
    present = _present(arr)
    not_point = present & (shapely.get_type_id(arr) != shapely.GeometryType.POINT)
    if not_point.any():
        i = np.flatnonzero(not_point)[0]
        raise RoutingError(
            f"assign_jurisdiction: report at index {reports.index[i]!r} has a "
            f"{arr[i].geom_type} geometry; reports must be Points (use "
            "`.representative_point()` first)"
        )

    live = np.flatnonzero(present)
    lp, lp_xy = _points_to_metric(arr[live])

    # Category index per report (looked up once per distinct category); unknown or missing
    # categories use the last (default) column.
    n_cat = len(layers.categories)
    seen_codes, seen_cats = pd.factorize(reports["category"])
    index_of_seen = pd.Index(list(layers.categories), dtype=object).get_indexer(
        pd.Index(seen_cats, dtype=object)
    )
    cat_codes = np.append(index_of_seen, -1)[seen_codes]  # -1 (missing) picks the -1 at the end
    cat_codes = np.where(cat_codes < 0, n_cat, cat_codes).astype(np.int64)
    cat_l = cat_codes[live]

    # --- governorate: containment, else nearest within tolerance --------------------------
    gov_code = np.full(n, None, dtype=object)
    g_first, _ = layers.governorates.owners_at(lp)
    g_out = np.flatnonzero(g_first < 0)
    g_near, _ = layers.governorates.nearest(lp[g_out], cfg.outside_tolerance_m)
    g_first[g_out] = g_near
    ok = g_first >= 0
    gov_code[live[ok]] = layers.gov_codes[g_first[ok]]

    # --- road authority: highest precedence containing, else nearest within tolerance -----
    # (authorities are ordered by precedence, so the smallest owner index wins; the second
    # one is the authority underneath, e.g. the municipal area under a corridor)
    a_win, under = layers.authorities.owners_at(lp)
    inside = a_win >= 0
    a_out = np.flatnonzero(~inside)
    a_near, a_dist = layers.effective.nearest(lp[a_out], cfg.outside_tolerance_m)
    a_win[a_out] = a_near
    d_own = np.zeros(len(lp))
    d_own[a_out] = np.where(a_near >= 0, a_dist, np.nan)
    routable = a_win >= 0
    a_idx = np.where(routable, a_win, 0)

    agency_idx = layers.agency_table[a_idx, cat_l]
    ruled = layers.has_rule[a_idx, cat_l]

    # --- boundary band: distance to the nearest area of a different agency ----------------
    band = cfg.boundary_band_m
    cand = np.flatnonzero(routable)
    d_other = np.full(len(lp), np.inf)
    other_auth = np.full(len(lp), -1, dtype=np.int64)
    if len(cand):
        # candidate pieces first: for reports inside an authority (reach = band) the pieces
        # whose band-grown envelope holds the point, for the few outside (a longer reach) a
        # dwithin query; then exact distances only for the pieces of another authority with a
        # different agency for the report's category
        reach = d_own[cand] + band
        inner = np.flatnonzero(d_own[cand] == 0)
        outer = np.flatnonzero(d_own[cand] != 0)
        pi_in, ti_in = layers.band_boxes.query(lp[cand[inner]])
        pi_out, ti_out = layers.effective.tree.query(
            lp[cand[outer]], predicate="dwithin", distance=reach[outer] + SLACK_M
        )
        pi, ti = np.concatenate((inner[pi_in], outer[pi_out])), np.concatenate((ti_in, ti_out))
        src, own = cand[pi], layers.effective.owner[ti]
        differs = (layers.agency_table[own, cat_l[src]] != agency_idx[src]) & (own != a_win[src])
        src, ti, own, pi = src[differs], ti[differs], own[differs], pi[differs]
        if len(src):
            d = shapely.distance(lp[src], layers.effective.pieces[ti])
            within = d <= reach[pi]
            src, ti, own, d = src[within], ti[within], own[within], d[within]
            order = np.lexsort((own, d, src))
            src, own, d = src[order], own[order], d[order]
            keep = np.ones(len(src), dtype=bool)
            keep[1:] = src[1:] != src[:-1]
            d_other[src[keep]] = d[keep]
            other_auth[src[keep]] = own[keep]
    margin = np.clip(d_other - d_own, 0.0, None)
    near_boundary = routable & (other_auth >= 0) & (margin < band)

    # --- confidence ----------------------------------------------------------------------
    base = np.ones(len(lp))
    outside = routable & ~inside
    frac = np.clip(np.nan_to_num(d_own) / cfg.outside_tolerance_m, 0.0, 1.0)
    base[outside] = cfg.outside_confidence_at_edge + frac[outside] * (
        cfg.outside_confidence_at_tolerance - cfg.outside_confidence_at_edge
    )
    band_factor = np.ones(len(lp))
    floor = cfg.boundary_confidence_floor
    band_factor[near_boundary] = floor + (1.0 - floor) * (margin[near_boundary] / band)
    conf_l = np.where(routable, np.clip(base * band_factor, 0.0, 1.0), 0.0)

    # --- assemble ------------------------------------------------------------------------
    auth_codes = layers.auth["code"].to_numpy(dtype=object)
    auth_kinds = layers.auth["kind"].to_numpy(dtype=object)
    auth_prec = layers.auth["precedence"].to_numpy()
    agencies = np.asarray(layers.agencies, dtype=object)

    authority_code = np.full(n, None, dtype=object)
    agency_code = np.full(n, None, dtype=object)
    confidence = np.zeros(n)
    reason = np.full(n, "unroutable: the report has no location", dtype=object)
    authority_code[live[routable]] = auth_codes[a_win[routable]]
    agency_code[live[routable]] = agencies[agency_idx[routable]]
    confidence[live] = conf_l

    # Reasons: routed-inside reasons depend only on (winner, underneath, category, rule): build
    # each distinct one once, then add per-row suffixes for the few outside / near-boundary rows.
    reason_l = np.full(len(lp), "", dtype=object)
    if len(lp):
        cats_text = np.asarray((*layers.categories, ""), dtype=object)[cat_l]
        unknown = np.flatnonzero(cat_l == n_cat)
        raw_cat = reports["category"].to_numpy(dtype=object)[live[unknown]]
        cats_text[unknown] = [c if isinstance(c, str) else "(no category)" for c in raw_cat]
        # one int64 per distinct (winner, underneath, category text, rule, inside), built in
        # mixed radix (the category index k follows from the category text)
        text_code, distinct_texts = pd.factorize(cats_text)
        n_auth = len(auth_codes)
        key = (a_idx * (n_auth + 1) + (under + 1)) * len(distinct_texts) + text_code
        key = key * 4 + ruled * 2 + inside
        routed_rows = np.flatnonzero(routable)
        group, _ = pd.factorize(key[routed_rows])
        first_of_group = routed_rows[np.unique(group, return_index=True)[1]]
        texts: list[str] = []
        for a, u, k, r, ins, c in zip(
            a_idx[first_of_group].tolist(),
            under[first_of_group].tolist(),
            cat_l[first_of_group].tolist(),
            ruled[first_of_group].tolist(),
            inside[first_of_group].tolist(),
            cats_text[first_of_group].tolist(),
            strict=True,
        ):
            where = (
                f"inside {auth_codes[a]} ({auth_kinds[a]}, precedence {auth_prec[a]}"
                + (f", over {auth_codes[u]}" if u >= 0 else "")
                + ")"
                if ins
                else f"nearest authority {auth_codes[a]} ({auth_kinds[a]})"
            )
            agency = agencies[layers.agency_table[a, k]]
            rule = (
                f"rule {c}@{auth_codes[a]} -> {agency}"
                if r
                else f"no rule for {c!s}@{auth_codes[a]}: default agency {agency}"
            )
            texts.append(f"{where}; {rule}")
        reason_l[routed_rows] = np.asarray(texts, dtype=object)[group]

        out_rows = np.flatnonzero(outside)
        if len(out_rows):
            reason_l[out_rows] = (
                pd.Series(reason_l[out_rows])
                + "; outside every authority, "
                + _fmt_m(d_own[out_rows])
                + f" from its edge (tolerance {cfg.outside_tolerance_m:g} m)"
            ).to_numpy(dtype=object)
        nb = np.flatnonzero(near_boundary)
        if len(nb):
            oa = other_auth[nb]
            other_agency = agencies[layers.agency_table[oa, cat_l[nb]]]
            reason_l[nb] = (
                pd.Series(reason_l[nb])
                + "; near the boundary between "
                + pd.Series(agencies[agency_idx[nb]])
                + " and "
                + pd.Series(other_agency)
                + " ("
                + pd.Series(auth_codes[oa])
                + " at "
                + _fmt_m(d_other[nb])
                + f", band {band:g} m)"
            ).to_numpy(dtype=object)
        far = np.flatnonzero(~routable)
        if len(far):
            reason_l[far] = (
                "unroutable: outside every authority and more than "
                + f"{cfg.outside_tolerance_m:g} m from the nearest"
            )
    reason[live] = reason_l

    status = np.where(confidence >= cfg.min_confidence, STATUS_ROUTED, STATUS_TRIAGE).astype(object)
    status[agency_code == None] = STATUS_UNROUTABLE  # noqa: E711 (element-wise on object array)

    # --- nearest named place --------------------------------------------------------------
    place_en = np.full(n, None, dtype=object)
    place_ar = np.full(n, None, dtype=object)
    if len(lp) and len(layers.place_en):
        dist, p_idx = layers.place_tree.query(
            lp_xy, k=1, distance_upper_bound=cfg.place_max_distance_m
        )
        p_idx = np.where(np.isfinite(dist), p_idx, -1)
        has = p_idx >= 0
        place_en[live[has]] = layers.place_en[p_idx[has]]
        place_ar[live[has]] = layers.place_ar[p_idx[has]]

    return pd.DataFrame(
        {
            "governorate_code": pd.Series(gov_code, index=reports.index, dtype=object),
            "authority_code": pd.Series(authority_code, index=reports.index, dtype=object),
            "agency_code": pd.Series(agency_code, index=reports.index, dtype=object),
            "routing_confidence": pd.Series(confidence, index=reports.index, dtype=float),
            "routing_reason": pd.Series(reason, index=reports.index, dtype=object),
            "routing_status": pd.Series(status, index=reports.index, dtype=object),
            "place_en": pd.Series(place_en, index=reports.index, dtype=object),
            "place_ar": pd.Series(place_ar, index=reports.index, dtype=object),
        },
        index=reports.index,
    )
