"""The ingest pipeline: read -> validate -> redact and pseudonymise -> route -> load.

One file is one batch and one database transaction (the caller's connection): the batch row,
the rejects, the raw rows and the merged reports are committed together or not at all, so a
killed ingest leaves nothing and running it again completes it. The file is streamed in
chunks; each chunk is prepared in vectorised pandas/Arrow and COPied into a staging table;
the merge into ``reports`` runs once at the end under a per-source advisory lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from ingest.privacy import pseudonymise, redact_descriptions
from ingest.readers import detect_format, file_sha256, read_chunks
from ingest.validate import FLAGS, ValidationConfig, flags_column, validate
from spatial.grid import REPORT_H3_RESOLUTION, points_to_cells
from spatial.postgis import reports as db
from spatial.postgis.routing import read_boundary_layers
from spatial.routing import BoundaryLayers, RoutingConfig, assign_jurisdiction

DEFAULT_SOURCES = {"csv": "fix2go", "geojson": "fix2go", "parquet": "fix2go", "open311": "open311"}
"""Source name of each format when ``--source`` is not given."""


@dataclass(frozen=True)
class IngestConfig:
    """Settings of one ingest (units in names)."""

    chunk_rows: int = 100_000
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
    """One chunk ready for COPY: staged rows, rejects and raw rows (Arrow tables)."""

    staged: pa.Table
    rejects: pa.Table
    raw: pa.Table
    n_in: int
    rejects_by_reason: dict[str, int]
    flags: dict[str, int]


def _str_array(values: pd.Series) -> pa.Array:
    arr = pa.array(values.astype("str"))
    return arr if arr.type == pa.string() else arr.cast(pa.string())


def prepare_chunk(
    frame: pd.DataFrame,
    *,
    batch_id: int,
    region: BaseGeometry,
    layers: BoundaryLayers,
    key: bytes,
    config: IngestConfig,
    now: pd.Timestamp | None = None,
    seen_ids: set[str] | None = None,
) -> PreparedChunk:
    """Validate, redact, pseudonymise, route and grid one canonical chunk (no database).

    Every input row ends in exactly one of ``staged`` (accepted) or ``rejects``; every input
    row is in ``raw``.
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
        "reporter_pseudonym": _str_array(pseudonymise(acc["reporter_id"], key)),
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
    for name in (
        "governorate_code",
        "authority_code",
        "agency_code",
        "routing_reason",
        "routing_status",
        "place_en",
        "place_ar",
    ):
        cols[name] = _str_array(routing[name]) if routing is not None else pa.nulls(n, pa.string())
    cols["routing_confidence"] = (
        pa.array(routing["routing_confidence"].to_numpy(dtype=float), from_pandas=True)
        if routing is not None
        else pa.nulls(n, pa.float64())
    )
    cols["h3_cell"] = (
        pa.array(cells.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True).cast(
            pa.int64()
        )
        if n
        else pa.nulls(0, pa.int64())
    )
    staged = pa.table({name: cols[name] for name, _ in db.STAGING_COLUMNS})

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
        rejects=rejects,
        raw=raw,
        n_in=len(frame),
        rejects_by_reason={str(k): int(v) for k, v in rej["reason"].value_counts().items()},
        flags=flags,
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
    seen: set[str] = set()
    n_in = 0
    n_chunks = 0
    n_rejected = 0
    reasons: dict[str, int] = {}
    flags: dict[str, int] = dict.fromkeys(FLAGS, 0)
    timings = dict.fromkeys(("read", "prepare", "copy", "merge"), 0.0)
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
            region=region,
            layers=layers,
            key=key,
            config=config,
            now=now,
            seen_ids=seen,
        )
        timings["prepare"] += time.perf_counter() - t
        t = time.perf_counter()
        db.copy_staging(conn, chunk.staged)
        db.copy_rejects(conn, chunk.rejects)
        db.copy_raw_rows(conn, chunk.raw)
        timings["copy"] += time.perf_counter() - t
        n_in += chunk.n_in
        n_chunks += 1
        n_rejected += chunk.rejects.num_rows
        for k, v in chunk.rejects_by_reason.items():
            reasons[k] = reasons.get(k, 0) + v
        for k, v in chunk.flags.items():
            flags[k] += v
        if progress is not None:
            progress(n_in)
    t = time.perf_counter()
    if n_chunks > 1:
        flags["suspect_location"] += db.flag_suspect_locations_in_staging(
            conn, config.validation.suspect_min_reporters
        )
    db.lock_source(conn, source)
    merged = db.merge_staging(conn, source=source, batch_id=batch_id)
    db.finish_batch(
        conn,
        batch_id,
        n_in=n_in,
        new=merged.new,
        updated=merged.updated,
        unchanged=merged.unchanged,
        rejected=n_rejected,
    )
    timings["merge"] = time.perf_counter() - t
    return IngestSummary(
        batch_id=batch_id,
        source=source,
        file=str(path),
        format=real_fmt,
        n_in=n_in,
        n_new=merged.new,
        n_updated=merged.updated,
        n_unchanged=merged.unchanged,
        n_rejected=n_rejected,
        rejects_by_reason=dict(sorted(reasons.items())),
        flags={k: v for k, v in flags.items() if v},
        seconds=time.perf_counter() - t0,
        timings=timings,
    )
