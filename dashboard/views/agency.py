"""Agency inbox: one agency's boundary, open incidents by priority, an incident's reports,
downloads. Every row is read through the agency's database role."""

from __future__ import annotations

import streamlit as st

from dashboard import data, downloads, i18n, maps, ui
from dashboard.i18n import t
from spatial.postgis.dashboard import row_level_security_available

lang = ui.sidebar_common()
version = data.data_version()
names = i18n.name_column(lang)

ags = data.agencies(version)
ag_name = dict(zip(ags["code"], ags[names], strict=True))
cats = data.categories(version)
cat_name = dict(zip(cats["code"], cats[names], strict=True))

st.title(t("page_agency", lang))
agency = st.selectbox(
    t("pick_agency", lang),
    list(ag_name),
    format_func=ag_name.__getitem__,
    key=ui.wkey("inbox_agency"),
)
if agency is None:
    st.info(t("no_data", lang))
    st.stop()
st.caption(t("rls_on" if row_level_security_available() else "rls_off", lang))

inbox = data.agency_incidents(version, agency, data.TABLE_ROWS)
boundary = data.agency_boundary(version, agency)

m = ui.new_map()
maps.fit_to(m, boundary)
maps.finish(
    m,
    [
        maps.polygon_layer(boundary, t("layer_boundary", lang)),
        maps.incident_layer(inbox, t("layer_incidents", lang), category_labels=cat_name),
    ],
)
ui.show_map(m, key="agency_map")

st.subheader(t("inbox", lang))
st.caption(t("inbox_help", lang))
if inbox.empty:
    st.info(t("no_data", lang))
    st.stop()

table = inbox.assign(
    category=inbox["category"].map(lambda c: cat_name.get(c, c)),
    status=inbox["status"].map(lambda s: t(s, lang)),
)[["incident_id", "category", "status", "n_reports", "age_days", "recurrence"]]
table.columns = [
    t("incident", lang),
    t("category", lang),
    t("status", lang),
    t("n_reports", lang),
    t("age_days", lang),
    t("recurrence", lang),
]
event = st.dataframe(
    table, hide_index=True, on_select="rerun", selection_mode="single-row", key="inbox_table"
)

d1, d2, d3 = st.columns(3)
d1.download_button(
    t("download_csv", lang), downloads.inbox_csv(inbox), f"{agency}_incidents.csv", "text/csv"
)
d2.download_button(
    t("download_geojson", lang),
    downloads.inbox_geojson(inbox),
    f"{agency}_incidents.geojson",
    "application/geo+json",
)
d3.download_button(
    t("download_open311", lang),
    # every report of the agency: read (under its role) and formatted only when clicked
    lambda: data.agency_open311(version, agency),
    f"{agency}_requests.json",
    "application/json",
)

rows = event.selection.rows if event is not None else []
incident_id = int(inbox.iloc[rows[0] if rows else 0]["incident_id"])
st.subheader(t("reports_of", lang, id=incident_id))
reports = data.incident_reports(version, agency, incident_id)
shown = reports.assign(category=reports["category"].map(lambda c: cat_name.get(c, c)))[
    ["reported_at", "category", "channel", "description", "photo_url"]
]
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        "reported_at": st.column_config.DatetimeColumn(t("reported_at", lang)),
        "category": t("category", lang),
        "channel": t("channel", lang),
        "description": t("description", lang),
        "photo_url": st.column_config.LinkColumn(t("photo", lang)),
    },
)
