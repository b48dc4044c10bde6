"""Readers: every format to the canonical frame; unreadable files refused in one line;
property tests feeding random and malformed rows to every reader."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from ingest.errors import UnreadableFileError
from ingest.generate import EXPORT_COLUMNS, generate, write_export
from ingest.readers import (
    CANONICAL_COLUMNS,
    check_file,
    detect_format,
    json_objects,
    read_chunks,
    read_file,
)
from ingest.validate import validate

NOW = pd.Timestamp("2026-12-04", tz="UTC")
REGION = box(50.2, 25.5, 50.9, 26.4)


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return generate(120, seed=11)


@pytest.mark.parametrize(
    ("ext", "fmt"),
    [(".csv", "csv"), (".json", "open311"), (".geojson", "geojson"), (".parquet", "parquet")],
)
def test_every_format_reads_every_row(tmp_path, sample, ext, fmt) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"export{ext}"
    write_export(sample.reports, path)
    assert detect_format(path) == fmt
    f = read_file(path)
    assert list(f.columns) == list(CANONICAL_COLUMNS)
    assert f["row_number"].tolist() == list(range(1, 121))
    assert f["source_id"].tolist() == sample.reports["report_id"].tolist()
    good = sample.truth["expected_outcome"] == "new"
    lat = pd.to_numeric(f["lat"], errors="coerce")[good]
    assert lat.round(6).tolist() == sample.reports["latitude"][good].astype(float).round(6).tolist()
    raws = [json.loads(r) for r in f["raw"]]
    assert all(isinstance(r, dict) and r for r in raws)


def test_csv_with_bom_and_arabic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bom.csv"
    text = (
        ",".join(EXPORT_COLUMNS)
        + '\nF2G-1,2026-03-14T08:21:05+03:00,26.2,50.5,حفرة,"حفرة، كبيرة\nسطر",U1,ios,,open\n'
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    f = read_file(path)
    assert f["source_id"].tolist() == ["F2G-1"]
    assert f["description"].iloc[0] == "حفرة، كبيرة\nسطر"
    assert json.loads(f["raw"].iloc[0])["category"] == "حفرة"


def test_csv_extra_columns_and_header_case(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.csv"
    path.write_text(
        "Report_ID, created_at ,LATITUDE,longitude,category,extra\nA,2026-01-01T00:00:00Z,26.2,50.5,pothole,zz\n",
        encoding="utf-8",
    )
    f = read_file(path)
    assert f["source_id"].tolist() == ["A"] and f["description"].isna().all()
    assert json.loads(f["raw"].iloc[0])["extra"] == "zz"


def test_malformed_csv_lines_accounted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.csv"
    path.write_text(
        "report_id,created_at,latitude,longitude,category\n"
        "A,2026-01-01T00:00:00Z,26.2,50.5,pothole\n"
        "B,2026-01-01T00:00:00Z,26.2\n"
        "C,2026-01-01T00:00:00Z,26.2,50.5,pothole,extra,more\n"
        "D,2026-01-01T00:00:00Z,26.2,50.5,pothole\n",
        encoding="utf-8",
    )
    f = read_file(path)
    assert sorted(f["row_number"]) == [1, 2, 3, 4]
    bad = f[f["read_error"].notna()]
    assert len(bad) == 2
    assert {json.loads(r)["_line"][:1] for r in bad["raw"]} == {"B", "C"}
    res = validate(f, REGION, now=NOW)
    assert sorted(res.rejects["reason"]) == ["malformed_row", "malformed_row"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"report_id,created_at\nA,2026\n", "missing required column"),
        (
            "report_id,created_at,latitude,longitude,category\nA,x,1,2,\xe9t\xe9\n".encode(
                "cp1252"
            ),
            "not UTF-8",
        ),
        ("تقرير,تاريخ\n".encode("cp1256"), "not UTF-8"),
        (b"", "empty"),
        (b"\x00\x01\x02binary", "binary content"),
        (b"report_id,report_id,created_at,latitude,longitude,category\n", "duplicate column"),
        (b"report_id;created_at;latitude;longitude;category\n1;2;3;4;5\n", "separated by ';'"),
        ("report_id,created_at\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_unreadable_csv(tmp_path, content, match) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=match) as err:
        list(read_chunks(path))
    msg = str(err.value)
    assert str(path) in msg and "\n" not in msg and ";" in msg  # file, problem; fix


def test_encoding_error_deep_in_csv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "deep.csv"
    good = "A,2026-01-01T00:00:00Z,26.2,50.5,pothole\n" * 5000
    path.write_bytes(
        ("report_id,created_at,latitude,longitude,category\n" + good).encode() + b"B,x,1,2,\xff\n"
    )
    with pytest.raises(UnreadableFileError, match="not UTF-8"):
        list(read_chunks(path, chunk_rows=1000))


@pytest.mark.parametrize(
    ("name", "content", "fmt", "match"),
    [
        ("r.json", "{not json", "auto", "not valid JSON"),
        ("r.json", '{"a": 1}', "open311", "JSON array"),
        ("r.json", '[{"foo": 1}]', "auto", "no Open311 fields"),
        ("r.geojson", '{"type": "Feature"}', "auto", "FeatureCollection"),
        (
            "r.geojson",
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"x": 1}, "geometry": null}]}',
            "auto",
            "export properties",
        ),
        ("r.json", "hello", "auto", "not JSON"),
        ("r.parquet", "not parquet", "auto", "not a Parquet file"),
        ("r.csv", "a,b\n", "xml", "unknown format"),
    ],
)
def test_unreadable_json_and_parquet(tmp_path, name, content, fmt, match) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=match):
        list(read_chunks(path, fmt))


def test_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnreadableFileError, match="no such file"):
        list(read_chunks(tmp_path / "nope.csv"))


def test_parquet_missing_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "p.parquet"
    pd.DataFrame({"report_id": ["a"]}).to_parquet(path)
    with pytest.raises(UnreadableFileError, match="missing required column"):
        list(read_chunks(path))


def test_chunks_continue_row_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    g = generate(250, seed=2)
    path = tmp_path / "c.csv"
    write_export(g.reports, path)
    chunks = list(read_chunks(path, chunk_rows=100))
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert pd.concat(chunks)["row_number"].tolist() == list(range(1, 251))


def test_geojson_non_point_geometry_is_a_row_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "report_id": "1",
                    "created_at": "2026-01-01T00:00:00Z",
                    "category": "pothole",
                },
                "geometry": {"type": "LineString", "coordinates": [[50.5, 26.2], [50.6, 26.3]]},
            },
            {
                "type": "Feature",
                "properties": {
                    "report_id": "2",
                    "created_at": "2026-01-01T00:00:00Z",
                    "category": "pothole",
                },
                "geometry": {"type": "Point", "coordinates": [50.5, 26.2]},
            },
            "junk",
        ],
    }
    path = tmp_path / "g.geojson"
    path.write_text(json.dumps(fc), encoding="utf-8")
    f = read_file(path)
    assert len(f) == 3
    res = validate(f, REGION, now=NOW)
    assert res.accepted["source_id"].tolist() == ["2"]
    assert sorted(res.rejects["reason"]) == ["malformed_row", "malformed_row"]


# --- property tests ------------------------------------------------------------------------

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
field = st.one_of(
    text,
    st.sampled_from(
        ["", "26.2", "50.5", "٢٦٫٢", "pothole", "حفرة", "2026-01-01T00:00:00Z", '"', ",", "\n"]
    ),
)
row = st.lists(field, min_size=0, max_size=8)
PROP = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _accounted(path: Path, n: int, fmt: str = "auto") -> None:
    f = read_file(path, fmt)
    assert sorted(f["row_number"]) == list(range(1, n + 1))
    res = validate(f, REGION, now=NOW)
    assert len(res.accepted) + len(res.rejects) == n
    assert sorted([*res.accepted["row_number"], *res.rejects["row_number"]]) == list(
        range(1, n + 1)
    )


@PROP
@given(rows=st.lists(row, max_size=15))
def test_property_csv_random_rows(tmp_path, rows) -> None:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    w = csv.writer(buf)  # quotes fields holding \r or \n
    w.writerow(["report_id", "created_at", "latitude", "longitude", "category", "description"])
    written = 0
    for r in rows:
        if not r or r == [""]:
            continue  # a blank line is not a row
        w.writerow(r)
        written += 1
    path = tmp_path / "p.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    _accounted(path, written)


json_value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), text)
obj = st.dictionaries(
    st.sampled_from(
        [
            "service_request_id",
            "requested_datetime",
            "lat",
            "long",
            "service_code",
            "service_name",
            "description",
            "status",
            "media_url",
            "x",
        ]
    ),
    json_value,
    max_size=8,
)


@PROP
@given(items=st.lists(st.one_of(obj, json_value), max_size=15))
def test_property_open311_random_items(tmp_path, items) -> None:  # type: ignore[no-untyped-def]
    items = [{"service_request_id": "seed"}, *items]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    _accounted(path, len(items))


geometry = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "type": st.just("Point"),
            "coordinates": st.lists(st.one_of(st.floats(allow_nan=False), text), max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["LineString", "Polygon", "Nope"]), "coordinates": st.just([])}
    ),
    json_value,
)
props = st.dictionaries(
    st.sampled_from(
        ["report_id", "created_at", "category", "description", "latitude", "longitude", "status"]
    ),
    json_value,
    max_size=7,
)


@PROP
@given(
    feats=st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "type": st.just("Feature"),
                    "properties": st.one_of(props, st.none()),
                    "geometry": geometry,
                }
            ),
            json_value,
        ),
        max_size=15,
    )
)
def test_property_geojson_random_features(tmp_path, feats) -> None:  # type: ignore[no-untyped-def]
    feats = [{"type": "Feature", "properties": {"report_id": "seed"}, "geometry": None}, *feats]
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    _accounted(path, len(feats))


@PROP
@given(
    rows=st.lists(
        st.tuples(
            text, text, st.one_of(st.none(), st.floats()), st.one_of(st.none(), st.floats()), text
        ),
        max_size=15,
    )
)
def test_property_parquet_random_rows(tmp_path, rows) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        rows, columns=["report_id", "created_at", "latitude", "longitude", "category"]
    )
    df["latitude"] = df["latitude"].astype("float64")
    df["longitude"] = df["longitude"].astype("float64")
    path = tmp_path / "p.parquet"
    df.to_parquet(path)
    _accounted(path, len(df))


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("a.csv", b"report_id,created_at\n", "missing required column"),
        ("a.csv", b"report_id,created_at,latitude,longitude,category\n1,\xff,1,2,x\n", "not UTF-8"),
        ("a.json", b"[{", "not valid JSON"),
        ("a.geojson", b'{"type": "Feature"}', "FeatureCollection"),
        ("a.parquet", b"PAR1 not really", "not a readable Parquet"),
    ],
)
def test_check_file_refuses_up_front(tmp_path, name, content, match) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=match):
        check_file(path)


def test_check_file_accepts_every_format(tmp_path, sample) -> None:  # type: ignore[no-untyped-def]
    for ext, fmt in (
        (".csv", "csv"),
        (".json", "open311"),
        (".geojson", "geojson"),
        (".parquet", "parquet"),
    ):
        path = tmp_path / f"ok{ext}"
        write_export(sample.reports, path)
        assert check_file(path) == fmt


def test_json_objects_columns_with_and_without_escapes() -> None:
    # the plain columns take the no-escape path, the others are escaped as json.dumps does
    table = pa.table(
        {
            "id": ["F2G-1", "F2G-2", None],
            "text": ['say "hi"\\', "line\nbreak\ttab\r", "حفرة"],
            "ctl": ["a\x01b", None, "c"],
        }
    )
    rows = table.to_pylist()
    got = json_objects(table).to_pylist()
    assert [json.loads(g) for g in got] == rows
    assert got[0].startswith('{"id":"F2G-1","text":"say \\"hi\\"\\\\"')


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | st.text(max_size=12), st.none() | st.text(alphabet="abc ١", max_size=5)
        ),
        max_size=8,
    )
)
def test_json_objects_round_trip(values: list[tuple[str | None, str | None]]) -> None:
    table = pa.table(
        {
            "a": pa.array([v[0] for v in values], pa.string()),
            "b": pa.array([v[1] for v in values], pa.string()),
        }
    )
    got = [json.loads(t) for t in json_objects(table).to_pylist()]
    assert got == [{"a": a, "b": b} for a, b in values]


def test_json_objects_of_sliced_and_chunked_columns() -> None:
    # the escape check scans whole buffers: a slice or a later chunk must still be right
    sliced = pa.table({"a": pa.array(['x"y', "plain", "tab\there"]).slice(1)})
    assert [json.loads(t) for t in json_objects(sliced).to_pylist()] == [
        {"a": "plain"},
        {"a": "tab\there"},
    ]
    chunked = pa.table({"a": pa.chunked_array([["plain"], ['q"uote', None]])})
    assert json_objects(chunked).to_pylist() == ['{"a":"plain"}', '{"a":"q\\"uote"}', '{"a":null}']
