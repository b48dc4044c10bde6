"""Build the illustrative road-authority layer and routing rules of Bahrain.

ILLUSTRATIVE, NOT SURVEYED. The layer is a plausible configuration for demonstration and
tests, not an official record of who maintains which road:

- four *municipal areas*, one per governorate of ``data/governorates/bahrain_governorates.geojson``
  (Who's On First), default agency the matching municipality (precedence 10);
- Ministry of Works *corridors*: buffers of ``CORRIDOR_HALF_WIDTH_M`` metres each side of
  hand-drawn polylines that roughly follow Bahrain's main highways (a few vertices each, not
  the real alignment), buffered in UTM 39N and clipped to land (the union of the
  governorates), default agency ``mow_roads`` (precedence 20);
- one *special zone*: a box around Bahrain International Airport on Muharraq island, clipped
  to land, default agency ``mow_roads`` (precedence 30).

It also writes ``data/routing_rules.csv`` (category x authority -> agency). Some categories
deliberately have no rule on corridors and on the airport zone (for example
``abandoned_vehicle``), so routing falls back to the authority's default agency.

Run from the project root (output is deterministic)::

    .venv/bin/python scripts/build_road_authorities.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parent.parent
GOVERNORATES = ROOT / "data" / "governorates" / "bahrain_governorates.geojson"
OUT_LAYER = ROOT / "data" / "road_authorities.geojson"
OUT_RULES = ROOT / "data" / "routing_rules.csv"

STORAGE_EPSG = 4326
METRIC_EPSG = 32639
CORRIDOR_HALF_WIDTH_M = 50.0
COORD_DECIMALS = 6  # ~0.1 m: keeps the file small and the output stable
PRECEDENCE = {"municipal_area": 10, "corridor": 20, "special_zone": 30}

# ISO 3166-2 governorate -> (authority code, municipality agency, English name, Arabic name)
MUNICIPAL_AREAS = {
    "BH-13": (
        "muni_capital",
        "capital_municipality",
        "Capital Municipality area",
        "منطقة أمانة العاصمة",
    ),
    "BH-14": (
        "muni_southern",
        "southern_municipality",
        "Southern Municipality area",
        "منطقة بلدية المنطقة الجنوبية",
    ),
    "BH-15": (
        "muni_muharraq",
        "muharraq_municipality",
        "Muharraq Municipality area",
        "منطقة بلدية المحرق",
    ),
    "BH-17": (
        "muni_northern",
        "northern_municipality",
        "Northern Municipality area",
        "منطقة بلدية المنطقة الشمالية",
    ),
}

# Hand-drawn (lon, lat) polylines roughly along the main highways: illustrative only.
CORRIDORS: dict[str, tuple[str, str, list[tuple[float, float]]]] = {
    "king_faisal": (
        "King Faisal Highway corridor",
        "ممر شارع الملك فيصل",
        [(50.600, 26.238), (50.585, 26.240), (50.565, 26.238), (50.545, 26.233)],
    ),
    "khalifa_bin_salman": (
        "Sheikh Khalifa bin Salman Highway corridor",
        "ممر شارع الشيخ خليفة بن سلمان",
        [(50.655, 26.225), (50.625, 26.205), (50.600, 26.190), (50.575, 26.160), (50.560, 26.130)],
    ),
    "isa_bin_salman": (
        "Sheikh Isa bin Salman Highway corridor",
        "ممر شارع الشيخ عيسى بن سلمان",
        [(50.630, 26.175), (50.600, 26.170), (50.560, 26.170), (50.520, 26.175), (50.490, 26.185)],
    ),
    "salman": (
        "Sheikh Salman Highway corridor",
        "ممر شارع الشيخ سلمان",
        [(50.570, 26.225), (50.565, 26.195), (50.558, 26.165), (50.555, 26.130), (50.550, 26.100)],
    ),
    "king_hamad": (
        "King Hamad Highway corridor",
        "ممر شارع الملك حمد",
        [(50.490, 26.210), (50.495, 26.170), (50.500, 26.120), (50.510, 26.060), (50.520, 26.000)],
    ),
    "budaiya": (
        "Budaiya Highway corridor",
        "ممر شارع البديع",
        [(50.545, 26.225), (50.520, 26.220), (50.490, 26.215), (50.460, 26.213), (50.450, 26.215)],
    ),
}

AIRPORT_BOX_LONLAT = (50.61, 26.255, 50.66, 26.28)  # minx, miny, maxx, maxy

CATEGORIES = (
    "pothole", "damaged_road", "sidewalk", "street_light", "traffic_signal",
    "road_sign", "flooding", "sewage", "debris", "abandoned_vehicle",
)  # fmt: skip

# Rules common to every authority; the rest depend on the kind of authority.
COMMON_RULES = {
    "street_light": "ewa",
    "traffic_signal": "traffic_directorate",
    "road_sign": "traffic_directorate",
    "sewage": "mow_sanitary",
}
# On corridors: sidewalk, debris and abandoned_vehicle have NO rule (default agency mow_roads).
CORRIDOR_RULES = {"pothole": "mow_roads", "damaged_road": "mow_roads", "flooding": "mow_sanitary"}
# On the airport zone: only the common rules; everything else falls back to the default agency.
AIRPORT_RULES: dict[str, str] = {}


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(polys)


def build_layer() -> gpd.GeoDataFrame:
    """The road-authority layer (EPSG:4326, MultiPolygon), one row per authority code."""
    gov = gpd.read_file(GOVERNORATES)
    gov["iso"] = [c["iso:code"] for c in gov["wof:concordances"]]
    gov_m = gov.to_crs(METRIC_EPSG)
    land_m = gov_m.geometry.union_all()

    rows: list[dict[str, object]] = []
    for iso in sorted(MUNICIPAL_AREAS):
        code, agency, name_en, name_ar = MUNICIPAL_AREAS[iso]
        geom = gov_m.loc[gov["iso"] == iso].geometry.union_all()
        rows.append(
            dict(code=code, name_en=name_en, name_ar=name_ar, kind="municipal_area",
                 default_agency=agency, geometry=geom)
        )  # fmt: skip

    line_series = gpd.GeoSeries(
        [LineString(pts) for _, _, pts in CORRIDORS.values()], crs=STORAGE_EPSG
    ).to_crs(METRIC_EPSG)
    for (key, (name_en, name_ar, _)), line in zip(CORRIDORS.items(), line_series, strict=True):
        geom = line.buffer(CORRIDOR_HALF_WIDTH_M).intersection(land_m)
        rows.append(
            dict(code=f"mow_corridor_{key}", name_en=name_en, name_ar=name_ar, kind="corridor",
                 default_agency="mow_roads", geometry=geom)
        )  # fmt: skip

    airport = gpd.GeoSeries([box(*AIRPORT_BOX_LONLAT)], crs=STORAGE_EPSG).to_crs(METRIC_EPSG)
    rows.append(
        dict(code="zone_airport", name_en="Bahrain International Airport zone",
             name_ar="منطقة مطار البحرين الدولي", kind="special_zone",
             default_agency="mow_roads", geometry=airport.iloc[0].intersection(land_m))
    )  # fmt: skip

    layer = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_EPSG).to_crs(STORAGE_EPSG)
    layer["precedence"] = layer["kind"].map(PRECEDENCE).astype(int)
    layer["geometry"] = [
        _as_multipolygon(g) for g in layer.geometry.set_precision(10**-COORD_DECIMALS).make_valid()
    ]
    return layer[["code", "name_en", "name_ar", "kind", "precedence", "default_agency", "geometry"]]


def build_rules(layer: gpd.GeoDataFrame) -> list[tuple[str, str, str]]:
    """(authority_code, category, agency_code) rows, sorted."""
    rules: list[tuple[str, str, str]] = []
    for code, kind, default in zip(
        layer["code"], layer["kind"], layer["default_agency"], strict=True
    ):
        for cat in CATEGORIES:
            if cat in COMMON_RULES:
                agency: str | None = COMMON_RULES[cat]
            elif kind == "municipal_area":
                agency = default  # the municipality
            elif kind == "corridor":
                agency = CORRIDOR_RULES.get(cat)
            else:
                agency = AIRPORT_RULES.get(cat)
            if agency is not None:
                rules.append((code, cat, agency))
    return sorted(rules)


def main() -> None:
    layer = build_layer()
    if layer.geometry.is_empty.any() or not layer.geometry.is_valid.all():
        raise SystemExit("build_road_authorities: an authority polygon is empty or invalid")
    OUT_LAYER.unlink(missing_ok=True)
    layer.to_file(OUT_LAYER, driver="GeoJSON", COORDINATE_PRECISION=COORD_DECIMALS)
    with OUT_RULES.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["authority_code", "category", "agency_code"])
        writer.writerows(build_rules(layer))
    print(f"wrote {OUT_LAYER.relative_to(ROOT)} ({len(layer)} authorities) and "
          f"{OUT_RULES.relative_to(ROOT)}")  # fmt: skip


if __name__ == "__main__":
    main()
