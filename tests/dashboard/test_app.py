"""The Streamlit pages under AppTest: no exception on an empty and a seeded database, KPI
values equal direct counts, Arabic labels, no personal data on any page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.config import DB_URL_ENV
from spatial.postgis.engine import make_engine
from tests.dashboard.seed import SECRET_PSEUDONYM, SECRET_RAW

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TIMEOUT_S = 60
PAGES = ("views/planner.py", "views/agency.py", "views/quality.py")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _app(url: str, monkeypatch: pytest.MonkeyPatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv(DB_URL_ENV, url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _count(url: str, sql: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def _all_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "metric"):
        for el in getattr(at, kind):
            parts.append(str(getattr(el, "label", "")))
            parts.append(str(el.value))
    for df in at.dataframe:
        parts.append(df.value.to_csv())
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_on_an_empty_database(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    at = _app(empty_url, monkeypatch, page)
    assert at.title


def test_planner_kpis_equal_direct_counts(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(seeded_url, monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    n_open = _count(seeded_url, "SELECT count(*) FROM incidents WHERE status = 'open'")
    n_reports = _count(seeded_url, "SELECT count(*) FROM reports")
    n_high = _count(
        seeded_url,
        "SELECT count(*) FROM reports WHERE routing_status = 'routed' "
        "AND routing_confidence >= 0.8",
    )
    assert metrics["Open incidents"] == f"{n_open:,}"
    assert metrics["Reports in period"] == f"{n_reports:,}"
    assert metrics["Routed with high confidence"] == f"{n_high / n_reports:.0%}"
    assert float(metrics["Median age of open incidents (days)"]) == pytest.approx(7.0, abs=0.1)


def test_planner_weekly_trend_one_line_per_category(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(seeded_url, monkeypatch)
    charts = [m.value for m in at.markdown if "<svg" in m.value]
    n_categories = _count(seeded_url, "SELECT count(DISTINCT category) FROM reports")
    assert len(charts) == 1 and charts[0].count("<polyline") == n_categories


def test_planner_on_an_empty_database_shows_zero(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(empty_url, monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open incidents"] == "0" and metrics["Reports in period"] == "0"
    assert metrics["Median age of open incidents (days)"] == "–"


def test_planner_filter_changes_kpis(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(seeded_url, monkeypatch)
    at.sidebar.multiselect(key="cats").set_value(["street_light"]).run()
    metrics = {m.label: m.value for m in at.metric}
    n = _count(seeded_url, "SELECT count(*) FROM reports WHERE category = 'street_light'")
    assert metrics["Reports in period"] == str(n) == "2"
    assert metrics["Open incidents"] == "0"


def test_planner_top_hotspots_table(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(seeded_url, monkeypatch)
    (table,) = [d.value for d in at.dataframe]
    assert list(table["Trend"]) == ["intensifying"]
    assert table["Place"].iloc[0]


def test_arabic_switch(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(seeded_url, monkeypatch)
    at.sidebar.radio(key="lang").set_value("ar").run()
    assert not at.exception
    assert at.title[0].value == "خريطة التخطيط"
    labels = {m.label for m in at.metric}
    assert "البلاغات المفتوحة" in labels
    assert any("direction: rtl" in str(h.proto.body) for h in at.get("html"))
    table = at.dataframe[0].value
    assert list(table["الاتجاه"]) == ["متصاعدة"]


def test_agency_page_only_that_agency(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(seeded_url, monkeypatch, "views/agency.py")
    at.selectbox(key="inbox_agency").set_value("capital_municipality").run()
    inbox = at.dataframe[0].value
    expected = _count(
        seeded_url,
        "SELECT count(*) FROM incidents WHERE agency_code = 'capital_municipality' "
        "AND status <> 'closed'",
    )
    assert len(inbox) == expected == 1
    assert list(inbox["Incident"]) == [1]
    reports = at.dataframe[1].value
    assert len(reports) == 3
    assert all("[phone]" in d for d in reports["description"])


def test_agency_page_empty_inbox(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(seeded_url, monkeypatch, "views/agency.py")
    at.selectbox(key="inbox_agency").set_value("ewa").run()
    assert not at.exception
    assert len(at.dataframe) == 0  # ewa's only incident is closed: nothing open


def test_quality_page(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(seeded_url, monkeypatch, "views/quality.py")
    frames = [d.value for d in at.dataframe]
    batches = frames[0]
    assert batches[["n_in", "n_new", "n_rejected"]].iloc[0].tolist() == [10, 7, 3]
    rejects = frames[1]
    assert sorted(rejects["row_number"]) == [2, 5, 9]
    at.selectbox(key="reject_reason").set_value("unknown_category").run()
    rejects = at.dataframe[1].value
    assert rejects["row_number"].tolist() == [9]
    assert any(c.value == "2 rows" for c in at.caption)


@pytest.mark.parametrize("page", PAGES)
def test_no_personal_data_on_any_page(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    at = _app(seeded_url, monkeypatch, page)
    text = _all_text(at)
    assert SECRET_PSEUDONYM not in text and SECRET_RAW not in text
    for df in at.dataframe:
        assert isinstance(df.value, pd.DataFrame)
        assert "reporter_pseudonym" not in df.value.columns


# --- generated data through the real pipeline (ingest, dedup, hotspots) -----------------------


def test_planner_on_generated_data_equals_direct_counts(
    generated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(generated_url, monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    n_open = _count(generated_url, "SELECT count(*) FROM incidents WHERE status = 'open'")
    n_reports = _count(generated_url, "SELECT count(*) FROM reports")
    n_high = _count(
        generated_url,
        "SELECT count(*) FROM reports WHERE routing_status = 'routed' "
        "AND routing_confidence >= 0.8",
    )
    assert n_reports > 1000 and n_open > 0
    assert metrics["Open incidents"] == f"{n_open:,}"
    assert metrics["Reports in period"] == f"{n_reports:,}"
    assert metrics["Routed with high confidence"] == f"{n_high / n_reports:.0%}"
    top = at.dataframe[0].value
    assert len(top) > 0 and top["Place"].notna().all()


def test_agency_page_on_generated_data(generated_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(generated_url, monkeypatch, "views/agency.py")
    at.selectbox(key="inbox_agency").set_value("mow_roads").run()
    assert not at.exception
    inbox = at.dataframe[0].value
    expected = _count(
        generated_url,
        "SELECT count(*) FROM incidents WHERE agency_code = 'mow_roads' AND status <> 'closed'",
    )
    assert len(inbox) == min(expected, 200) > 0
    ids = ",".join(str(int(i)) for i in inbox["Incident"])
    assert (
        _count(
            generated_url,
            f"SELECT count(*) FROM incidents WHERE id IN ({ids}) AND agency_code <> 'mow_roads'",
        )
        == 0
    )


def test_quality_page_on_generated_data(
    generated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(generated_url, monkeypatch, "views/quality.py")
    batches = at.dataframe[0].value
    assert batches["n_in"].sum() == _count(generated_url, "SELECT sum(n_in) FROM ingest_batches")
    n_rejects = _count(generated_url, "SELECT count(*) FROM ingest_rejects")
    rejects = at.dataframe[1].value
    assert len(rejects) == min(n_rejects, 200) > 0
    assert list(rejects.columns) == ["batch_id", "row_number", "reason", "detail"]


@pytest.mark.parametrize("page", PAGES)
def test_generated_pseudonyms_never_shown(
    generated_url: str, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    engine = make_engine(generated_url)
    try:
        with engine.connect() as c:
            pseudonyms = (
                c.execute(
                    sa.text(
                        "SELECT DISTINCT reporter_pseudonym FROM reports "
                        "WHERE reporter_pseudonym IS NOT NULL LIMIT 50"
                    )
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert pseudonyms
    text = _all_text(_app(generated_url, monkeypatch, page))
    assert not [p for p in pseudonyms if p in text]
