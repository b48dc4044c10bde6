"""Map builders, tested on their rendered HTML: hexagon count, layer names, no external URL."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import h3
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Polygon

from dashboard import assets, maps, polygons
from spatial import grid

SRC_HREF = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


@pytest.fixture(autouse=True)
def _offline_assets() -> None:
    assets.configure_folium()


def _cells(n: int, res: int = 9) -> list[int]:
    """``n`` distinct cells around Manama."""
    centre = h3.latlng_to_cell(26.22, 50.58, res)
    ring = sorted(h3.grid_disk(centre, 3))[:n]
    assert len(ring) == n
    return [h3.str_to_int(c) for c in ring]


def _render(m) -> str:
    return m.get_root().render()


def _polygon_payloads(html: str) -> list[dict]:
    """The compact polygon sets (dashboard.polygons) written into a rendered map."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(html, m.start())[0] for m in re.finditer(r'\{"rings": ', html)]


def _governorates() -> gpd.GeoDataFrame:
    a = Polygon([(50.5, 26.1), (50.6, 26.1), (50.6, 26.2), (50.5, 26.2)])
    b = MultiPolygon([Polygon([(50.6, 26.2), (50.7, 26.2), (50.7, 26.3), (50.6, 26.3)])])
    return gpd.GeoDataFrame(
        {"code": ["BH-13", "BH-15"], "name": ["Capital", "محافظة المحرق"]},
        geometry=[a, b],
        crs=4326,
        index=[10, 20],
    )


@pytest.mark.parametrize("n", [0, 1, 7, 37])
def test_hexagon_layer_draws_one_polygon_per_cell(n: int) -> None:
    cells = pd.DataFrame({"h3_cell": _cells(n), "n_incidents": range(1, n + 1)})
    m = maps.finish(maps.base_map(), [maps.hexagon_layer(cells, "Hexes")])
    html = _render(m)
    payloads = _polygon_payloads(html)
    assert sum(len(p["rings"]) for p in payloads) == n
    # what the browser rebuilds is each cell's hexagon, to the 1e-5 degree sent
    for ring, cell in zip(payloads[0]["rings"] if n else [], cells["h3_cell"], strict=True):
        got = Polygon(polygons.decode_ring(ring))
        assert got.hausdorff_distance(grid.cells_to_polygons([cell]).iloc[0]) < 1e-5


def test_hexagon_polygons_are_lon_lat_around_the_input() -> None:
    c = _cells(1)[0]
    g = maps.hexagon_layer(pd.DataFrame({"h3_cell": [c], "n_incidents": [4]}), "Hexes")
    (feature,) = maps.hexagon_features(g)
    xs = [p[0] for p in feature["geometry"]["coordinates"][0]]
    ys = [p[1] for p in feature["geometry"]["coordinates"][0]]
    assert 50.5 < min(xs) < 50.7 and 26.1 < min(ys) < 26.3
    assert feature["properties"]["value"] == 4.0


def test_hexagon_fill_darkens_with_value() -> None:
    cells = pd.DataFrame({"h3_cell": _cells(2), "n_incidents": [1, 100]})
    feats = maps.hexagon_features(maps.hexagon_layer(cells, "Hexes"))
    fills = {f["properties"]["value"]: f["properties"]["fill"] for f in feats}
    assert fills[1.0] == maps.HEX_COLORS[0]
    assert fills[100.0] == maps.HEX_COLORS[-1]


def test_layer_names_appear_in_layer_control() -> None:
    names = maps.LayerNames(
        governorates="المحافظات", hexagons="Hex layer", hotspots="Gi star", heat="Heat"
    )
    m = maps.finish(
        maps.base_map(),
        [
            maps.governorate_layer(_governorates(), names.governorates),
            maps.hexagon_layer(
                pd.DataFrame({"h3_cell": _cells(3), "n_incidents": [1, 2, 3]}), names.hexagons
            ),
            maps.hotspot_layer(pd.DataFrame(columns=["h3_cell", "hot_class"]), names.hotspots),
            maps.heat_layer(pd.DataFrame({"lat": [26.2], "lon": [50.6], "weight": [3]}), "Heat"),
        ],
    )
    html = _render(m)
    for name in ("Hex layer", "Gi star", "Heat"):
        assert f'"{name}"' in html
    assert "\\u0627\\u0644\\u0645\\u062d" in html or "المحافظات" in html


def test_no_external_script_or_stylesheet_urls() -> None:
    cells = pd.DataFrame({"h3_cell": _cells(3), "n_incidents": [1, 2, 3]})
    incidents = pd.DataFrame(
        {
            "incident_id": [1, 2],
            "lat": [26.2, 26.21],
            "lon": [50.58, 50.59],
            "category": ["pothole", "flooding"],
            "n_reports": [3, 1],
        }
    )
    m = maps.finish(
        maps.base_map(),
        [
            maps.governorate_layer(_governorates(), "Gov"),
            maps.hexagon_layer(cells, "Hex"),
            maps.heat_layer(pd.DataFrame({"lat": [26.2], "lon": [50.6], "weight": [1]}), "Heat"),
            maps.incident_layer(incidents, "Inc"),
        ],
    )
    html = _render(m)
    urls = SRC_HREF.findall(html)
    assert any(u.endswith("leaflet.js") for u in urls)
    assert any(u.endswith("leaflet_heat.min.js") for u in urls)
    assert urls and all(u.startswith(assets.STATIC_URL + "/") for u in urls), urls
    assert "http://" not in html.split("<body>")[0] and "https://" not in html.split("<body>")[0]


def test_every_linked_asset_is_installed() -> None:
    assets.ensure_installed()
    m = maps.finish(
        maps.base_map(),
        [maps.heat_layer(pd.DataFrame({"lat": [26.2], "lon": [50.6], "weight": [1]}), "H")],
    )
    for url in SRC_HREF.findall(_render(m)):
        path = url.removeprefix(assets.STATIC_URL + "/")
        assert (assets.VENDOR_DIR / path).is_file(), url


def test_no_basemap_mode_has_no_tile_layer() -> None:
    html = _render(maps.base_map(None))
    assert "L.tileLayer" not in html
    assert "openstreetmap" not in html


def test_basemap_mode_adds_tiles_and_a_fallback_on_tile_error() -> None:
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    html = _render(maps.base_map(url, "© example"))
    assert "L.tileLayer" in html and "tiles.example.org" in html
    assert "tileerror" in html and "removeLayer" in html


def test_hotspot_layer_skips_non_significant_cells_and_labels_trend() -> None:
    spots = pd.DataFrame(
        {
            "h3_cell": _cells(4),
            "hot_class": [3, 0, -2, 1],
            "confidence": [99, None, 95, 90],
            "trend": ["intensifying", "none", "diminishing", None],
        }
    )
    g = maps.hotspot_layer(spots, "Spots", {"intensifying": "متصاعدة"})
    feats = maps.hexagon_features(g)
    assert len(feats) == 3
    props = sorted((f["properties"]["hot_class"], f["properties"]["trend"]) for f in feats)
    assert props == [(-2, "diminishing"), (1, ""), (3, "متصاعدة")]
    assert {f["properties"]["fill"] for f in feats} == {
        maps.HOT_COLORS[3],
        maps.HOT_COLORS[-2],
        maps.HOT_COLORS[1],
    }


def test_incident_layer_only_when_few() -> None:
    n = 5
    inc = pd.DataFrame(
        {
            "incident_id": range(n),
            "lat": [26.2] * n,
            "lon": [50.5 + i / 100 for i in range(n)],
            "category": ["pothole"] * n,
            "n_reports": [1] * n,
        }
    )
    few = _render(maps.finish(maps.base_map(), [maps.incident_layer(inc, "I", max_markers=5)]))
    many = _render(maps.finish(maps.base_map(), [maps.incident_layer(inc, "I", max_markers=4)]))
    assert few.count("L.circleMarker") == n
    assert many.count("L.circleMarker") == 0
    arabic = _render(
        maps.finish(
            maps.base_map(), [maps.incident_layer(inc, "I", category_labels={"pothole": "حفرة"})]
        )
    )
    assert "حفرة" in arabic or "\\u062d\\u0641\\u0631\\u0629" in arabic


def test_governorate_layer_keeps_names_and_multipolygons() -> None:
    g = maps.governorate_layer(_governorates(), "Gov")
    feats = maps.hexagon_features(g)
    assert [f["properties"]["name"] for f in feats] == ["Capital", "محافظة المحرق"]
    assert [f["geometry"]["type"] for f in feats] == ["Polygon", "MultiPolygon"]


def test_empty_inputs_give_empty_layers() -> None:
    empty = gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)
    layers = [
        maps.governorate_layer(empty, "G"),
        maps.hexagon_layer(pd.DataFrame({"h3_cell": [], "n_incidents": []}), "H"),
        maps.heat_layer(pd.DataFrame({"lat": [], "lon": [], "weight": []}), "Heat"),
        maps.incident_layer(pd.DataFrame(), "I"),
        maps.polygon_layer(empty, "B"),
    ]
    html = _render(maps.finish(maps.base_map(), layers))
    assert "L.geoJson" not in html and "L.heatLayer" not in html


def test_fit_to_uses_bounds_lat_lon_order() -> None:
    m = maps.base_map()
    maps.fit_to(m, _governorates())
    html = _render(m)
    assert re.search(r"fitBounds\(\s*\[\[26\.1, 50\.5\], \[26\.3, 50\.7\]\]", html), html[-2000:]


def test_cell_weights_are_cell_centres() -> None:
    cells = pd.DataFrame({"h3_cell": _cells(3, res=8), "n_reports": [1, 4, 9]})
    w = maps.cell_weights(cells)
    assert list(w["weight"]) == [1.0, 4.0, 9.0]
    for c, lat, lon in zip(cells["h3_cell"], w["lat"], w["lon"], strict=True):
        assert h3.latlng_to_cell(lat, lon, 8) == h3.int_to_str(c)
    assert maps.cell_weights(cells.iloc[:0]).empty


def test_polygon_tooltips_are_text_not_html() -> None:
    spots = pd.DataFrame(
        {"h3_cell": _cells(1), "hot_class": [3], "confidence": [99], "trend": ["x"]}
    )
    g = maps.hotspot_layer(spots, "Spots", {"x": "<img src=x onerror=alert(1)>"})
    html = _render(maps.finish(maps.base_map(), [g]))
    (payload,) = _polygon_payloads(html)
    assert "<img src=x" not in html and payload["tips"] == [
        "99 % · &lt;img src=x onerror=alert(1)&gt;"
    ]


def test_polygon_set_needs_one_style_and_tooltip_per_polygon() -> None:
    shapes = grid.cells_to_polygons(_cells(2))
    with pytest.raises(ValueError, match="one style index and one tooltip per polygon"):
        polygons.PolygonSet(shapes, styles=[{}], style_index=[0], tooltips=["a", "b"])
