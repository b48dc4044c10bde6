"""Data quality: ingest batches, rejects by reason (row numbers only), triage queue on a map
with candidate agencies, suspect locations."""

from __future__ import annotations

import streamlit as st

from dashboard import data, i18n, maps, ui
from dashboard.i18n import t

lang = ui.sidebar_common()
version = data.data_version()
names = i18n.name_column(lang)
cats = data.categories(version)
cat_name = dict(zip(cats["code"], cats[names], strict=True))

st.title(t("page_quality", lang))

st.subheader(t("batches", lang))
ui.table_or_no_data(data.ingest_batches(version), lang)

st.subheader(t("rejects", lang))
reasons = data.rejects_by_reason(version)
if reasons.empty:
    st.caption(t("no_data", lang))
else:
    st.bar_chart(reasons.set_index("reason")["n_rejects"], horizontal=True)
    reason = st.selectbox(
        t("reason", lang),
        [None, *reasons["reason"]],
        format_func=lambda r: t("all", lang) if r is None else r,
        key=ui.wkey("reject_reason"),
    )
    st.caption(t("reject_rows", lang))
    ui.table(data.reject_rows(version, reason), lang)

st.subheader(t("triage", lang))
queue, n_queue = data.triage(version)
st.caption(t("count_rows", lang, n=n_queue))
if not queue.empty:
    outlines = data.governorate_outlines(version)
    outlines = outlines.assign(name=outlines[names])
    m = ui.new_map()
    maps.fit_to(m, outlines)
    points = queue.rename(columns={"report_id": "incident_id"}).assign(n_reports=1)
    maps.finish(
        m,
        [
            maps.governorate_layer(outlines, t("layer_governorates", lang)),
            maps.incident_layer(points, t("layer_triage", lang), category_labels=cat_name),
        ],
    )
    ui.show_map(m, key="triage_map")
    shown = queue.assign(category=queue["category"].map(lambda c: cat_name.get(c, c))).drop(
        columns=["lat", "lon"]
    )
    ui.table(shown, lang)

st.subheader(t("suspect", lang))
ui.table_or_no_data(data.suspect_locations(version), lang)
