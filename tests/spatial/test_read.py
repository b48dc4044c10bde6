"""The analysts' read API on a real PostGIS: filters, shapes, types, no personal data.

Rows are inserted by the tests themselves inside the rolled-back ``conn`` transaction;
assertions on id sets look only at those rows, so committed data from elsewhere cannot
make a test pass or fail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import Point
from sqlalchemy.engine import Connection

from spatial.postgis.read import (
    BOUNDARY_COLUMNS,
    HOTSPOT_COLUMNS,
    INCIDENT_COLUMNS,
    PERSONAL_COLUMNS,
    REPORT_COLUMNS,
    Filters,
    PersonalDataError,
    ReadFilterError,
    check_no_personal_data,
    hotspots_available,
    read_boundaries,
    read_hotspots,
    read_incidents,
    read_reports,
)

UTC = dt.UTC
SECRET_DESCRIPTION = "call me on 3999 0000 secret-text"
SECRET_PSEUDONYM = "pseudonym-deadbeef"
BIG_H3 = 617_700_169_958_293_503  # an int64 H3 id beyond float precision


def t(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


# key: (category, status, governorate, agency, reported_at, lon, lat, incident key)
REPORTS: dict[str, tuple[str, str, str, str, dt.datetime, float, float, str | None]] = {
    "a": ("pothole", "open", "BH-13", "capital_municipality", t(1), 50.58, 26.22, "i1"),
    "b": ("pothole", "closed", "BH-13", "mow_roads", t(5), 50.585, 26.225, "i1"),
    "c": ("street_light", "in_progress", "BH-15", "ewa", t(10), 50.61, 26.25, "i2"),
    "d": ("flooding", "open", "BH-14", "southern_municipality", t(15), 50.55, 26.13, None),
    "e": ("sewage", "open", "BH-17", "mow_sanitary", t(20), 50.45, 26.20, None),
}
# key: (category, status, governorate, agency, first, last, lon, lat)
INCIDENTS: dict[str, tuple[str, str, str, str, dt.datetime, dt.datetime, float, float]] = {
    "i1": ("pothole", "open", "BH-13", "capital_municipality", t(1), t(5), 50.582, 26.222),
    "i2": ("street_light", "closed", "BH-15", "ewa", t(10), t(12), 50.61, 26.25),
    "i3": ("flooding", "open", "BH-14", "southern_municipality", t(14), t(25), 50.55, 26.13),
}


@pytest.fixture
def seeded(conn: Connection) -> dict[str, int]:
    """Insert the incidents and reports above; map each key to its database id."""
    ids: dict[str, int] = {}
    for key, (cat, status, gov, agency, first, last, lon, lat) in INCIDENTS.items():
        ids[key] = conn.execute(
            sa.text(
                "INSERT INTO incidents (category, status, n_reports, first_reported_at, "
                "last_reported_at, agency_code, governorate_code, h3_cell, geom) VALUES "
                "(:cat, :status, 2, :first, :last, :agency, :gov, :h3, "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"
            ),
            dict(
                cat=cat,
                status=status,
                first=first,
                last=last,
                agency=agency,
                gov=gov,
                h3=BIG_H3,
                lon=lon,
                lat=lat,
            ),
        ).scalar_one()
    for key, (cat, status, gov, agency, at, lon, lat, inc) in REPORTS.items():
        ids[key] = conn.execute(
            sa.text(
                "INSERT INTO reports (source, source_id, category, description, "
                "reporter_pseudonym, status, reported_at, content_hash, governorate_code, "
                "agency_code, routing_confidence, routing_reason, incident_id, h3_cell, "
                "place_en, place_ar, geom) VALUES ('test_read', :sid, :cat, :descr, :pseudo, "
                ":status, :at, 'h', :gov, :agency, 0.9, 'inside', :inc, :h3, 'Manama', "
                "'المنامة', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"
            ),
            dict(
                sid=f"r-{key}",
                cat=cat,
                descr=SECRET_DESCRIPTION,
                pseudo=SECRET_PSEUDONYM,
                status=status,
                at=at,
                gov=gov,
                agency=agency,
                inc=ids[inc] if inc else None,
                h3=BIG_H3 if key == "a" else None,
                lon=lon,
                lat=lat,
            ),
        ).scalar_one()
    return ids


def keys(frame: pd.DataFrame, id_col: str, ids: dict[str, int], among: Iterable[str]) -> set[str]:
    """Which of the seeded keys ``among`` are in ``frame``."""
    returned = set(frame[id_col])
    return {k for k in among if ids[k] in returned}


def assert_clean_geoframe(gdf: gpd.GeoDataFrame, columns: Iterable[str]) -> None:
    assert list(gdf.columns) == [*columns, "geom"]
    assert gdf.geometry.name == "geom"
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    assert not PERSONAL_COLUMNS & set(gdf.columns)


# --- reports -------------------------------------------------------------------------------


def test_reports_unfiltered_shape_types_and_no_personal_data(
    conn: Connection, seeded: dict[str, int]
) -> None:
    gdf = read_reports(conn)
    assert_clean_geoframe(gdf, REPORT_COLUMNS)
    mine = gdf[gdf["source"] == "test_read"].set_index("source_id")
    assert set(mine.index) == {f"r-{k}" for k in REPORTS}
    assert set(mine.geometry.geom_type) == {"Point"}
    a = mine.loc["r-a"]
    assert (a.geom.x, a.geom.y) == pytest.approx((50.58, 26.22))
    assert a["reported_at"] == pd.Timestamp("2026-03-01T00:00:00Z")
    assert str(gdf["reported_at"].dtype) == "datetime64[us, UTC]"
    assert a["h3_cell"] == BIG_H3  # exact: int64, not float
    assert pd.isna(mine.loc["r-d", "incident_id"]) and pd.isna(mine.loc["r-d", "h3_cell"])
    assert a["incident_id"] == seeded["i1"]
    assert a["place_ar"] == "المنامة"
    # the personal values never appear anywhere in the frame
    text = [str(v) for v in mine.drop(columns="geom").to_numpy().ravel()]
    assert not any(SECRET_DESCRIPTION in v or SECRET_PSEUDONYM in v for v in text)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), {"a", "b", "c", "d", "e"}),
        (Filters(start=t(5)), {"b", "c", "d", "e"}),  # start inclusive
        (Filters(end=t(5)), {"a"}),  # end exclusive
        (Filters(start=t(5), end=t(15, 1)), {"b", "c", "d"}),
        (
            Filters(start=pd.Timestamp("2026-03-05T03:00", tz="Asia/Bahrain")),
            {"b", "c", "d", "e"},  # 03:00 Bahrain = 00:00 UTC
        ),
        (Filters(categories=("pothole",)), {"a", "b"}),
        (Filters(categories="flooding"), {"d"}),
        (Filters(categories=("flooding", "sewage")), {"d", "e"}),
        (Filters(governorates=("BH-13", "BH-17")), {"a", "b", "e"}),
        (Filters(agencies=("ewa",)), {"c"}),
        (Filters(statuses=("open",)), {"a", "d", "e"}),
        (Filters(statuses=("closed", "in_progress")), {"b", "c"}),
        (Filters(bbox=(50.57, 26.21, 50.62, 26.26)), {"a", "b", "c"}),
        (Filters(bbox=(50.58, 26.22, 50.58, 26.22)), {"a"}),  # a degenerate box: the point
        (Filters(categories=("pothole",), statuses=("open",)), {"a"}),
        (Filters(governorates=("BH-13",), agencies=("ewa",)), set()),
    ],
)
def test_report_filters(
    conn: Connection, seeded: dict[str, int], filters: Filters, expected: set[str]
) -> None:
    gdf = read_reports(conn, filters)
    assert keys(gdf, "report_id", seeded, REPORTS) == expected
    # every returned row (seeded or not) satisfies the filter
    if filters.categories:
        assert set(gdf["category"]) <= set(filters.categories)
    if filters.statuses:
        assert set(gdf["status"]) <= set(filters.statuses)
    if filters.governorates:
        assert set(gdf["governorate_code"]) <= set(filters.governorates)
    if filters.start is not None:
        assert (gdf["reported_at"] >= filters.start).all()
    if filters.end is not None:
        assert (gdf["reported_at"] < filters.end).all()
    if filters.bbox is not None:
        minx, miny, maxx, maxy = filters.bbox
        assert gdf.geometry.x.between(minx, maxx).all() and gdf.geometry.y.between(miny, maxy).all()


def test_report_limit_and_empty_frame_keeps_types(conn: Connection, seeded: dict[str, int]) -> None:
    some = read_reports(conn, Filters(categories=("pothole",)))
    assert len(read_reports(conn, Filters(categories=("pothole",)), limit=1)) == 1
    empty = read_reports(conn, Filters(bbox=(0.0, 0.0, 0.1, 0.1)))
    assert empty.empty
    assert_clean_geoframe(empty, REPORT_COLUMNS)
    assert empty.dtypes.drop("geom").to_dict() == some.dtypes.drop("geom").to_dict()


# --- incidents -----------------------------------------------------------------------------


def test_incidents_unfiltered_shape(conn: Connection, seeded: dict[str, int]) -> None:
    gdf = read_incidents(conn)
    assert_clean_geoframe(gdf, INCIDENT_COLUMNS)
    assert keys(gdf, "incident_id", seeded, INCIDENTS) == set(INCIDENTS)
    row = gdf.set_index("incident_id").loc[seeded["i1"]]
    assert row["n_reports"] == 2 and row["first_reported_at"] == pd.Timestamp(t(1))
    assert set(gdf.geometry.geom_type) <= {"Point"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # the period matches incidents whose [first, last] span overlaps [start, end)
        (Filters(start=t(5)), {"i1", "i2", "i3"}),
        (Filters(start=t(5, 1)), {"i2", "i3"}),
        (Filters(end=t(10)), {"i1"}),
        (Filters(start=t(13), end=t(14)), set()),
        (Filters(start=t(20), end=t(21)), {"i3"}),
        (Filters(categories=("street_light", "flooding")), {"i2", "i3"}),
        (Filters(governorates=("BH-13",)), {"i1"}),
        (Filters(agencies=("ewa", "southern_municipality")), {"i2", "i3"}),
        (Filters(statuses=("open",)), {"i1", "i3"}),
        (Filters(bbox=(50.5, 26.1, 50.6, 26.23)), {"i1", "i3"}),
    ],
)
def test_incident_filters(
    conn: Connection, seeded: dict[str, int], filters: Filters, expected: set[str]
) -> None:
    assert keys(read_incidents(conn, filters), "incident_id", seeded, INCIDENTS) == expected


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"categories": ("potholes",)}, r"unknown category 'potholes'; use one of .*pothole"),
        ({"categories": ("'; DROP TABLE reports; --",)}, "unknown category"),
        ({"statuses": ("done",)}, r"unknown status 'done'; use one of closed, in_progress, open"),
        ({"start": dt.datetime(2026, 1, 1)}, "has no time zone"),
        ({"end": dt.date(2026, 1, 1)}, "must be a timezone-aware datetime"),
        ({"start": t(5), "end": t(5)}, "empty period"),
        ({"bbox": (50.7, 26.0, 50.5, 26.3)}, "min <= max"),
        ({"bbox": (50.5, 26.0, 50.7)}, "four numbers"),
        ({"bbox": (50.5, 26.0, float("nan"), 26.3)}, "non-finite"),
        ({"bbox": (450000.0, 2890000.0, 460000.0, 2900000.0)}, "lon/lat"),
        ({"agencies": (1,)}, "must be codes"),
    ],
)
def test_filter_values_are_validated(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ReadFilterError, match=match):
        Filters(**kwargs)


@pytest.mark.parametrize(
    ("filters", "match"),
    [
        (Filters(governorates=("BH-16",)), r"unknown governorate 'BH-16'; use one of .*BH-13"),
        (Filters(governorates=("BH-13' OR '1'='1",)), "unknown governorate"),
        (Filters(agencies=("nobody",)), r"unknown agency 'nobody'; use one of .*ewa"),
    ],
)
def test_codes_are_checked_against_the_database(
    conn: Connection, filters: Filters, match: str
) -> None:
    for reader in (read_reports, read_incidents):
        with pytest.raises(ReadFilterError, match=match):
            reader(conn, filters)


def test_bad_limit_is_refused(conn: Connection) -> None:
    with pytest.raises(ReadFilterError, match="limit must be"):
        read_reports(conn, limit=-1)


# --- boundaries ----------------------------------------------------------------------------


def test_governorates_current_version_only(conn: Connection) -> None:
    before = read_boundaries(conn, "governorates")
    assert_clean_geoframe(before, BOUNDARY_COLUMNS["governorates"])
    assert list(before["code"]) == ["BH-13", "BH-14", "BH-15", "BH-17"]
    assert set(before.geometry.geom_type) == {"MultiPolygon"}
    # a superseded version of the capital is not returned
    conn.execute(
        sa.text(
            "INSERT INTO governorates (code, name_en, boundary_version, is_current, geom) "
            "SELECT code, name_en, 'old-test', false, geom FROM governorates "
            "WHERE code = 'BH-13' AND is_current"
        )
    )
    after = read_boundaries(conn, "governorates")
    assert list(after["code"]) == list(before["code"])
    assert "old-test" not in set(after["boundary_version"])


def test_boundary_filters(conn: Connection) -> None:
    capital = read_boundaries(conn, "governorates", Filters(governorates=("BH-13",)))
    assert list(capital["code"]) == ["BH-13"]
    # a box around Muharraq island only
    muharraq_box = Filters(bbox=(50.60, 26.24, 50.66, 26.28))
    near = read_boundaries(conn, "governorates", muharraq_box)
    assert "BH-15" in set(near["code"]) and "BH-14" not in set(near["code"])
    ra = read_boundaries(conn, "road_authorities")
    assert_clean_geoframe(ra, BOUNDARY_COLUMNS["road_authorities"])
    assert len(ra) > 0 and ra["code"].is_unique
    agency = ra["default_agency"].iloc[0]
    only = read_boundaries(conn, "road_authorities", Filters(agencies=(agency,)))
    assert set(only["default_agency"]) == {agency}
    assert set(only["code"]) == set(ra.loc[ra["default_agency"] == agency, "code"])


@pytest.mark.parametrize(
    ("layer", "filters", "match"),
    [
        ("counties", Filters(), "unknown boundary layer 'counties'"),
        ("governorates", Filters(categories=("pothole",)), "cannot filter by categories"),
        ("governorates", Filters(agencies=("ewa",)), "cannot filter by agencies"),
        ("road_authorities", Filters(governorates=("BH-13",)), "cannot filter by governorates"),
    ],
)
def test_boundary_bad_requests(conn: Connection, layer: Any, filters: Filters, match: str) -> None:
    with pytest.raises(ReadFilterError, match=match):
        read_boundaries(conn, layer, filters)


# --- hotspots ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "kwargs", "match"),
    [
        (Filters(categories=("pothole",)), {}, "cannot filter by categories"),
        (Filters(start=t(1)), {}, "cannot filter by start"),
        (Filters(statuses=("open",)), {}, "cannot filter by statuses"),
        (Filters(), {"resolution": 16}, "resolution must be an H3 resolution"),
    ],
)
def test_hotspot_bad_requests(
    conn: Connection, filters: Filters, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ReadFilterError, match=match):
        read_hotspots(conn, filters, **kwargs)


def test_hotspots_without_table_is_a_typed_empty_frame(conn: Connection) -> None:
    conn.execute(sa.text("DROP TABLE IF EXISTS hotspot_cells CASCADE"))  # rolled back after
    assert not hotspots_available(conn)
    gdf = read_hotspots(conn, resolution=8)
    assert gdf.empty
    assert_clean_geoframe(gdf, HOTSPOT_COLUMNS)
    assert str(gdf["h3_cell"].dtype) == "int64"


def test_geometry_read_back_is_the_stored_point(conn: Connection, seeded: dict[str, int]) -> None:
    """The geometry read back is the one stored (not reprojected, not rounded)."""
    gdf = read_reports(conn, Filters(categories=("sewage",)))
    row = gdf[gdf["report_id"] == seeded["e"]].iloc[0]
    assert row.geom.equals(Point(50.45, 26.20))


# (resolution, lat, lon, group, period, hot_class, confidence, trend)
CELLS = [
    (8, 26.22, 50.58, "all", "all", 3, 99, "intensifying"),  # Manama, BH-13
    (8, 26.255, 50.615, "all", "all", -2, 95, "none"),  # Muharraq, BH-15
    (8, 26.13, 50.55, "all", "all", 0, None, "none"),  # Riffa, BH-14
    (9, 26.22, 50.58, "all", "all", 2, 95, "persistent"),
    (8, 26.22, 50.58, "water", "last_12_months", 1, 90, "new"),
]


@pytest.fixture
def hotspots(conn: Connection) -> list[int]:
    import h3

    conn.execute(sa.text("DELETE FROM hotspot_cells"))  # rolled back after the test
    ids = []
    for res, lat, lon, group, period, hot, confidence, trend in CELLS:
        cell = h3.latlng_to_cell(lat, lon, res)
        ring = [(lng, la) for la, lng in h3.cell_to_boundary(cell)]
        wkt = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in [*ring, ring[0]]) + "))"
        ids.append(h3.str_to_int(cell))
        conn.execute(
            sa.text(
                "INSERT INTO hotspot_cells (resolution, h3_cell, category_group, period, "
                "n_incidents, gi_z, p_value, hot_class, confidence, trend, geom) VALUES "
                "(:res, :cell, :grp, :per, 4, :z, 0.01, :hot, :conf, :trend, "
                "ST_GeomFromText(:wkt, 4326))"
            ),
            dict(
                res=res,
                cell=ids[-1],
                grp=group,
                per=period,
                z=1.5 * hot,
                hot=hot,
                conf=confidence,
                trend=trend,
                wkt=wkt,
            ),
        )
    return ids


def test_hotspots_all_rows_typed(conn: Connection, hotspots: list[int]) -> None:
    gdf = read_hotspots(conn)
    assert_clean_geoframe(gdf, HOTSPOT_COLUMNS)
    assert len(gdf) == len(CELLS)
    assert set(gdf.geometry.geom_type) == {"Polygon"}
    assert set(gdf["h3_cell"]) == set(hotspots)
    assert str(gdf["h3_cell"].dtype) == "int64" and str(gdf["confidence"].dtype) == "Int64"
    riffa = gdf[(gdf["hot_class"] == 0)].iloc[0]
    assert pd.isna(riffa["confidence"])
    # each cell polygon contains the point it was built from
    for res, lat, lon, group, period, *_ in CELLS:
        row = gdf[
            (gdf["resolution"] == res)
            & (gdf["category_group"] == group)
            & (gdf["period"] == period)
            & gdf.geometry.contains(Point(lon, lat))
        ]
        assert len(row) == 1


@pytest.mark.parametrize(
    ("kwargs", "filters", "expected"),
    [
        ({"resolution": 9}, Filters(), {(9, "all", 2)}),
        (
            {"resolution": 8, "category_group": "all"},
            Filters(),
            {(8, "all", 3), (8, "all", -2), (8, "all", 0)},
        ),
        ({"period": "last_12_months"}, Filters(), {(8, "water", 1)}),
        (
            {"resolution": 8, "significant_only": True, "period": "all"},
            Filters(),
            {(8, "all", 3), (8, "all", -2)},
        ),
        ({"resolution": 8, "period": "all"}, Filters(governorates=("BH-15",)), {(8, "all", -2)}),
        (
            {"category_group": "all"},
            Filters(bbox=(50.57, 26.21, 50.59, 26.23)),
            {(8, "all", 3), (9, "all", 2)},
        ),
    ],
)
def test_hotspot_filters(
    conn: Connection,
    hotspots: list[int],
    kwargs: dict[str, Any],
    filters: Filters,
    expected: set[tuple[int, str, int]],
) -> None:
    gdf = read_hotspots(conn, filters, **kwargs)
    got = set(zip(gdf["resolution"], gdf["category_group"], gdf["hot_class"], strict=True))
    assert got == expected


def test_unknown_hotspot_group_or_period_lists_the_computed_ones(
    conn: Connection, hotspots: list[int]
) -> None:
    with pytest.raises(
        ReadFilterError, match="unknown category group 'roads'; use one of all, water"
    ):
        read_hotspots(conn, category_group="roads")
    with pytest.raises(
        ReadFilterError, match="unknown period 'q1'; use one of all, last_12_months"
    ):
        read_hotspots(conn, period="q1")


@pytest.mark.parametrize("column", sorted(PERSONAL_COLUMNS))
def test_personal_data_guard_refuses_each_personal_column(column: str) -> None:
    frame = pd.DataFrame({"category": ["pothole"], column: ["x"]})
    with pytest.raises(PersonalDataError, match=f"personal-data column\\(s\\) \\[{column!r}\\]"):
        check_no_personal_data(frame)
