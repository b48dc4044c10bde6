"""Validation: every reason code, every repair and flag, with Arabic and English examples."""

from __future__ import annotations

from itertools import product

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from ingest.generate import GOVERNORATES_FILE
from ingest.readers import _canonical
from ingest.validate import (
    FLAGS,
    ValidationConfig,
    deployment_region,
    flags_column,
    normalise_categories,
    normalise_channels,
    normalise_statuses,
    suspect_location_mask,
    validate,
)
from spatial.errors import CRSError

NOW = pd.Timestamp("2026-12-04T12:00:00", tz="UTC")
GOOD = {
    "source_id": "F2G-1",
    "reported_at": "2026-03-14T08:21:05+03:00",
    "lat": "26.2235",
    "lng": "50.5876",
    "category_raw": "pothole",
    "description": "Deep pothole",
    "reporter_id": "U1",
    "channel": "ios",
    "photo_url": "",
    "status": "open",
}


@pytest.fixture(scope="module")
def region():  # type: ignore[no-untyped-def]
    return deployment_region(gpd.read_file(GOVERNORATES_FILE), 1000.0)


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    recs = [{**GOOD, **r} for r in rows]
    cols: dict[str, object] = {}
    for c in GOOD:
        values = [r[c] for r in recs]
        if all(isinstance(v, float) for v in values):
            cols[c] = pd.Series(values, dtype="float64")
        else:
            cols[c] = pd.Series([None if v is None else str(v) for v in values], dtype="str")
    cols["raw"] = pd.Series(["{}"] * len(recs), dtype="str")
    return _canonical(cols, len(recs), 1)


def outcome(res, row: int = 1) -> str:  # type: ignore[no-untyped-def]
    rej = res.rejects[res.rejects["row_number"] == row]
    if len(rej):
        return "rejected:" + rej["reason"].iloc[0]
    acc = res.accepted[res.accepted["row_number"] == row].iloc[0]
    flags = [c[5:] for c in res.accepted.columns if c.startswith("flag_") and acc[c]]
    return "accepted" + ("".join(":" + f for f in flags))


def test_good_row_accepted_typed(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({}), region, now=NOW)
    assert outcome(res) == "accepted"
    acc = res.accepted.iloc[0]
    assert acc["reported_at"] == pd.Timestamp("2026-03-14T05:21:05", tz="UTC")
    assert (acc["lat"], acc["lng"], acc["category"], acc["status"]) == (
        26.2235,
        50.5876,
        "pothole",
        "open",
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"source_id": ""}, "missing_field"),
        ({"reported_at": None}, "missing_field"),
        ({"lat": "  "}, "missing_field"),
        ({"category_raw": ""}, "missing_field"),
        ({"lat": "abc"}, "bad_coordinates"),
        ({"lat": "NaN"}, "bad_coordinates"),
        ({"lng": "inf"}, "bad_coordinates"),
        ({"lat": "95.1"}, "bad_coordinates"),
        ({"lng": "200.5"}, "bad_coordinates"),
        ({"lat": "25.2854", "lng": "51.5310"}, "outside_region"),  # Doha
        ({"lat": "26.42", "lng": "50.09"}, "outside_region"),  # Dammam
        ({"lat": "0", "lng": "0"}, "outside_region"),
        ({"category_raw": "graffiti"}, "unknown_category"),
        ({"category_raw": "ضوضاء"}, "unknown_category"),
        ({"reported_at": "yesterday"}, "bad_timestamp"),
        ({"reported_at": "32/13/2025 25:61"}, "bad_timestamp"),
        ({"reported_at": "2014-03-31T23:00:00+03:00"}, "bad_timestamp"),
        ({"reported_at": "2026-12-06T12:00:00+00:00"}, "bad_timestamp"),
    ],
)
def test_reason_codes(region, change, reason) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame(change), region, now=NOW)
    assert outcome(res) == f"rejected:{reason}"
    assert len(res.accepted) == 0
    detail = res.rejects["detail"].iloc[0]
    assert isinstance(detail, str) and detail


def test_service_start_and_future_edges_accepted(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(
        frame(
            {"reported_at": "2014-04-01T00:00:00+03:00"},
            {"source_id": "2", "reported_at": "2026-12-05T11:00:00Z"},
        ),
        region,
        now=NOW,
    )
    assert len(res.accepted) == 2


def test_missing_field_detail_names_fields_without_values(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({"lat": "", "category_raw": ""}), region, now=NOW)
    assert res.rejects["detail"].iloc[0] == "missing latitude,category"


def test_coastal_tolerance(region) -> None:  # type: ignore[no-untyped-def]
    # a point ~500 m off the coast is in the region with 1 km tolerance, not with 0
    land = deployment_region(gpd.read_file(GOVERNORATES_FILE), 0.0)
    lng = 50.5876
    lat = 26.2235
    while shapely.contains_xy(land, lng, lat):
        lat += 0.0005  # walk north to the coast
    lat += 500 / 111_000
    row = {"lat": f"{lat:.6f}", "lng": f"{lng:.6f}"}
    assert outcome(validate(frame(row), region, now=NOW)) == "accepted"
    assert outcome(validate(frame(row), land, now=NOW)) == "rejected:outside_region"


def test_duplicate_in_batch_keeps_first_and_spans_chunks(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({}, {}, {"source_id": "F2G-2"}), region, now=NOW)
    assert list(res.rejects["row_number"]) == [2]
    assert list(res.rejects["reason"]) == ["duplicate_in_batch"]
    # a later chunk of the same batch repeating an id
    res2 = validate(frame({"source_id": "F2G-2"}), region, now=NOW, seen_ids=res.seen_ids)
    assert outcome(res2) == "rejected:duplicate_in_batch"


def test_duplicate_of_rejected_row_is_not_a_duplicate(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({"lat": "abc"}, {}), region, now=NOW)
    assert outcome(res, 1) == "rejected:bad_coordinates"
    assert outcome(res, 2) == "accepted"


def test_repair_swapped_coordinates(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({"lat": "50.5876", "lng": "26.2235"}), region, now=NOW)
    assert outcome(res) == "accepted:swapped_coordinates"
    assert (res.accepted["lat"].iloc[0], res.accepted["lng"].iloc[0]) == (26.2235, 50.5876)


@pytest.mark.parametrize(
    ("lat", "lng"),
    [("٢٦٫٢٢٣٥", "٥٠٫٥٨٧٦"), ("۲۶.۲۲۳۵", "۵۰.۵۸۷۶"), ("٢٦.٢٢٣٥", "50.5876")],
)
def test_repair_non_latin_digits(region, lat, lng) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({"lat": lat, "lng": lng}), region, now=NOW)
    assert outcome(res) == "accepted:non_latin_digits"
    assert res.accepted["lat"].iloc[0] == pytest.approx(26.2235)


def test_non_latin_digits_in_timestamp(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({"reported_at": "٢٠٢٦-٠٣-١٤T08:21:05+03:00"}), region, now=NOW)
    assert outcome(res) == "accepted:non_latin_digits"
    assert res.accepted["reported_at"].iloc[0] == pd.Timestamp("2026-03-14T05:21:05", tz="UTC")


def test_repair_naive_timestamp_taken_as_bahrain(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({"reported_at": "2026-03-14T08:21:05"}), region, now=NOW)
    assert outcome(res) == "accepted:naive_timestamp"
    assert res.accepted["reported_at"].iloc[0] == pd.Timestamp("2026-03-14T05:21:05", tz="UTC")


def test_suspect_location_flag(region) -> None:  # type: ignore[no-untyped-def]
    rows = [{"source_id": f"S{i}", "reporter_id": f"U{i}"} for i in range(5)]
    rows.append({"source_id": "S9", "lat": "26.2236"})
    res = validate(frame(*rows), region, ValidationConfig(suspect_min_reporters=5), now=NOW)
    flagged = res.accepted.set_index("source_id")["flag_suspect_location"]
    assert flagged[[f"S{i}" for i in range(5)]].all()
    assert not flagged["S9"]
    # the same person five times (in different phone formats) is not suspect
    same = [
        {"source_id": f"P{i}", "reporter_id": f}
        for i, f in enumerate(
            ["36123456", "3612 3456", "+97336123456", "00973-3612-3456", "٣٦١٢٣٤٥٦"]
        )
    ]
    res = validate(frame(*same), region, ValidationConfig(suspect_min_reporters=2), now=NOW)
    assert not res.accepted["flag_suspect_location"].any()


def test_suspect_location_mask_empty_and_index() -> None:
    e = pd.Series([], dtype=float)
    assert suspect_location_mask(e, e, pd.Series([], dtype="str"), 3).empty
    s = suspect_location_mask(
        pd.Series([1.0, 1.0], index=[10, 20]),
        pd.Series([2.0, 2.0], index=[10, 20]),
        pd.Series(["a", "b"], index=[10, 20]),
        2,
    )
    assert list(s.index) == [10, 20] and s.all()


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("pothole", "pothole"),
        ("Pothole", "pothole"),
        ("pot hole", "pothole"),
        ("حفرة", "pothole"),
        ("حفرة في الطريق", "pothole"),
        ("street lamp", "street_light"),
        ("Street light out", "street_light"),
        ("إنارة شارع معطلة", "street_light"),
        ("انارة شارع معطلة", "street_light"),
        ("traffic light", "traffic_signal"),
        ("TRAFFIC_SIGNAL", "traffic_signal"),
        ("مركبة مهجورة", "abandoned_vehicle"),
        ("Sewage overflow", "sewage"),
        ("مجاري", "sewage"),
        ("pavement", "sidewalk"),
    ],
)
def test_category_vocabulary(label, code) -> None:  # type: ignore[no-untyped-def]
    assert normalise_categories(pd.Series([label], dtype="str")).iloc[0] == code


def test_status_and_channel_vocabulary() -> None:
    st = normalise_statuses(
        pd.Series(["Closed", "in progress", "مغلق", None, "weird"], dtype="str")
    )
    assert st.tolist() == ["closed", "in_progress", "closed", "open", "open"]
    ch = normalise_channels(pd.Series(["iOS", "Call Center", "fax", None, ""], dtype="str"))
    assert ch.tolist()[:3] == ["ios", "call_centre", "other"]
    assert ch.iloc[3:].isna().all()


def test_numeric_coordinates_from_json_readers(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(frame({"lat": 26.2235, "lng": 50.5876}), region, now=NOW)
    assert outcome(res) == "accepted"


def test_first_failing_check_wins(region) -> None:  # type: ignore[no-untyped-def]
    res = validate(
        frame({"lat": "abc", "category_raw": "graffiti", "reported_at": "never"}), region, now=NOW
    )
    assert outcome(res) == "rejected:bad_coordinates"


def test_empty_frame_and_non_default_index(region) -> None:  # type: ignore[no-untyped-def]
    empty = frame({}).iloc[0:0]
    res = validate(empty, region, now=NOW)
    assert res.accepted.empty and res.rejects.empty
    f = frame({}, {"source_id": "2", "lat": "x"})
    f.index = [100, 7]
    res = validate(f, region, now=NOW)
    assert len(res.accepted) == 1 and len(res.rejects) == 1


def test_every_row_accounted_for(region) -> None:  # type: ignore[no-untyped-def]
    f = frame({}, {"lat": "x"}, {"source_id": "F2G-3", "category_raw": "?"}, {"source_id": "F2G-4"})
    res = validate(f, region, now=NOW)
    got = sorted([*res.accepted["row_number"], *res.rejects["row_number"]])
    assert got == [1, 2, 3, 4]


def test_deployment_region_checks_crs() -> None:
    g = gpd.GeoSeries([box(0, 0, 1, 1)], crs=32639)
    with pytest.raises(CRSError, match="EPSG:4326"):
        deployment_region(g, 1000)


def test_flags_column() -> None:
    df = pd.DataFrame(
        {"flag_non_latin_digits": [True, False], "flag_suspect_location": [True, False]}
    )
    assert flags_column(df).tolist() == ["{non_latin_digits,suspect_location}", "{}"]


@pytest.mark.parametrize(
    "ts",
    ["0001-01-01", "9999-12-31T23:59:59", "-1", "0000-01-01T00:00:00+03:00", "2026-02-30T10:00"],
)
def test_extreme_timestamps_rejected_not_crashing(region, ts) -> None:  # type: ignore[no-untyped-def]
    assert (
        outcome(validate(frame({"reported_at": ts}), region, now=NOW)) == "rejected:bad_timestamp"
    )


def test_mixed_rejects_with_non_default_index_and_empty_frame(region) -> None:  # type: ignore[no-untyped-def]
    f = frame(
        {"source_id": "A", "lat": None, "category_raw": " "},
        {"source_id": "B", "category_raw": "graffiti"},
        {"source_id": "C"},
        {"source_id": "C"},
        {"source_id": "D", "lat": "50.5876", "lng": "26.2235"},
    )
    shifted = validate(f.set_axis(range(10, 15)), region, now=NOW)
    plain = validate(f, region, now=NOW)
    assert shifted.rejects["reason"].tolist() == [
        "missing_field",
        "unknown_category",
        "duplicate_in_batch",
    ]
    assert shifted.rejects["detail"].tolist() == [
        "missing latitude,category",
        "unknown category 'graffiti'",
        "source id already seen in this batch",
    ]
    assert str(shifted.rejects["reason"].dtype) == str(plain.rejects["reason"].dtype) == "str"
    pd.testing.assert_frame_equal(shifted.rejects, plain.rejects)
    pd.testing.assert_frame_equal(shifted.accepted, plain.accepted)
    assert shifted.accepted["flag_swapped_coordinates"].tolist() == [False, True]
    empty = validate(f.iloc[:0], region, now=NOW)
    assert len(empty.accepted) == len(empty.rejects) == 0


def test_flags_column_every_combination_in_flag_order() -> None:
    combos = list(product([False, True], repeat=len(FLAGS)))
    df = pd.DataFrame(
        {f"flag_{name}": [c[i] for c in combos] for i, name in enumerate(FLAGS)},
        index=range(100, 100 + len(combos)),
    )
    want = ["{" + ",".join(n for n, on in zip(FLAGS, c, strict=True) if on) + "}" for c in combos]
    out = flags_column(df)
    assert out.tolist() == want
    assert out.index.tolist() == df.index.tolist()
    assert flags_column(df.iloc[:0]).tolist() == []
