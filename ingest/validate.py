"""Validation of canonical frames: every row accepted (possibly repaired and flagged) or
rejected with one reason code. Vectorised: per-row Python only on the few unique values.

Reason codes (first failing check wins, in this order):

==========================  ===========================================================
``malformed_row``           the reader could not split the row into fields
``missing_field``           a required field (id, time, latitude, longitude, category)
                            is absent or blank
``bad_coordinates``         latitude/longitude not numbers, NaN/infinite or out of range
``bad_timestamp``           unparseable, more than a day in the future, or before the
                            service started (2014-04-01, Bahrain time)
``unknown_category``        not a code, English or Arabic name or known synonym
``outside_region``          not within the deployment region (governorates + coastal
                            tolerance), even with latitude and longitude swapped
``duplicate_in_batch``      the same source id was already accepted in this batch
==========================  ===========================================================

Repairs (the row is accepted and flagged): ``swapped_coordinates``, ``non_latin_digits``
(Arabic-Indic or Persian digits, Arabic decimal separator), ``naive_timestamp`` (no offset:
taken as Asia/Bahrain). Flag only: ``suspect_location`` (at least ``suspect_min_reporters``
different reporters at the identical coordinate; judged here within a chunk, by
``ingest.pipeline`` over the whole batch and against the reports already loaded).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

from spatial.categories import categories
from spatial.crs import METRIC_EPSG, STORAGE_EPSG, check_crs

REASONS = (
    "malformed_row",
    "missing_field",
    "bad_coordinates",
    "bad_timestamp",
    "unknown_category",
    "outside_region",
    "duplicate_in_batch",
)
FLAGS = ("swapped_coordinates", "non_latin_digits", "naive_timestamp", "suspect_location")
STATUSES = ("open", "in_progress", "closed")
Rows = npt.NDArray[np.intp]
"""Row positions in a frame."""
CHANNELS = ("ios", "android", "web", "call_centre", "open311", "other")


@dataclass(frozen=True)
class ValidationConfig:
    """Validation settings (units in names)."""

    service_start: date = date(2014, 4, 1)
    """Reports before this day (Bahrain time) are ``bad_timestamp``."""
    future_tolerance_days: float = 1.0
    """Reports more than this far in the future are ``bad_timestamp``."""
    local_timezone: str = "Asia/Bahrain"
    """Zone of timestamps given without an offset."""
    suspect_min_reporters: int = 5
    """Different reporters at one identical coordinate that make it ``suspect_location``."""
    required_fields: tuple[str, ...] = ("source_id", "reported_at", "lat", "lng", "category_raw")


@dataclass(frozen=True)
class ValidationResult:
    """Accepted rows (typed, with ``flag_*`` columns) and rejected rows (reason, detail)."""

    accepted: pd.DataFrame
    rejects: pd.DataFrame
    seen_ids: set[str] = field(default_factory=set)


# --- category, status and channel vocabularies -------------------------------------------

CATEGORY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "pothole": (
        "pot hole",
        "pot-hole",
        "potholes",
        "hole in road",
        "road hole",
        "حفرة",
        "حفر",
        "حفرة في الشارع",
    ),
    "damaged_road": (
        "road damage",
        "damaged road",
        "road surface",
        "cracked road",
        "broken road",
        "asphalt",
        "تلف الطريق",
        "طريق متضرر",
        "تشقق الطريق",
        "اسفلت",
    ),
    "sidewalk": (
        "pavement",
        "footpath",
        "damaged pavement",
        "broken sidewalk",
        "kerb",
        "curb",
        "رصيف",
        "الرصيف",
    ),
    "street_light": (
        "street lamp",
        "streetlight",
        "street lights",
        "lamp post",
        "light out",
        "lighting",
        "إنارة",
        "انارة الشارع",
        "عمود إنارة",
        "اضاءة",
    ),
    "traffic_signal": (
        "traffic light",
        "traffic lights",
        "traffic signals",
        "signal",
        "إشارة مرور",
        "إشارة المرور",
        "إشارة ضوئية",
    ),
    "road_sign": (
        "sign",
        "road signs",
        "street sign",
        "signage",
        "missing sign",
        "لافتة",
        "لوحة إرشادية",
    ),
    "flooding": (
        "flood",
        "flooded road",
        "rainwater",
        "standing water",
        "water pooling",
        "مياه الأمطار",
        "تجمع مياه",
        "فيضان",
    ),
    "sewage": (
        "sewer",
        "sewage overflow",
        "drainage",
        "manhole overflow",
        "مجاري",
        "صرف صحي",
        "طفح المجاري",
    ),
    "debris": ("obstruction", "rubble", "road debris", "obstacle", "مخلفات", "عوائق", "أنقاض"),
    "abandoned_vehicle": (
        "abandoned car",
        "abandoned vehicles",
        "derelict car",
        "abandoned cars",
        "سيارة مهجورة",
        "مركبة مهجورة",
    ),
}
"""Common names seen in exports, mapped to the ten codes (matched after normalisation)."""

STATUS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "open": ("open", "new", "submitted", "received", "pending", "reopened", "مفتوح", "جديد"),
    "in_progress": (
        "in_progress",
        "in progress",
        "assigned",
        "acknowledged",
        "accepted",
        "قيد التنفيذ",
        "قيد المعالجة",
    ),
    "closed": (
        "closed",
        "resolved",
        "fixed",
        "done",
        "completed",
        "rejected",
        "مغلق",
        "تم الإصلاح",
        "تم الحل",
    ),
}
CHANNEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "ios": ("ios", "iphone", "apple"),
    "android": ("android",),
    "web": ("web", "website", "portal"),
    "call_centre": ("call_centre", "call centre", "call center", "call_center", "phone", "hotline"),
    "open311": ("open311",),
}

_AR_DIACRITICS = re.compile("[\u064b-\u0652\u0640\u200c-\u200f]")
_SEPARATORS = re.compile(r"[\s_\-/]+")
_AR_LETTERS = str.maketrans("أإآىة", "ااايه")


def normalise_label(text: str) -> str:
    """Normalise a category/status label for matching: case, spacing, Arabic letter forms.

    Examples
    --------
    >>> normalise_label("  Street_LIGHT ")
    'street light'
    >>> normalise_label("إنارة") == normalise_label("انارة")
    True
    """
    t = unicodedata.normalize("NFKC", text).strip().lower()
    t = _AR_DIACRITICS.sub("", t)
    t = t.translate(_AR_LETTERS)
    return _SEPARATORS.sub(" ", t).strip()


@cache
def category_lookup() -> dict[str, str]:
    """Normalised label -> category code: codes, English and Arabic names, synonyms."""
    out: dict[str, str] = {}
    for c in categories():
        for label in (c.code, c.name_en, c.name_ar, *CATEGORY_SYNONYMS.get(c.code, ())):
            out[normalise_label(label)] = c.code
    return out


@cache
def _status_lookup() -> dict[str, str]:
    return {normalise_label(s): code for code, syn in STATUS_SYNONYMS.items() for s in syn}


@cache
def _channel_lookup() -> dict[str, str]:
    return {normalise_label(s): code for code, syn in CHANNEL_SYNONYMS.items() for s in syn}


def _map_labels(values: pd.Series, lookup: dict[str, str]) -> pd.Series:
    """Map labels through ``lookup`` after normalisation (per unique value, not per row)."""
    codes, uniques = pd.factorize(values)
    mapped = np.full(len(uniques) + 1, None, dtype=object)
    mapped[:-1] = [lookup.get(normalise_label(str(u))) for u in uniques]
    # missing labels have code -1, which picks the None left at the end
    return pd.Series(mapped[codes], index=values.index, name=values.name, dtype="str")


def normalise_categories(values: pd.Series) -> pd.Series:
    """Category code for each label (``<NA>`` when unknown), index-aligned.

    Examples
    --------
    >>> normalise_categories(pd.Series(["pot hole", "حفرة", "Street lamp", "graffiti"])).tolist()
    ['pothole', 'pothole', 'street_light', nan]
    """
    return _map_labels(values, category_lookup())


def normalise_statuses(values: pd.Series) -> pd.Series:
    """``open``/``in_progress``/``closed`` for each status label; absent or unknown: ``open``."""
    return _map_labels(values, _status_lookup()).fillna("open")


def normalise_channels(values: pd.Series) -> pd.Series:
    """Channel code for each label; unknown labels: ``other``; absent: ``<NA>``."""
    mapped = _map_labels(values, _channel_lookup())
    blank = values.isna() | (values.astype("str").str.strip() == "")
    return mapped.where(blank | mapped.notna(), "other").where(~blank)


# --- digits, numbers, timestamps ----------------------------------------------------------

_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬−",
    "0123456789" + "0123456789" + ".,-",
)
_NON_LATIN = "[٠-٩۰-۹٫−]"


def latin_digits(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Replace Arabic-Indic and Persian digits (and the Arabic decimal separator) by ASCII.

    Returns the converted text and a boolean mask of the rows that changed.

    Examples
    --------
    >>> text, changed = latin_digits(pd.Series(["٢٦٫٢١", "۵۰.۵", "26.1"]))
    >>> text.tolist(), changed.tolist()
    (['26.21', '50.5', '26.1'], [True, True, False])
    """
    s = values.astype("str")
    changed = s.str.contains(_NON_LATIN, regex=True).fillna(False).astype(bool)
    if changed.any():
        s = s.copy()
        s[changed] = s[changed].map(lambda v: v.translate(_DIGITS)).astype("str")
    return s, changed


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text or numeric columns; returns (float values, non-Latin-digit mask)."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64"), pd.Series(False, index=values.index)
    text, changed = latin_digits(values)
    return pd.to_numeric(text.str.strip(), errors="coerce").astype("float64"), changed


_HAS_OFFSET = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:$|[T ]\d{2}:\d{2})"


def parse_timestamps(
    values: pd.Series, local_timezone: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse ISO 8601 text to UTC timestamps.

    Returns (timestamps with ``NaT`` where unparseable, naive mask, non-Latin-digit mask).
    Timestamps without an offset are taken in ``local_timezone``.

    Examples
    --------
    >>> ts, naive, _ = parse_timestamps(pd.Series(["2026-03-14T08:21:05+03:00",
    ...                                          "2026-03-14T08:21:05", "soon"]), "Asia/Bahrain")
    >>> [str(t) for t in ts], naive.tolist()
    (['2026-03-14 05:21:05+00:00', '2026-03-14 05:21:05+00:00', 'NaT'], [False, True, False])
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        ts = values.dt.tz_convert("UTC").dt.as_unit("us")
        false = pd.Series(False, index=values.index)
        return ts, false, false.copy()
    text, changed = latin_digits(values)
    text = text.str.strip()
    iso_like = text.str.contains(_ISO_DATE, regex=True).fillna(False).astype(bool)
    text = text.where(iso_like)
    has_off = text.str.contains(_HAS_OFFSET, regex=True).fillna(False).astype(bool)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    if has_off.any():
        parsed = pd.to_datetime(text[has_off], format="ISO8601", utc=True, errors="coerce")
        out[has_off] = parsed.dt.as_unit("us")
    naive = ~has_off & text.notna() & (text != "")
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        if isinstance(local.dtype, pd.DatetimeTZDtype):  # pragma: no cover - guarded by regex
            local = local.dt.tz_convert("UTC")
        else:
            local = local.dt.tz_localize(
                local_timezone, ambiguous="NaT", nonexistent="NaT"
            ).dt.tz_convert("UTC")
        out[naive] = local.dt.as_unit("us")
    naive = naive & out.notna()
    return out, naive, changed


# --- region -------------------------------------------------------------------------------


def deployment_region(
    governorates: gpd.GeoDataFrame | gpd.GeoSeries, coastal_tolerance_m: float
) -> BaseGeometry:
    """The governorates' union buffered by ``coastal_tolerance_m`` metres (EPSG:4326, prepared).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoSeries([box(50.5, 26.0, 50.6, 26.1)], crs=4326)
    >>> r = deployment_region(g, 1000)
    >>> r.contains(shapely.Point(50.605, 26.05)), r.contains(shapely.Point(50.62, 26.05))
    (True, False)
    """
    check_crs(governorates, STORAGE_EPSG, "deployment_region")
    geoms = governorates.geometry if isinstance(governorates, gpd.GeoDataFrame) else governorates
    metric = geoms.to_crs(METRIC_EPSG).make_valid()
    union = shapely.union_all(metric.to_numpy())
    if coastal_tolerance_m > 0:
        union = shapely.buffer(union, coastal_tolerance_m, quad_segs=4)
    region = gpd.GeoSeries([union], crs=METRIC_EPSG).to_crs(STORAGE_EPSG).iloc[0]
    shapely.prepare(region)
    return region


# --- suspect locations --------------------------------------------------------------------


def suspect_location_mask(
    lat: pd.Series, lng: pd.Series, reporter: pd.Series, min_reporters: int
) -> pd.Series:
    """True where at least ``min_reporters`` different reporters share the identical coordinate.

    Missing reporters count as one distinct (unknown) reporter.

    Examples
    --------
    >>> lat = pd.Series([26.2, 26.2, 26.2, 26.3]); lng = pd.Series([50.5, 50.5, 50.5, 50.5])
    >>> suspect_location_mask(lat, lng, pd.Series(["a", "b", "c", "a"]), 3).tolist()
    [True, True, True, False]
    """
    if len(lat) == 0:
        return pd.Series(False, index=lat.index, dtype=bool)
    key = pd.DataFrame(
        {"lat": lat.to_numpy(), "lng": lng.to_numpy(), "r": reporter.fillna("").to_numpy()}
    )
    counts = key.groupby(["lat", "lng"], sort=False)["r"].transform("nunique")
    return pd.Series(counts.to_numpy() >= min_reporters, index=lat.index)


# --- the validation -----------------------------------------------------------------------


def validate(
    frame: pd.DataFrame,
    region: BaseGeometry,
    config: ValidationConfig = ValidationConfig(),
    *,
    now: pd.Timestamp | None = None,
    seen_ids: set[str] | None = None,
) -> ValidationResult:
    """Split a canonical frame into accepted (typed, repaired, flagged) and rejected rows.

    Parameters
    ----------
    frame
        A canonical frame (:data:`ingest.readers.CANONICAL_COLUMNS`).
    region
        The deployment region in EPSG:4326 (see :func:`deployment_region`).
    config
        Thresholds.
    now
        The current time (UTC) for the future check; defaults to the wall clock.
    seen_ids
        Source ids accepted by earlier chunks of the same batch (updated in place), so
        ``duplicate_in_batch`` works across chunks.

    Returns
    -------
    ValidationResult
        ``accepted``: ``row_number, source_id, reported_at`` (UTC), ``lat, lng`` (float),
        ``category`` (code), ``description, reporter_id, channel, photo_url, status``,
        ``reporter_key`` (the normalised reporter id, see
        :func:`ingest.privacy.normalise_reporter_ids`) and ``flag_<name>`` booleans; ``rejects``: ``row_number, source_id, reason,
        detail`` (no personal data). The raw rows stay in ``frame`` (linked by row number).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from ingest.readers import _canonical
    >>> f = _canonical({"source_id": pd.Series(["1", "2"], dtype="str"),
    ...     "reported_at": pd.Series(["2026-03-14T08:21:05+03:00"] * 2, dtype="str"),
    ...     "lat": pd.Series(["26.2", "x"], dtype="str"), "lng": pd.Series(["50.5", "50.5"], dtype="str"),
    ...     "category_raw": pd.Series(["pothole"] * 2, dtype="str")}, 2, 1)
    >>> r = validate(f, box(50, 26, 51, 27), now=pd.Timestamp("2026-12-01", tz="UTC"))
    >>> r.accepted["source_id"].tolist(), r.rejects["reason"].tolist()
    (['1'], ['bad_coordinates'])
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now).tz_convert("UTC")
    seen = set() if seen_ids is None else seen_ids
    idx = frame.index
    n = len(frame)
    # one reason and detail per row; ``pending`` marks the rows no check has rejected yet
    pending = np.ones(n, dtype=bool)
    reason = np.full(n, None, dtype=object)
    detail = np.full(n, None, dtype=object)

    def reject(mask: ArrayLike, code: str, why: str | Callable[[Rows], ArrayLike]) -> None:
        """Reject the rows of ``mask`` that no earlier check rejected. ``why`` is the detail,
        or builds the details of the row positions it is given (only the rows rejected here)."""
        rows = np.flatnonzero(pending & np.asarray(mask, dtype=bool))
        if len(rows):
            pending[rows] = False
            reason[rows] = code
            detail[rows] = why if isinstance(why, str) else why(rows)

    # 0. rows the reader could not split
    read_error = frame["read_error"]
    reject(read_error.notna(), "malformed_row", lambda rows: read_error.iloc[rows].to_numpy())

    # 1. required fields (the detail names every missing one, in order)
    labels = [_FIELD_NAMES.get(col, col) for col in config.required_fields]
    blank = np.zeros((n, len(labels)), dtype=bool)
    for j, col in enumerate(config.required_fields):
        v = frame[col]
        is_blank = v.isna()
        if not pd.api.types.is_numeric_dtype(v.dtype):
            is_blank = is_blank | (v.astype("str").str.strip() == "")
        blank[:, j] = is_blank.fillna(True).astype(bool).to_numpy()

    def missing_fields(rows: Rows) -> list[str]:
        return [
            "missing " + ",".join(name for name, b in zip(labels, blank[r], strict=True) if b)
            for r in rows
        ]

    reject(blank.any(axis=1), "missing_field", missing_fields)

    # 2. coordinates
    lat, lat_nl = parse_numbers(frame["lat"])
    lng, lng_nl = parse_numbers(frame["lng"])
    not_num = lat.isna() | lng.isna() | ~np.isfinite(lat.fillna(0)) | ~np.isfinite(lng.fillna(0))
    reject(not_num, "bad_coordinates", "latitude/longitude not a finite number")
    out_of_range = (lat.abs() > 90) | (lng.abs() > 180)
    reject(out_of_range.fillna(False), "bad_coordinates", "latitude/longitude out of range")

    # 3. timestamps
    ts, naive, ts_nl = parse_timestamps(frame["reported_at"], config.local_timezone)
    reject(ts.isna(), "bad_timestamp", "not an ISO 8601 timestamp")
    start = pd.Timestamp(config.service_start).tz_localize(config.local_timezone).tz_convert("UTC")
    reject(
        (ts < start).fillna(False),
        "bad_timestamp",
        f"before the service started ({config.service_start.isoformat()})",
    )
    limit = now + pd.Timedelta(days=config.future_tolerance_days)
    reject(
        (ts > limit).fillna(False),
        "bad_timestamp",
        f"more than {config.future_tolerance_days:g} day(s) in the future",
    )

    # 4. category
    code = normalise_categories(frame["category_raw"])

    def unknown_category(rows: Rows) -> ArrayLike:
        text = frame["category_raw"].iloc[rows].astype("str").str.slice(0, 40)
        return ("unknown category " + text.fillna("").map(repr).astype("str")).to_numpy()

    reject(code.isna(), "unknown_category", unknown_category)

    # 5. region, with the swap repair
    rows = np.flatnonzero(pending)
    swapped_at = np.zeros(n, dtype=bool)
    if len(rows):
        x = lng.to_numpy()[rows]
        y = lat.to_numpy()[rows]
        inside = shapely.contains_xy(region, x, y)
        inside_sw = ~inside & (np.abs(x) <= 90) & shapely.contains_xy(region, y, x)
        swapped_at[rows[inside_sw]] = True
        outside = np.zeros(n, dtype=bool)
        outside[rows[~inside & ~inside_sw]] = True
        reject(outside, "outside_region", "outside the deployment region")
    swapped = pd.Series(swapped_at, index=idx)
    lat, lng = lat.where(~swapped, lng), lng.where(~swapped, lat)

    # 6. duplicates within the batch (also across earlier chunks)
    ok = pending.copy()
    sid = frame["source_id"].astype("str").str.strip()
    sid_list = sid.tolist()
    # membership per row against a Python set: O(chunk), not O(ids seen so far)
    in_seen = np.fromiter((v in seen for v in sid_list), dtype=bool, count=n)
    dup = ok & (sid.duplicated(keep=False).to_numpy() | in_seen)
    if dup.any():
        first = ok & ~in_seen & ~sid.where(ok).duplicated(keep="first").to_numpy()
        reject(dup & ~first, "duplicate_in_batch", "source id already seen in this batch")
    ok = pending.copy()
    seen.update(itertools.compress(sid_list, ok))

    acc = pd.DataFrame(
        {
            "row_number": frame["row_number"],
            "source_id": sid,
            "reported_at": ts,
            "lat": lat,
            "lng": lng,
            "category": code,
            "description": frame["description"],
            "reporter_id": frame["reporter_id"],
            "channel": normalise_channels(frame["channel"]),
            "photo_url": frame["photo_url"].where(
                frame["photo_url"].astype("str").str.strip() != ""
            ),
            "status": normalise_statuses(frame["status"]),
            "flag_swapped_coordinates": swapped,
            "flag_non_latin_digits": lat_nl | lng_nl | ts_nl,
            "flag_naive_timestamp": naive,
        }
    )[ok]
    acc["reporter_key"] = _reporter_key(acc["reporter_id"])
    acc["flag_suspect_location"] = suspect_location_mask(
        acc["lat"], acc["lng"], acc["reporter_key"], config.suspect_min_reporters
    )
    bad = ~ok
    rej = pd.DataFrame(
        {
            "row_number": frame["row_number"][bad],
            "source_id": frame["source_id"][bad],
            "reason": pd.Series(reason[bad], index=idx[bad], dtype="str"),
            "detail": pd.Series(detail[bad], index=idx[bad], dtype="str"),
        }
    )
    return ValidationResult(
        accepted=acc.reset_index(drop=True), rejects=rej.reset_index(drop=True), seen_ids=seen
    )


_FIELD_NAMES = {
    "source_id": "id",
    "reported_at": "time",
    "lat": "latitude",
    "lng": "longitude",
    "category_raw": "category",
}


def _reporter_key(reporter: pd.Series) -> pd.Series:
    from ingest.privacy import normalise_reporter_ids

    return normalise_reporter_ids(reporter)


def flags_column(accepted: pd.DataFrame) -> pd.Series:
    """The ``flag_*`` booleans as a PostgreSQL ``text[]`` literal per row (vectorised).

    Examples
    --------
    >>> df = pd.DataFrame({"flag_swapped_coordinates": [True, False],
    ...                    "flag_naive_timestamp": [True, False]})
    >>> flags_column(df).tolist()
    ['{swapped_coordinates,naive_timestamp}', '{}']
    """
    # each row's flags as bits of one integer, then one literal per combination (16 at most)
    bits = np.zeros(len(accepted), dtype=np.int64)
    for bit, name in enumerate(FLAGS):
        col = f"flag_{name}"
        if col in accepted:
            bits |= accepted[col].fillna(False).astype(bool).to_numpy().astype(np.int64) << bit
    literals = np.array(
        [
            "{" + ",".join(name for bit, name in enumerate(FLAGS) if combo >> bit & 1) + "}"
            for combo in range(1 << len(FLAGS))
        ],
        dtype=object,
    )
    return pd.Series(literals[bits], index=accepted.index, dtype="str")
