"""Cached access to the database for the pages: engine in ``st.cache_resource``, query
results in ``st.cache_data`` with a TTL.

Every cached query takes the current :func:`data_version` as its first argument: an ingest,
a dedup or a hotspot run changes it, so results computed before are not reused (the
"cleared after an ingest" hook needs no message between processes). :func:`clear_caches`
empties everything at once (the sidebar's refresh button).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy.engine import Connection, Engine

from dashboard import downloads
from dashboard.config import cache_ttl_s, load_config
from spatial.postgis import dashboard as q
from spatial.postgis.engine import make_engine

TTL_S = cache_ttl_s()
VERSION_TTL_S = 5
"""How long the data version itself is cached (an ingest shows up after at most this)."""

TABLE_ROWS = 200
"""Rows shown in the pages' tables (batches, rejects, triage, inbox)."""


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url, pool_size=4, max_overflow=2)


def engine() -> Engine:
    """The process-wide engine on the configured database."""
    return _engine(load_config().db_url)


@contextmanager
def connect() -> Iterator[Connection]:
    """A read connection."""
    with engine().connect() as conn:
        yield conn


def clear_caches() -> None:
    """Forget every cached query result (call after an ingest in this process)."""
    st.cache_data.clear()


@st.cache_data(ttl=VERSION_TTL_S, show_spinner=False)
def data_version() -> str:
    """Changes whenever reports, incidents, batches or hotspots change."""
    with connect() as c:
        version = q.data_version(c)
    _refresh_aggregates(version)
    return version


@st.cache_data(ttl=None, show_spinner=False, max_entries=8)
def _refresh_aggregates(version: str) -> str:
    """Recompute the prepared report aggregates once per data version (per process)."""
    with engine().begin() as c:
        q.refresh_aggregates(c)
    return version


# --- reference lists ---------------------------------------------------------------------------


@st.cache_data(ttl=TTL_S, show_spinner=False)
def categories(_version: str) -> pd.DataFrame:
    with connect() as c:
        return q.categories(c)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def agencies(_version: str) -> pd.DataFrame:
    with connect() as c:
        return q.agencies(c)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def governorates(_version: str) -> pd.DataFrame:
    with connect() as c:
        return q.governorate_list(c)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def governorate_outlines(_version: str) -> gpd.GeoDataFrame:
    with connect() as c:
        return q.governorate_outlines(c)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def date_bounds(version: str) -> tuple[dt.date | None, dt.date | None]:
    with connect() as c:
        return q.report_date_bounds(c)


# --- planner ---------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_S, show_spinner=False)
def kpis(version: str, f: q.Filters) -> dict[str, Any]:
    with connect() as c:
        return q.kpis(c, f)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def incident_cells(version: str, f: q.Filters, resolution: int) -> pd.DataFrame:
    with connect() as c:
        return q.incident_cells(c, f, resolution)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def incidents_in_view(
    version: str, f: q.Filters, bbox: tuple[float, float, float, float] | None, limit: int
) -> pd.DataFrame:
    with connect() as c:
        return q.incidents_in_view(c, f, bbox, limit)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def hotspot_groups(version: str) -> pd.DataFrame:
    with connect() as c:
        return q.hotspot_groups(c)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def hotspot_cells(
    version: str, resolution: int, group: str | None, period: str | None
) -> pd.DataFrame:
    with connect() as c:
        return q.hotspot_cells(c, resolution, group, period)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def top_hotspots(
    version: str, resolution: int, group: str | None, period: str | None, limit: int
) -> pd.DataFrame:
    with connect() as c:
        return q.top_hotspots(c, resolution, group, period, limit)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def weekly_trend(version: str, f: q.Filters) -> pd.DataFrame:
    with connect() as c:
        return q.weekly_trend(c, f)


def hotspot_set(groups: pd.DataFrame, resolution: int) -> tuple[int, str | None, str | None]:
    """The hotspot set the planner shows: all categories over the whole period, at
    ``resolution`` when it was computed there (else the lowest resolution computed)."""
    if groups.empty:
        return resolution, None, None
    ranked = groups.assign(
        _other_group=groups["category_group"] != "all",
        _other_period=groups["period"] != "all",
        _other_res=groups["resolution"] != resolution,
    ).sort_values(["_other_group", "_other_period", "_other_res", "resolution"])
    first = ranked.iloc[0]
    return int(first["resolution"]), str(first["category_group"]), str(first["period"])


def warm_planner(resolution: int, top_n: int, max_markers: int) -> None:
    """Run the planner's queries for its default state (no filter but the whole date range),
    filling the caches a first visitor's page reads. Called once when the server starts."""
    version = data_version()
    categories(version)
    agencies(version)
    governorates(version)
    governorate_outlines(version)
    lo, hi = date_bounds(version)
    f = q.Filters(lo, hi, (), None, None, ())
    kpis(version, f)
    cells = incident_cells(version, f, resolution)
    if int(cells["n_incidents"].sum()) <= max_markers:
        incidents_in_view(version, f, None, max_markers)
    hot = hotspot_set(hotspot_groups(version), resolution)
    top_hotspots(version, *hot, top_n)
    hotspot_cells(version, *hot)
    weekly_trend(version, f)


# --- agency inbox: every query inside the agency's role -----------------------------------------


@contextmanager
def agency_connection(agency_code: str) -> Iterator[Connection]:
    """A connection in a transaction running as the agency's database role."""
    with engine().connect() as c, c.begin(), q.agency_scope(c, agency_code):
        yield c


@st.cache_data(ttl=TTL_S, show_spinner=False)
def agency_boundary(version: str, agency_code: str) -> gpd.GeoDataFrame:
    with connect() as c:
        return q.agency_boundary(c, agency_code)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def agency_incidents(version: str, agency_code: str, limit: int) -> pd.DataFrame:
    with agency_connection(agency_code) as c:
        return q.agency_incidents(c, agency_code, limit)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def incident_reports(version: str, agency_code: str, incident_id: int) -> pd.DataFrame:
    with agency_connection(agency_code) as c:
        return q.incident_reports(c, agency_code, incident_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def agency_open311(version: str, agency_code: str) -> bytes:
    """The agency's reports as Open311 ``requests.json``, read under the agency's role."""
    with connect() as c:
        try:
            return downloads.agency_open311(c, agency_code)
        finally:
            c.rollback()


# --- data quality ----------------------------------------------------------------------------


@st.cache_data(ttl=TTL_S, show_spinner=False)
def ingest_batches(version: str) -> pd.DataFrame:
    with connect() as c:
        return q.ingest_batches(c, TABLE_ROWS)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def rejects_by_reason(version: str) -> pd.DataFrame:
    with connect() as c:
        return q.rejects_by_reason(c)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def reject_rows(version: str, reason: str | None) -> pd.DataFrame:
    with connect() as c:
        return q.reject_rows(c, reason, TABLE_ROWS)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def triage(version: str) -> tuple[pd.DataFrame, int]:
    with connect() as c:
        return q.triage_queue(c, TABLE_ROWS), q.triage_count(c)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def suspect_locations(version: str) -> pd.DataFrame:
    with connect() as c:
        return q.suspect_locations(c, TABLE_ROWS)
