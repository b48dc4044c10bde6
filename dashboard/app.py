"""Fix2Go Spatial dashboard: ``fix2go dashboard`` runs ``streamlit run dashboard/app.py``.

Three pages (planner map, agency inbox, data quality) through ``st.navigation``, kept in
``views/`` (a folder named ``pages/`` would switch Streamlit to its legacy multipage mode,
which runs a page without this entry script on a first visit to its URL); the map
assets are served by the app itself from ``dashboard/static/vendor``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import assets, i18n, ui

st.set_page_config(page_title="Fix2Go Spatial", layout="wide")
assets.ensure_installed()
assets.configure_folium()

lang = ui.lang()
pages = [
    st.Page(
        "views/planner.py", title=i18n.t("page_planner", lang), url_path="planner", default=True
    ),
    st.Page("views/agency.py", title=i18n.t("page_agency", lang), url_path="agency"),
    st.Page("views/quality.py", title=i18n.t("page_quality", lang), url_path="quality"),
]
st.navigation(pages).run()
