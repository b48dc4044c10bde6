"""dashboard.serve: the start-up warm-up fills exactly the caches of the planner's first visit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import data, serve
from dashboard.config import DB_URL_ENV
from spatial.postgis import dashboard as q

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TIMEOUT_S = 60
# the planner's queries the warm-up must have answered (data_version is re-read every few s)
PLANNER_QUERIES = (
    "categories",
    "agencies",
    "governorate_list",
    "governorate_outlines",
    "report_date_bounds",
    "kpis",
    "incident_cells",
    "incidents_in_view",
    "hotspot_groups",
    "hotspot_cells",
    "top_hotspots",
    "weekly_trend",
)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def test_hotspot_set_prefers_all_categories_whole_period_at_the_resolution() -> None:
    groups = pd.DataFrame(
        {
            "resolution": [7, 8, 8, 9],
            "category_group": ["all", "roads", "all", "all"],
            "period": ["all", "all", "all", "last_90_days"],
        }
    )
    assert data.hotspot_set(groups, 8) == (8, "all", "all")
    assert data.hotspot_set(groups, 9) == (
        7,
        "all",
        "all",
    )  # 9 only for a period: the lowest "all" one
    assert data.hotspot_set(groups.iloc[:0], 8) == (8, None, None)


def test_warm_up_answers_the_planner_first_visit(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DB_URL_ENV, seeded_url)
    assert serve.warm_up() > 0

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("query not answered by the warm-up cache")

    for name in PLANNER_QUERIES:
        monkeypatch.setattr(q, name, refuse)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert {m.label for m in at.metric} >= {"Open incidents", "Reports in period"}
