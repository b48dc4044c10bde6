"""Readers: every input format to the canonical frame, streamed in chunks.

Formats (``../shared/CONTRACT.md``): the Fix2Go export CSV (UTF-8, BOM allowed), Open311
GeoReport v2 ``requests.json`` arrays, GeoJSON FeatureCollections of Points with the CSV's
property names, and GeoParquet with the same columns. ``fmt="auto"`` chooses by extension and
content.

The canonical frame has one row per input row and the columns of :data:`CANONICAL_COLUMNS`:

- ``row_number``: 1-based position of the data row in the file (header excluded);
- ``source_id``, ``reported_at``, ``category_raw``, ``description``, ``reporter_id``,
  ``channel``, ``photo_url``, ``status``: text exactly as given (``<NA>`` when absent);
- ``lat``, ``lng``: text as given (CSV) or numbers (JSON, GeoJSON, GeoParquet); parsing and
  repair happen in :mod:`ingest.validate`, so nothing is lost here;
- ``read_error``: why a row could not be parsed at all (a CSV line with the wrong number of
  fields), else ``<NA>``; such rows are rejected as ``malformed_row``;
- ``raw``: the input row as a JSON object text, for the restricted ``raw_rows`` table.

A file that cannot be read at all raises :class:`~ingest.errors.UnreadableFileError` with one
line naming the file, the problem and the fix.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

from ingest.errors import UnreadableFileError

Format = Literal["csv", "open311", "geojson", "parquet"]
FORMATS: tuple[str, ...] = ("auto", "csv", "open311", "geojson", "parquet")

DEFAULT_CHUNK_ROWS = 100_000
"""Rows per chunk yielded by :func:`read_chunks` (bounds memory on large files)."""

CSV_BLOCK_BYTES = 16 << 20
"""Bytes parsed at a time by the CSV reader."""

TEXT_COLUMNS = (
    "source_id",
    "reported_at",
    "category_raw",
    "description",
    "reporter_id",
    "channel",
    "photo_url",
    "status",
)
CANONICAL_COLUMNS = ("row_number", *TEXT_COLUMNS, "lat", "lng", "read_error", "raw")

CSV_REQUIRED = ("report_id", "created_at", "latitude", "longitude", "category")
CSV_OPTIONAL = ("description", "reporter_id", "channel", "photo_url", "status")

# export column -> canonical column
_CSV_TO_CANONICAL = {
    "report_id": "source_id",
    "created_at": "reported_at",
    "latitude": "lat",
    "longitude": "lng",
    "category": "category_raw",
    "description": "description",
    "reporter_id": "reporter_id",
    "channel": "channel",
    "photo_url": "photo_url",
    "status": "status",
}
_OPEN311_REQUIRED = ("service_request_id", "requested_datetime")
_OPEN311_REPORTER_KEYS = ("account_id", "email", "phone", "reporter_id")

_FIX = "see the input formats in CONTRACT.md"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def detect_format(path: str | Path) -> Format:
    """The format of ``path`` from its extension and first bytes.

    Raises
    ------
    UnreadableFileError
        When the file is missing, empty, or neither CSV, JSON nor Parquet.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = p.write_text('[{"service_request_id": "1"}]')
    >>> detect_format(p)
    'open311'
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file; check the path")
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        raise UnreadableFileError(f"{path}: the file is empty; export it again with a header row")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFileError(
            f"{path}: UTF-16 text (Excel's 'Unicode text'), not UTF-8; save it as "
            "'CSV UTF-8' or convert it with `iconv -f utf-16 -t utf-8`"
        )
    ext = path.suffix.lower()
    if ext in (".parquet", ".geoparquet"):
        raise UnreadableFileError(
            f"{path}: named .parquet but not a Parquet file; re-export it as GeoParquet"
        )
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "open311"
    if text.startswith(b"{"):
        return "geojson"
    if ext in (".json", ".geojson"):
        raise UnreadableFileError(
            f"{path}: not JSON (starts with {head[:12]!r}); give an Open311 requests.json array "
            "or a GeoJSON FeatureCollection"
        )
    if b"\x00" in head:
        raise UnreadableFileError(
            f"{path}: binary content, not CSV, JSON or Parquet; give a Fix2Go CSV export ({_FIX})"
        )
    return "csv"


def read_chunks(
    path: str | Path, fmt: str = "auto", *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Stream ``path`` as canonical frames of at most about ``chunk_rows`` rows.

    Parameters
    ----------
    path
        The input file.
    fmt
        ``auto`` (by extension and content), ``csv``, ``open311``, ``geojson`` or ``parquet``.
    chunk_rows
        Rows per chunk (the CSV reader may yield slightly different sizes).

    Yields
    ------
    pandas.DataFrame
        Canonical frames (:data:`CANONICAL_COLUMNS`); row numbers continue across chunks.

    Raises
    ------
    UnreadableFileError
        When the file cannot be read at all; it may be raised after earlier chunks were
        yielded (e.g. an encoding error deep in a CSV), so callers load a file in one
        transaction.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise UnreadableFileError(
            f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}"
        )
    real = detect_format(path) if fmt == "auto" else fmt
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file; check the path")
    if real == "csv":
        yield from _read_csv(path, chunk_rows)
    elif real == "open311":
        yield from _chunked(_read_open311(path), chunk_rows)
    elif real == "geojson":
        yield from _chunked(_read_geojson(path), chunk_rows)
    else:
        yield from _read_parquet(path, chunk_rows)


def read_file(path: str | Path, fmt: str = "auto") -> pd.DataFrame:
    """The whole of ``path`` as one canonical frame (small files, tests, notebooks)."""
    chunks = list(read_chunks(path, fmt))
    if not chunks:
        return _empty()
    return pd.concat(chunks, ignore_index=True)


# --- helpers ------------------------------------------------------------------------------


def _empty() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="str") for c in CANONICAL_COLUMNS})
    out["row_number"] = pd.Series(dtype="int64")
    return out[list(CANONICAL_COLUMNS)]


def _canonical(cols: dict[str, Any], n: int, first_row: int) -> pd.DataFrame:
    """Assemble a canonical frame of ``n`` rows from whatever columns the reader found."""
    data: dict[str, Any] = {"row_number": np.arange(first_row, first_row + n, dtype=np.int64)}
    for c in (*TEXT_COLUMNS, "lat", "lng", "read_error", "raw"):
        v = cols.get(c)
        data[c] = pd.Series([None] * n, dtype="str") if v is None else v
    frame = pd.DataFrame(data)
    for c in (*TEXT_COLUMNS, "read_error", "raw"):
        if frame[c].dtype != "str":
            frame[c] = frame[c].astype("str")
    return frame[list(CANONICAL_COLUMNS)]


def _chunked(frame: pd.DataFrame, chunk_rows: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), chunk_rows):
        yield frame.iloc[start : start + chunk_rows].reset_index(drop=True)


def _may_need_escapes(arr: pa.ChunkedArray | pa.Array) -> bool:
    """False when no string of ``arr`` (type ``string``) holds a quote, a backslash or a
    control character, found by scanning its UTF-8 bytes at once.

    The bytes of multi-byte characters are all >= 0x80, so they never match; a sliced array's
    buffer may hold bytes outside the slice, which can only give a needless True.
    """
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        data = chunk.buffers()[2]
        if data is None:
            continue
        b = np.frombuffer(data, dtype=np.uint8)
        if (b < 0x20).any() or (b == ord('"')).any() or (b == ord("\\")).any():
            return True
    return False


def _json_escape(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    """JSON string literal (with quotes) of each string; null stays null."""
    # most columns (ids, times, numbers, codes) hold nothing to escape
    if not _may_need_escapes(arr):
        return pc.binary_join_element_wise('"', arr, '"', "")
    s = pc.replace_substring(arr, "\\", "\\\\")
    s = pc.replace_substring(s, '"', '\\"')
    s = pc.replace_substring(s, "\n", "\\n")
    s = pc.replace_substring(s, "\r", "\\r")
    s = pc.replace_substring(s, "\t", "\\t")
    # other control characters are rare: escape those values one by one, from the original
    # text (escaping the already escaped text would double its backslashes)
    has_ctl = pc.fill_null(pc.match_substring_regex(s, "[\\x00-\\x1f]"), False)
    if pc.any(has_ctl).as_py():
        py = s.to_pylist()
        original = arr.to_pylist()
        for i in np.flatnonzero(np.asarray(has_ctl)):
            py[i] = json.dumps(original[i], ensure_ascii=False)[1:-1]
        s = pa.array(py, type=pa.string())
    return pc.binary_join_element_wise('"', s, '"', "")


def json_objects(table: pa.Table) -> pa.Array:
    """Each row of an all-string Arrow table as a JSON object text (vectorised).

    Examples
    --------
    >>> t = pa.table({"a": ["x\\"y", None], "b": ["١", "2"]})
    >>> [json.loads(s) for s in json_objects(t).to_pylist()]
    [{'a': 'x"y', 'b': '١'}, {'a': None, 'b': '2'}]
    """
    parts: list[Any] = []
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        if col.type != pa.string():
            col = pc.cast(col, pa.string())
        val = pc.fill_null(_json_escape(col), "null")
        key = json.dumps(name, ensure_ascii=False) + ":"
        parts.append(("{" if i == 0 else ",") + key)
        parts.append(val)
    if not parts:
        return pa.array(["{}"] * table.num_rows, type=pa.string())
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def _normalise_header(names: Sequence[str]) -> list[str]:
    return [n.strip().lower() for n in names]


# --- CSV ----------------------------------------------------------------------------------


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"{path}: not UTF-8 ({exc.reason} at byte {exc.start} of the header); "
            "re-save it as UTF-8 (e.g. `iconv -f cp1256 -t utf-8`)"
        ) from exc
    import csv

    try:
        return next(csv.reader([line]))
    except StopIteration as exc:
        raise UnreadableFileError(f"{path}: no header row; {_FIX}") from exc


def _csv_names(path: Path) -> tuple[list[str], list[str]]:
    """The header as written and normalised; refuses missing or duplicate columns."""
    header = _csv_header(path)
    names = _normalise_header(header)
    missing = [c for c in CSV_REQUIRED if c not in names]
    if missing and len(names) == 1 and ";" in names[0]:
        raise UnreadableFileError(
            f"{path}: the header is separated by ';', not ','; export it as comma-separated "
            f"CSV ({_FIX})"
        )
    if missing:
        raise UnreadableFileError(
            f"{path}: missing required column(s) {', '.join(missing)} (found: "
            f"{', '.join(names[:12]) or 'none'}); add them to the header ({_FIX})"
        )
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise UnreadableFileError(
            f"{path}: duplicate column(s) {', '.join(dup)} in the header; keep one of each"
        )
    return header, names


def check_file(path: str | Path, fmt: str = "auto") -> str:
    """Cheap up-front check that ``path`` can be read as ``fmt``; returns the real format.

    Checks the format, the header and encoding (CSV) or the schema (GeoParquet); JSON files
    are parsed once (they are read whole anyway).

    Raises
    ------
    UnreadableFileError
        As :func:`read_chunks` would for a wrong format, encoding or missing columns.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise UnreadableFileError(
            f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}"
        )
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file; check the path")
    real = detect_format(path) if fmt == "auto" else fmt
    if real == "csv":
        _csv_names(path)
        _check_utf8(path)
    elif real == "parquet":
        _parquet_schema(path)
    elif real == "open311":
        _read_open311(path)
    else:
        _read_geojson(path)
    return real


def _check_utf8(path: Path) -> None:
    """Refuse a file that is not valid UTF-8, naming the first bad byte (one streaming pass)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise UnreadableFileError(
                    f"{path}: not UTF-8 ({exc.reason} at byte {offset + exc.start}); "
                    "re-save it as UTF-8 (e.g. `iconv -f cp1256 -t utf-8`)"
                ) from exc
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(
                f"{path}: not UTF-8 (truncated character at the end); re-save it as UTF-8"
            ) from exc


def _read_csv(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    header, names = _csv_names(path)
    _check_utf8(path)
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:
        invalid.append(str(row.text))
        return "skip"

    types = {n: pa.string() for n in header}
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
        next_row = 1
        pending: list[pd.DataFrame] = []
        pending_rows = 0
        for batch in reader:
            table = pa.Table.from_batches([batch])
            table = table.rename_columns(names)
            frame = _csv_table_to_canonical(table, next_row)
            next_row += len(frame)
            if invalid:
                frame = pd.concat([frame, _invalid_rows(invalid, next_row)], ignore_index=True)
                next_row += len(invalid)
                invalid.clear()
            pending.append(frame)
            pending_rows += len(frame)
            if pending_rows >= chunk_rows:
                out = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
                yield from _chunked(out, chunk_rows)
                pending, pending_rows = [], 0
        if invalid:
            pending.append(_invalid_rows(invalid, next_row))
            invalid.clear()
        if pending:
            out = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            yield from _chunked(out, chunk_rows)
    except pa.ArrowInvalid as exc:
        msg = str(exc).splitlines()[0]
        if "UTF8" in msg or "UTF-8" in msg:
            raise UnreadableFileError(
                f"{path}: not UTF-8 ({msg}); re-save it as UTF-8 (e.g. `iconv -f cp1256 -t utf-8`)"
            ) from exc
        raise UnreadableFileError(f"{path}: not a readable CSV ({msg}); {_FIX}") from exc


def _csv_table_to_canonical(table: pa.Table, first_row: int) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    for name, canon in _CSV_TO_CANONICAL.items():
        if name in table.column_names:
            cols[canon] = pd.Series(table.column(name).to_pandas(), dtype="str")
    cols["raw"] = pd.Series(json_objects(table).to_pandas(), dtype="str")
    return _canonical(cols, table.num_rows, first_row)


def _invalid_rows(texts: list[str], first_row: int) -> pd.DataFrame:
    n = len(texts)
    return _canonical(
        {
            "read_error": pd.Series(["wrong number of fields"] * n, dtype="str"),
            "raw": pd.Series(
                [json.dumps({"_line": t}, ensure_ascii=False) for t in texts], dtype="str"
            ),
        },
        n,
        first_row,
    )


# --- JSON formats -------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); re-save it as UTF-8"
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "fix the file or export it again"
        ) from exc


def _text(v: Any) -> str | None:
    """A JSON value as text (None for null; numbers as their JSON spelling)."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return json.dumps(v)
    return json.dumps(v, ensure_ascii=False)


def _num_or_text(v: Any) -> Any:
    """Coordinates: numbers stay numbers, text stays text (validated later)."""
    if isinstance(v, bool) or v is None:
        return None if v is None else str(v)
    if isinstance(v, int | float):
        return float(v)
    return _text(v)


def _coord_series(values: list[Any]) -> pd.Series:
    if all(v is None or isinstance(v, float) for v in values):
        return pd.Series(values, dtype="float64")
    return pd.Series([None if v is None else str(v) for v in values], dtype="str")


def _read_open311(path: Path) -> pd.DataFrame:
    data = _load_json(path)
    if not isinstance(data, list):
        raise UnreadableFileError(
            f"{path}: Open311 requests.json must be a JSON array of requests, got a "
            f"{type(data).__name__}; for GeoJSON use --format geojson"
        )
    objs = [d if isinstance(d, dict) else {} for d in data]
    if objs and not any(any(k in o for k in _OPEN311_REQUIRED) for o in objs[:1000]):
        raise UnreadableFileError(
            f"{path}: no Open311 fields (service_request_id, requested_datetime) in the "
            "requests; give a GeoReport v2 requests.json"
        )
    n = len(objs)
    cols: dict[str, Any] = {
        "source_id": [_text(o.get("service_request_id")) for o in objs],
        "reported_at": [_text(o.get("requested_datetime")) for o in objs],
        "category_raw": [_text(o.get("service_code") or o.get("service_name")) for o in objs],
        "description": [_text(o.get("description")) for o in objs],
        "reporter_id": [
            next((_text(o[k]) for k in _OPEN311_REPORTER_KEYS if o.get(k) not in (None, "")), None)
            for o in objs
        ],
        "channel": ["open311"] * n,
        "photo_url": [_text(o.get("media_url")) for o in objs],
        "status": [_text(o.get("status")) for o in objs],
        "read_error": [None if isinstance(d, dict) else "not a JSON object" for d in data],
        "raw": [json.dumps(d, ensure_ascii=False) for d in data],
    }
    out = {k: pd.Series(v, dtype="str") for k, v in cols.items()}
    out["lat"] = _coord_series([_num_or_text(o.get("lat")) for o in objs])
    out["lng"] = _coord_series([_num_or_text(o.get("long")) for o in objs])
    return _canonical(out, n, 1)


def _read_geojson(path: Path) -> pd.DataFrame:
    data = _load_json(path)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise UnreadableFileError(
            f"{path}: expected a GeoJSON FeatureCollection, got {kind!r}; "
            "wrap the features in a FeatureCollection"
        )
    feats = data.get("features")
    if not isinstance(feats, list):
        raise UnreadableFileError(
            f"{path}: FeatureCollection without a 'features' array; fix the file"
        )
    props = [
        (f.get("properties") or {})
        if isinstance(f, dict) and isinstance(f.get("properties") or {}, dict)
        else {}
        for f in feats
    ]
    sample = [p for p in props[:1000] if p]
    if sample and not any("report_id" in p or "created_at" in p for p in sample):
        raise UnreadableFileError(
            f"{path}: features lack the export properties (report_id, created_at, category); "
            f"use the CSV's property names ({_FIX})"
        )
    lat: list[Any] = []
    lng: list[Any] = []
    errors: list[str | None] = []
    for f, p in zip(feats, props, strict=True):
        g = f.get("geometry") if isinstance(f, dict) else None
        err: str | None = None if isinstance(f, dict) else "not a GeoJSON Feature"
        if (
            isinstance(g, dict)
            and g.get("type") == "Point"
            and isinstance(g.get("coordinates"), list)
            and len(g["coordinates"]) >= 2
        ):
            lng.append(_num_or_text(g["coordinates"][0]))
            lat.append(_num_or_text(g["coordinates"][1]))
        elif g is None:
            lat.append(_num_or_text(p.get("latitude")))
            lng.append(_num_or_text(p.get("longitude")))
        else:
            lat.append(None)
            lng.append(None)
            gtype = g.get("type") if isinstance(g, dict) else type(g).__name__
            err = err or f"geometry is {gtype!r}, not a Point"
        errors.append(err)
    n = len(feats)
    out: dict[str, Any] = {
        canon: pd.Series([_text(p.get(name)) for p in props], dtype="str")
        for name, canon in _CSV_TO_CANONICAL.items()
        if canon not in ("lat", "lng")
    }
    out["lat"] = _coord_series(lat)
    out["lng"] = _coord_series(lng)
    out["read_error"] = pd.Series(errors, dtype="str")
    out["raw"] = pd.Series([json.dumps(f, ensure_ascii=False) for f in feats], dtype="str")
    return _canonical(out, n, 1)


# --- GeoParquet ---------------------------------------------------------------------------


def _parquet_schema(path: Path) -> tuple[pq.ParquetFile, list[str], str | None, bool]:
    """Open a GeoParquet file and check its columns: (file, names, geometry column, has x/y)."""
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableFileError(
            f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]}); "
            "re-export it as GeoParquet"
        ) from exc
    schema = pf.schema_arrow
    meta = schema.metadata or {}
    geo = json.loads(meta[b"geo"]) if b"geo" in meta else {}
    geom_col = (
        geo.get("primary_column") if geo else ("geometry" if "geometry" in schema.names else None)
    )
    names = _normalise_header(schema.names)
    has_xy = "latitude" in names and "longitude" in names
    needed = [c for c in CSV_REQUIRED if c not in ("latitude", "longitude")]
    missing = [c for c in needed if c not in names]
    if not has_xy and (geom_col is None or geom_col not in schema.names):
        missing += ["geometry (or latitude and longitude)"]
    if missing:
        raise UnreadableFileError(
            f"{path}: missing required column(s) {', '.join(missing)}; add them ({_FIX})"
        )
    return pf, names, geom_col, has_xy


def _read_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    pf, names, geom_col, has_xy = _parquet_schema(path)
    next_row = 1
    for batch in pf.iter_batches(batch_size=chunk_rows):
        table = pa.Table.from_batches([batch]).rename_columns(names)
        n = table.num_rows
        cols: dict[str, Any] = {}
        for name, canon in _CSV_TO_CANONICAL.items():
            if canon in ("lat", "lng") or name not in table.column_names:
                continue
            col = table.column(name)
            if pa.types.is_timestamp(col.type):
                col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%S%z")
            elif col.type != pa.string():
                col = pc.cast(col, pa.string())
            cols[canon] = pd.Series(col.to_pandas(), dtype="str")
        raw_names = [c for c in table.column_names if c != (geom_col or "").lower()]
        props = table.select(raw_names)
        if has_xy:
            cols["lat"] = _parquet_coord(table.column("latitude"))
            cols["lng"] = _parquet_coord(table.column("longitude"))
        else:
            wkb = table.column((geom_col or "").lower()).to_numpy(zero_copy_only=False)
            try:
                geoms = shapely.from_wkb(wkb, on_invalid="ignore")
            except shapely.errors.GEOSException:  # pragma: no cover - on_invalid=ignore
                geoms = np.full(n, None)
            is_pt = shapely.get_type_id(geoms) == 0
            x = np.where(is_pt, shapely.get_x(geoms), np.nan)
            y = np.where(is_pt, shapely.get_y(geoms), np.nan)
            cols["lat"] = pd.Series(y, dtype="float64")
            cols["lng"] = pd.Series(x, dtype="float64")
            props = props.append_column("longitude", pa.array(x)).append_column(
                "latitude", pa.array(y)
            )
            errs = np.full(n, None, dtype=object)
            errs[~np.asarray(is_pt | shapely.is_missing(geoms), dtype=bool)] = (
                "geometry is not a Point"
            )
            cols["read_error"] = pd.Series(errs, dtype="str")
        cols["raw"] = pd.Series(json_objects(props).to_pandas(), dtype="str")
        yield _canonical(cols, n, next_row)
        next_row += n


def _parquet_coord(col: pa.ChunkedArray) -> pd.Series:
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
        return pd.Series(col.to_numpy(zero_copy_only=False), dtype="float64")
    return pd.Series(pc.cast(col, pa.string()).to_pandas(), dtype="str")
