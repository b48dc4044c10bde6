"""Dashboard queries on a real PostGIS: figures equal direct counts, empty states, no PII."""

from __future__ import annotations

import datetime as dt
import re
import time

import h3
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spatial.postgis import dashboard as q
from spatial.postgis.engine import make_engine
from tests.dashboard.seed import HOTSPOT_RESOLUTION, SECRET_PSEUDONYM, cell


def _scalar(engine: Engine, sql: str, **p: object) -> object:
    with engine.connect() as c:
        return c.execute(sa.text(sql), p).scalar_one()


@pytest.mark.parametrize("res", [0, 5, 7, 8, 9])
def test_h3_parent_sql_matches_h3(seeded_engine: Engine, res: int) -> None:
    child = cell(26.2235, 50.5877, 9)
    with seeded_engine.connect() as c:
        got = c.execute(sa.text(f"SELECT {q.h3_parent_sql(':c', res)}"), {"c": child}).scalar()
    assert got == h3.str_to_int(h3.cell_to_parent(h3.int_to_str(child), res))


def test_h3_parent_sql_rejects_bad_resolution() -> None:
    with pytest.raises(ValueError, match=r"H3 resolution must be 0\.\.15"):
        q.h3_parent_sql("c", 16)


def test_kpis_equal_direct_counts(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c:
        k = q.kpis(c, q.Filters())
    assert k["open_incidents"] == _scalar(
        seeded_engine, "SELECT count(*) FROM incidents WHERE status = 'open'"
    )
    assert k["open_incidents"] == 2
    assert k["reports_in_period"] == _scalar(seeded_engine, "SELECT count(*) FROM reports") == 7
    # routed with confidence >= 0.8: r1 r2 r5 r6
    assert k["high_confidence_share"] == pytest.approx(4 / 7)
    # open incidents first reported 10 and 4 days ago
    assert k["median_age_open_days"] == pytest.approx(7.0, abs=0.01)


def test_kpis_follow_filters(seeded_engine: Engine) -> None:
    today = dt.datetime.now(dt.UTC).date()
    f = q.Filters(date_from=today - dt.timedelta(days=7), categories=("pothole",))
    with seeded_engine.connect() as c:
        k = q.kpis(c, f)
    # pothole reports in the last 7 days: r2 (5), r3 (2), r7 (6)
    assert k["reports_in_period"] == 3
    assert k["open_incidents"] == 1  # incident 1 (last report 2 days ago)
    assert k["high_confidence_share"] == pytest.approx(1 / 3)
    with seeded_engine.connect() as c:
        k = q.kpis(c, q.Filters(governorate="BH-15", agency="ewa"))
    assert (k["open_incidents"], k["reports_in_period"]) == (0, 2)
    assert k["median_age_open_days"] is None


def test_incident_cells_aggregate_to_parents(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c:
        cells9 = q.incident_cells(c, q.Filters(), 9)
        cells6 = q.incident_cells(c, q.Filters(), 6)
        open_only = q.incident_cells(c, q.Filters(statuses=("open",)), 9)
    assert cells9["n_incidents"].sum() == 4 and len(cells9) == 4
    assert cells9["n_reports"].sum() == 7
    assert cells6["n_incidents"].sum() == 4 and len(cells6) < 4
    assert all(h3.get_resolution(h3.int_to_str(int(x))) == 6 for x in cells6["h3_cell"])
    assert open_only["n_incidents"].sum() == 2


def test_incidents_in_view_limit_and_bbox(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c:
        allv = q.incidents_in_view(c, q.Filters(), None, limit=10)
        capped = q.incidents_in_view(c, q.Filters(), None, limit=2)
        muharraq = q.incidents_in_view(c, q.Filters(), (50.60, 26.24, 50.62, 26.26), limit=10)
    assert len(allv) == 4 and len(capped) == 3
    assert sorted(muharraq["incident_id"]) == [3, 4]


def test_hotspots_and_top_list(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c:
        groups = q.hotspot_groups(c)
        spots = q.hotspot_cells(c, HOTSPOT_RESOLUTION, "all", "all")
        top = q.top_hotspots(c, HOTSPOT_RESOLUTION, "all", "all", limit=5)
    assert list(groups["category_group"]) == ["all"]
    assert sorted(spots["hot_class"]) == [-2, 3]
    assert len(top) == 1 and top.iloc[0]["trend"] == "intensifying"
    assert top.iloc[0]["place_en"]  # a place name from the places table
    assert 26.2 < top.iloc[0]["lat"] < 26.25


def test_weekly_trend_counts_every_report(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c:
        t = q.weekly_trend(c, q.Filters())
    assert t["n_reports"].sum() == 7
    assert set(t["category"]) == {"pothole", "flooding", "street_light"}
    assert all(w.weekday() == 0 for w in t["week"])


def test_agency_inbox_only_that_agency(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c, c.begin(), q.agency_scope(c, "capital_municipality"):
        inbox = q.agency_incidents(c, "capital_municipality", limit=50)
        reports = q.incident_reports(c, "capital_municipality", 1)
        other = q.incident_reports(c, "capital_municipality", 3)
    assert list(inbox["incident_id"]) == [1]
    assert len(reports) == 3 and other.empty
    assert "reporter_pseudonym" not in reports.columns
    assert not reports.astype(str).apply(lambda s: s.str.contains(SECRET_PSEUDONYM)).any().any()


def test_agency_inbox_priority_order(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c, c.begin():
        c.execute(
            sa.text("UPDATE incidents SET agency_code = 'capital_municipality' WHERE id IN (2, 4)")
        )
        inbox = q.agency_incidents(c, "capital_municipality", limit=50)
        c.rollback()
    # most reports first (1: 3 reports), then the oldest (4: 6 days, recurring; 2: 4 days)
    assert list(inbox["incident_id"]) == [1, 4, 2]
    assert list(inbox["recurrence"]) == [False, True, False]


def test_agency_boundary(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c:
        b = q.agency_boundary(c, "capital_municipality")
        none = q.agency_boundary(c, "no_such_agency")
    assert len(b) == 1 and b.geometry.iloc[0].area > 0
    assert none.empty


def test_quality_queries(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c:
        batches = q.ingest_batches(c, 10)
        reasons = q.rejects_by_reason(c)
        rows = q.reject_rows(c, "bad_coordinates", 10)
        triage = q.triage_queue(c, 50)
        n_triage = q.triage_count(c)
        suspect = q.suspect_locations(c, 10)
    assert batches.iloc[0][["n_in", "n_new", "n_rejected"]].tolist() == [10, 7, 3]
    assert dict(zip(reasons["reason"], reasons["n_rejects"], strict=True)) == {
        "bad_coordinates": 2,
        "unknown_category": 1,
    }
    assert sorted(rows["row_number"]) == [2, 5]
    assert "raw" not in rows.columns
    # r4 triage, r7 unroutable, r3 routed at 0.60 is not below 0.5
    assert n_triage == len(triage) == 2
    assert triage["candidates"].notna().all()
    assert "capital_municipality" in " ".join(triage["candidates"])
    assert len(suspect) == 1 and "suspect_location" in suspect.iloc[0]["flags"]


def test_empty_database(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with engine.connect() as c:
            k = q.kpis(c, q.Filters())
            assert k == {
                "open_incidents": 0,
                "reports_in_period": 0,
                "median_age_open_days": None,
                "high_confidence_share": None,
            }
            assert q.incident_cells(c, q.Filters(), 8).empty
            assert q.weekly_trend(c, q.Filters()).empty
            assert q.top_hotspots(c, 8, None, None, 5).empty
            assert q.report_date_bounds(c) == (None, None)
            assert len(q.governorate_outlines(c)) == 4
            assert q.triage_queue(c, 10).empty and q.rejects_by_reason(c).empty
    finally:
        engine.dispose()


def test_agency_scope_enforces_row_level_security(seeded_engine: Engine) -> None:
    assert q.row_level_security_available()
    with seeded_engine.connect() as c, c.begin(), q.agency_scope(c, "capital_municipality"):
        seen = c.execute(sa.text("SELECT array_agg(id ORDER BY id) FROM incidents")).scalar()
        n_reports = c.execute(sa.text("SELECT count(*) FROM reports")).scalar()
    assert seen == [1]  # no WHERE clause: the database role alone limits the rows
    assert n_reports == 3


def test_aggregate_threshold_matches_the_constant(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c:
        definition = c.execute(
            sa.text("SELECT pg_get_viewdef('dashboard_report_days'::regclass)")
        ).scalar_one()
    found = re.search(r"routing_confidence >= \(?([0-9.]+)\)?::double precision", definition)
    assert found and float(found.group(1)) == q.HIGH_CONFIDENCE_MIN


def test_refresh_aggregates_picks_up_new_reports(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as c, c.begin():
        before = q.kpis(c, q.Filters())["reports_in_period"]
        c.execute(
            sa.text(
                "INSERT INTO reports (source, source_id, category, reported_at, content_hash, "
                "routing_status, routing_confidence, agency_code, geom) VALUES "
                "('fix2go', 'new1', 'debris', now(), 'x', 'routed', 0.9, 'mow_roads', "
                "ST_SetSRID(ST_MakePoint(50.58, 26.22), 4326))"
            )
        )
        stale = q.kpis(c, q.Filters())["reports_in_period"]
        q.refresh_aggregates(c)
        fresh = q.kpis(c, q.Filters(categories=("debris",)))
        c.rollback()
    assert stale == before
    assert fresh["reports_in_period"] == 1 and fresh["high_confidence_share"] == 1.0


def test_data_version_changes_after_a_write(seeded_url: str) -> None:
    engine = make_engine(seeded_url)
    try:
        with engine.connect() as c:
            before = q.data_version(c)
        with engine.begin() as c:
            c.execute(sa.text("UPDATE incidents SET status = status WHERE id = 2"))
        # a backend flushes its statistics at transaction end, or within 10 s when idle
        deadline = time.monotonic() + 30
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.2)
            with engine.connect() as c:
                after = q.data_version(c)
        with engine.connect() as c:
            again = q.data_version(c)
    finally:
        engine.dispose()
    assert after != before
    assert again == after
