"""The analysts' read API: GeoDataFrames from the analyst views, with typed filters.

``read_reports`` (``report_view``), ``read_incidents`` (``incident_view``), ``read_hotspots``
(``hotspot_cells``) and ``read_boundaries`` (current governorates or road authorities) each
return a GeoDataFrame with its geometry column ``geom`` set, in EPSG:4326, with a fixed column
list and fixed dtypes (also when empty), timestamps in UTC.

Filters (:class:`Filters`) are validated before any query and always reach the database as
bound parameters, never as SQL text; the bounding box uses the GiST indexes
(``geom && ST_MakeEnvelope(..., 4326)``).

No personal data, ever: the views hold none (no description, no reporter pseudonym, no raw
row), the column lists below are explicit, and :func:`check_no_personal_data` refuses a frame
that would carry one.

Examples
--------
>>> Filters(categories=("pothole",), bbox=(50.5, 26.1, 50.7, 26.3)).categories
('pothole',)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from pandas.api.types import pandas_dtype
from sqlalchemy.engine import Connection

from spatial.categories import category_codes
from spatial.crs import STORAGE_EPSG
from spatial.errors import Fix2GoError

STATUSES = ("open", "in_progress", "closed")
"""Report and incident statuses (schema CHECK constraints)."""

BOUNDARY_LAYERS = ("governorates", "road_authorities")
"""Boundary layers :func:`read_boundaries` reads (current versions only)."""

PERSONAL_COLUMNS = frozenset(
    {"description", "reporter_pseudonym", "reporter_id", "raw", "photo_url", "content_hash"}
)
"""Columns that must never appear in a frame the read API returns."""

GEOM_COL = "geom"

H3_MAX_RESOLUTION = 15

BBox = tuple[float, float, float, float]
BoundaryLayer = Literal["governorates", "road_authorities"]


class ReadFilterError(Fix2GoError, ValueError):
    """A read filter is invalid (unknown code, naive timestamp, empty period, bad box)."""


class PersonalDataError(Fix2GoError, RuntimeError):
    """A frame about to leave the read API carries a personal-data column."""


# Column lists and dtypes: one place, so that every frame (even an empty one) has the same
# shape and the exports round-trip the same types.
_UTC = "datetime64[us, UTC]"

REPORT_COLUMNS: Mapping[str, str] = {
    "report_id": "int64",
    "source": "str",
    "source_id": "str",
    "category": "str",
    "reported_at": _UTC,
    "status": "str",
    "governorate_code": "str",
    "authority_code": "str",
    "agency_code": "str",
    "routing_confidence": "float64",
    "routing_reason": "str",
    "incident_id": "Int64",
    "h3_cell": "Int64",
    "place_en": "str",
    "place_ar": "str",
}
"""``report_view`` columns (without ``geom``) and their dtypes."""

INCIDENT_COLUMNS: Mapping[str, str] = {
    "incident_id": "int64",
    "category": "str",
    "status": "str",
    "n_reports": "int64",
    "first_reported_at": _UTC,
    "last_reported_at": _UTC,
    "agency_code": "str",
    "governorate_code": "str",
}
"""``incident_view`` columns (without ``geom``) and their dtypes."""

HOTSPOT_COLUMNS: Mapping[str, str] = {
    "resolution": "int64",
    "h3_cell": "int64",
    "category_group": "str",
    "period": "str",
    "n_incidents": "int64",
    "gi_z": "float64",
    "p_value": "float64",
    "p_sim": "float64",
    "hot_class": "int64",
    "confidence": "Int64",
    "trend": "str",
    "computed_at": _UTC,
}
"""``hotspot_cells`` columns (without ``geom``) and their dtypes."""

BOUNDARY_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "governorates": {
        "code": "str",
        "name_en": "str",
        "name_ar": "str",
        "boundary_version": "str",
        "loaded_at": _UTC,
    },
    "road_authorities": {
        "code": "str",
        "name_en": "str",
        "name_ar": "str",
        "kind": "str",
        "precedence": "int64",
        "default_agency": "str",
        "boundary_version": "str",
        "loaded_at": _UTC,
    },
}
"""Columns (without ``geom``) and dtypes of the current boundary layers."""


# Filters --------------------------------------------------------------------------------------


def _codes(value: str | Iterable[str], name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    out = tuple(value)
    bad = [v for v in out if not isinstance(v, str)]
    if bad:
        raise ReadFilterError(f"{name} must be codes (strings), got {bad!r}; pass e.g. ('a', 'b')")
    return out


def _instant(value: object, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise ReadFilterError(
            f"{name} must be a timezone-aware datetime, got {type(value).__name__} {value!r}; "
            "pass e.g. datetime(2026, 1, 1, tzinfo=timezone.utc)"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ReadFilterError(
            f"{name} {value.isoformat()!r} has no time zone; "
            "add one, e.g. .replace(tzinfo=timezone.utc) or pd.Timestamp(..., tz='Asia/Bahrain')"
        )
    return value


def _check_unknown(values: Sequence[str], valid: Iterable[str], what: str) -> None:
    valid_set = sorted(set(valid))
    unknown = [v for v in values if v not in valid_set]
    if unknown:
        raise ReadFilterError(
            f"unknown {what} {', '.join(map(repr, unknown))}; use one of {', '.join(valid_set)}"
        )


@dataclass(frozen=True)
class Filters:
    """Typed filters of the read API; empty or ``None`` means "all".

    Attributes
    ----------
    start, end
        Period: timezone-aware datetimes, ``start`` inclusive, ``end`` exclusive. A report
        matches on ``reported_at``; an incident when its span
        ``[first_reported_at, last_reported_at]`` overlaps the period.
    categories
        Category codes (``spatial.categories.category_codes()``).
    governorates
        Governorate codes (ISO 3166-2, e.g. ``"BH-13"``).
    agencies
        Agency codes (the ``agencies`` table).
    statuses
        ``open``, ``in_progress``, ``closed``.
    bbox
        ``(minx, miny, maxx, maxy)`` in lon/lat (EPSG:4326); rows whose geometry's bounding
        box intersects it (for points: inside it, edges included).

    Codes are checked on construction (categories, statuses) or against the database
    (governorates, agencies) before the query runs; a bad value raises
    :class:`ReadFilterError` naming the valid ones.

    Examples
    --------
    >>> Filters(statuses="open").statuses
    ('open',)
    >>> Filters(categories=("potholes",))
    Traceback (most recent call last):
    ...
    spatial.postgis.read.ReadFilterError: unknown category 'potholes'; use one of abandoned_vehicle, damaged_road, debris, flooding, pothole, road_sign, sewage, sidewalk, street_light, traffic_signal
    """

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    categories: tuple[str, ...] = ()
    governorates: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    bbox: BBox | None = None

    def __post_init__(self) -> None:
        start = _instant(self.start, "start")
        end = _instant(self.end, "end")
        if start is not None and end is not None and not start < end:
            raise ReadFilterError(
                f"empty period: start {start.isoformat()} is not before end {end.isoformat()}; "
                "end is exclusive, pass an end after the start"
            )
        for name in ("categories", "governorates", "agencies", "statuses"):
            object.__setattr__(self, name, _codes(getattr(self, name), name))
        _check_unknown(self.categories, category_codes(), "category")
        _check_unknown(self.statuses, STATUSES, "status")
        if self.bbox is not None:
            object.__setattr__(self, "bbox", _check_bbox(self.bbox))


def _check_bbox(bbox: Sequence[float]) -> BBox:
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise ReadFilterError(
            f"bbox must be four numbers (minx, miny, maxx, maxy) in lon/lat, got {bbox!r}; "
            "e.g. (50.45, 25.8, 50.85, 26.35)"
        ) from exc
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise ReadFilterError(f"bbox has a non-finite value {bbox!r}; pass finite lon/lat")
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ReadFilterError(
            f"bbox {bbox!r} is not (minx, miny, maxx, maxy) in lon/lat with min <= max; "
            "lon in [-180, 180], lat in [-90, 90], e.g. (50.45, 25.8, 50.85, 26.35)"
        )
    return (minx, miny, maxx, maxy)


# Query building --------------------------------------------------------------------------------


class _Where:
    """SQL conditions over fixed column names, with every value bound as a parameter."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, condition: str, **params: Any) -> None:
        self.parts.append(condition)
        self.params.update(params)

    def any_of(self, column: str, name: str, values: Sequence[str]) -> None:
        if values:
            self.add(f"{column} = ANY(:{name})", **{name: list(values)})

    def bbox(self, f: Filters) -> None:
        if f.bbox is not None:
            minx, miny, maxx, maxy = f.bbox
            self.add(
                f"{GEOM_COL} && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, {STORAGE_EPSG})",
                minx=minx,
                miny=miny,
                maxx=maxx,
                maxy=maxy,
            )

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "true"


def _refuse(f: Filters, where: str, fields: Sequence[str], hint: str) -> None:
    """Refuse filters that make no sense for a layer, rather than silently ignoring them."""
    for name in fields:
        if getattr(f, name) not in (None, ()):
            raise ReadFilterError(f"{where} cannot filter by {name}; {hint}")


def _check_codes(conn: Connection, f: Filters) -> None:
    """Check governorate and agency codes against the database."""
    if f.governorates:
        known = conn.execute(sa.text("SELECT DISTINCT code FROM governorates")).scalars()
        _check_unknown(f.governorates, known, "governorate")
    if f.agencies:
        known = conn.execute(sa.text("SELECT code FROM agencies")).scalars()
        _check_unknown(f.agencies, known, "agency")


def _column(values: Sequence[Any], dtype: str) -> pd.Series:
    if dtype == _UTC:
        return pd.Series(pd.to_datetime(list(values), utc=True)).dt.as_unit("us")
    # built straight from the Python values: nullable int64 ids (H3 cells) stay exact, where
    # a plain frame constructor would go via float64
    return pd.Series(list(values), dtype=pandas_dtype(dtype))


def _frame(rows: Sequence[Sequence[Any]], columns: Mapping[str, str]) -> gpd.GeoDataFrame:
    """A typed GeoDataFrame from rows of (columns..., WKB geometry), also when empty."""
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(len(columns) + 1)]
    data = {
        name: _column(values, dtype)
        for (name, dtype), values in zip(columns.items(), cols, strict=False)
    }
    geoms = gpd.GeoSeries.from_wkb([bytes(b) if b is not None else None for b in cols[-1]])
    data[GEOM_COL] = geoms.set_crs(STORAGE_EPSG)
    return gpd.GeoDataFrame(data, geometry=GEOM_COL, crs=STORAGE_EPSG)


def _empty(columns: Mapping[str, str]) -> gpd.GeoDataFrame:
    return _frame([], columns)


def _read(
    conn: Connection, sql: str, params: dict[str, Any], columns: Mapping[str, str]
) -> gpd.GeoDataFrame:
    rows = conn.execute(sa.text(sql), params).fetchall()
    out = _frame(rows, columns)
    check_no_personal_data(out)
    return out


def _select(columns: Mapping[str, str], source: str, where: _Where, order: str) -> str:
    cols = ", ".join([*columns, f"ST_AsBinary({GEOM_COL}) AS {GEOM_COL}"])
    return f"SELECT {cols} FROM {source} WHERE {where.sql()} ORDER BY {order}"


def _limit(sql: str, where: _Where, limit: int | None) -> str:
    if limit is None:
        return sql
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ReadFilterError(f"limit must be a non-negative int or None, got {limit!r}")
    where.params["limit"] = limit
    return f"{sql} LIMIT :limit"


def check_no_personal_data(frame: pd.DataFrame) -> None:
    """Raise :class:`PersonalDataError` when ``frame`` has a personal-data column.

    Examples
    --------
    >>> check_no_personal_data(pd.DataFrame({"category": ["pothole"]}))
    >>> check_no_personal_data(pd.DataFrame({"description": ["call 3999 9999"]}))
    Traceback (most recent call last):
    ...
    spatial.postgis.read.PersonalDataError: frame has personal-data column(s) ['description']; select from the analyst views only
    """
    found = sorted(PERSONAL_COLUMNS.intersection(map(str, frame.columns)))
    if found:
        raise PersonalDataError(
            f"frame has personal-data column(s) {found!r}; select from the analyst views only"
        )


# The four readers ---------------------------------------------------------------------------


def read_reports(
    conn: Connection, filters: Filters | None = None, *, limit: int | None = None
) -> gpd.GeoDataFrame:
    """Reports from ``report_view`` matching ``filters``, ordered by ``report_id``.

    Parameters
    ----------
    conn
        A connection; the querying role's row-level security applies through the view.
    filters
        :class:`Filters`; the period applies to ``reported_at``.
    limit
        At most this many rows (``None``: all).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`REPORT_COLUMNS` and ``geom`` (Point, EPSG:4326).
    """
    f = filters or Filters()
    _check_codes(conn, f)
    w = _Where()
    if f.start is not None:
        w.add("reported_at >= :start", start=f.start)
    if f.end is not None:
        w.add("reported_at < :end", end=f.end)
    _code_and_area_filters(w, f)
    sql = _limit(_select(REPORT_COLUMNS, "report_view", w, "report_id"), w, limit)
    return _read(conn, sql, w.params, REPORT_COLUMNS)


def _code_and_area_filters(w: _Where, f: Filters) -> None:
    """The filters reports and incidents share: codes, status and bounding box."""
    w.any_of("category", "categories", f.categories)
    w.any_of("governorate_code", "governorates", f.governorates)
    w.any_of("agency_code", "agencies", f.agencies)
    w.any_of("status", "statuses", f.statuses)
    w.bbox(f)


def read_incidents(
    conn: Connection, filters: Filters | None = None, *, limit: int | None = None
) -> gpd.GeoDataFrame:
    """Incidents from ``incident_view`` matching ``filters``, ordered by ``incident_id``.

    The period matches incidents whose span ``[first_reported_at, last_reported_at]``
    overlaps ``[start, end)``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`INCIDENT_COLUMNS` and ``geom`` (Point, EPSG:4326).
    """
    f = filters or Filters()
    _check_codes(conn, f)
    w = _Where()
    if f.start is not None:
        w.add("last_reported_at >= :start", start=f.start)
    if f.end is not None:
        w.add("first_reported_at < :end", end=f.end)
    _code_and_area_filters(w, f)
    sql = _limit(_select(INCIDENT_COLUMNS, "incident_view", w, "incident_id"), w, limit)
    return _read(conn, sql, w.params, INCIDENT_COLUMNS)


def hotspots_available(conn: Connection) -> bool:
    """True when the ``hotspot_cells`` table exists (migration 004 applied)."""
    return conn.execute(sa.text("SELECT to_regclass('public.hotspot_cells')")).scalar() is not None


def read_hotspots(
    conn: Connection,
    filters: Filters | None = None,
    *,
    resolution: int | None = None,
    category_group: str | None = None,
    period: str | None = None,
    significant_only: bool = False,
) -> gpd.GeoDataFrame:
    """Gi* hotspot cells from ``hotspot_cells``, ordered by resolution, group, period, cell.

    Parameters
    ----------
    filters
        Only ``bbox`` and ``governorates`` apply (cells intersecting a current governorate
        of the list); hotspots are computed per category group and named period, so pass
        ``category_group`` and ``period`` instead of categories or dates.
    resolution
        H3 resolution (e.g. 8 or 9); ``None``: all computed ones.
    category_group, period
        A computed group (``all``, ``road_surface``...) and period (``all``,
        ``last_12_months``...); ``None``: all. Unknown names raise with the computed ones.
    significant_only
        Only hot or cold cells (``hot_class`` != 0).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`HOTSPOT_COLUMNS` and ``geom`` (Polygon, EPSG:4326); empty when the
        hotspot table does not exist yet.
    """
    f = filters or Filters()
    _refuse(
        f,
        "read_hotspots",
        ("start", "end", "categories", "agencies", "statuses"),
        "hotspots are per category_group and period: pass category_group=... and period=...",
    )
    if resolution is not None and (
        isinstance(resolution, bool)
        or not isinstance(resolution, int)
        or not 0 <= resolution <= H3_MAX_RESOLUTION
    ):
        raise ReadFilterError(f"resolution must be an H3 resolution 0..15, got {resolution!r}")
    _check_codes(conn, f)
    if not hotspots_available(conn):
        return _empty(HOTSPOT_COLUMNS)
    for name, value in (("category_group", category_group), ("period", period)):
        if value is not None:
            known = conn.execute(
                sa.text(f"SELECT DISTINCT {name} FROM hotspot_cells")  # fixed column name
            ).scalars()
            _check_unknown([value], known, name.replace("_", " "))
    w = _Where()
    if resolution is not None:
        w.add("resolution = :resolution", resolution=resolution)
    if category_group is not None:
        w.add("category_group = :category_group", category_group=category_group)
    if period is not None:
        w.add("period = :period", period=period)
    if significant_only:
        w.add("hot_class <> 0")
    if f.governorates:
        w.add(
            "EXISTS (SELECT 1 FROM governorates g WHERE g.is_current "
            "AND g.code = ANY(:governorates) AND ST_Intersects(g.geom, hotspot_cells.geom))",
            governorates=list(f.governorates),
        )
    w.bbox(f)
    sql = _select(
        HOTSPOT_COLUMNS, "hotspot_cells", w, "resolution, category_group, period, h3_cell"
    )
    return _read(conn, sql, w.params, HOTSPOT_COLUMNS)


def read_boundaries(
    conn: Connection, layer: BoundaryLayer, filters: Filters | None = None
) -> gpd.GeoDataFrame:
    """The current version of a boundary layer, ordered by code.

    Parameters
    ----------
    layer
        ``governorates`` or ``road_authorities``.
    filters
        ``bbox`` applies to both layers; ``governorates`` (codes) to the governorate layer;
        ``agencies`` to road authorities (by default agency).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of :data:`BOUNDARY_COLUMNS` ``[layer]`` and ``geom`` (MultiPolygon,
        EPSG:4326).
    """
    if layer not in BOUNDARY_LAYERS:
        raise ReadFilterError(
            f"unknown boundary layer {layer!r}; use one of {', '.join(BOUNDARY_LAYERS)}"
        )
    f = filters or Filters()
    hint = (
        "boundaries filter by bbox, governorates (governorate layer) or agencies (road authorities)"
    )
    _refuse(f, "read_boundaries", ("start", "end", "categories", "statuses"), hint)
    if layer == "governorates":
        _refuse(f, "read_boundaries('governorates')", ("agencies",), hint)
    else:
        _refuse(f, "read_boundaries('road_authorities')", ("governorates",), hint)
    _check_codes(conn, f)
    w = _Where()
    w.add("is_current")
    w.any_of("code", "governorates", f.governorates)
    w.any_of("default_agency", "agencies", f.agencies)
    w.bbox(f)
    columns = BOUNDARY_COLUMNS[layer]
    # ``layer`` is one of the two fixed table names checked above, never user text.
    sql = _select(columns, layer, w, "code")
    return _read(conn, sql, w.params, columns)
