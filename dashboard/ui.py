"""Shared page furniture: language switch, right-to-left layout, map embedding."""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import assets, data, i18n
from dashboard.config import load_config
from dashboard.maps import base_map

LANG_KEY = "lang"  # the switcher widget
_LANG_STATE = "_lang"  # survives page changes (widget state is per page)
MAP_HEIGHT_PX = 520


def lang() -> str:
    """The language chosen in the sidebar (``en`` default)."""
    return str(st.session_state.get(_LANG_STATE, "en"))


def wkey(name: str) -> str:
    """Widget key per language: a widget whose option labels change language starts afresh
    (Streamlit keeps a choice by its label, which the other language does not have)."""
    current = lang()
    return name if current == "en" else f"{name}_{current}"


def _remember_lang() -> None:
    st.session_state[_LANG_STATE] = st.session_state[LANG_KEY]


def sidebar_common() -> str:
    """Language switch and refresh button; applies right-to-left for Arabic. Returns lang."""
    st.session_state.setdefault(_LANG_STATE, "en")
    st.session_state[LANG_KEY] = st.session_state[_LANG_STATE]
    st.sidebar.radio(
        i18n.t("language", lang()),
        options=list(i18n.LANGUAGES),
        format_func=lambda code: i18n.LANGUAGES[code],
        key=LANG_KEY,
        on_change=_remember_lang,
        horizontal=True,
    )
    current = lang()
    if st.sidebar.button(i18n.t("refresh", current), key="refresh"):
        data.clear_caches()
    if i18n.is_rtl(current):
        st.html(i18n.RTL_CSS)
    st.html(i18n.dir_script(current), unsafe_allow_javascript=True)
    return current


def new_map(center: tuple[float, float] | None = None, zoom: int | None = None) -> folium.Map:
    """A map with the configured basemap (or none), optionally centred on ``center``."""
    assets.configure_folium()  # idempotent; every map links only same-host assets
    cfg = load_config()
    if center is None or zoom is None:
        return base_map(cfg.basemap_url, cfg.basemap_attribution)
    return base_map(cfg.basemap_url, cfg.basemap_attribution, center=center, zoom=zoom)


def show_map(m: folium.Map, key: str, layers: list[folium.FeatureGroup] | None = None) -> None:
    """Embed a display-only map (nothing is sent back to Python on pan or zoom).

    With ``layers``, ``m`` is the base map (view, basemap) and the layers are sent apart
    from it with their layer control: while the base map stays the same, a rerun with other
    layers swaps them in the map already shown instead of loading the map component afresh.
    """
    if layers is None:
        st_folium(m, key=key, height=MAP_HEIGHT_PX, use_container_width=True, returned_objects=[])
        return
    st_folium(
        m,
        key=key,
        height=MAP_HEIGHT_PX,
        use_container_width=True,
        returned_objects=[],
        feature_group_to_add=layers,
        layer_control=folium.LayerControl(collapsed=True),
    )


def table(frame: pd.DataFrame, lang: str) -> None:
    """A read-only table with its column headers in the page's language."""
    st.dataframe(
        frame, hide_index=True, column_config=i18n.column_labels(frame.columns.astype(str), lang)
    )


def table_or_no_data(frame: pd.DataFrame, lang: str) -> None:
    """:func:`table`, or the page's "no data" caption when ``frame`` is empty."""
    if frame.empty:
        st.caption(i18n.t("no_data", lang))
    else:
        table(frame, lang)
