"""Apply the numbered plain-SQL migrations of ``sql/``: each file once, each in one transaction.

Applied files are recorded in ``schema_migrations`` with their SHA-256, so re-running is a
no-op and a file edited after it was applied is refused (add a new file instead). A failing
file is rolled back whole and the error names the file, the statement number and its line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spatial.errors import MigrationError

MIGRATION_NAME = re.compile(r"^\d{3}_[a-z0-9_]+\.sql$")
_LOCK_ID = 0x46324730  # advisory lock: one migrator at a time


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a migration file, with the line it starts on."""

    sql: str
    line: int


def split_statements(sql: str) -> list[Statement]:
    """Split a SQL script into statements on top-level semicolons.

    Quotes (``'...'``, ``"..."``), dollar-quoted bodies (``$$...$$``, ``$tag$...$tag$``),
    ``--`` comments and ``/* */`` comments are respected.

    >>> [s.sql for s in split_statements("SELECT ';'; -- x;\\nSELECT $$a;b$$;")]
    ["SELECT ';'", 'SELECT $$a;b$$']
    """
    out: list[Statement] = []
    buf: list[str] = []
    start_line = 1
    line = 1
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j == -1 else j
            i = j
            continue
        if ch == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j == -1 else j + 2
            line += sql.count("\n", i, j)
            i = j
            continue
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote
                        j += 2
                        continue
                    break
                j += 1
            buf.append(sql[i : j + 1])
            line += sql.count("\n", i, j + 1)
            i = j + 1
            continue
        if ch == "$":
            m = re.match(r"\$[A-Za-z_]*\$", sql[i:])
            if m:
                tag = m.group(0)
                j = sql.find(tag, i + len(tag))
                j = n if j == -1 else j + len(tag)
                buf.append(sql[i:j])
                line += sql.count("\n", i, j)
                i = j
                continue
        if ch == ";":
            text = "".join(buf).strip()
            if text:
                out.append(Statement(text, start_line))
            buf = []
            i += 1
            continue
        if ch == "\n":
            line += 1
        if (not buf or not "".join(buf).strip()) and not ch.isspace():
            start_line = line
        buf.append(ch)
        i += 1
    text = "".join(buf).strip()
    if text:
        out.append(Statement(text, start_line))
    return out


def migration_files(sql_dir: Path) -> list[Path]:
    """The migration files of ``sql_dir`` in the order they apply.

    Raises
    ------
    MigrationError
        When a ``.sql`` file is not named ``NNN_snake_case.sql`` or two share a number.
    """
    files = sorted(p for p in sql_dir.glob("*.sql"))
    seen: dict[str, Path] = {}
    for p in files:
        if not MIGRATION_NAME.match(p.name):
            raise MigrationError(
                f"{p}: migration files must be named NNN_snake_case.sql; rename it"
            )
        if p.name[:3] in seen:
            raise MigrationError(
                f"{p} and {seen[p.name[:3]]} share the number {p.name[:3]}; renumber one"
            )
        seen[p.name[:3]] = p
    return files


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def applied_migrations(engine: Engine) -> dict[str, str]:
    """File name -> SHA-256 of the migrations already applied (empty on a new database)."""
    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT to_regclass('public.schema_migrations')")).scalar()
        if exists is None:
            return {}
        rows = conn.execute(sa.text("SELECT filename, sha256 FROM schema_migrations"))
        return {r.filename: r.sha256 for r in rows}


def migrate(engine: Engine, sql_dir: Path) -> list[str]:
    """Apply every migration of ``sql_dir`` not yet applied; return the names applied now.

    Raises
    ------
    MigrationError
        When a file fails (it is rolled back; files before it stay applied), or when an
        applied file has changed since.
    """
    files = migration_files(sql_dir)
    applied_now: list[str] = []
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_ID})
        conn.commit()
        try:
            with conn.begin():
                conn.execute(
                    sa.text(
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " filename text PRIMARY KEY, sha256 text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())"
                    )
                )
            done = {
                r.filename: r.sha256
                for r in conn.execute(sa.text("SELECT filename, sha256 FROM schema_migrations"))
            }
            conn.commit()
            for path in files:
                digest = _sha256(path)
                if path.name in done:
                    if done[path.name] != digest:
                        raise MigrationError(
                            f"{path} changed after it was applied; migrations are immutable: "
                            "revert the edit and put the change in a new numbered file"
                        )
                    continue
                _apply_file(conn, path, digest)
                applied_now.append(path.name)
        finally:
            conn.rollback()
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_ID})
            conn.commit()
    return applied_now


def _apply_file(conn: sa.Connection, path: Path, digest: str) -> None:
    statements = split_statements(path.read_text(encoding="utf-8"))
    trans = conn.begin()
    for number, stmt in enumerate(statements, start=1):
        try:
            conn.exec_driver_sql(stmt.sql.replace("%", "%%"))
        except sa.exc.DBAPIError as exc:
            trans.rollback()
            first = stmt.sql.splitlines()[0][:80]
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise MigrationError(
                f"{path.name}: statement {number} (line {stmt.line}: {first!r}) failed: "
                f"{reason}; nothing from this file was applied: fix it and run "
                "`fix2go db migrate` again"
            ) from exc
    conn.execute(
        sa.text("INSERT INTO schema_migrations (filename, sha256) VALUES (:f, :s)"),
        {"f": path.name, "s": digest},
    )
    trans.commit()
