"""Synthetic Fix2Go exports for Bahrain, with ground truth.

:func:`generate` builds a realistic export (the CSV columns of the contract) and, for every
row, the truth: which physical defect it describes, and the outcome ingest must reach for it
(``new``, ``rejected:<reason>``, ``repaired:<flag>`` or ``flagged:suspect_location``).

Realism: defects on land (inside the governorates), weighted towards populated places; a
road-complaint category mix; 1 to dozens of reports per defect (heavy-tailed); phone-GPS noise
of 5-30 m; reports of one defect spread over days; Arabic and English descriptions, some with
personal data in them; a few percent of bad rows of every kind. Hard cases for dedup: distinct
defects of one category 30-60 m apart, different categories at one spot, and the same spot
months apart (a recurrence after a closure). Same seed, same data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ingest.errors import GenerateError
from spatial.categories import categories, category_codes

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GOVERNORATES_FILE = DATA_DIR / "governorates" / "bahrain_governorates.geojson"
PLACES_FILE = DATA_DIR / "places" / "bahrain_places.geojson"

EXPORT_COLUMNS = (
    "report_id",
    "created_at",
    "latitude",
    "longitude",
    "category",
    "description",
    "reporter_id",
    "channel",
    "photo_url",
    "status",
)
"""Columns of the Fix2Go CSV export, in order."""

TRUTH_COLUMNS = (
    "row_number",
    "report_id",
    "defect_id",
    "expected_outcome",
    "category",
    "true_lat",
    "true_lng",
    "hotspot",
)

DEFAULT_START = date(2025, 10, 1)
"""First day of generated data when ``start`` is not given (fixed: same seed, same file)."""

BAHRAIN_UTC_OFFSET = timezone(timedelta(hours=3))

# Physical constants and realism parameters (units in names).
M_PER_DEG_LAT = 110_750.0
M_PER_DEG_LNG_EQUATOR = 111_320.0
PLACE_SCATTER_SD_M = 700.0
GPS_NOISE_MIN_M = 5.0
GPS_NOISE_MAX_M = 30.0
NEIGHBOUR_MIN_M = 30.0
NEIGHBOUR_MAX_M = 60.0
COLOCATED_MAX_M = 4.0
RECURRENCE_MAX_M = 3.0
RECURRENCE_GAP_MIN_DAYS = 60.0
RECURRENCE_GAP_MAX_DAYS = 150.0
HOTSPOT_RADIUS_M = 300.0
REPORT_GAP_MEAN_DAYS = 1.5
REPORTS_PER_DEFECT_PARETO_A = 1.4
REPORTS_PER_DEFECT_MAX = 60
SHARE_NEIGHBOUR = 0.08
SHARE_COLOCATED = 0.04
SHARE_RECURRENCE = 0.03
SHARE_PII = 0.06
SHARE_ARABIC = 0.55
SHARE_NO_DESCRIPTION = 0.05
SHARE_PHOTO = 0.8
SUSPECT_GROUP_MIN_ROWS = 6
"""A placeholder-geocode group needs at least this many rows (different reporters)."""

PLACEHOLDER_LAT_LNG = (26.2235, 50.5876)
"""A city-hall style default geocode (Manama) used by the suspect_location rows."""

CATEGORY_WEIGHTS = {
    "pothole": 0.30,
    "damaged_road": 0.12,
    "sidewalk": 0.08,
    "street_light": 0.15,
    "traffic_signal": 0.05,
    "road_sign": 0.06,
    "flooding": 0.07,
    "sewage": 0.06,
    "debris": 0.08,
    "abandoned_vehicle": 0.03,
}
CHANNEL_WEIGHTS = {"ios": 0.45, "android": 0.40, "web": 0.10, "call_centre": 0.05}

REJECT_KINDS = (
    "missing_field",
    "bad_coordinates",
    "outside_region",
    "unknown_category",
    "bad_timestamp",
    "duplicate_in_batch",
)
REPAIR_KINDS = ("swapped_coordinates", "non_latin_digits", "naive_timestamp")
BAD_KINDS = (*REJECT_KINDS, *REPAIR_KINDS, "suspect_location")

_DESCRIPTIONS_EN = {
    "pothole": [
        "Deep pothole in the right lane",
        "Pothole near the roundabout",
        "Big hole in the road, dangerous for cars",
        "Potholes after the rain",
    ],
    "damaged_road": [
        "Road surface cracked and broken",
        "Asphalt damaged near the junction",
        "Uneven road surface",
    ],
    "sidewalk": [
        "Broken pavement tiles on the sidewalk",
        "Sidewalk damaged, hard for wheelchairs",
        "Kerb stones missing",
    ],
    "street_light": [
        "Street light not working",
        "Lamp post out for a week",
        "Whole street dark at night",
    ],
    "traffic_signal": [
        "Traffic light stuck on red",
        "Signal not working at the junction",
        "Pedestrian signal broken",
    ],
    "road_sign": ["Stop sign missing", "Road sign knocked down", "Direction sign faded"],
    "flooding": [
        "Rainwater pooling across the road",
        "Flooded street after rain",
        "Water collecting at the underpass",
    ],
    "sewage": [
        "Sewage overflowing onto the street",
        "Bad smell, manhole overflowing",
        "Sewer water on the road",
    ],
    "debris": [
        "Construction debris left on the road",
        "Fallen palm branches blocking the lane",
        "Rubble in the street",
    ],
    "abandoned_vehicle": [
        "Abandoned car for months",
        "Old vehicle left without plates",
        "Abandoned truck on the side",
    ],
}
_DESCRIPTIONS_AR = {
    "pothole": [
        "حفرة عميقة في المسار الأيمن",
        "حفرة قرب الدوار",
        "حفرة كبيرة في الشارع وخطيرة على السيارات",
    ],
    "damaged_road": ["سطح الطريق متشقق", "الإسفلت تالف قرب التقاطع", "الطريق غير مستوٍ"],
    "sidewalk": ["بلاط الرصيف مكسور", "الرصيف متضرر ويصعب المشي عليه"],
    "street_light": ["إنارة الشارع لا تعمل", "عمود الإنارة معطل منذ أسبوع", "الشارع مظلم في الليل"],
    "traffic_signal": ["الإشارة الضوئية عالقة على الأحمر", "إشارة المرور معطلة عند التقاطع"],
    "road_sign": ["لافتة قف مفقودة", "لافتة الطريق ساقطة"],
    "flooding": ["تجمع مياه الأمطار في الشارع", "الشارع غارق بعد المطر"],
    "sewage": ["طفح مياه المجاري في الشارع", "فتحة الصرف تفيض ورائحة كريهة"],
    "debris": ["مخلفات بناء على الطريق", "سعف نخيل يسد المسار"],
    "abandoned_vehicle": ["سيارة مهجورة منذ أشهر", "مركبة قديمة بدون لوحات"],
}
_UNKNOWN_CATEGORIES = ("graffiti", "noise complaint", "stray animals", "ضوضاء", "قطط ضالة", "other")
_BAD_COORDINATES = (
    ("abc", "50.58"),
    ("26.2.1", "50.58"),
    ("NaN", "NaN"),
    ("95.1", "50.58"),
    ("26.21", "200.5"),
    ("-", "-"),
)
_OUTSIDE_REGION = (
    (25.2854, 51.5310),
    (26.4207, 50.0888),
    (26.9000, 50.9000),
    (0.0, 0.0),
    (24.4539, 54.3773),
)
_BAD_TIMESTAMPS = (
    "not a date",
    "32/13/2025 25:61",
    "2013-06-01T09:00:00+03:00",
    "2031-01-01T09:00:00+03:00",
    "yesterday",
)
_ARABIC_INDIC = str.maketrans("0123456789.", "٠١٢٣٤٥٦٧٨٩٫")
_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_FIRST = (
    "ahmed",
    "fatima",
    "mohammed",
    "maryam",
    "ali",
    "zainab",
    "hassan",
    "noor",
    "john",
    "priya",
)
_LAST = ("alkhalifa", "hasan", "abdulla", "salman", "mansoor", "smith", "kumar", "jaffar")
_DOMAINS = ("gmail.com", "hotmail.com", "batelco.com.bh", "outlook.com")


@dataclass(frozen=True)
class GeneratedData:
    """A synthetic export and its truth.

    Attributes
    ----------
    reports
        The export rows, all columns as strings, in :data:`EXPORT_COLUMNS` order (bad rows
        included, exactly as written to the file).
    truth
        One row per export row (same order): ``row_number`` (1-based, as ingest numbers
        rows), ``report_id``, ``defect_id`` (``None`` for rows that are not a usable report
        of a known defect), ``expected_outcome``, ``category`` (true code), ``true_lat``,
        ``true_lng`` (the defect's true position), ``hotspot`` (index of the planted hotspot
        or -1).
    """

    reports: pd.DataFrame
    truth: pd.DataFrame

    def write(self, out: str | Path, truth: str | Path | None = None) -> None:
        """Write the export (format by extension, see :func:`write_export`) and the truth CSV."""
        write_export(self.reports, out)
        if truth is not None:
            self.truth.to_csv(truth, index=False)


def write_export(reports: pd.DataFrame, path: str | Path) -> None:
    """Write export rows as a Fix2Go CSV (``.csv``), Open311 ``requests.json`` (``.json``),
    GeoJSON (``.geojson``) or GeoParquet (``.parquet``), chosen by the file extension.

    The non-CSV forms need numeric coordinates: rows whose coordinates do not parse get a
    null geometry (GeoJSON/GeoParquet) or null ``lat``/``long`` (Open311).
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".csv":
        reports.to_csv(path, index=False, encoding="utf-8")
        return
    lat_s = pd.to_numeric(reports["latitude"], errors="coerce")
    lng_s = pd.to_numeric(reports["longitude"], errors="coerce")
    lat = lat_s.to_numpy(dtype=float)
    lng = lng_s.to_numpy(dtype=float)
    if ext == ".json":
        recs = []
        for i, row in enumerate(reports.itertuples(index=False)):
            recs.append(
                {
                    "service_request_id": row.report_id,
                    "service_name": row.category,
                    "requested_datetime": row.created_at,
                    "lat": None if np.isnan(lat[i]) else float(lat[i]),
                    "long": None if np.isnan(lng[i]) else float(lng[i]),
                    "description": row.description,
                    "status": row.status,
                    "media_url": row.photo_url,
                    "account_id": row.reporter_id,
                }
            )
        path.write_text(json.dumps(recs, ensure_ascii=False), encoding="utf-8")
        return
    ok = ~np.isnan(lat) & ~np.isnan(lng)
    pts = shapely.points(np.nan_to_num(lng), np.nan_to_num(lat))
    geom = gpd.GeoSeries(
        np.where(ok, pts, None),
        index=reports.index,
        crs=4326,
    )
    props = reports.drop(columns=["latitude", "longitude"])
    gdf = gpd.GeoDataFrame(props, geometry=geom, crs=4326)
    if ext == ".geojson":
        path.write_text(gdf.to_json(drop_id=True, ensure_ascii=False), encoding="utf-8")
    elif ext == ".parquet":
        gdf.to_parquet(path, index=False)
    else:
        raise GenerateError(
            f"{path}: unknown export extension {ext!r}; "
            "use .csv, .json (Open311), .geojson or .parquet"
        )


@cache
def land() -> BaseGeometry:
    """The union of the governorates (prepared), i.e. Bahrain's land."""
    gdf = gpd.read_file(GOVERNORATES_FILE)
    geom = shapely.union_all(gdf.geometry.make_valid().to_numpy())
    shapely.prepare(geom)
    return geom


@cache
def _places() -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], tuple[str, ...]
]:
    gdf = gpd.read_file(PLACES_FILE)
    weights = np.where(gdf["placetype"] == "neighbourhood", 1.5, 1.0)
    return (
        gdf.geometry.y.to_numpy(),
        gdf.geometry.x.to_numpy(),
        weights / weights.sum(),
        tuple(str(n) for n in gdf["name_en"]),
    )


def _offset(
    lat: npt.NDArray[np.float64],
    lng: npt.NDArray[np.float64],
    dx_m: npt.ArrayLike,
    dy_m: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Move points by metres east (dx) and north (dy)."""
    new_lat = lat + np.asarray(dy_m) / M_PER_DEG_LAT
    new_lng = lng + np.asarray(dx_m) / (M_PER_DEG_LNG_EQUATOR * np.cos(np.radians(lat)))
    return new_lat, new_lng


def _polar(
    rng: np.random.Generator, n: int, r_min_m: float, r_max_m: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    r = rng.uniform(r_min_m, r_max_m, n)
    a = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(a), r * np.sin(a)


def _land_points(
    rng: np.random.Generator, n: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``n`` points on land, scattered around populated places."""
    plat, plng, pw, _ = _places()
    lat = np.empty(n)
    lng = np.empty(n)
    todo = np.arange(n)
    for _ in range(50):
        if todo.size == 0:
            break
        idx = rng.choice(plat.size, size=todo.size, p=pw)
        la, lo = _offset(
            plat[idx],
            plng[idx],
            rng.normal(0, PLACE_SCATTER_SD_M, todo.size),
            rng.normal(0, PLACE_SCATTER_SD_M, todo.size),
        )
        inside = shapely.contains_xy(land(), lo, la)
        lat[todo[inside]] = la[inside]
        lng[todo[inside]] = lo[inside]
        todo = todo[~inside]
    if todo.size:  # pragma: no cover - places lie on land, so this practically never runs
        lat[todo] = plat[0]
        lng[todo] = plng[0]
    return lat, lng


def _hotspot_points(
    rng: np.random.Generator, center: tuple[float, float], n: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    r = HOTSPOT_RADIUS_M * np.sqrt(rng.uniform(0, 1, n))
    a = rng.uniform(0, 2 * np.pi, n)
    return _offset(np.full(n, center[0]), np.full(n, center[1]), r * np.cos(a), r * np.sin(a))


def _reports_per_defect(rng: np.random.Generator, total: int) -> npt.NDArray[np.int64]:
    out: list[npt.NDArray[np.int64]] = []
    done = 0
    while done < total:
        k = np.minimum(
            np.floor(rng.pareto(REPORTS_PER_DEFECT_PARETO_A, 1024)).astype(np.int64) + 1,
            REPORTS_PER_DEFECT_MAX,
        )
        out.append(k)
        done += int(k.sum())
    ks = np.concatenate(out)
    cum = np.cumsum(ks)
    n_def = int(np.searchsorted(cum, total) + 1)
    ks = ks[:n_def].copy()
    ks[-1] -= int(cum[n_def - 1] - total)
    return ks[ks > 0]


def _phone_local(rng: np.random.Generator, n: int) -> list[str]:
    first = rng.choice(np.array(["3", "3", "3", "66", "17"]), n)
    out = []
    for f in first:
        rest = "".join(str(d) for d in rng.integers(0, 10, 8 - len(f)))
        out.append(f + rest)
    return out


def _reporter_pool(rng: np.random.Generator, n: int) -> tuple[list[str], npt.NDArray[np.float64]]:
    kinds = rng.choice(3, size=n, p=[0.5, 0.35, 0.15])
    phones = _phone_local(rng, n)
    pool = []
    for i in range(n):
        if kinds[i] == 0:
            pool.append(f"U{rng.integers(10_000_000, 99_999_999)}")
        elif kinds[i] == 1:
            pool.append(phones[i])
        else:
            name = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}{rng.integers(1, 999)}"
            pool.append(f"{name}@{rng.choice(_DOMAINS)}")
    w = 1.0 / np.arange(1, n + 1) ** 0.8
    return pool, w / w.sum()


def _display_reporter(rng: np.random.Generator, ident: str) -> str:
    """A reporter id as an export shows it: phones and e-mails in varying formats."""
    if ident.startswith("U"):
        return ident
    if "@" in ident:
        return ident.upper() if rng.random() < 0.1 else ident
    fmt = int(rng.integers(0, 5))
    return (
        f"+973{ident}",
        f"973 {ident[:4]} {ident[4:]}",
        f"00973-{ident[:4]}-{ident[4:]}",
        ident,
        f"{ident[:4]} {ident[4:]}",
    )[fmt]


def _pii_snippet(rng: np.random.Generator, arabic: bool) -> str:
    kind = int(rng.integers(0, 3))
    if kind == 0:
        phone = _phone_local(rng, 1)[0]
        spaced = f"{phone[:4]} {phone[4:]}"
        if arabic:
            return f" اتصل على {spaced.translate(_ARABIC_INDIC)}"
        return f" call me on +973 {spaced}"
    if kind == 1:
        mail = f"{rng.choice(_FIRST)}{rng.integers(1, 99)}@{rng.choice(_DOMAINS)}"
        return f" البريد {mail}" if arabic else f" email me at {mail}"
    yy, mm = int(rng.integers(60, 99)), int(rng.integers(1, 13))
    cpr = f"{yy:02d}{mm:02d}{int(rng.integers(0, 100_000)):05d}"
    return f" الرقم الشخصي {cpr}" if arabic else f" my CPR is {cpr}"


def generate(
    n_reports: int,
    seed: int,
    *,
    planted_hotspots: Sequence[tuple[float, float]] = (),
    bad_row_share: float = 0.03,
    start: date | None = None,
    months: int = 12,
) -> GeneratedData:
    """Generate a synthetic Fix2Go export of ``n_reports`` rows for Bahrain, with its truth.

    Parameters
    ----------
    n_reports
        Number of export rows (bad rows included).
    seed
        Random seed: the same seed (and arguments) gives the same data.
    planted_hotspots
        ``(lat, lng)`` centres; extra defects are concentrated within ~300 m of each.
    bad_row_share
        Share of rows that are bad (rejected, repaired or flagged), spread over every kind.
    start
        First day of the data (default :data:`DEFAULT_START`); ``months`` months follow.
    months
        Length of the period covered.

    Returns
    -------
    GeneratedData
        ``.reports`` (export columns, strings) and ``.truth``.

    Examples
    --------
    >>> g = generate(200, seed=1)
    >>> len(g.reports), len(g.truth)
    (200, 200)
    >>> bool((g.truth["expected_outcome"] == "new").mean() > 0.9)
    True
    """
    if n_reports < 1:
        raise GenerateError(
            f"n_reports must be at least 1, got {n_reports!r}; pass a positive count"
        )
    if not 0 <= bad_row_share < 0.5:
        raise GenerateError(f"bad_row_share must be in [0, 0.5), got {bad_row_share!r}; e.g. 0.03")
    if months < 1:
        raise GenerateError(f"months must be at least 1, got {months!r}")
    rng = np.random.default_rng(seed)
    start_day = start or DEFAULT_START
    t_start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=BAHRAIN_UTC_OFFSET)
    t_end = (pd.Timestamp(t_start) + pd.DateOffset(months=months)).to_pydatetime()
    window_days = (t_end - t_start).total_seconds() / 86_400

    # --- budget of bad rows -------------------------------------------------------------
    n_bad = round(n_reports * bad_row_share)
    alloc = {k: n_bad // len(BAD_KINDS) for k in BAD_KINDS}
    for k in rng.permutation(np.array(BAD_KINDS))[: n_bad % len(BAD_KINDS)]:
        alloc[str(k)] += 1
    if alloc["suspect_location"] and alloc["suspect_location"] < SUSPECT_GROUP_MIN_ROWS:
        spare = alloc["suspect_location"]
        alloc["suspect_location"] = 0
        alloc["missing_field"] += spare
    n_extra = sum(alloc[k] for k in REJECT_KINDS) + alloc["suspect_location"]
    n_good = n_reports - n_extra

    # --- defects ------------------------------------------------------------------------
    ks = _reports_per_defect(rng, n_good) if n_good > 0 else np.zeros(0, dtype=np.int64)
    n_def = ks.size
    codes = np.array(category_codes())
    cw = np.array([CATEGORY_WEIGHTS[c] for c in codes])
    d_cat = rng.choice(codes, size=n_def, p=cw / cw.sum())
    d_lat, d_lng = _land_points(rng, n_def)
    d_hot = np.full(n_def, -1, dtype=np.int64)
    d_t0 = rng.uniform(0, window_days, n_def)
    d_closed_before = np.full(n_def, np.inf)  # a recurrence's parent is closed before this day

    # planted hotspots take the first defects
    if planted_hotspots and n_def:
        per_hot = max(3, min(n_def // (2 * len(planted_hotspots)), max(10, n_def // 50)))
        pos = 0
        for h, center in enumerate(planted_hotspots):
            take = min(per_hot, n_def - pos)
            if take <= 0:
                break
            la, lo = _hotspot_points(rng, (float(center[0]), float(center[1])), take)
            d_lat[pos : pos + take], d_lng[pos : pos + take] = la, lo
            d_hot[pos : pos + take] = h
            pos += take
        first_free = pos
    else:
        first_free = 0

    # hard cases: neighbours (same category 30-60 m), co-located (other category), recurrences
    free = np.arange(first_free, n_def)
    rng.shuffle(free)
    n_nb = int(free.size * SHARE_NEIGHBOUR)
    n_co = int(free.size * SHARE_COLOCATED)
    n_re = int(free.size * SHARE_RECURRENCE)
    children = free[: n_nb + n_co + n_re]
    parents_pool = free[n_nb + n_co + n_re :]
    if parents_pool.size and children.size:
        parents = rng.choice(parents_pool, size=children.size)
        nb, co, re_ = children[:n_nb], children[n_nb : n_nb + n_co], children[n_nb + n_co :]
        p_nb, p_co, p_re = parents[:n_nb], parents[n_nb : n_nb + n_co], parents[n_nb + n_co :]
        dx, dy = _polar(rng, nb.size, NEIGHBOUR_MIN_M, NEIGHBOUR_MAX_M)
        d_lat[nb], d_lng[nb] = _offset(d_lat[p_nb], d_lng[p_nb], dx, dy)
        d_cat[nb] = d_cat[p_nb]
        dx, dy = _polar(rng, co.size, 0.0, COLOCATED_MAX_M)
        d_lat[co], d_lng[co] = _offset(d_lat[p_co], d_lng[p_co], dx, dy)
        shift = rng.integers(1, codes.size, co.size)
        code_index = {c: i for i, c in enumerate(codes)}
        parent_idx = np.array([code_index[c] for c in d_cat[p_co]], dtype=np.int64)
        d_cat[co] = codes[(parent_idx + shift) % codes.size]
        dx, dy = _polar(rng, re_.size, 0.0, RECURRENCE_MAX_M)
        d_lat[re_], d_lng[re_] = _offset(d_lat[p_re], d_lng[p_re], dx, dy)
        d_cat[re_] = d_cat[p_re]
        d_hot[nb], d_hot[co], d_hot[re_] = d_hot[p_nb], d_hot[p_co], d_hot[p_re]
        # the parent starts early, the recurrence months later
        span_needed = RECURRENCE_GAP_MAX_DAYS + 30
        d_t0[p_re] = rng.uniform(0, max(1.0, window_days - span_needed), p_re.size)
        gap = rng.uniform(RECURRENCE_GAP_MIN_DAYS, RECURRENCE_GAP_MAX_DAYS, re_.size)
        d_t0[re_] = np.minimum(d_t0[p_re] + 20 + gap, window_days - 1)
        d_closed_before[p_re] = d_t0[re_]

    # --- reports of defects -------------------------------------------------------------
    r_def = np.repeat(np.arange(n_def), ks)
    n_r = r_def.size
    gaps = rng.exponential(REPORT_GAP_MEAN_DAYS, n_r)
    first_of_def = np.r_[0, np.cumsum(ks)[:-1]] if n_def else np.zeros(0, dtype=np.int64)
    gaps[first_of_def] = 0.0
    cum = np.cumsum(gaps)
    offs = cum - np.repeat(cum[first_of_def], ks) if n_def else cum
    span = np.zeros(n_def)
    if n_def:
        np.maximum.at(span, r_def, offs)
    limit = np.minimum(window_days, d_closed_before) - 0.01
    d_t0 = np.clip(np.minimum(d_t0, limit - span), 0, None)
    r_t = d_t0[r_def] + np.minimum(offs, np.maximum(limit[r_def] - d_t0[r_def], 0))
    noise_m = rng.uniform(GPS_NOISE_MIN_M, GPS_NOISE_MAX_M, n_r)
    ang = rng.uniform(0, 2 * np.pi, n_r)
    r_lat, r_lng = _offset(d_lat[r_def], d_lng[r_def], noise_m * np.cos(ang), noise_m * np.sin(ang))

    # status of each defect at export time
    age = window_days - (d_t0 + span)
    p_closed = np.clip(age / 120.0, 0.0, 0.85)
    u = rng.uniform(0, 1, n_def)
    d_status = np.where(
        u < p_closed, "closed", np.where(u < p_closed + 0.15, "in_progress", "open")
    )
    d_status[np.isfinite(d_closed_before)] = "closed"

    # categories as written: mostly codes, some English or Arabic names
    cat_en = {c.code: c.name_en for c in categories()}
    cat_ar = {c.code: c.name_ar for c in categories()}
    r_code = d_cat[r_def]
    form = rng.choice(3, size=n_r, p=[0.7, 0.2, 0.1])
    r_cat = np.where(
        form == 0,
        r_code,
        np.where(form == 1, [cat_en[c] for c in r_code], [cat_ar[c] for c in r_code]),
    )

    # descriptions
    _, _, _, place_names = _places()
    arabic = rng.uniform(0, 1, n_r) < SHARE_ARABIC
    desc = []
    pii = rng.uniform(0, 1, n_r) < SHARE_PII
    empty = rng.uniform(0, 1, n_r) < SHARE_NO_DESCRIPTION
    tmpl_pick = rng.integers(0, 1000, n_r)
    near = rng.uniform(0, 1, n_r) < 0.3
    place_pick = rng.integers(0, len(place_names), n_r)
    for i in range(n_r):
        if empty[i]:
            desc.append("")
            continue
        bank = (_DESCRIPTIONS_AR if arabic[i] else _DESCRIPTIONS_EN)[str(r_code[i])]
        text = bank[tmpl_pick[i] % len(bank)]
        if near[i]:
            text += (
                f" قرب {place_names[place_pick[i]]}"
                if arabic[i]
                else f" near {place_names[place_pick[i]]}"
            )
        if pii[i]:
            text += _pii_snippet(rng, bool(arabic[i]))
        desc.append(text)

    pool, pw = _reporter_pool(rng, max(10, n_reports // 3))
    r_rep_idx = rng.choice(len(pool), size=n_r, p=pw)
    r_reporter = [_display_reporter(rng, pool[j]) for j in r_rep_idx]
    chans = np.array(list(CHANNEL_WEIGHTS))
    r_channel = rng.choice(chans, size=n_r, p=np.array(list(CHANNEL_WEIGHTS.values())))
    has_photo = rng.uniform(0, 1, n_r) < SHARE_PHOTO
    photo_ids = rng.integers(0, 2**62, n_r)
    r_photo = [
        f"https://fix2go.example.bh/photos/{p:016x}.jpg" if h else ""
        for p, h in zip(photo_ids, has_photo, strict=True)
    ]

    good = pd.DataFrame(
        {
            "t": r_t,
            "latitude": np.char.mod("%.6f", r_lat),
            "longitude": np.char.mod("%.6f", r_lng),
            "category": r_cat,
            "description": desc,
            "reporter_id": r_reporter,
            "channel": r_channel,
            "photo_url": r_photo,
            "status": d_status[r_def],
            "defect_id": r_def.astype("int64"),
            "expected_outcome": "new",
            "true_category": r_code,
            "true_lat": d_lat[r_def],
            "true_lng": d_lng[r_def],
            "hotspot": d_hot[r_def],
            "naive": False,
        }
    )

    # --- repairs applied to good rows ---------------------------------------------------
    order = rng.permutation(n_r)
    pos = 0
    repaired: dict[str, npt.NDArray[np.int64]] = {}
    for kind in REPAIR_KINDS:
        take = min(alloc[kind], n_r - pos)
        repaired[kind] = order[pos : pos + take]
        pos += take
    lat_col = good["latitude"].to_numpy(dtype=object)
    lng_col = good["longitude"].to_numpy(dtype=object)
    sw = repaired["swapped_coordinates"]
    lat_col[sw], lng_col[sw] = lng_col[sw].copy(), lat_col[sw].copy()
    nl = repaired["non_latin_digits"]
    for j, i in enumerate(nl):
        table = _ARABIC_INDIC if j % 2 == 0 else _PERSIAN
        lat_col[i] = str(lat_col[i]).translate(table)
        lng_col[i] = str(lng_col[i]).translate(table)
    good["latitude"], good["longitude"] = lat_col, lng_col
    good.loc[good.index[repaired["naive_timestamp"]], "naive"] = True
    for kind in REPAIR_KINDS:
        good.loc[good.index[repaired[kind]], "expected_outcome"] = f"repaired:{kind}"
    plain = order[pos:]  # rows untouched by repairs: sources for bad rows

    # --- extra bad rows -----------------------------------------------------------------
    extras: list[pd.DataFrame] = []

    def base_rows(n: int) -> pd.DataFrame:
        if plain.size == 0 or n == 0:
            return good.iloc[0:0].copy()
        src = rng.choice(plain, size=n)
        rows = good.iloc[src].copy()
        rows["t"] = rng.uniform(0, window_days - 0.01, n)
        rows["defect_id"] = -1
        rows["hotspot"] = -1
        return rows

    n = alloc["missing_field"]
    rows = base_rows(n)
    which = rng.choice(
        np.array(["created_at", "latitude", "longitude", "category", "report_id"]), size=len(rows)
    )
    rows["blank"] = which
    rows["expected_outcome"] = "rejected:missing_field"
    extras.append(rows)

    rows = base_rows(alloc["bad_coordinates"])
    pick = rng.integers(0, len(_BAD_COORDINATES), len(rows))
    rows["latitude"] = [_BAD_COORDINATES[p][0] for p in pick]
    rows["longitude"] = [_BAD_COORDINATES[p][1] for p in pick]
    rows["expected_outcome"] = "rejected:bad_coordinates"
    extras.append(rows)

    rows = base_rows(alloc["outside_region"])
    pick = rng.integers(0, len(_OUTSIDE_REGION), len(rows))
    rows["latitude"] = [f"{_OUTSIDE_REGION[p][0]:.6f}" for p in pick]
    rows["longitude"] = [f"{_OUTSIDE_REGION[p][1]:.6f}" for p in pick]
    rows["expected_outcome"] = "rejected:outside_region"
    extras.append(rows)

    rows = base_rows(alloc["unknown_category"])
    rows["category"] = rng.choice(np.array(_UNKNOWN_CATEGORIES), size=len(rows))
    rows["expected_outcome"] = "rejected:unknown_category"
    extras.append(rows)

    rows = base_rows(alloc["bad_timestamp"])
    rows["bad_ts"] = rng.choice(np.array(_BAD_TIMESTAMPS), size=len(rows))
    rows["expected_outcome"] = "rejected:bad_timestamp"
    extras.append(rows)

    rows = base_rows(alloc["suspect_location"])
    if len(rows):
        rows["latitude"] = f"{PLACEHOLDER_LAT_LNG[0]:.6f}"
        rows["longitude"] = f"{PLACEHOLDER_LAT_LNG[1]:.6f}"
        # every row from a different reporter
        rows["reporter_id"] = [f"U{90_000_000 + i}" for i in range(len(rows))]
        rows["expected_outcome"] = "flagged:suspect_location"
    extras.append(rows)

    allrows = pd.concat([good, *extras], ignore_index=True)
    allrows = allrows.sort_values("t", kind="stable").reset_index(drop=True)
    allrows["report_id"] = [f"F2G-{i:08d}" for i in range(1, len(allrows) + 1)]

    # duplicates: a plain good row again, right after it
    n_dup = alloc["duplicate_in_batch"]
    if n_dup and len(allrows):
        cand = np.flatnonzero((allrows["expected_outcome"] == "new").to_numpy())
        if cand.size:
            src = rng.choice(cand, size=n_dup, replace=cand.size < n_dup)
            dups = allrows.iloc[src].copy()
            dups["t"] = dups["t"] + 1e-6
            dups["defect_id"] = -1
            dups["hotspot"] = -1
            dups["expected_outcome"] = "rejected:duplicate_in_batch"
            allrows = pd.concat([allrows, dups], ignore_index=True)
            allrows = allrows.sort_values(["t", "expected_outcome"], kind="stable").reset_index(
                drop=True
            )

    # timestamps as written
    secs = np.round(allrows["t"].to_numpy() * 86_400).astype("int64")
    ts = pd.Timestamp(t_start) + pd.to_timedelta(secs, unit="s")
    iso = pd.Series(ts.strftime("%Y-%m-%dT%H:%M:%S"), index=allrows.index)
    naive = allrows["naive"].to_numpy(dtype=bool)
    created = np.where(naive, iso, iso + "+03:00").astype(object)
    if "bad_ts" in allrows:
        bad = allrows["bad_ts"].notna().to_numpy()
        created[bad] = allrows.loc[bad, "bad_ts"].to_numpy()
    allrows["created_at"] = created
    if "blank" in allrows:
        for col in ("created_at", "latitude", "longitude", "category", "report_id"):
            m = (allrows["blank"] == col).to_numpy()
            if m.any():
                allrows.loc[m, col] = ""

    reports = allrows[list(EXPORT_COLUMNS)].astype(str).reset_index(drop=True)
    truth = pd.DataFrame(
        {
            "row_number": np.arange(1, len(allrows) + 1),
            "report_id": reports["report_id"],
            "defect_id": pd.array(
                np.where(allrows["defect_id"] >= 0, allrows["defect_id"], 0), dtype="Int64"
            ),
            "expected_outcome": allrows["expected_outcome"].astype(str),
            "category": allrows["true_category"].astype(str),
            "true_lat": allrows["true_lat"].astype(float),
            "true_lng": allrows["true_lng"].astype(float),
            "hotspot": allrows["hotspot"].astype("int64"),
        }
    )
    no_defect = (allrows["defect_id"] < 0).to_numpy()
    truth.loc[no_defect, "defect_id"] = pd.NA
    truth.loc[no_defect, ["true_lat", "true_lng"]] = np.nan
    return GeneratedData(reports=reports, truth=truth[list(TRUTH_COLUMNS)])
