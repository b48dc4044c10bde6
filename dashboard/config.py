"""The dashboard's configuration, read from the environment in one place.

The ``fix2go dashboard`` command resolves the database URL (``fix2go.database.database_url``)
and passes it to the Streamlit process in :data:`DB_URL_ENV`; the dashboard never imports
``fix2go`` (imports point ``fix2go -> dashboard``).

========================  =====================================================  ===========
variable                  meaning                                                default
========================  =====================================================  ===========
``FIX2GO_DASHBOARD_DB_URL``  SQLAlchemy URL of the database (set by the CLI)     required
``FIX2GO_BASEMAP``        a tile URL template (``https://.../{z}/{x}/{y}.png``)   ``none``
                          or ``none`` (outlines only). With a URL, the browser
                          drops the basemap by itself when tiles cannot be
                          fetched (closed network).
``FIX2GO_BASEMAP_ATTR``   attribution shown with the basemap                     ``""``
``FIX2GO_DASHBOARD_TTL_S``  seconds a cached query result is kept                ``300``
========================  =====================================================  ===========
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.errors import DashboardConfigError

DB_URL_ENV = "FIX2GO_DASHBOARD_DB_URL"
BASEMAP_ENV = "FIX2GO_BASEMAP"
BASEMAP_ATTR_ENV = "FIX2GO_BASEMAP_ATTR"
TTL_ENV = "FIX2GO_DASHBOARD_TTL_S"
DEFAULT_TTL_S = 300


@dataclass(frozen=True)
class DashboardConfig:
    """Resolved dashboard settings (see the module docstring)."""

    db_url: str
    basemap_url: str | None
    basemap_attribution: str
    cache_ttl_s: int


def load_config(env: Mapping[str, str] | None = None) -> DashboardConfig:
    """Read the dashboard settings from ``env`` (default: ``os.environ``).

    Raises
    ------
    DashboardConfigError
        When the database URL is missing or a value is malformed.
    """
    env = os.environ if env is None else env
    url = env.get(DB_URL_ENV, "").strip()
    if not url:
        raise DashboardConfigError(
            f"{DB_URL_ENV} is not set: the dashboard does not know its database; "
            "start it with `fix2go dashboard` (which sets it)"
        )
    basemap = env.get(BASEMAP_ENV, "none").strip()
    if basemap.lower() in ("", "none"):
        basemap_url: str | None = None
    elif basemap.startswith(("http://", "https://", "/")) and "{z}" in basemap:
        basemap_url = basemap
    else:
        raise DashboardConfigError(
            f"{BASEMAP_ENV}={basemap!r} is neither 'none' nor a tile URL template; "
            "set it to e.g. https://tiles.example/{z}/{x}/{y}.png or none"
        )
    ttl_raw = env.get(TTL_ENV, str(DEFAULT_TTL_S))
    try:
        ttl = int(ttl_raw)
    except ValueError:
        ttl = -1
    if ttl < 0:
        raise DashboardConfigError(
            f"{TTL_ENV}={ttl_raw!r} is not a non-negative number of seconds; set e.g. 300"
        )
    return DashboardConfig(
        db_url=url,
        basemap_url=basemap_url,
        basemap_attribution=env.get(BASEMAP_ATTR_ENV, ""),
        cache_ttl_s=ttl,
    )


def cache_ttl_s(env: Mapping[str, str] | None = None) -> int:
    """The query cache TTL alone (read at import time of the cached functions)."""
    env = os.environ if env is None else env
    try:
        ttl = int(env.get(TTL_ENV, str(DEFAULT_TTL_S)))
    except ValueError:
        return DEFAULT_TTL_S
    return max(ttl, 0)
