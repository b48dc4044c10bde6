"""Loading reports: batches, staging by COPY, the merge into ``reports``, rejects, raw rows,
and the counts of ``fix2go stats``.

One ingest batch is one transaction (the caller's): a batch row; per chunk, the ids already
known are looked up, new rows are COPied (psycopg 3) straight into ``reports``, rows whose
content changed go through a temporary staging table and an UPDATE (with status history),
unchanged rows are only counted; the rejects and the raw rows are COPied too. Concurrent
ingests of one source serialise on a transaction-level advisory lock, so overlapping files
neither deadlock nor duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from spatial.crs import METRIC_EPSG
from spatial.errors import BoundaryError
from spatial.postgis.engine import raw_connection
from spatial.routing import ROUTING_COLUMNS

STAGING_TABLE = "ingest_staging"

STAGING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row_number", "integer"),
    ("source_id", "text"),
    ("category", "text"),
    ("description", "text"),
    ("reporter_pseudonym", "text"),
    ("channel", "text"),
    ("photo_url", "text"),
    ("status", "text"),
    ("reported_at", "timestamptz"),
    ("flags", "text[]"),
    ("lat", "double precision"),
    ("lng", "double precision"),
    ("governorate_code", "text"),
    ("authority_code", "text"),
    ("agency_code", "text"),
    ("routing_confidence", "double precision"),
    ("routing_reason", "text"),
    ("routing_status", "text"),
    ("place_en", "text"),
    ("place_ar", "text"),
    ("h3_cell", "bigint"),
    ("content_hash", "text"),
)
"""Columns of the staging table (changed rows), in COPY order."""

NEW_REPORT_COLUMNS = (
    "source",
    "source_id",
    "category",
    "description",
    "reporter_pseudonym",
    "channel",
    "photo_url",
    "status",
    "reported_at",
    "flags",
    "content_hash",
    *ROUTING_COLUMNS,
    "h3_cell",
    "batch_id",
    "geom",
)
"""Columns COPied straight into ``reports`` for new rows (``geom`` as hex EWKB)."""


@dataclass(frozen=True)
class MergeCounts:
    """Outcome of merging one batch's staged rows into ``reports``."""

    new: int
    updated: int
    unchanged: int
    status_changes: int


def lock_source(conn: Connection, source: str) -> None:
    """Serialise loads of ``source`` until the end of the current transaction."""
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"fix2go.ingest:{source}"},
    )


def create_batch(
    conn: Connection, *, source: str, file_name: str, file_sha256: str, fmt: str
) -> int:
    """Insert the ``ingest_batches`` row of a new batch and return its id."""
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO ingest_batches (source, file_name, file_sha256, format) "
                "VALUES (:s, :f, :h, :fmt) RETURNING id"
            ),
            {"s": source, "f": file_name, "h": file_sha256, "fmt": fmt},
        ).scalar_one()
    )


def finish_batch(
    conn: Connection,
    batch_id: int,
    *,
    n_in: int,
    new: int,
    updated: int,
    unchanged: int,
    rejected: int,
) -> None:
    """Store the batch counts (the table checks ``in = new + updated + unchanged + rejected``)."""
    conn.execute(
        sa.text(
            "UPDATE ingest_batches SET n_in = :i, n_new = :n, n_updated = :u, "
            "n_unchanged = :c, n_rejected = :r, finished_at = clock_timestamp() WHERE id = :b"
        ),
        {"i": n_in, "n": new, "u": updated, "c": unchanged, "r": rejected, "b": batch_id},
    )


def create_staging(conn: Connection) -> None:
    """Create the (temporary, dropped at commit) staging table of this transaction."""
    cols = ", ".join(f"{name} {typ}" for name, typ in STAGING_COLUMNS)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{STAGING_TABLE}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING_TABLE} ({cols}) ON COMMIT DROP")


@dataclass(frozen=True)
class CopyPayload:
    """Rows encoded for one ``COPY target (columns) FROM STDIN``: built without a database
    (so an ingest can encode on one thread while another thread loads), sent by
    :func:`copy_payload`."""

    target: str
    columns: tuple[str, ...]
    options: str
    """The COPY options, e.g. ``(FORMAT csv)``; empty for the text format."""
    parts: tuple[Any, ...]
    """The data, as bytes-like pieces sent in order (Arrow buffers are sent without a copy)."""
    rows: int


def csv_payload(target: str, columns: Sequence[str], table: pa.Table) -> CopyPayload:
    """An Arrow table's ``columns`` (in that order) as a CSV COPY into ``target``."""
    sink = pa.BufferOutputStream()
    if table.num_rows:
        pacsv.write_csv(
            table.select(list(columns)),
            sink,
            write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
        )
    return CopyPayload(target, tuple(columns), "(FORMAT csv)", (sink.getvalue(),), table.num_rows)


def copy_payload(conn: Connection, payload: CopyPayload) -> None:
    """Send one payload by COPY on ``conn`` (nothing when it has no row)."""
    if payload.rows == 0:
        return
    sql = f"COPY {payload.target} ({', '.join(payload.columns)}) FROM STDIN {payload.options}"
    with raw_connection(conn).cursor() as cur, cur.copy(sql) as cp:
        for part in payload.parts:
            cp.write(memoryview(part))  # psycopg splits large buffers itself


def copy_staging(conn: Connection, table: pa.Table) -> None:
    """COPY prepared rows (columns :data:`STAGING_COLUMNS`, in order) into the staging table."""
    copy_payload(conn, csv_payload(STAGING_TABLE, [n for n, _ in STAGING_COLUMNS], table))


REJECT_COLUMNS = ("batch_id", "row_number", "reason", "detail")
"""Columns of ``ingest_rejects`` an ingest writes."""


def rejects_payload(table: pa.Table) -> CopyPayload:
    """Rejects (:data:`REJECT_COLUMNS`) as a COPY into ``ingest_rejects``."""
    return csv_payload("ingest_rejects", REJECT_COLUMNS, table)


_TEXT_COPY_ESCAPES = ((92, "\\", "\\\\"), (9, "\t", "\\t"), (10, "\n", "\\n"), (13, "\r", "\\r"))
"""COPY text-format escapes, backslash first: the byte, the character, its replacement."""

RAW_BLOCK_COLUMNS = ("batch_id", "first_row", "rows")
"""Columns of ``raw_row_blocks`` (sql/007)."""


def raw_rows_payload(table: pa.Table) -> CopyPayload:
    """Raw rows (``batch_id, row_number, raw`` JSON text) as one block of the restricted
    ``raw_row_blocks``: a JSON array of the rows, in order (sql/007).

    The rows must be consecutive rows of one batch (one chunk of a file). Administrators read
    them back one per row, verbatim, through the ``raw_rows`` view. One COPY line in text
    format, built vectorised: each row's text escaped for COPY (backslashes and control
    characters only, and only the escapes present; JSON's double quotes pass as they are),
    the rows joined by commas.

    Raises
    ------
    ValueError
        When the rows are not consecutive rows of one batch.
    """
    if table.num_rows == 0:
        return CopyPayload("raw_row_blocks", RAW_BLOCK_COLUMNS, "", (), 0)
    batches = pc.unique(table.column("batch_id")).to_pylist()
    numbers = table.column("row_number").to_numpy()
    first = int(numbers[0])
    if len(batches) != 1 or not np.array_equal(numbers, np.arange(first, first + len(numbers))):
        raise ValueError("raw_rows_payload: a block holds consecutive rows of one batch")
    raw = table.column("raw").combine_chunks().cast(pa.string())
    body = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(raw)], pa.int32()), raw), ",")
    text = _string_bytes(body)
    # one look at the bytes tells which escapes are needed at all (JSON text rarely holds a
    # raw control character; backslashes only where it escapes something)
    present = [esc for esc in _TEXT_COPY_ESCAPES if (text == esc[0]).any()]
    if present:
        for _, plain, escaped in present:
            body = pc.replace_substring(body, plain, escaped)
        text = _string_bytes(body)
    parts = (f"{batches[0]}\t{first}\t[".encode(), text, b"]\n")
    return CopyPayload("raw_row_blocks", RAW_BLOCK_COLUMNS, "", parts, len(raw))


def _string_bytes(one: pa.Array) -> npt.NDArray[np.uint8]:
    """The UTF-8 bytes of the single value of a string array, without a copy."""
    lo, hi = np.frombuffer(one.buffers()[1], dtype=np.int32, count=2, offset=one.offset * 4)
    data = one.buffers()[2]
    return np.frombuffer(data, dtype=np.uint8)[lo:hi] if data is not None else np.empty(0, np.uint8)


def existing_hashes(conn: Connection, source: str, source_ids: list[str]) -> dict[str, str]:
    """``source_id -> content_hash`` of the given ids already in ``reports`` for ``source``."""
    if not source_ids:
        return {}
    rows = conn.execute(
        sa.text(
            "SELECT source_id, content_hash FROM reports "
            "WHERE source = :src AND source_id = ANY(:ids)"
        ),
        {"src": source, "ids": source_ids},
    )
    return {str(r[0]): str(r[1]) for r in rows}


def new_reports_payload(table: pa.Table) -> CopyPayload:
    """New rows (columns :data:`NEW_REPORT_COLUMNS`, ``geom`` as hex EWKB) as a COPY into
    ``reports``."""
    return csv_payload("reports", NEW_REPORT_COLUMNS, table)


def merge_changed(conn: Connection, *, source: str, batch_id: int) -> MergeCounts:
    """Apply the staged rows (existing ids whose content changed) to ``reports``.

    Status, description, photo, flags, position, category and routing are refreshed,
    ``updated_at`` set, a ``report_status_history`` row added when the status changed, and
    the incident link cleared when the position, category or time changed (dedup places it
    again). The staging table is emptied afterwards.
    """
    params = {"src": source, "b": batch_id}
    status_changes = conn.execute(
        sa.text(
            "INSERT INTO report_status_history (report_id, status, changed_at, batch_id) "
            f"SELECT r.id, s.status, now(), :b FROM {STAGING_TABLE} s "
            "JOIN reports r ON r.source = :src AND r.source_id = s.source_id "
            "WHERE r.status IS DISTINCT FROM s.status "
            "ON CONFLICT DO NOTHING"
        ),
        params,
    ).rowcount
    updated = conn.execute(
        sa.text(
            "UPDATE reports r SET "
            " status = s.status, description = s.description, "
            " reporter_pseudonym = s.reporter_pseudonym, channel = s.channel, "
            " photo_url = s.photo_url, flags = s.flags, category = s.category, "
            " reported_at = s.reported_at, "
            " geom = ST_SetSRID(ST_MakePoint(s.lng, s.lat), 4326), "
            " governorate_code = s.governorate_code, authority_code = s.authority_code, "
            " agency_code = s.agency_code, routing_confidence = s.routing_confidence, "
            " routing_reason = s.routing_reason, routing_status = s.routing_status, "
            " place_en = s.place_en, place_ar = s.place_ar, h3_cell = s.h3_cell, "
            " incident_id = CASE WHEN r.category = s.category AND r.reported_at = s.reported_at "
            "   AND ST_Equals(r.geom, ST_SetSRID(ST_MakePoint(s.lng, s.lat), 4326)) "
            "   THEN r.incident_id END, "
            " content_hash = s.content_hash, updated_at = now() "
            f"FROM {STAGING_TABLE} s "
            "WHERE r.source = :src AND r.source_id = s.source_id "
            "AND r.content_hash IS DISTINCT FROM s.content_hash"
        ),
        params,
    ).rowcount
    conn.exec_driver_sql(f"TRUNCATE {STAGING_TABLE}")
    return MergeCounts(
        new=0, updated=int(updated or 0), unchanged=0, status_changes=int(status_changes or 0)
    )


def has_reports(conn: Connection, source: str | None = None) -> bool:
    """Whether ``reports`` holds any row (of ``source`` when given) visible to this
    transaction."""
    if source is None:
        return bool(conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM reports)")).scalar_one())
    return bool(
        conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM reports WHERE source = :src)"), {"src": source}
        ).scalar_one()
    )


def flag_shared_coordinates(
    conn: Connection,
    lat: npt.ArrayLike,
    lng: npt.ArrayLike,
    min_reporters: int,
    flag: str,
) -> int:
    """Add ``flag`` to every report at one of these exact coordinates where, over all reports
    of every source and batch, at least ``min_reporters`` different reporters sent one (a
    missing reporter counts as one); returns the number of reports newly flagged.

    The rule of ``ingest.validate.suspect_location_mask`` applied across batches: a
    placeholder geocode that gathers its reports over several exports. Each coordinate is one
    look-up in the GiST index of ``reports.geom`` (then compared exactly).
    """
    xs = np.asarray(lng, dtype=float).tolist()
    ys = np.asarray(lat, dtype=float).tolist()
    if not xs:
        return 0
    res = conn.execute(
        sa.text(
            "WITH c AS (SELECT x, y, ST_SetSRID(ST_MakePoint(x, y), 4326) AS pt "
            "           FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS u (x, y)), "
            "     shared AS (SELECT c.x, c.y, c.pt FROM c JOIN reports q ON q.geom && c.pt "
            "                AND ST_X(q.geom) = c.x AND ST_Y(q.geom) = c.y "
            "                GROUP BY c.x, c.y, c.pt "
            "                HAVING count(DISTINCT coalesce(q.reporter_pseudonym, '')) >= :m) "
            "UPDATE reports r SET flags = array_append(r.flags, :f) FROM shared s "
            "WHERE r.geom && s.pt AND ST_X(r.geom) = s.x AND ST_Y(r.geom) = s.y "
            "AND NOT (:f = ANY (r.flags))"
        ),
        {"xs": xs, "ys": ys, "m": min_reporters, "f": flag},
    )
    return int(res.rowcount or 0)


def add_flag(conn: Connection, source: str, source_ids: list[str], flag: str) -> int:
    """Add ``flag`` to the reports of ``source`` with these ids (where not set yet); returns
    the number of reports newly flagged."""
    if not source_ids:
        return 0
    res = conn.execute(
        sa.text(
            "UPDATE reports SET flags = array_append(flags, :f) "
            "WHERE source = :src AND source_id = ANY(:ids) AND NOT (:f = ANY (flags))"
        ),
        {"f": flag, "src": source, "ids": source_ids},
    )
    return int(res.rowcount or 0)


def read_region(conn: Connection, coastal_tolerance_m: float) -> BaseGeometry:
    """The deployment region: the current governorates' union buffered by
    ``coastal_tolerance_m`` metres (in UTM 39N), as a prepared EPSG:4326 geometry.

    Raises
    ------
    BoundaryError
        When no governorates are loaded.
    """
    wkb = conn.execute(
        sa.text(
            "SELECT ST_AsBinary(ST_Transform(ST_Buffer(ST_Transform(ST_Union(geom), :metric), "
            ":tol, 'quad_segs=4'), 4326)) FROM governorates WHERE is_current"
        ),
        {"metric": METRIC_EPSG, "tol": float(coastal_tolerance_m)},
    ).scalar_one()
    if wkb is None:
        raise BoundaryError(
            "no current governorates in the database, so the deployment region is unknown; "
            "load them with `fix2go boundaries load FILE --layer governorates`"
        )
    region = shapely.from_wkb(bytes(wkb))
    shapely.prepare(region)
    return region


def batch_rejects_by_reason(conn: Connection, batch_id: int) -> dict[str, int]:
    """Reject counts per reason code of one batch."""
    rows = conn.execute(
        sa.text(
            "SELECT reason, count(*) FROM ingest_rejects WHERE batch_id = :b "
            "GROUP BY reason ORDER BY reason"
        ),
        {"b": batch_id},
    )
    return {str(r[0]): int(r[1]) for r in rows}


def ingest_stats(conn: Connection) -> dict[str, Any]:
    """The counts of ``fix2go stats``: reports, incidents, batches (with outcome totals),
    rejects by reason, reports by governorate and by agency, triage and unroutable reports,
    and flagged reports by flag. No personal data."""

    def kv(sql: str) -> dict[str, int]:
        return {str(k) if k is not None else "none": int(v) for k, v in conn.execute(sa.text(sql))}

    totals = conn.execute(
        sa.text(
            "SELECT count(*), coalesce(sum(n_in), 0), coalesce(sum(n_new), 0), "
            "coalesce(sum(n_updated), 0), coalesce(sum(n_unchanged), 0), "
            "coalesce(sum(n_rejected), 0) FROM ingest_batches WHERE finished_at IS NOT NULL"
        )
    ).one()
    return {
        "reports": int(conn.execute(sa.text("SELECT count(*) FROM reports")).scalar_one()),
        "incidents": int(conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()),
        "batches": int(totals[0]),
        "rows": {
            "in": int(totals[1]),
            "new": int(totals[2]),
            "updated": int(totals[3]),
            "unchanged": int(totals[4]),
            "rejected": int(totals[5]),
        },
        "rejects_by_reason": kv(
            "SELECT reason, count(*) FROM ingest_rejects GROUP BY reason ORDER BY reason"
        ),
        "reports_by_status": kv(
            "SELECT status, count(*) FROM reports GROUP BY status ORDER BY status"
        ),
        "reports_by_governorate": kv(
            "SELECT governorate_code, count(*) FROM reports GROUP BY 1 ORDER BY 1"
        ),
        "reports_by_agency": kv("SELECT agency_code, count(*) FROM reports GROUP BY 1 ORDER BY 1"),
        "reports_by_routing_status": kv(
            "SELECT routing_status, count(*) FROM reports GROUP BY 1 ORDER BY 1"
        ),
        "triage_or_unroutable": int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM reports WHERE routing_status IN ('triage', 'unroutable')"
                )
            ).scalar_one()
        ),
        "flagged": kv("SELECT f, count(*) FROM reports, unnest(flags) AS f GROUP BY f ORDER BY f"),
    }
