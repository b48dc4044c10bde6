"""Every setting of Fix2Go Spatial, in one place.

Each setting is read from an environment variable when :func:`load` runs, and each has a
documented default. The only other reader of the environment is the dashboard's own process
(``dashboard/config.py``: ``FIX2GO_BASEMAP``, ``FIX2GO_BASEMAP_ATTR``,
``FIX2GO_DASHBOARD_TTL_S`` and the database URL the CLI hands it), since the dashboard may not
import ``fix2go``.

=========================  ==================================================  ======================
variable                   meaning                                             default
=========================  ==================================================  ======================
``DATABASE_URL``           an external PostgreSQL + PostGIS server; when set,  unset (embedded)
                           nothing is started and the embedded cluster is not
                           used. ``postgresql://`` is rewritten to
                           ``postgresql+psycopg://``.
``FIX2GO_HOME``            where the embedded cluster, its log, its password   ``<project>/.fix2go``
                           and the pseudonym key live
``FIX2GO_DB_PORT``         first TCP port tried for the embedded cluster       ``54329``
``FIX2GO_PG_BINDIR``       PostgreSQL server binaries                          newest under
                                                                               ``/usr/lib/postgresql``
``FIX2GO_PG_USER``         the unprivileged OS user that runs the server when  ``postgres``
                           the CLI runs as root
``FIX2GO_DATA_DIR``        reference data (boundaries, places, agencies,       ``<project>/data``
                           routing rules)
``FIX2GO_PSEUDONYM_KEY``   secret key of the reporter pseudonym (HMAC-SHA256); created once under
                           never stored in the database                        ``FIX2GO_HOME``
``FIX2GO_COASTAL_TOL_M``   how far outside the governorates a report may lie   ``1000``
                           and still be in the deployment region (metres)
``FIX2GO_DASHBOARD_PORT``  port of ``fix2go dashboard``                        ``8501``
=========================  ==================================================  ======================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout (or installation) root: the folder holding ``sql/`` and ``data/``."""

SQL_DIR = PROJECT_ROOT / "sql"
"""Numbered plain-SQL migrations, applied in name order."""


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one process (see the module docstring for each field)."""

    database_url: str | None
    home: Path
    db_port: int
    pg_bindir: Path | None
    pg_user: str
    data_dir: Path
    pseudonym_key: str | None
    coastal_tolerance_m: float
    dashboard_port: int

    @property
    def embedded(self) -> bool:
        """True when the app runs its own private PostgreSQL cluster."""
        return self.database_url is None


def _find_pg_bindir() -> Path | None:
    """Return the newest ``/usr/lib/postgresql/N/bin`` that holds ``initdb``, if any."""
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    candidates = [p / "bin" for p in root.iterdir() if (p / "bin" / "initdb").exists()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def normalise_database_url(url: str) -> str:
    """Spell a PostgreSQL URL with the psycopg 3 driver, as SQLAlchemy needs it.

    >>> normalise_database_url("postgres://u@h/db")
    'postgresql+psycopg://u@h/db'
    """
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load() -> Settings:
    """Read the environment into a :class:`Settings` (no caching: cheap and test-friendly)."""
    env = os.environ
    url = env.get("DATABASE_URL") or None
    bindir = env.get("FIX2GO_PG_BINDIR")
    return Settings(
        database_url=normalise_database_url(url) if url else None,
        home=Path(env.get("FIX2GO_HOME", PROJECT_ROOT / ".fix2go")).resolve(),
        db_port=int(env.get("FIX2GO_DB_PORT", "54329")),
        pg_bindir=Path(bindir) if bindir else _find_pg_bindir(),
        pg_user=env.get("FIX2GO_PG_USER", "postgres"),
        data_dir=Path(env.get("FIX2GO_DATA_DIR", PROJECT_ROOT / "data")),
        pseudonym_key=env.get("FIX2GO_PSEUDONYM_KEY") or None,
        coastal_tolerance_m=float(env.get("FIX2GO_COASTAL_TOL_M", "1000")),
        dashboard_port=int(env.get("FIX2GO_DASHBOARD_PORT", "8501")),
    )
