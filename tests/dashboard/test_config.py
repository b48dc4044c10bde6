"""Dashboard configuration from the environment and the offline asset wiring."""

from __future__ import annotations

import folium
import folium.plugins
import pytest

from dashboard import assets
from dashboard.config import DB_URL_ENV, load_config
from dashboard.errors import AssetsError, DashboardConfigError

URL = "postgresql+psycopg://u@localhost:1/db"


def test_defaults_to_no_basemap() -> None:
    cfg = load_config({DB_URL_ENV: URL})
    assert cfg.db_url == URL
    assert cfg.basemap_url is None
    assert cfg.cache_ttl_s == 300


def test_basemap_url_template_accepted() -> None:
    tiles = "https://tiles.gov.bh/{z}/{x}/{y}.png"
    cfg = load_config({DB_URL_ENV: URL, "FIX2GO_BASEMAP": tiles, "FIX2GO_DASHBOARD_TTL_S": "0"})
    assert cfg.basemap_url == tiles
    assert cfg.cache_ttl_s == 0


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({}, "FIX2GO_DASHBOARD_DB_URL is not set"),
        ({DB_URL_ENV: URL, "FIX2GO_BASEMAP": "osm"}, "neither 'none' nor a tile URL"),
        ({DB_URL_ENV: URL, "FIX2GO_DASHBOARD_TTL_S": "-5"}, "non-negative number of seconds"),
        ({DB_URL_ENV: URL, "FIX2GO_DASHBOARD_TTL_S": "soon"}, "non-negative number of seconds"),
    ],
)
def test_bad_settings_raise_one_line_errors(env: dict[str, str], match: str) -> None:
    with pytest.raises(DashboardConfigError, match=match):
        load_config(env)


def test_configure_folium_points_every_default_at_the_app(tmp_path) -> None:
    assets.install(tmp_path, npm=False)
    assets.configure_folium(tmp_path)
    try:
        links = [
            *folium.Map.default_js,
            *folium.Map.default_css,
            *folium.plugins.HeatMap.default_js,
            *folium.plugins.MarkerCluster.default_js,
            *folium.plugins.MarkerCluster.default_css,
        ]
        assert all(url.startswith("/app/static/vendor/") for _, url in links)
        # a map links Leaflet only (no popups or icon markers need jQuery, Bootstrap, fonts)
        assert {k for k, _ in folium.Map.default_js} == {"leaflet"}
        assert {k for k, _ in folium.Map.default_css} == {"leaflet_css"}
        for _, url in links:
            assert (tmp_path / url.removeprefix("/app/static/vendor/")).is_file(), url
    finally:
        assets.configure_folium()


def test_missing_required_lists_what_to_install(tmp_path) -> None:
    assert "leaflet/leaflet.js" in assets.missing_required(tmp_path)
    assets.ensure_installed(tmp_path)
    assert assets.missing_required(tmp_path) == []


def test_npm_missing_is_a_clear_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets.shutil, "which", lambda _name: None)
    with pytest.raises(AssetsError, match="npm not found"):
        assets.install(tmp_path, npm=True)


def test_install_command_survives_missing_npm(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(assets.shutil, "which", lambda _name: None)
    assert assets.main(["install"]) == 0
    out = capsys.readouterr().out
    assert "optional npm assets skipped: npm not found" in out
    assert assets.missing_required() == []
