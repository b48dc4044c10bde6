"""Database roles of agencies and operators, and running queries under them.

``sql/003_routing_security.sql`` creates the group roles ``fix2go_admin`` and
``fix2go_agency`` with their privileges and the row-level security policies. Each agency gets a
NOLOGIN role ``fix2go_agency_<code>`` (member of ``fix2go_agency``) through
:func:`ensure_agency_roles`, called after the agencies are loaded. :func:`as_agency` runs a block
under that role (``SET LOCAL ROLE``), so the database, not the caller, enforces what an agency
may see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.errors import Fix2GoError
from spatial.postgis.engine import raw_connection

ADMIN_ROLE = "fix2go_admin"
AGENCY_GROUP_ROLE = "fix2go_agency"
AGENCY_ROLE_PREFIX = "fix2go_agency_"
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_ROLE_NAME = 63


class SecurityError(Fix2GoError, PermissionError):
    """A role is missing or cannot be used (unknown agency, bad code, roles not created)."""


def agency_role(code: str) -> str:
    """The database role of an agency code.

    >>> agency_role("mow_roads")
    'fix2go_agency_mow_roads'
    """
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise SecurityError(
            f"invalid agency code {code!r}: codes are lower-case letters, digits and '_', "
            "starting with a letter; use a code of the agencies table"
        )
    role = AGENCY_ROLE_PREFIX + code
    if len(role) > _MAX_ROLE_NAME:
        raise SecurityError(
            f"agency code {code!r} is too long for a role name ({len(role)} > {_MAX_ROLE_NAME} "
            "characters); shorten the code"
        )
    return role


def _role_exists(conn: Connection, role: str) -> bool:
    return bool(
        conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    )


def ensure_agency_roles(conn: Connection) -> list[str]:
    """Create the missing agency roles (NOLOGIN, members of ``fix2go_agency``); idempotent.

    Roles are cluster-wide, so another database may have created them already (also
    concurrently: a duplicate is ignored). When the connected user is not a superuser it is
    granted membership so it can ``SET ROLE`` to them.

    Returns
    -------
    list of str
        The role of every agency in the ``agencies`` table, sorted.

    Raises
    ------
    SecurityError
        When migration 003 has not created the group roles yet.
    """
    if not _role_exists(conn, AGENCY_GROUP_ROLE):
        raise SecurityError(
            f"role {AGENCY_GROUP_ROLE!r} does not exist: migration 003 has not run; "
            "run `fix2go db migrate` first"
        )
    codes = conn.execute(sa.text("SELECT code FROM agencies ORDER BY code")).scalars().all()
    superuser = bool(
        conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    )
    quote = conn.dialect.identifier_preparer.quote

    def let_current_user_set(role: str) -> None:
        # a superuser may SET ROLE to any role; anyone else needs membership
        if superuser:
            return
        member = conn.execute(
            sa.text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": role}
        ).scalar()
        if not member:
            conn.execute(sa.text(f"GRANT {quote(role)} TO CURRENT_USER"))

    let_current_user_set(ADMIN_ROLE)
    roles = []
    for code in codes:
        role = agency_role(code)
        roles.append(role)
        if not _role_exists(conn, role):
            conn.execute(
                sa.text(
                    "DO $$ BEGIN "
                    f"CREATE ROLE {quote(role)} NOLOGIN IN ROLE {AGENCY_GROUP_ROLE}; "
                    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
                    "END $$"
                )
            )
        is_member = conn.execute(
            sa.text("SELECT pg_has_role(:r, :g, 'MEMBER')"),
            {"r": role, "g": AGENCY_GROUP_ROLE},
        ).scalar()
        if not is_member:
            conn.execute(sa.text(f"GRANT {AGENCY_GROUP_ROLE} TO {quote(role)}"))
        let_current_user_set(role)
    return roles


@contextmanager
def _as_role(conn: Connection, role: str, what: str) -> Iterator[Connection]:
    if not _role_exists(conn, role):
        raise SecurityError(
            f"no database role {role!r} for {what}; create the roles with "
            "`fix2go demo --no-serve` (or spatial.postgis.security.ensure_agency_roles)"
        )
    if not conn.in_transaction():
        conn.begin()
    conn.execute(sa.text(f"SET LOCAL ROLE {conn.dialect.identifier_preparer.quote(role)}"))
    try:
        yield conn
    finally:
        status = raw_connection(conn).info.transaction_status
        if status == psycopg.pq.TransactionStatus.INTRANS:
            conn.execute(sa.text("RESET ROLE"))
        # an aborted transaction restores the role when it is rolled back


@contextmanager
def as_agency(conn: Connection, agency_code: str) -> Iterator[Connection]:
    """Run the block under the agency's role (``SET LOCAL ROLE`` in the current transaction).

    Row-level security then limits every query to the agency's own reports and incidents;
    the restricted tables are not readable. The previous role is restored at the end (or by
    the rollback of an aborted transaction).

    Raises
    ------
    SecurityError
        For an invalid code or an agency without a role.
    """
    with _as_role(conn, agency_role(agency_code), f"agency {agency_code!r}") as c:
        yield c


@contextmanager
def as_admin(conn: Connection) -> Iterator[Connection]:
    """Run the block under the operators' role ``fix2go_admin`` (reads the raw rows too)."""
    with _as_role(conn, ADMIN_ROLE, "operators") as c:
        yield c


def current_agency(conn: Connection) -> str | None:
    """The agency whose role is in effect, or None (the application's own role)."""
    value = conn.execute(sa.text("SELECT fix2go_current_agency()")).scalar()
    return None if value is None else str(value)
