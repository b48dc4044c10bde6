"""Integrity of what ingest writes: ``reports`` references one of the ten category codes (a
CHECK), an agency and a batch (a set-based check per statement, sql/007, in place of the
foreign keys, with their meaning): unknown values are refused, referenced parents cannot go,
also for a bulk COPY; and ``raw_rows`` keeps each input row verbatim as JSON (sql/006,
stored in blocks since sql/007)."""

from __future__ import annotations

import json
import re

import psycopg
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from spatial.categories import category_codes
from spatial.postgis.engine import raw_connection
from spatial.postgis.reports import copy_payload, raw_rows_payload


def _batch(conn: Connection) -> int:
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO ingest_batches (source, file_name, file_sha256, format) "
                "VALUES ('refs_test', 'x.csv', 'abc', 'csv') RETURNING id"
            )
        ).scalar_one()
    )


def _insert(
    conn: Connection,
    source_id: str,
    *,
    category: str = "pothole",
    agency: str | None = None,
    batch: int | None = None,
) -> int:
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO reports (source, source_id, category, agency_code, batch_id, "
                "reported_at, content_hash, geom) VALUES ('refs_test', :sid, :cat, :ag, :b, "
                "'2025-01-01T08:00:00+03', 'h', ST_SetSRID(ST_MakePoint(50.58, 26.22), 4326)) "
                "RETURNING id"
            ),
            {"sid": source_id, "cat": category, "ag": agency, "b": batch},
        ).scalar_one()
    )


_REFUSAL: dict[str, type[psycopg.Error]] = {
    "category": psycopg.errors.CheckViolation,
    "agency": psycopg.errors.ForeignKeyViolation,
    "batch": psycopg.errors.ForeignKeyViolation,
}
"""What refuses an unknown value: the category CHECK, the foreign keys."""


@pytest.fixture
def agency(conn: Connection) -> str:
    return str(conn.execute(sa.text("SELECT code FROM agencies ORDER BY code LIMIT 1")).scalar())


def test_known_references_are_accepted(conn: Connection, agency: str) -> None:
    batch = _batch(conn)
    rid = _insert(conn, "ok-1", agency=agency, batch=batch)
    _insert(conn, "ok-2")  # agency and batch may be null, as with the foreign keys
    conn.execute(sa.text("UPDATE reports SET status = 'closed' WHERE id = :i"), {"i": rid})
    n = conn.execute(
        sa.text("SELECT count(*) FROM reports WHERE source = 'refs_test'")
    ).scalar_one()
    assert n == 2


@pytest.mark.parametrize(
    ("column", "value"),
    [("category", "not_a_category"), ("agency", "NO_SUCH_AGENCY"), ("batch", -1)],
)
def test_insert_with_unknown_reference_is_refused(
    conn: Connection, column: str, value: object
) -> None:
    with pytest.raises(IntegrityError) as info, conn.begin_nested():
        _insert(conn, "bad-1", **{column: value})  # type: ignore[arg-type]
    assert isinstance(info.value.orig, _REFUSAL[column])


@pytest.mark.parametrize(
    ("column", "bad", "refusal"),
    [
        ("category", "pothle", psycopg.errors.CheckViolation),
        ("agency_code", "NO_SUCH_AGENCY", psycopg.errors.ForeignKeyViolation),
        ("batch_id", "-7", psycopg.errors.ForeignKeyViolation),
    ],
)
def test_copy_with_one_unknown_reference_among_many_is_refused(
    conn: Connection, agency: str, column: str, bad: str, refusal: type[psycopg.Error]
) -> None:
    batch = _batch(conn)
    good = {"category": "pothole", "agency_code": agency, "batch_id": str(batch)}
    rows = "".join(
        f"refs_test\tcopy-{i}\t"
        + "\t".join(bad if (c == column and i == 37) else good[c] for c in good)
        + "\t2025-01-01 08:00+03\th\t0101000020E6100000A4703D0AD74A49403889416DC4383A40\n"
        for i in range(100)
    )
    raw = raw_connection(conn)
    columns = "source, source_id, category, agency_code, batch_id, reported_at, content_hash, geom"
    with (
        pytest.raises(refusal),
        conn.begin_nested(),
        raw.cursor() as cur,
        cur.copy(f"COPY reports ({columns}) FROM STDIN") as cp,
    ):
        cp.write(rows)
    n = conn.execute(
        sa.text("SELECT count(*) FROM reports WHERE source = 'refs_test'")
    ).scalar_one()
    assert n == 0


@pytest.mark.parametrize(
    ("column", "assignment", "value"),
    [
        ("category", "category = :v", "not_a_category"),
        ("agency", "agency_code = :v", "NOPE"),
        ("batch", "batch_id = :v", -5),
    ],
)
def test_update_to_unknown_reference_is_refused(
    conn: Connection, column: str, assignment: str, value: object
) -> None:
    rid = _insert(conn, "upd-1")
    with pytest.raises(IntegrityError) as info, conn.begin_nested():
        conn.execute(
            sa.text(f"UPDATE reports SET {assignment} WHERE id = :i"), {"v": value, "i": rid}
        )
    assert isinstance(info.value.orig, _REFUSAL[column])


def test_category_check_lists_the_contract_codes(conn: Connection) -> None:
    # the CHECKs of reports and categories (sql/007) name exactly the ten codes of the contract
    for name in ("reports_category_known", "categories_code_known"):
        definition = conn.execute(
            sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
            {"n": name},
        ).scalar_one()
        assert set(re.findall(r"'([a-z_]+)'::text", definition)) == set(category_codes()), name


def test_a_category_in_use_cannot_go(conn: Connection) -> None:
    _insert(conn, "cat-1", category="sewage")
    with pytest.raises(DBAPIError) as info, conn.begin_nested():
        conn.execute(sa.text("DELETE FROM routing_rules WHERE category = 'sewage'"))
        conn.execute(sa.text("DELETE FROM categories WHERE code = 'sewage'"))
    assert isinstance(info.value.orig, psycopg.errors.ForeignKeyViolation)
    assert "still referenced" in str(info.value.orig)
    # a rename is refused too (no eleventh code: the CHECK of categories)
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(sa.text("UPDATE categories SET code = 'sewer' WHERE code = 'sewage'"))
    # a name change of a category in use is fine
    conn.execute(sa.text("UPDATE categories SET name_en = 'Sewage' WHERE code = 'sewage'"))


def test_referenced_parents_cannot_go(conn: Connection) -> None:
    # a fresh agency and batch, referenced by this report only: the refusal is the foreign key's
    conn.execute(
        sa.text(
            "INSERT INTO agencies (code, name_en, name_ar, kind) "
            "VALUES ('refs_test_agency', 'Test', 'اختبار', 'authority')"
        )
    )
    batch = _batch(conn)
    _insert(conn, "par-1", agency="refs_test_agency", batch=batch)
    for sql in [
        "DELETE FROM ingest_batches WHERE id = :k",
        "UPDATE ingest_batches SET id = -99 WHERE id = :k",
        "DELETE FROM agencies WHERE code = 'refs_test_agency'",
        "UPDATE agencies SET code = 'refs_renamed' WHERE code = 'refs_test_agency'",
    ]:
        with pytest.raises(DBAPIError) as info, conn.begin_nested():
            conn.execute(sa.text(sql), {"k": batch})
        assert isinstance(info.value.orig, psycopg.errors.ForeignKeyViolation), sql
        assert "still referenced" in str(info.value.orig), sql
    # an unreferenced batch may go, and a non-key update of a referenced one is fine
    other = _batch(conn)
    conn.execute(sa.text("DELETE FROM ingest_batches WHERE id = :k"), {"k": other})
    conn.execute(sa.text("UPDATE ingest_batches SET n_in = 0 WHERE id = :k"), {"k": batch})
    n = conn.execute(
        sa.text("SELECT count(*) FROM ingest_batches WHERE id IN (:a, :b)"),
        {"a": batch, "b": other},
    ).scalar_one()
    assert n == 1


def test_raw_rows_keep_the_row_verbatim_and_refuse_non_json(conn: Connection) -> None:
    batch = _batch(conn)
    text = '{"report_id": "R-1", "b": 1, "a": "\u0634\u0627\u0631\u0639"}'
    conn.execute(
        sa.text("INSERT INTO raw_row_blocks (batch_id, first_row, rows) VALUES (:b, 7, :r)"),
        {"b": batch, "r": f"[{text},\n  {text}]"},
    )
    stored = conn.execute(
        sa.text("SELECT row_number, raw::text FROM raw_rows WHERE batch_id = :b ORDER BY 1"),
        {"b": batch},
    ).all()
    assert [tuple(r) for r in stored] == [(7, text), (8, text)]  # json keeps order and spacing
    for bad in ['[{"report_id": ]', '{"report_id": "R-1"}']:  # not JSON; not an array
        with pytest.raises(DBAPIError) as info, conn.begin_nested():
            conn.execute(
                sa.text(
                    "INSERT INTO raw_row_blocks (batch_id, first_row, rows) VALUES (:b, 9, :r)"
                ),
                {"b": batch, "r": bad},
            )
        assert isinstance(
            info.value.orig,
            (psycopg.errors.InvalidTextRepresentation, psycopg.errors.CheckViolation),
        ), bad


def test_raw_rows_payload_takes_consecutive_rows_of_one_batch(conn: Connection) -> None:
    batch = _batch(conn)
    table = pa.table(
        {
            "batch_id": pa.array([batch] * 2, pa.int64()),
            "row_number": pa.array([1, 3], pa.int64()),
            "raw": pa.array(["{}", "{}"], pa.string()),
        }
    )
    with pytest.raises(ValueError, match="consecutive rows of one batch"):
        copy_payload(conn, raw_rows_payload(table))


def test_raw_rows_payload_keeps_backslashes_control_escapes_and_quotes(conn: Connection) -> None:
    batch = _batch(conn)
    texts = [
        '{"description": "line1\\nline2\\ttab \\\\ back \\"quoted\\" ; , |"}',
        '{"path": "C:\\\\Users\\\\x", "ar": "حفرة في الشارع"}',
        json.dumps({"weird": "a\\b\tc\nd\re \\N"}),
        '{"empty": ""}',
        '{\n\t"pretty": 1,\r\n "x": "\\\\N"\n}',  # raw newlines, tab, CR between tokens
    ]
    table = pa.table(
        {
            "batch_id": pa.array([batch] * len(texts), pa.int64()),
            "row_number": pa.array(range(1, len(texts) + 1), pa.int64()),
            "raw": pa.array(texts, pa.string()),
        }
    )
    copy_payload(conn, raw_rows_payload(table))
    stored = conn.execute(
        sa.text("SELECT raw::text FROM raw_rows WHERE batch_id = :b ORDER BY row_number"),
        {"b": batch},
    ).scalars()
    assert list(stored) == texts
