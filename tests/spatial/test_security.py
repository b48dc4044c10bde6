"""Row-level security with real roles on the real database (sql/003, spatial.postgis.security)."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.postgis.security import (
    AGENCY_GROUP_ROLE,
    SecurityError,
    agency_role,
    as_admin,
    as_agency,
    current_agency,
    ensure_agency_roles,
)

OWN, OTHER = "capital_municipality", "northern_municipality"


def insert_report(
    conn: Connection, source_id: str, agency: str | None, lon: float, lat: float
) -> int:
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO reports (source, source_id, category, reported_at, content_hash, "
                "agency_code, status, geom) VALUES ('test', :sid, 'pothole', now(), :sid, :a, "
                "'open', ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"
            ),
            {"sid": source_id, "a": agency, "x": lon, "y": lat},
        ).scalar_one()
    )


def insert_incident(conn: Connection, agency: str) -> int:
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO incidents (category, n_reports, first_reported_at, last_reported_at, "
                "agency_code, geom) VALUES ('pothole', 1, now(), now(), :a, "
                "ST_SetSRID(ST_MakePoint(50.58, 26.22), 4326)) RETURNING id"
            ),
            {"a": agency},
        ).scalar_one()
    )


@pytest.fixture
def seeded(conn: Connection) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {OWN: [], OTHER: [], "none": []}
    for i in range(3):
        ids[OWN].append(insert_report(conn, f"own-{i}", OWN, 50.58, 26.22))
    for i in range(2):
        ids[OTHER].append(insert_report(conn, f"other-{i}", OTHER, 50.50, 26.20))
    ids["none"].append(insert_report(conn, "unroutable", None, 50.9, 26.5))
    ids["inc_" + OWN] = [insert_incident(conn, OWN)]
    ids["inc_" + OTHER] = [insert_incident(conn, OTHER), insert_incident(conn, OTHER)]
    batch = conn.execute(
        sa.text(
            "INSERT INTO ingest_batches (source, file_name, file_sha256, format, n_in, "
            "n_rejected) VALUES ('test', 'x.csv', 'abc', 'csv', 1, 1) RETURNING id"
        )
    ).scalar_one()
    conn.execute(
        sa.text(
            "INSERT INTO raw_row_blocks (batch_id, first_row, rows) VALUES "
            '(:b, 1, \'[{"reporter_id": "+97333333333"}]\')'
        ).bindparams(b=batch)
    )
    conn.execute(
        sa.text("INSERT INTO ingest_rejects (batch_id, row_number, reason) VALUES (:b, 1, 'x')"),
        {"b": batch},
    )
    return ids


def count(conn: Connection, sql: str) -> int:
    return int(conn.execute(sa.text(sql)).scalar_one())


def test_agency_roles_exist_and_are_idempotent(conn: Connection) -> None:
    codes = conn.execute(sa.text("SELECT code FROM agencies ORDER BY code")).scalars().all()
    first = ensure_agency_roles(conn)
    assert first == sorted(agency_role(c) for c in codes)
    assert ensure_agency_roles(conn) == first
    for role in first:
        member = conn.execute(
            sa.text("SELECT pg_has_role(:r, :g, 'MEMBER')"), {"r": role, "g": AGENCY_GROUP_ROLE}
        ).scalar()
        can_login = conn.execute(
            sa.text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).scalar()
        assert member is True and can_login is False


def test_agency_counts_only_its_own_rows(conn: Connection, seeded: dict[str, list[int]]) -> None:
    total = count(conn, "SELECT count(*) FROM reports")
    assert total >= 6
    with as_agency(conn, OWN):
        assert current_agency(conn) == OWN
        assert count(conn, "SELECT count(*) FROM reports") == len(seeded[OWN])
        assert count(conn, "SELECT count(*) FROM report_view") == len(seeded[OWN])
        agencies = conn.execute(sa.text("SELECT DISTINCT agency_code FROM report_view")).scalars()
        assert list(agencies) == [OWN]
        assert count(conn, "SELECT count(*) FROM incidents") == 1
        assert count(conn, "SELECT count(*) FROM incident_view") == 1
    with as_agency(conn, OTHER):
        assert count(conn, "SELECT count(*) FROM reports") == len(seeded[OTHER])
        assert count(conn, "SELECT count(*) FROM incident_view") == 2
    # back to the application's own role: everything visible again
    assert current_agency(conn) is None
    assert count(conn, "SELECT count(*) FROM reports") == total


def test_other_agencys_rows_are_invisible_and_unmodifiable(
    conn: Connection, seeded: dict[str, list[int]]
) -> None:
    other_id = seeded[OTHER][0]
    own_id = seeded[OWN][0]
    with as_agency(conn, OWN):
        hidden = conn.execute(sa.text("SELECT id FROM reports WHERE id = :i"), {"i": other_id})
        assert hidden.first() is None
        changed = conn.execute(
            sa.text("UPDATE reports SET status = 'closed' WHERE id = :i"), {"i": other_id}
        )
        assert changed.rowcount == 0
        own = conn.execute(
            sa.text("UPDATE reports SET status = 'in_progress' WHERE id = :i"), {"i": own_id}
        )
        assert own.rowcount == 1
    status = conn.execute(sa.text("SELECT status FROM reports WHERE id = :i"), {"i": other_id})
    assert status.scalar_one() == "open"

    # re-assigning one's own report to another agency is refused
    with (
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
        conn.begin_nested(),
        as_agency(conn, OWN),
    ):
        conn.execute(
            sa.text("UPDATE reports SET agency_code = :a WHERE id = :i"),
            {"a": OTHER, "i": own_id},
        )
    with (
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
        conn.begin_nested(),
        as_agency(conn, OWN),
    ):
        conn.execute(sa.text("DELETE FROM reports WHERE id = :i"), {"i": own_id})


@pytest.mark.parametrize(
    "table", ["raw_rows", "raw_row_blocks", "ingest_rejects", "ingest_batches"]
)
def test_agency_cannot_read_restricted_tables(
    conn: Connection, seeded: dict[str, list[int]], table: str
) -> None:
    with (
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
        conn.begin_nested(),
        as_agency(conn, OWN),
    ):
        conn.execute(sa.text(f"SELECT count(*) FROM {table}"))
    assert current_agency(conn) is None  # the role was restored by the savepoint rollback


def test_admin_reads_raw_rows_and_all_reports(
    conn: Connection, seeded: dict[str, list[int]]
) -> None:
    total = count(conn, "SELECT count(*) FROM reports")
    with as_admin(conn):
        assert count(conn, "SELECT count(*) FROM raw_rows") >= 1
        assert count(conn, "SELECT count(*) FROM reports") == total


def test_as_agency_refuses_unknown_or_invalid_codes(conn: Connection) -> None:
    with pytest.raises(SecurityError, match="no database role"), as_agency(conn, "no_such_agency"):
        pass
    with pytest.raises(SecurityError, match="invalid agency code"), as_agency(conn, "x; DROP"):
        pass


def test_non_superuser_operator_gets_membership_to_set_roles(
    conn: Connection, seeded: dict[str, list[int]]
) -> None:
    """With DATABASE_URL pointing at a server where the app is not a superuser, the roles it
    creates or finds are granted to it so that ``as_agency`` works (all rolled back)."""
    operator = f"fix2go_test_operator_{os.getpid()}"
    conn.execute(sa.text(f"CREATE ROLE {operator} NOLOGIN CREATEROLE"))
    conn.execute(sa.text(f"GRANT SELECT ON agencies TO {operator}"))  # the app owns it in real life
    conn.execute(sa.text(f"SET LOCAL ROLE {operator}"))
    superuser = conn.execute(
        sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    assert superuser is False
    roles = ensure_agency_roles(conn)
    for role in (*roles, "fix2go_admin"):
        member = conn.execute(
            sa.text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": role}
        ).scalar()
        assert member is True, role
    with as_agency(conn, OWN):
        assert count(conn, "SELECT count(*) FROM reports") == len(seeded[OWN])
    conn.execute(sa.text("RESET ROLE"))
