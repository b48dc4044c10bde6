"""The ingest pipeline against a real PostGIS: accounting, privacy, idempotency, updates."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from ingest.errors import UnreadableFileError
from ingest.generate import generate, write_export
from ingest.pipeline import IngestConfig, ingest_file
from spatial.postgis.reports import ingest_stats

KEY = b"test-key-0123456789abcdef0123456789"
NOW = pd.Timestamp("2026-12-04", tz="UTC")
SRC = "pipeline_tests"  # not the default source: other tests may commit generated ids


@pytest.fixture(scope="module")
def gen():  # type: ignore[no-untyped-def]
    return generate(600, seed=5)


@pytest.fixture(scope="module")
def gen_suspect():  # type: ignore[no-untyped-def]
    """Large enough for a placeholder-geocode group (>= 6 bad rows per kind)."""
    g = generate(2000, seed=5, bad_row_share=0.04)
    assert (g.truth["expected_outcome"] == "flagged:suspect_location").sum() >= 6
    return g


def q(conn, sql: str, **p):  # type: ignore[no-untyped-def]
    return conn.execute(sa.text(sql), p).scalar_one()


def outcomes(conn, batch_id: int) -> pd.Series:  # type: ignore[no-untyped-def]
    rej = pd.read_sql(
        sa.text("SELECT row_number, reason FROM ingest_rejects WHERE batch_id = :b"),
        conn,
        params={"b": batch_id},
    )
    return rej.set_index("row_number")["reason"]


def test_ingest_accounts_for_every_row(conn, gen, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    gen.write(path)
    s = ingest_file(conn, path, key=KEY, now=NOW, source=SRC)
    truth = gen.truth
    assert s.n_in == len(truth) == s.n_new + s.n_updated + s.n_unchanged + s.n_rejected
    expected_rejects = truth[truth["expected_outcome"].str.startswith("rejected:")]
    assert s.n_rejected == len(expected_rejects)
    got = outcomes(conn, s.batch_id)
    exp = expected_rejects.set_index("row_number")["expected_outcome"].str.slice(len("rejected:"))
    pd.testing.assert_series_equal(
        got.sort_index(), exp.sort_index(), check_names=False, check_index_type=False
    )
    assert q(conn, "SELECT n_in FROM ingest_batches WHERE id = :b", b=s.batch_id) == s.n_in
    assert q(conn, "SELECT count(*) FROM raw_rows WHERE batch_id = :b", b=s.batch_id) == s.n_in
    assert q(conn, "SELECT count(*) FROM reports WHERE batch_id = :b", b=s.batch_id) == s.n_new
    # repairs and flags stored
    for kind in ("swapped_coordinates", "non_latin_digits", "naive_timestamp", "suspect_location"):
        n_exp = int((truth["expected_outcome"].str.endswith(":" + kind)).sum())
        n_got = q(
            conn,
            "SELECT count(*) FROM reports WHERE batch_id = :b AND :f = ANY(flags)",
            b=s.batch_id,
            f=kind,
        )
        assert n_got == n_exp, kind
    # routed and gridded
    assert (
        q(
            conn,
            "SELECT count(*) FROM reports WHERE batch_id = :b AND h3_cell IS NULL",
            b=s.batch_id,
        )
        == 0
    )
    assert (
        q(
            conn,
            "SELECT count(*) FROM reports WHERE batch_id = :b AND governorate_code IS NOT NULL",
            b=s.batch_id,
        )
        > 0.95 * s.n_new
    )


def test_no_personal_data_in_reports_or_rejects(conn, gen, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    gen.write(path)
    s = ingest_file(conn, path, key=KEY, now=NOW, source=SRC)
    desc = pd.read_sql(
        sa.text("SELECT description, reporter_pseudonym FROM reports WHERE batch_id = :b"),
        conn,
        params={"b": s.batch_id},
    )
    text = " ".join(desc["description"].dropna())
    assert "@" not in text
    assert (
        not desc["description"]
        .dropna()
        .str.contains(r"\d{4} ?\d{4}|[٠-٩]{8}|\d{9}", regex=True)
        .any()
    )
    assert "[phone]" in text or "[email]" in text or "[id]" in text
    raw_ids = set(gen.reports["reporter_id"])
    assert not set(desc["reporter_pseudonym"].dropna()) & raw_ids
    assert desc["reporter_pseudonym"].dropna().str.fullmatch("[0-9a-f]{64}").all()
    details = " ".join(
        pd.read_sql(
            sa.text("SELECT detail FROM ingest_rejects WHERE batch_id = :b"),
            conn,
            params={"b": s.batch_id},
        )["detail"].dropna()
    )
    assert not any(r in details for r in raw_ids if len(r) > 6)
    # the raw row (restricted table) keeps the original
    raw = q(conn, "SELECT raw FROM raw_rows WHERE batch_id = :b AND row_number = 1", b=s.batch_id)
    assert raw["report_id"] == gen.reports["report_id"].iloc[0]


def test_same_file_twice_adds_nothing(conn, gen, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    gen.write(path)
    first = ingest_file(conn, path, key=KEY, now=NOW, source=SRC)
    n_reports = q(conn, "SELECT count(*) FROM reports")
    second = ingest_file(conn, path, key=KEY, now=NOW, source=SRC)
    assert (second.n_new, second.n_updated) == (0, 0)
    assert second.n_unchanged == first.n_new
    assert second.n_rejected == first.n_rejected
    assert q(conn, "SELECT count(*) FROM reports") == n_reports


def test_overlapping_file_adds_only_new_rows(conn, gen, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_export(gen.reports.iloc[:400], a)
    write_export(gen.reports.iloc[300:], b)
    s1 = ingest_file(conn, a, key=KEY, now=NOW, source=SRC)
    s2 = ingest_file(conn, b, key=KEY, now=NOW, source=SRC)
    both = ingest_file(conn, tmp_path / "a.csv", key=KEY, now=NOW, source=SRC)
    assert both.n_new == 0
    total_new = q(
        conn,
        "SELECT count(*) FROM reports WHERE source = 'pipeline_tests' AND batch_id IN (:x, :y)",
        x=s1.batch_id,
        y=s2.batch_id,
    )
    assert s1.n_new + s2.n_new == total_new
    assert s2.n_unchanged > 0 and s2.n_new > 0
    ids = pd.read_sql(
        sa.text("SELECT source_id FROM reports WHERE batch_id IN (:x, :y)"),
        conn,
        params={"x": s1.batch_id, "y": s2.batch_id},
    )
    assert ids["source_id"].is_unique


def test_changed_status_updates_with_history(conn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    g = generate(60, seed=9, bad_row_share=0.0)
    p1, p2 = tmp_path / "v1.csv", tmp_path / "v2.csv"
    rep = g.reports.copy()
    rep["status"] = "open"
    write_export(rep, p1)
    s1 = ingest_file(conn, p1, key=KEY, now=NOW, source=SRC)
    rep.loc[rep.index[:10], "status"] = "closed"
    write_export(rep, p2)
    s2 = ingest_file(conn, p2, key=KEY, now=NOW, source=SRC)
    assert (s2.n_new, s2.n_updated, s2.n_unchanged) == (0, 10, s1.n_new - 10)
    changed = pd.read_sql(
        sa.text(
            "SELECT r.source_id, r.status, h.status AS h_status, h.batch_id FROM reports r JOIN report_status_history h ON h.report_id = r.id WHERE h.batch_id = :b"
        ),
        conn,
        params={"b": s2.batch_id},
    )
    assert sorted(changed["source_id"]) == sorted(rep["report_id"].iloc[:10])
    assert (changed["status"] == "closed").all() and (changed["h_status"] == "closed").all()


def test_unreadable_file_raises_and_loads_nothing(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_bytes(b"report_id,created_at\n1,2\n")
    with engine.connect() as c:
        before = q(c, "SELECT count(*) FROM ingest_batches")
    with pytest.raises(UnreadableFileError, match="missing required column"), engine.begin() as c:
        ingest_file(c, path, key=KEY, now=NOW, source=SRC)
    with engine.connect() as c:
        assert q(c, "SELECT count(*) FROM ingest_batches") == before


@pytest.mark.parametrize("ext", [".json", ".geojson", ".parquet"])
def test_other_formats_load(conn, gen, tmp_path, ext) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"export{ext}"
    write_export(gen.reports, path)
    s = ingest_file(conn, path, key=KEY, now=NOW, source=f"src{ext}")
    assert s.n_in == len(gen.reports)
    assert s.n_new > 0.9 * s.n_in
    assert s.n_new + s.n_rejected + s.n_updated + s.n_unchanged == s.n_in


def test_small_chunks_same_outcome_and_cross_chunk_suspect(conn, gen_suspect, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    gen_suspect.write(path)
    s = ingest_file(
        conn, path, key=KEY, now=NOW, source="chunked", config=IngestConfig(chunk_rows=37)
    )
    n_suspect = int((gen_suspect.truth["expected_outcome"] == "flagged:suspect_location").sum())
    assert s.flags.get("suspect_location", 0) == n_suspect > 0
    assert s.n_rejected == int(
        gen_suspect.truth["expected_outcome"].str.startswith("rejected:").sum()
    )


def test_stats(conn, gen, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    gen.write(path)
    s = ingest_file(conn, path, key=KEY, now=NOW, source=SRC)
    st = ingest_stats(conn)
    assert st["reports"] >= s.n_new
    assert (
        st["rejects_by_reason"]["duplicate_in_batch"] >= s.rejects_by_reason["duplicate_in_batch"]
    )
    assert sum(st["reports_by_governorate"].values()) == st["reports"]
    json.dumps(st)


def test_encoding_error_deep_in_file_loads_nothing(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    g = generate(300, seed=4, bad_row_share=0.0)
    path = tmp_path / "deep.csv"
    write_export(g.reports, path)
    path.write_bytes(path.read_bytes() + b"X,2026-01-01T00:00:00Z,26.2,50.5,\xff\n")
    with engine.connect() as c:
        before = q(c, "SELECT count(*) FROM reports WHERE source = 'deep_err'")
    with pytest.raises(UnreadableFileError, match="not UTF-8"), engine.begin() as c:
        ingest_file(
            c, path, key=KEY, now=NOW, source="deep_err", config=IngestConfig(chunk_rows=50)
        )
    with engine.connect() as c:
        assert q(c, "SELECT count(*) FROM reports WHERE source = 'deep_err'") == before == 0
        assert q(c, "SELECT count(*) FROM ingest_batches WHERE source = 'deep_err'") == 0


def test_loader_failure_propagates(conn, gen, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from spatial.postgis import reports as db

    send = db.copy_payload

    def broken(conn, payload):  # type: ignore[no-untyped-def]
        if payload.target == "raw_row_blocks":
            raise RuntimeError("disk full (simulated)")
        send(conn, payload)

    monkeypatch.setattr(db, "copy_payload", broken)
    path = tmp_path / "export.csv"
    gen.write(path)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(
            conn, path, key=KEY, now=NOW, source="loader_err", config=IngestConfig(chunk_rows=50)
        )


@pytest.mark.parametrize(("ext", "source"), [(".csv", "fix2go"), (".json", "open311")])
def test_default_source_per_format(conn, tmp_path, ext, source) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"one{ext}"
    write_export(generate(3, seed=1, bad_row_share=0.0).reports, path)
    s = ingest_file(conn, path, key=KEY, now=NOW)
    assert s.source == source


def test_suspect_location_python_and_sql_agree(conn, gen_suspect, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One chunk (validate's pandas rule only) and many chunks (the batch-wide pass)
    flag the same reports."""
    path = tmp_path / "export.csv"
    gen_suspect.write(path)
    one = ingest_file(conn, path, key=KEY, now=NOW, source="parity_one")
    many = ingest_file(
        conn, path, key=KEY, now=NOW, source="parity_many", config=IngestConfig(chunk_rows=29)
    )

    def flagged(batch_id: int) -> set[str]:
        rows = conn.execute(
            sa.text(
                "SELECT source_id FROM reports WHERE batch_id = :b "
                "AND 'suspect_location' = ANY(flags)"
            ),
            {"b": batch_id},
        )
        return {r[0] for r in rows}

    assert flagged(one.batch_id) == flagged(many.batch_id)
    assert (
        len(flagged(one.batch_id))
        == int((gen_suspect.truth["expected_outcome"] == "flagged:suspect_location").sum())
        > 0
    )


def test_content_hashes_are_stable_across_versions() -> None:
    """Stored hashes decide "unchanged" on a re-ingest: the values of these two rows were
    computed by the first version of ``content_hashes`` and must never change."""
    import datetime as dt

    import pyarrow as pa

    from ingest.pipeline import content_hashes

    utc = dt.UTC
    cols = {
        "category": pa.array(["pothole", "sewage"]),
        "description": pa.array(["حفرة", None]),
        "reporter_pseudonym": pa.array(["ab", None]),
        "channel": pa.array(["ios", "web"]),
        "photo_url": pa.array([None, "https://x/y.jpg"]),
        "status": pa.array(["open", "closed"]),
        "reported_at": pa.array(
            [
                dt.datetime(2025, 9, 30, 21, 2, 44, tzinfo=utc),
                dt.datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=utc),
            ],
            pa.timestamp("us", tz="UTC"),
        ),
        "lat": pa.array([26.2234567891, 26.1]),
        "lng": pa.array([50.5, 50.61234567]),
    }
    assert content_hashes(cols).to_pylist() == ["8139919995491985636", "10442329466581536495"]


def _csv(path, rows) -> None:  # type: ignore[no-untyped-def]
    header = "report_id,created_at,latitude,longitude,category,description,reporter_id,channel,photo_url,status\n"
    body = "".join(
        f"{rid},2026-11-0{i % 9 + 1}T08:00:00+03:00,{lat},{lng},pothole,حفرة,{who},ios,,open\n"
        for i, (rid, lat, lng, who) in enumerate(rows)
    )
    path.write_text(header + body, encoding="utf-8")


def test_suspect_location_across_batches(conn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A placeholder coordinate that gathers its reporters over two exports: below the rule's
    five reporters in each, flagged (in both batches) once the second arrives; a coordinate
    with fewer reporters stays unflagged."""
    p, other = (26.21013, 50.57021), (26.21502, 50.57503)
    first = [(f"X-{i}", *p, f"3600 00{i:02d}") for i in range(3)]
    first += [(f"X-q{i}", *other, f"3600 01{i:02d}") for i in range(2)]
    second = [(f"X-{i}", *p, f"3600 00{i:02d}") for i in range(3, 5)]
    second += [("X-q2", *other, "3600 0102")]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _csv(a, first)
    _csv(b, second)

    def flagged() -> dict[str, bool]:
        rows = conn.execute(
            sa.text(
                "SELECT source_id, 'suspect_location' = ANY(flags) FROM reports "
                "WHERE source = 'across' ORDER BY 1"
            )
        )
        return {r[0]: r[1] for r in rows}

    s1 = ingest_file(conn, a, key=KEY, now=NOW, source="across")
    assert s1.n_new == 5 and not any(flagged().values())
    s2 = ingest_file(conn, b, key=KEY, now=NOW, source="across")
    assert s2.n_new == 3
    got = flagged()
    assert {k for k, v in got.items() if v} == {f"X-{i}" for i in range(5)}
    assert s2.flags.get("suspect_location") == 5
    # a third export with one more report there: flagged on arrival, the others unchanged
    c = tmp_path / "c.csv"
    _csv(c, [("X-5", *p, "3600 0005")])
    s3 = ingest_file(conn, c, key=KEY, now=NOW, source="across")
    assert s3.flags.get("suspect_location") == 1 and flagged()["X-5"]
