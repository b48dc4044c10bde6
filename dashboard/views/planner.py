"""Planner map: KPIs, H3 hexagons, Gi* hot/cold spots, heat map, top hotspots, weekly trend."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import charts, data, i18n, maps, ui
from dashboard.i18n import t
from spatial.postgis.dashboard import Filters

RESOLUTIONS = (6, 7, 8, 9)
DEFAULT_RESOLUTION = 8
TOP_HOTSPOTS = 10
TOP_TABLE_KEY = "top_table"
FOCUS_HALF_SIZE_DEG = 0.01  # half the side of the box drawn around a focused hotspot

lang = ui.sidebar_common()
version = data.data_version()
names = i18n.name_column(lang)

cats = data.categories(version)
cat_name = dict(zip(cats["code"], cats[names], strict=True))
govs = data.governorates(version)
gov_name = dict(zip(govs["code"], govs[names], strict=True))
ags = data.agencies(version)
ag_name = dict(zip(ags["code"], ags[names], strict=True))
lo, hi = data.date_bounds(version)

sb = st.sidebar
sb.header(t("filters", lang))
date_from: dt.date | None = None
date_to: dt.date | None = None
if lo is not None and hi is not None:
    picked = sb.date_input(t("date_range", lang), value=(lo, hi), key="dates")
    if isinstance(picked, tuple) and len(picked) == 2:
        date_from, date_to = picked
    elif isinstance(picked, tuple) and len(picked) == 1:
        date_from = picked[0]
chosen_cats = sb.multiselect(
    t("categories", lang),
    list(cat_name),
    format_func=cat_name.__getitem__,
    placeholder=t("all", lang),
    key=ui.wkey("cats"),
)
gov = sb.selectbox(
    t("governorate", lang),
    [None, *gov_name],
    format_func=lambda c: t("all", lang) if c is None else gov_name[c],
    key=ui.wkey("gov"),
)
agency = sb.selectbox(
    t("agency", lang),
    [None, *ag_name],
    format_func=lambda c: t("all", lang) if c is None else ag_name[c],
    key=ui.wkey("agency"),
)
statuses = sb.multiselect(
    t("status", lang),
    list(i18n.STATUSES),
    format_func=lambda s: t(s, lang),
    placeholder=t("all", lang),
    key=ui.wkey("statuses"),
)
resolution = sb.select_slider(
    t("resolution", lang), options=RESOLUTIONS, value=DEFAULT_RESOLUTION, key="res"
)
filters = Filters(date_from, date_to, tuple(chosen_cats), gov, agency, tuple(statuses))

st.title(t("page_planner", lang))

k = data.kpis(version, filters)
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("kpi_open", lang), f"{k['open_incidents']:,}")
c2.metric(t("kpi_reports", lang), f"{k['reports_in_period']:,}")
age = k["median_age_open_days"]
c3.metric(t("kpi_age", lang), "–" if age is None else f"{age:.1f}")
share = k["high_confidence_share"]
c4.metric(t("kpi_confidence", lang), "–" if share is None else f"{share:.0%}")

# Hotspots: the set for all categories over the whole period, at the hexagon resolution
# chosen when it was computed there (else the lowest resolution computed).
hot_res, hot_group, hot_period = data.hotspot_set(data.hotspot_groups(version), resolution)
top = data.top_hotspots(version, hot_res, hot_group, hot_period, TOP_HOTSPOTS)

# the map is sent before the table: its component starts loading first in the browser. The
# table's row selection (widget state from the previous run) tells the map where to focus.
focus: tuple[float, float] | None = None
selected = st.session_state.get(TOP_TABLE_KEY)
rows = list(selected["selection"]["rows"]) if selected else []
if rows and not top.empty and rows[0] < len(top):
    row = top.iloc[rows[0]]
    focus = (float(row["lat"]), float(row["lon"]))

map_col, side_col = st.columns([3, 2])
with map_col:
    names_ = maps.LayerNames(
        governorates=t("layer_governorates", lang),
        hexagons=t("layer_hexagons", lang),
        hotspots=t("layer_hotspots", lang),
        heat=t("layer_heat", lang),
        incidents=t("layer_incidents", lang),
    )
    outlines = data.governorate_outlines(version)
    outlines = outlines.assign(name=outlines[names])
    cells = data.incident_cells(version, filters, resolution)
    bbox = None
    if focus is not None:
        lat, lon = focus
        d = FOCUS_HALF_SIZE_DEG
        bbox = (lon - d, lat - d, lon + d, lat + d)
    # individual incidents only when few enough are in view (the hexagons tell how many)
    few = focus is not None or int(cells["n_incidents"].sum()) <= maps.MAX_INCIDENT_MARKERS
    incidents = (
        data.incidents_in_view(version, filters, bbox, maps.MAX_INCIDENT_MARKERS)
        if few
        else pd.DataFrame()
    )
    m = ui.new_map(focus, maps.FOCUS_ZOOM if focus else None)
    if focus is None:
        maps.fit_to(m, outlines)
    # the layers go to the browser apart from the base map: a filter change replaces them in
    # the map already shown instead of loading the map component afresh
    ui.show_map(
        m,
        key="planner_map",
        layers=[
            maps.governorate_layer(outlines, names_.governorates),
            maps.hexagon_layer(cells, names_.hexagons, label=t("n_incidents", lang)),
            maps.hotspot_layer(
                data.hotspot_cells(version, hot_res, hot_group, hot_period),
                names_.hotspots,
                i18n.trend_labels(lang),
            ),
            maps.heat_layer(maps.cell_weights(cells), names_.heat),
            maps.incident_layer(incidents, names_.incidents, category_labels=cat_name),
        ],
    )
    if not few or len(incidents) > maps.MAX_INCIDENT_MARKERS:
        st.caption(t("markers_hidden", lang, n=maps.MAX_INCIDENT_MARKERS))
    if cells.empty:
        st.info(t("no_data", lang))

with side_col:
    st.subheader(t("top_hotspots", lang))

    if top.empty:
        st.caption(t("no_hotspots", lang))
    else:
        st.caption(t("top_hotspots_help", lang))
        shown = pd.DataFrame(
            {
                t("place", lang): top[i18n.place_column(lang)],
                t("n_incidents", lang): top["n_incidents"],
                t("trend", lang): top["trend"].map(lambda x: i18n.trend_labels(lang).get(x, x)),
                t("confidence", lang): top["confidence"].map(
                    lambda v: "" if pd.isna(v) else f"{int(v)} %"
                ),
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key=TOP_TABLE_KEY,
        )

st.subheader(t("weekly_trend", lang))
trend = data.weekly_trend(version, filters)
if trend.empty:
    st.caption(t("no_data", lang))
else:
    # drawn as SVG on the server: no chart library for the browser to load (charts.py)
    st.markdown(
        charts.weekly_lines_svg(
            trend, cat_name, maps.CATEGORY_COLORS, aria_label=t("weekly_trend", lang)
        ),
        unsafe_allow_html=True,
    )
