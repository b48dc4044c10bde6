"""The ingest pipeline: read -> validate -> redact and pseudonymise -> route -> load.

One file is one batch and one database transaction (the caller's connection): the batch row,
the rejects, the raw rows and the reports are committed together or not at all, so a killed
ingest leaves nothing and running it again completes it. The file is streamed in chunks;
each chunk is prepared in vectorised pandas/Arrow on the calling thread (validated, redacted,
pseudonymised, routed, gridded, hashed and encoded for COPY) while a loader thread sends the
previous one under a per-source advisory lock: new rows straight into ``reports``, changed
rows through a staging table and an UPDATE, the rejects, and the raw rows as one block. At
the end, ``suspect_location`` is judged over the whole batch and against the reports already
loaded, and the batch counts are stored.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from ingest.privacy import pseudonymise, redact_descriptions
from ingest.readers import detect_format, file_sha256, read_chunks
from ingest.validate import (
    FLAGS,
    ValidationConfig,
    flags_column,
    suspect_location_mask,
    validate,
)
from spatial.ewkb import points_to_hex_ewkb
from spatial.grid import REPORT_H3_RESOLUTION, points_to_cells
from spatial.postgis import reports as db
from spatial.postgis.routing import read_boundary_layers
from spatial.routing import ROUTING_COLUMNS, BoundaryLayers, RoutingConfig, assign_jurisdiction

DEFAULT_SOURCES = {"csv": "fix2go", "geojson": "fix2go", "parquet": "fix2go", "open311": "open311"}
"""Source name of each format when ``--source`` is not given."""


@dataclass(frozen=True)
class IngestConfig:
    """Settings of one ingest (units in names)."""

    chunk_rows: int = 50_000
    coastal_tolerance_m: float = 1000.0
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    routing: RoutingConfig | None = None


@dataclass
class IngestSummary:
    """What happened to one file: the batch counts, rejects by reason, flags set."""

    batch_id: int
    source: str
    file: str
    format: str
    n_in: int
    n_new: int
    n_updated: int
    n_unchanged: int
    n_rejected: int
    rejects_by_reason: dict[str, int]
    flags: dict[str, int]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: read, prepare (validate, privacy, routing, H3), copy, merge."""

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-able values."""
        return asdict(self)


@dataclass(frozen=True)
class PreparedChunk:
    """One chunk ready for COPY: the staged (accepted) rows as an Arrow table, and they, the
    rejects and the raw rows encoded for COPY (on the preparing thread, so the loader thread
    only sends bytes)."""

    staged: pa.Table
    n_in: int
    rejects_by_reason: dict[str, int]
    flags: dict[str, int]
    reports_copy: db.CopyPayload
    """Every staged row as new reports (the loader re-encodes when some already exist)."""
    rejects_copy: db.CopyPayload
    raw_copy: db.CopyPayload
    suspect_keys: pd.DataFrame
    """Per staged row, what the batch-wide ``suspect_location`` pass needs (:class:`_NewRows`)."""


def _str_array(values: pd.Series) -> pa.Array:
    arr = pa.array(values.astype("str"))
    return arr if arr.type == pa.string() else arr.cast(pa.string())


HASHED_COLUMNS = (
    "category",
    "description",
    "reporter_pseudonym",
    "channel",
    "photo_url",
    "status",
    "reported_at",
    "lat",
    "lng",
)
"""What "the same content" means: the fields the source gave (routing and flags derive)."""


def content_hashes(cols: dict[str, pa.Array]) -> pa.Array:
    """A stable 64-bit hash (decimal text) of each row's :data:`HASHED_COLUMNS`, joined by
    U+001F with nulls as empty (vectorised: ``pandas.util.hash_array``, fixed key).

    The text of each field is that of Arrow's cast to string (floats rounded to 7 decimals,
    timestamps as ``YYYY-MM-DD HH:MM:SS.ffffffZ``): stored hashes stay comparable across
    versions, so a re-ingested unchanged row stays ``unchanged``.
    """
    parts = []
    for name in HASHED_COLUMNS:
        col = cols[name]
        if pa.types.is_floating(col.type):
            col = pc.round(col, 7)
        if pa.types.is_timestamp(col.type):
            parts.append(_timestamp_text(col))
        else:
            parts.append(pc.cast(col, pa.string()))
    joined = pc.binary_join_element_wise(
        *parts, "\x1f", null_handling="replace", null_replacement=""
    )
    values = joined.to_numpy(zero_copy_only=False).astype(object)
    hashed = pd.util.hash_array(values, categorize=False)
    return pc.cast(pa.array(hashed, type=pa.uint64()), pa.string())


def _timestamp_text(col: pa.Array) -> pa.Array:
    """The text of Arrow's cast of a UTC microsecond timestamp to string, about twice as
    fast through numpy (``2025-09-30T21:02:44.000000`` -> ``2025-09-30 21:02:44.000000Z``)."""
    if col.null_count or col.type != pa.timestamp("us", tz="UTC"):
        return pc.cast(col, pa.string())
    micros = col.cast(pa.int64()).to_numpy().astype("datetime64[us]")
    iso = pa.array(np.datetime_as_string(micros, unit="us"))
    return pc.binary_join_element_wise(
        pc.replace_substring(iso, "T", " ", max_replacements=1), "Z", ""
    )


def prepare_chunk(
    frame: pd.DataFrame,
    *,
    batch_id: int,
    source: str,
    region: BaseGeometry,
    layers: BoundaryLayers,
    key: bytes,
    config: IngestConfig,
    now: pd.Timestamp | None = None,
    seen_ids: set[str] | None = None,
) -> PreparedChunk:
    """Validate, redact, pseudonymise, route and grid one canonical chunk (no database).

    Every input row ends in exactly one of ``staged`` (accepted) or ``rejects_copy``; every
    input row is in ``raw_copy``.
    """
    res = validate(frame, region, config.validation, now=now, seen_ids=seen_ids)
    acc = res.accepted
    gdf = gpd.GeoDataFrame(
        {"category": acc["category"].to_numpy(dtype=object)},
        geometry=gpd.points_from_xy(acc["lng"].to_numpy(), acc["lat"].to_numpy()),
        crs=4326,
    )
    routing = assign_jurisdiction(gdf, layers) if len(gdf) else None
    cells = points_to_cells(gdf, REPORT_H3_RESOLUTION)
    n = len(acc)
    cols: dict[str, pa.Array] = {
        "row_number": pa.array(acc["row_number"].to_numpy(dtype=np.int64)),
        "source_id": _str_array(acc["source_id"]),
        "category": _str_array(acc["category"]),
        "description": _str_array(redact_descriptions(acc["description"])),
        "reporter_pseudonym": _str_array(pseudonymise(acc["reporter_key"], key, normalised=True)),
        "channel": _str_array(acc["channel"]),
        "photo_url": _str_array(acc["photo_url"]),
        "status": _str_array(acc["status"]),
        "reported_at": pa.array(
            acc["reported_at"].to_numpy(dtype="datetime64[us]"), type=pa.timestamp("us", tz="UTC")
        ),
        "flags": _str_array(flags_column(acc)),
        "lat": pa.array(acc["lat"].to_numpy(dtype=float)),
        "lng": pa.array(acc["lng"].to_numpy(dtype=float)),
    }
    for name in ROUTING_COLUMNS:  # text columns, and the confidence as a float
        if name == "routing_confidence":
            cols[name] = (
                pa.array(routing[name].to_numpy(dtype=float), from_pandas=True)
                if routing is not None
                else pa.nulls(n, pa.float64())
            )
        else:
            cols[name] = (
                _str_array(routing[name]) if routing is not None else pa.nulls(n, pa.string())
            )
    cols["h3_cell"] = (
        pa.array(cells.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True).cast(
            pa.int64()
        )
        if n
        else pa.nulls(0, pa.int64())
    )
    cols["content_hash"] = content_hashes(cols)
    cols["source"] = pa.array([source] * n, type=pa.string())
    cols["batch_id"] = pa.array(np.full(n, batch_id, dtype=np.int64))
    cols["geom"] = points_to_hex_ewkb(cols["lng"].to_numpy(), cols["lat"].to_numpy(), 4326)
    staged = pa.table(cols)

    rej = res.rejects
    rejects = pa.table(
        {
            "batch_id": pa.array(np.full(len(rej), batch_id, dtype=np.int64)),
            "row_number": pa.array(rej["row_number"].to_numpy(dtype=np.int64)),
            "reason": _str_array(rej["reason"]),
            "detail": _str_array(redact_descriptions(rej["detail"])),
        }
    )
    raw = pa.table(
        {
            "batch_id": pa.array(np.full(len(frame), batch_id, dtype=np.int64)),
            "row_number": pa.array(frame["row_number"].to_numpy(dtype=np.int64)),
            "raw": _str_array(frame["raw"]),
        }
    )
    flags = {f: int(acc[f"flag_{f}"].sum()) for f in FLAGS if f"flag_{f}" in acc}
    return PreparedChunk(
        staged=staged,
        n_in=len(frame),
        rejects_by_reason={str(k): int(v) for k, v in rej["reason"].value_counts().items()},
        flags=flags,
        reports_copy=db.new_reports_payload(staged),
        rejects_copy=db.rejects_payload(rejects),
        raw_copy=db.raw_rows_payload(raw),
        suspect_keys=_NewRows.keys(staged),
    )


def ingest_file(
    conn: Connection,
    path: str | Path,
    *,
    key: bytes,
    fmt: str = "auto",
    source: str | None = None,
    config: IngestConfig | None = None,
    layers: BoundaryLayers | None = None,
    region: BaseGeometry | None = None,
    now: pd.Timestamp | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Ingest one file as one batch inside the caller's transaction on ``conn``.

    Parameters
    ----------
    conn
        A connection inside a transaction: commit it to keep the batch, roll back to drop it.
    path
        The input file.
    key
        Secret key of the reporter pseudonyms (``fix2go.secrets.pseudonym_key``).
    fmt
        ``auto``, ``csv``, ``open311``, ``geojson`` or ``parquet``.
    source
        Source name of the ids (default per format, :data:`DEFAULT_SOURCES`).
    config
        Chunk size, coastal tolerance, validation and routing settings.
    layers, region
        Prepared boundary layers and deployment region; read from the database when omitted.
    now
        Current time for the future-timestamp check (default: the wall clock).
    progress
        Called with the number of rows read so far after each chunk.

    Notes
    -----
    Chunks are prepared (validate, redact, pseudonymise, route, H3) on the calling thread
    while a loader thread COPies the previous chunk, so Python and the database work at the
    same time. The loader holds the per-source advisory lock from the first chunk to the
    end of the transaction.

    Returns
    -------
    IngestSummary
        The counts, with ``n_in = n_new + n_updated + n_unchanged + n_rejected``.

    Raises
    ------
    ingest.errors.UnreadableFileError
        When the file cannot be read at all (nothing of it is kept once the caller rolls back).
    """

    t0 = time.perf_counter()
    path = Path(path)
    config = config or IngestConfig()
    real_fmt = detect_format(path) if fmt == "auto" else fmt
    source = source or DEFAULT_SOURCES.get(real_fmt, "fix2go")
    if layers is None:
        layers = read_boundary_layers(conn, config.routing)
    if region is None:
        region = db.read_region(conn, config.coastal_tolerance_m)
    batch_id = db.create_batch(
        conn, source=source, file_name=path.name, file_sha256=file_sha256(path), fmt=real_fmt
    )
    db.create_staging(conn)
    db.lock_source(conn, source)
    # a source with no report yet (under the lock) needs no look-up of known ids: the batch's
    # own duplicates are already rejected by validation
    loader = _Loader(conn, source=source, batch_id=batch_id, lookup=db.has_reports(conn, source))
    # earlier reports (of any source) at a coordinate of this batch count for suspect_location
    reports_before = db.has_reports(conn)
    loader.start()
    seen: set[str] = set()
    n_in = n_chunks = n_rejected = 0
    reasons: dict[str, int] = {}
    flags: dict[str, int] = dict.fromkeys(FLAGS, 0)
    timings = dict.fromkeys(("read", "prepare", "load_wait", "finish"), 0.0)
    try:
        chunks = read_chunks(path, real_fmt, chunk_rows=config.chunk_rows)
        while True:
            t = time.perf_counter()
            frame = next(chunks, None)
            timings["read"] += time.perf_counter() - t
            if frame is None:
                break
            t = time.perf_counter()
            chunk = prepare_chunk(
                frame,
                batch_id=batch_id,
                source=source,
                region=region,
                layers=layers,
                key=key,
                config=config,
                now=now,
                seen_ids=seen,
            )
            timings["prepare"] += time.perf_counter() - t
            t = time.perf_counter()
            loader.put(chunk)
            timings["load_wait"] += time.perf_counter() - t
            n_in += chunk.n_in
            n_chunks += 1
            n_rejected += chunk.rejects_copy.rows
            for k, v in chunk.rejects_by_reason.items():
                reasons[k] = reasons.get(k, 0) + v
            for k, v in chunk.flags.items():
                flags[k] += v
            if progress is not None:
                progress(n_in)
    finally:
        t = time.perf_counter()
        loader.close()
        timings["load_wait"] += time.perf_counter() - t
    t = time.perf_counter()
    min_reporters = config.validation.suspect_min_reporters
    if n_chunks > 1:
        # validation judged each chunk on its own: a coordinate shared across chunks
        suspects = loader.new_rows.suspects(min_reporters)
        flags["suspect_location"] += db.add_flag(conn, source, suspects, "suspect_location")
    if reports_before:
        # and across batches: reports already loaded at a coordinate of this batch's new rows
        lat, lng = loader.new_rows.coordinates()
        flags["suspect_location"] += db.flag_shared_coordinates(
            conn, lat, lng, min_reporters, "suspect_location"
        )
    db.finish_batch(
        conn,
        batch_id,
        n_in=n_in,
        new=loader.new,
        updated=loader.updated,
        unchanged=loader.unchanged,
        rejected=n_rejected,
    )
    timings["finish"] = time.perf_counter() - t
    timings["load"] = loader.seconds
    timings["load_reports"] = loader.report_seconds
    timings["load_raw"] = loader.raw_seconds
    return IngestSummary(
        batch_id=batch_id,
        source=source,
        file=str(path),
        format=real_fmt,
        n_in=n_in,
        n_new=loader.new,
        n_updated=loader.updated,
        n_unchanged=loader.unchanged,
        n_rejected=n_rejected,
        rejects_by_reason=dict(sorted(reasons.items())),
        flags={k: v for k, v in flags.items() if v},
        seconds=time.perf_counter() - t0,
        timings=timings,
    )


class _NewRows:
    """What the batch-wide ``suspect_location`` rule needs of the rows loaded as new: their
    coordinate, a 64-bit hash of their reporter pseudonym, whether validation already
    flagged them, and their id (about 40 bytes a row)."""

    def __init__(self) -> None:
        self._keys: list[pd.DataFrame] = []
        self._ids: list[pa.Array] = []

    @staticmethod
    def keys(staged: pa.Table) -> pd.DataFrame:
        """The rule's inputs for each staged row (computed while preparing the chunk)."""
        pseudonyms = staged.column("reporter_pseudonym").to_numpy(zero_copy_only=False)
        return pd.DataFrame(
            {
                "lat": staged.column("lat").to_numpy(),
                "lng": staged.column("lng").to_numpy(),
                "reporter": pd.util.hash_array(pseudonyms.astype(object), categorize=True),
                "flagged": pc.match_substring(staged.column("flags"), "suspect_location")
                .to_numpy(zero_copy_only=False)
                .astype(bool),
            }
        )

    def add(self, keys: pd.DataFrame, ids: pa.Array | pa.ChunkedArray) -> None:
        """Remember the rows of one chunk loaded as new (their :meth:`keys` and ids)."""
        self._keys.append(keys.reset_index(drop=True))
        self._ids.append(ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids)

    def coordinates(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The distinct ``(lat, lng)`` of the rows loaded as new."""
        if not self._keys:
            return np.empty(0), np.empty(0)
        pairs = pd.concat(self._keys, ignore_index=True)[["lat", "lng"]].drop_duplicates()
        return pairs["lat"].to_numpy(dtype=float), pairs["lng"].to_numpy(dtype=float)

    def suspects(self, min_reporters: int) -> list[str]:
        """Ids of the rows the rule flags over the whole batch that no chunk flagged (the
        rule of ``ingest.validate.suspect_location_mask``; a missing reporter hashes as one
        more reporter, as there)."""
        if not self._keys:
            return []
        rows = pd.concat(self._keys, ignore_index=True)
        mask = suspect_location_mask(rows["lat"], rows["lng"], rows["reporter"], min_reporters)
        todo = np.flatnonzero(mask.to_numpy() & ~rows["flagged"].to_numpy())
        ids = pa.chunked_array(self._ids, type=pa.string())
        return [str(v) for v in ids.take(pa.array(todo, type=pa.int64())).to_pylist()]


class _Loader:
    """Loads prepared chunks on a background thread (the connection is used by it alone
    between :meth:`start` and :meth:`close`)."""

    QUEUE_CHUNKS = 2

    def __init__(self, conn: Connection, *, source: str, batch_id: int, lookup: bool) -> None:
        self.conn = conn
        self.lookup = lookup
        self.source = source
        self.batch_id = batch_id
        self.new = self.updated = self.unchanged = 0
        self.new_rows = _NewRows()
        self.seconds = self.report_seconds = self.raw_seconds = 0.0
        self._queue: queue.Queue[PreparedChunk | None] = queue.Queue(maxsize=self.QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fix2go-ingest-loader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, chunk: PreparedChunk) -> None:
        """Queue a chunk (blocks while the loader is behind); re-raise a loader failure."""
        while True:
            self._raise_if_failed()
            try:
                self._queue.put(chunk, timeout=0.2)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Wait for the queued chunks to be loaded; re-raise a loader failure."""
        while self._thread.is_alive():
            try:
                self._queue.put(None, timeout=0.2)
                break
            except queue.Full:
                if self._error is not None:
                    break
        self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            while True:
                chunk = self._queue.get()
                if chunk is None:
                    return
                t = time.perf_counter()
                self._load(chunk)
                self.seconds += time.perf_counter() - t
        except BaseException as exc:  # handed to the producer thread
            self._error = exc
            while True:  # drain so the producer never blocks on a dead loader
                try:
                    if self._queue.get_nowait() is None:
                        return
                except queue.Empty:
                    return

    def _load(self, chunk: PreparedChunk) -> None:
        staged, keys, copy = chunk.staged, chunk.suspect_keys, chunk.reports_copy
        ids = staged.column("source_id").to_pylist() if self.lookup else []
        known = db.existing_hashes(self.conn, self.source, ids) if self.lookup else {}
        if known:
            hashes = staged.column("content_hash").to_pylist()
            is_known = np.fromiter((i in known for i in ids), dtype=bool, count=len(ids))
            same = np.fromiter(
                (known.get(i) == h for i, h in zip(ids, hashes, strict=True)),
                dtype=bool,
                count=len(ids),
            )
            changed = is_known & ~same
            self.unchanged += int(same.sum())
            if changed.any():
                db.copy_staging(self.conn, staged.filter(pa.array(changed)))
                merged = db.merge_changed(self.conn, source=self.source, batch_id=self.batch_id)
                self.updated += merged.updated
                self.unchanged += int(changed.sum()) - merged.updated
            staged, keys = staged.filter(pa.array(~is_known)), keys[~is_known]
            copy = db.new_reports_payload(staged)
        t = time.perf_counter()
        db.copy_payload(self.conn, copy)
        self.new += staged.num_rows
        self.new_rows.add(keys, staged.column("source_id"))
        t_raw = time.perf_counter()
        self.report_seconds += t_raw - t
        db.copy_payload(self.conn, chunk.rejects_copy)
        db.copy_payload(self.conn, chunk.raw_copy)
        self.raw_seconds += time.perf_counter() - t_raw
