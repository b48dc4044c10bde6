"""spatial.routing: tiny inline layers for each rule, then the real Bahrain layers of data/."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from spatial.boundaries import validate_layer
from spatial.crs import METRIC_EPSG
from spatial.errors import CRSError
from spatial.io import read_boundary_file
from spatial.routing import (
    ROUTING_COLUMNS,
    BoundaryLayers,
    RoutingConfig,
    RoutingError,
    assign_jurisdiction,
    prepare_layers,
)

DATA = Path(__file__).resolve().parents[2] / "data"
CFG = RoutingConfig()

# --- tiny inline layout --------------------------------------------------------------------
# Two governorates side by side sharing the meridian x = 50.52 (with a shared vertex at
# (50.52, 26.01)); a corridor crossing both; an airport-like zone inside A; B has an island.
SHARED = (50.52, 26.01)
GOV_A = Polygon([(50.50, 26.00), (50.52, 26.00), SHARED, (50.52, 26.02), (50.50, 26.02)])
GOV_B_MAIN = Polygon([(50.52, 26.00), (50.54, 26.00), (50.54, 26.02), (50.52, 26.02), SHARED])
ISLAND_B = box(50.56, 26.00, 50.565, 26.005)
GOV_B = MultiPolygon([GOV_B_MAIN, ISLAND_B])
CORRIDOR = box(50.505, 26.0150, 50.535, 26.0155)  # ~55 m wide, crosses A and B
ZONE = box(50.502, 26.002, 50.506, 26.006)  # inside A


def _gdf(rows: list[dict[str, object]], geoms: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=4326)


def tiny_layers(config: RoutingConfig = CFG) -> BoundaryLayers:
    gov = _gdf(
        [
            {"code": "G-A", "name_en": "A", "name_ar": "أ"},
            {"code": "G-B", "name_en": "B", "name_ar": "ب"},
        ],
        [GOV_A, GOV_B],
    )
    auth = _gdf(
        [
            {
                "code": "muni_a",
                "name_en": "A",
                "name_ar": "أ",
                "kind": "municipal_area",
                "precedence": 10,
                "default_agency": "agency_a",
            },
            {
                "code": "muni_b",
                "name_en": "B",
                "name_ar": "ب",
                "kind": "municipal_area",
                "precedence": 10,
                "default_agency": "agency_b",
            },
            {
                "code": "corr",
                "name_en": "Corridor",
                "name_ar": "ممر",
                "kind": "corridor",
                "precedence": 20,
                "default_agency": "roads",
            },
            {
                "code": "zone",
                "name_en": "Zone",
                "name_ar": "منطقة",
                "kind": "special_zone",
                "precedence": 30,
                "default_agency": "zone_agency",
            },
        ],
        [GOV_A, GOV_B, CORRIDOR, ZONE],
    )
    rules = pd.DataFrame(
        [(a, "street_light", "ewa") for a in ("muni_a", "muni_b", "corr", "zone")]
        + [
            ("muni_a", "pothole", "agency_a"),
            ("muni_b", "pothole", "agency_b"),
            ("corr", "pothole", "roads"),
            ("muni_a", "abandoned_vehicle", "agency_a"),
            ("muni_b", "abandoned_vehicle", "agency_b"),
            # no abandoned_vehicle rule on the corridor: default agency
        ],
        columns=["authority_code", "category", "agency_code"],
    )
    places = _gdf(
        [
            {"name_en": "West Town", "name_ar": "البلدة الغربية"},
            {"name_en": "East", "name_ar": None},
        ],
        [Point(50.505, 26.01), Point(50.535, 26.01)],
    )
    return prepare_layers(gov, auth, rules, places, config)


def reports(points: list[object], categories: list[str], index: object = None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"category": categories}, geometry=points, crs=4326, index=index)


def offset_m(lon: float, lat: float, dx_m: float, dy_m: float) -> Point:
    """The point ``dx_m`` east and ``dy_m`` north of (lon, lat), through UTM 39N."""
    p = gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(METRIC_EPSG).iloc[0]
    moved = gpd.GeoSeries([Point(p.x + dx_m, p.y + dy_m)], crs=METRIC_EPSG).to_crs(4326)
    return moved.iloc[0]


def band_confidence(distance_m: float, cfg: RoutingConfig = CFG) -> float:
    floor = cfg.boundary_confidence_floor
    return floor + (1 - floor) * distance_m / cfg.boundary_band_m


@pytest.fixture(scope="module")
def layers() -> BoundaryLayers:
    return tiny_layers()


def test_inside_each_governorate(layers: BoundaryLayers) -> None:
    out = assign_jurisdiction(
        reports([Point(50.508, 26.012), Point(50.53, 26.005)], ["pothole", "pothole"]), layers
    )
    assert list(out.columns) == list(ROUTING_COLUMNS)
    assert out["governorate_code"].tolist() == ["G-A", "G-B"]
    assert out["authority_code"].tolist() == ["muni_a", "muni_b"]
    assert out["agency_code"].tolist() == ["agency_a", "agency_b"]
    assert out["routing_confidence"].tolist() == [1.0, 1.0]
    assert out["routing_status"].tolist() == ["routed", "routed"]
    assert "rule pothole@muni_a -> agency_a" in out["routing_reason"].iloc[0]
    assert out["place_en"].tolist() == ["West Town", "East"]
    assert out["place_ar"].tolist() == ["البلدة الغربية", None]


def test_multipolygon_island(layers: BoundaryLayers) -> None:
    out = assign_jurisdiction(reports([Point(50.562, 26.002)], ["pothole"]), layers)
    assert out.iloc[0][["governorate_code", "agency_code", "routing_status"]].tolist() == [
        "G-B", "agency_b", "routed"
    ]  # fmt: skip


def test_corridor_wins_over_municipal_area(layers: BoundaryLayers) -> None:
    pt = Point(50.51, 26.01525)  # on the corridor, inside A
    out = assign_jurisdiction(reports([pt, pt], ["pothole", "street_light"]), layers)
    assert out["governorate_code"].tolist() == ["G-A", "G-A"]
    assert out["authority_code"].tolist() == ["corr", "corr"]
    assert out["agency_code"].tolist() == ["roads", "ewa"]
    assert "over muni_a" in out["routing_reason"].iloc[0]


def test_special_zone_has_highest_precedence(layers: BoundaryLayers) -> None:
    out = assign_jurisdiction(reports([Point(50.504, 26.004)], ["pothole"]), layers)
    row = out.iloc[0]
    assert row["authority_code"] == "zone"
    assert row["agency_code"] == "zone_agency"  # no pothole rule on the zone: default agency
    assert "no rule for pothole@zone: default agency zone_agency" in row["routing_reason"]


def test_category_without_rule_falls_back_to_default_agency(layers: BoundaryLayers) -> None:
    pt = Point(50.51, 26.01525)
    r = reports([pt] * 3, ["abandoned_vehicle", "no_such_category", "pothole"])
    r.loc[2, "category"] = None
    out = assign_jurisdiction(r, layers)
    assert out["agency_code"].tolist() == ["roads", "roads", "roads"]
    assert out["routing_status"].tolist() == ["routed", "routed", "routed"]
    reason = out["routing_reason"].tolist()
    assert "no rule for abandoned_vehicle@corr: default agency roads" in reason[0]
    assert "no rule for no_such_category@corr: default agency roads" in reason[1]
    assert "no rule for (no category)@corr: default agency roads" in reason[2]


def test_point_exactly_on_shared_boundary_goes_to_triage_naming_both(
    layers: BoundaryLayers,
) -> None:
    out = assign_jurisdiction(reports([Point(*SHARED)], ["pothole"]), layers)
    row = out.iloc[0]
    assert row["governorate_code"] == "G-A"  # ties resolve to the smallest code
    assert row["agency_code"] == "agency_a"
    assert row["routing_confidence"] == pytest.approx(CFG.boundary_confidence_floor)
    assert row["routing_status"] == "triage"
    assert "agency_a and agency_b" in row["routing_reason"]


@pytest.mark.parametrize(("dx_m", "gov", "agency", "other"), [
    (-10.0, "G-A", "agency_a", "agency_b"),
    (10.0, "G-B", "agency_b", "agency_a"),
])  # fmt: skip
def test_ten_metres_either_side_of_boundary(
    layers: BoundaryLayers, dx_m: float, gov: str, agency: str, other: str
) -> None:
    pt = offset_m(*SHARED, dx_m, 0.0)
    out = assign_jurisdiction(reports([pt, pt], ["pothole", "street_light"]), layers)
    pothole, light = out.iloc[0], out.iloc[1]
    assert pothole["governorate_code"] == gov
    assert pothole["agency_code"] == agency
    assert pothole["routing_confidence"] == pytest.approx(band_confidence(10.0), abs=0.01)
    assert pothole["routing_status"] == "routed"
    assert f"{agency} and {other}" in pothole["routing_reason"]
    # the same agency on both sides: no boundary between agencies, full confidence
    assert light["agency_code"] == "ewa"
    assert light["routing_confidence"] == 1.0
    assert "boundary" not in light["routing_reason"]


@pytest.mark.parametrize("dx_m", [-40.0, -25.5, -24.5, -12.0, -0.5, 0.5, 24.5, 25.5])
def test_band_edge_either_side(layers: BoundaryLayers, dx_m: float) -> None:
    # the band's candidate look-up (grown envelopes) must neither drop nor add a boundary
    pt = offset_m(*SHARED, dx_m, 0.0)
    row = assign_jurisdiction(reports([pt], ["pothole"]), layers).iloc[0]
    if abs(dx_m) < CFG.boundary_band_m:
        assert row["routing_confidence"] == pytest.approx(band_confidence(abs(dx_m)), abs=0.01)
        assert "near the boundary" in row["routing_reason"]
    else:
        assert row["routing_confidence"] == 1.0
        assert "boundary" not in row["routing_reason"]


def test_band_is_configurable() -> None:
    narrow = tiny_layers(RoutingConfig(boundary_band_m=5.0))
    pt = offset_m(*SHARED, -10.0, 0.0)
    out = assign_jurisdiction(reports([pt], ["pothole"]), narrow)
    assert out["routing_confidence"].iloc[0] == 1.0


def test_outside_within_tolerance_is_low_confidence_triage(layers: BoundaryLayers) -> None:
    pt = offset_m(50.50, 26.01, -100.0, 0.0)  # 100 m west of A, in the "sea"
    out = assign_jurisdiction(reports([pt], ["pothole"]), layers)
    row = out.iloc[0]
    assert row[["governorate_code", "authority_code", "agency_code"]].tolist() == [
        "G-A", "muni_a", "agency_a"
    ]  # fmt: skip
    assert 0 < row["routing_confidence"] < CFG.min_confidence
    assert row["routing_status"] == "triage"
    assert "outside every authority" in row["routing_reason"]
    assert "100.0 m" in row["routing_reason"]


def test_outside_beyond_tolerance_is_unroutable(layers: BoundaryLayers) -> None:
    pt = offset_m(50.50, 26.01, -(CFG.outside_tolerance_m + 50.0), 0.0)
    out = assign_jurisdiction(reports([pt], ["pothole"]), layers)
    row = out.iloc[0]
    assert row["governorate_code"] is None
    assert row["authority_code"] is None
    assert row["agency_code"] is None
    assert row["routing_confidence"] == 0.0
    assert row["routing_status"] == "unroutable"
    assert "unroutable" in row["routing_reason"]


def test_confidence_decreases_with_distance_outside(layers: BoundaryLayers) -> None:
    pts = [offset_m(50.50, 26.01, -d, 0.0) for d in (20.0, 150.0, 280.0)]
    conf = assign_jurisdiction(reports(pts, ["pothole"] * 3), layers)["routing_confidence"]
    assert conf.is_monotonic_decreasing and conf.iloc[0] > conf.iloc[2] > 0


@pytest.mark.parametrize("geom", [None, Point()], ids=["none", "empty"])
def test_missing_geometry_is_unroutable(layers: BoundaryLayers, geom: object) -> None:
    out = assign_jurisdiction(reports([geom, Point(50.508, 26.012)], ["pothole"] * 2), layers)
    assert out["routing_status"].tolist() == ["unroutable", "routed"]
    assert out["agency_code"].iloc[0] is None
    assert out["routing_confidence"].iloc[0] == 0.0
    assert "no location" in out["routing_reason"].iloc[0]
    assert out["place_en"].iloc[0] is None


def test_empty_frame(layers: BoundaryLayers) -> None:
    out = assign_jurisdiction(reports([], []), layers)
    assert out.empty
    assert list(out.columns) == list(ROUTING_COLUMNS)


def test_wrong_crs_refused_with_fix(layers: BoundaryLayers) -> None:
    r = reports([Point(50.508, 26.012)], ["pothole"]).to_crs(METRIC_EPSG)
    with pytest.raises(CRSError, match=r"expects EPSG:4326.*to_crs\(4326\)"):
        assign_jurisdiction(r, layers)


def test_no_crs_refused(layers: BoundaryLayers) -> None:
    r = gpd.GeoDataFrame({"category": ["pothole"]}, geometry=[Point(50.508, 26.012)])
    with pytest.raises(CRSError, match="no CRS"):
        assign_jurisdiction(r, layers)


def test_missing_category_column_and_non_points_refused(layers: BoundaryLayers) -> None:
    with pytest.raises(RoutingError, match="'category' column"):
        assign_jurisdiction(gpd.GeoDataFrame(geometry=[Point(50.5, 26.0)], crs=4326), layers)
    with pytest.raises(RoutingError, match="must be Points"):
        assign_jurisdiction(reports([box(50.5, 26.0, 50.51, 26.01)], ["pothole"]), layers)


def test_non_default_index_is_kept(layers: BoundaryLayers) -> None:
    pts = [Point(50.53, 26.005), None, Point(50.508, 26.012)]
    r = reports(pts, ["pothole"] * 3, index=pd.Index(["z", "a", "m"], name="rid"))
    out = assign_jurisdiction(r, layers)
    assert out.index.equals(r.index)
    assert out.loc["z", "agency_code"] == "agency_b"
    assert out.loc["m", "agency_code"] == "agency_a"
    assert out.loc["a", "routing_status"] == "unroutable"


def test_batch_and_single_report_agree(layers: BoundaryLayers) -> None:
    rng = np.random.default_rng(7)
    n = 60
    xs = rng.uniform(50.495, 50.57, n)
    ys = rng.uniform(25.995, 26.025, n)
    pts: list[object] = list(shapely.points(xs, ys))
    pts[:4] = [Point(*SHARED), offset_m(*SHARED, 10.0, 0.0), None, Point(50.51, 26.01525)]
    cats = rng.choice(["pothole", "street_light", "abandoned_vehicle", "other"], n).tolist()
    r = reports(pts, cats, index=pd.RangeIndex(100, 100 + n))
    batch = assign_jurisdiction(r, layers)
    single = pd.concat([assign_jurisdiction(r.iloc[[i]], layers) for i in range(n)])
    pd.testing.assert_frame_equal(batch, single)
    assert set(batch["routing_status"]) >= {"routed", "triage", "unroutable"}
    # invariants: confidence in [0, 1]; status follows the threshold; unroutable has no agency
    conf = batch["routing_confidence"]
    assert conf.between(0.0, 1.0).all()
    unroutable = batch["agency_code"].isna()
    assert (batch.loc[unroutable, "routing_status"] == "unroutable").all()
    routed_ok = batch.loc[~unroutable]
    expected = np.where(routed_ok["routing_confidence"] >= CFG.min_confidence, "routed", "triage")
    assert (routed_ok["routing_status"].to_numpy() == expected).all()


def test_config_validation() -> None:
    with pytest.raises(RoutingError, match="boundary_band_m must be > 0"):
        RoutingConfig(boundary_band_m=0)
    with pytest.raises(RoutingError, match=r"min_confidence must be in \[0, 1\]"):
        RoutingConfig(min_confidence=1.5)


def test_prepare_layers_checks_inputs() -> None:
    base = tiny_layers()
    assert base.authority_codes[0] == "zone"  # highest precedence first
    gov = _gdf([{"code": "G", "name_en": "G", "name_ar": None}], [GOV_A])
    auth = _gdf(
        [{"code": "m", "name_en": "m", "name_ar": None, "kind": "municipal_area",
          "precedence": 10, "default_agency": "a"}],
        [GOV_A],
    )  # fmt: skip
    rules = pd.DataFrame(columns=["authority_code", "category", "agency_code"])
    places = gpd.GeoDataFrame({"name_en": [], "name_ar": []}, geometry=[], crs=4326)
    empty = prepare_layers(gov, auth, rules, places)  # no rules, no places: fine
    out = assign_jurisdiction(reports([Point(50.51, 26.01)], ["pothole"]), empty)
    assert out.iloc[0][["agency_code", "place_en"]].tolist() == ["a", None]
    with pytest.raises(CRSError, match="to_crs"):
        prepare_layers(gov, auth.to_crs(METRIC_EPSG), rules, places)
    with pytest.raises(RoutingError, match="lacks column"):
        prepare_layers(gov, auth.drop(columns="default_agency"), rules, places)
    with pytest.raises(RoutingError, match="appears more than once"):
        prepare_layers(pd.concat([gov, gov]), auth, rules, places)  # type: ignore[arg-type]
    dup = pd.DataFrame([("m", "pothole", "a"), ("m", "pothole", "b")], columns=rules.columns)
    with pytest.raises(RoutingError, match="two rules"):
        prepare_layers(gov, auth, dup, places)
    with pytest.raises(RoutingError, match="Polygon"):
        prepare_layers(gov, auth.set_geometry([Point(50.5, 26.0)], crs=4326), rules, places)


# --- the real Bahrain layers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def bahrain() -> dict[str, gpd.GeoDataFrame]:
    gov = validate_layer(
        read_boundary_file(DATA / "governorates" / "bahrain_governorates.geojson"),
        "governorates",
        "governorates",
    ).frame
    auth = validate_layer(
        read_boundary_file(DATA / "road_authorities.geojson"), "road_authorities", "authorities"
    ).frame
    return {"governorates": gov, "authorities": auth}


@pytest.fixture(scope="module")
def bh_layers(bahrain: dict[str, gpd.GeoDataFrame]) -> BoundaryLayers:
    rules = pd.read_csv(DATA / "routing_rules.csv", dtype=str)
    places = gpd.read_file(DATA / "places" / "bahrain_places.geojson")
    return prepare_layers(bahrain["governorates"], bahrain["authorities"], rules, places)


MUNICIPALITY = {
    "BH-13": "capital_municipality",
    "BH-14": "southern_municipality",
    "BH-15": "muharraq_municipality",
    "BH-17": "northern_municipality",
}


def test_bahrain_points_inside_each_governorate(
    bahrain: dict[str, gpd.GeoDataFrame], bh_layers: BoundaryLayers
) -> None:
    gov = bahrain["governorates"]
    corridors = bahrain["authorities"].query("kind != 'municipal_area'").union_all()
    pts = []
    for geom in gov.geometry:
        largest = max(geom.geoms, key=lambda g: g.area)
        pt = largest.representative_point()
        assert not corridors.contains(pt)
        pts.append(pt)
    out = assign_jurisdiction(reports(pts, ["pothole"] * len(pts)), bh_layers)
    assert out["governorate_code"].tolist() == gov["code"].tolist()
    assert out["agency_code"].tolist() == [MUNICIPALITY[c] for c in gov["code"]]
    assert out["place_en"].notna().all() and out["place_ar"].notna().all()


def _longest_shared_segment(
    a: Polygon | MultiPolygon, b: Polygon | MultiPolygon
) -> tuple[Point, np.ndarray]:
    """A lon/lat vertex shared by the boundaries of a and b, and the longest shared segment
    (two consecutive shared vertices) in UTM metres."""
    shared = shapely.line_merge(shapely.intersection(a.boundary, b.boundary))
    lines = [g for g in shapely.get_parts(shared) if g.geom_type == "LineString"]
    segs = [np.asarray(ln.coords)[i : i + 2] for ln in lines for i in range(len(ln.coords) - 1)]
    flat = gpd.GeoSeries(shapely.points(np.vstack(segs)), crs=4326).to_crs(METRIC_EPSG)
    metric = shapely.get_coordinates(flat.values).reshape(-1, 2, 2)
    lengths = np.hypot(*(metric[:, 1] - metric[:, 0]).T)
    best = int(lengths.argmax())
    return Point(*segs[best][0]), metric[best]


def test_bahrain_shared_boundary_and_ten_metres_either_side(
    bahrain: dict[str, gpd.GeoDataFrame], bh_layers: BoundaryLayers
) -> None:
    gov = bahrain["governorates"].set_index("code")
    vertex, seg = _longest_shared_segment(gov.geometry["BH-13"], gov.geometry["BH-17"])
    assert np.hypot(*(seg[1] - seg[0])) > 4 * CFG.boundary_band_m
    mid = seg.mean(axis=0)
    normal = np.array([-(seg[1] - seg[0])[1], (seg[1] - seg[0])[0]])
    normal /= np.hypot(*normal)
    sides = [Point(*(mid + 10 * normal)), Point(*(mid - 10 * normal))]
    pts = [vertex, *gpd.GeoSeries(sides, crs=METRIC_EPSG).to_crs(4326)]
    out = assign_jurisdiction(reports(pts, ["pothole"] * 3), bh_layers)

    on, side1, side2 = out.iloc[0], out.iloc[1], out.iloc[2]
    assert on["routing_status"] == "triage"
    assert on["routing_confidence"] == pytest.approx(CFG.boundary_confidence_floor, abs=0.01)
    assert on["governorate_code"] == "BH-13"  # exactly on the edge: the smallest code
    assert "capital_municipality and northern_municipality" in on["routing_reason"]
    assert {side1["governorate_code"], side2["governorate_code"]} == {"BH-13", "BH-17"}
    for side in (side1, side2):
        assert side["agency_code"] == MUNICIPALITY[side["governorate_code"]]
        assert side["routing_status"] == "routed"
        assert side["routing_confidence"] == pytest.approx(band_confidence(10.0), abs=0.02)
        assert "capital_municipality" in side["routing_reason"]
        assert "northern_municipality" in side["routing_reason"]


def test_bahrain_corridor_inside_municipality(
    bahrain: dict[str, gpd.GeoDataFrame], bh_layers: BoundaryLayers
) -> None:
    auth = bahrain["authorities"].set_index("code")
    pt = auth.geometry["mow_corridor_salman"].representative_point()
    cats = ["pothole", "abandoned_vehicle", "street_light", "sewage"]
    out = assign_jurisdiction(reports([pt] * 4, cats), bh_layers)
    assert set(out["authority_code"]) == {"mow_corridor_salman"}
    assert out["agency_code"].tolist() == ["mow_roads", "mow_roads", "ewa", "mow_sanitary"]
    assert "no rule for abandoned_vehicle" in out["routing_reason"].iloc[1]
    under = out["governorate_code"].iloc[0]
    assert under in MUNICIPALITY
    assert "over muni_" in out["routing_reason"].iloc[0]


def test_bahrain_airport_zone(bh_layers: BoundaryLayers) -> None:
    out = assign_jurisdiction(reports([Point(50.635, 26.27)], ["pothole"]), bh_layers)
    assert out.iloc[0][["governorate_code", "authority_code", "agency_code"]].tolist() == [
        "BH-15", "zone_airport", "mow_roads"
    ]  # fmt: skip


def test_bahrain_sea_within_and_beyond_tolerance(
    bahrain: dict[str, gpd.GeoDataFrame], bh_layers: BoundaryLayers
) -> None:
    gov = bahrain["governorates"].set_index("code")
    coords = shapely.get_coordinates(gov.geometry["BH-15"])
    north = coords[coords[:, 1].argmax()]  # the northernmost tip of Muharraq
    near = offset_m(*north, 0.0, 100.0)
    far = offset_m(*north, 0.0, 2000.0)
    land = gpd.GeoSeries([gov.geometry.union_all()], crs=4326).to_crs(METRIC_EPSG).iloc[0]
    pm = gpd.GeoSeries([near], crs=4326).to_crs(METRIC_EPSG).iloc[0]
    assert 0 < land.distance(pm) <= 100.0 + 1e-6
    out = assign_jurisdiction(reports([near, far], ["pothole"] * 2), bh_layers)
    assert out["governorate_code"].tolist() == ["BH-15", None]
    assert out["agency_code"].tolist() == ["muharraq_municipality", None]
    assert out["routing_status"].tolist() == ["triage", "unroutable"]
    assert "outside every authority" in out["routing_reason"].iloc[0]


# --- the reference data: reproducible from its script, consistent with agencies/categories --


def _build_script() -> object:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "build_road_authorities.py"
    spec = importlib.util.spec_from_file_location("build_road_authorities", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_road_authorities_and_rules_are_reproducible_and_consistent() -> None:
    script = _build_script()
    built = script.build_layer()  # type: ignore[attr-defined]
    committed = gpd.read_file(DATA / "road_authorities.geojson")
    cols = ["code", "name_en", "name_ar", "kind", "precedence", "default_agency"]
    pd.testing.assert_frame_equal(
        built[cols].reset_index(drop=True),
        committed[cols].reset_index(drop=True),
        check_dtype=False,
    )
    assert committed.crs.to_epsg() == 4326
    assert set(committed.geom_type) == {"MultiPolygon"} and committed.is_valid.all()
    assert all(
        shapely.equals_exact(a, b, tolerance=2e-6)
        for a, b in zip(built.geometry, committed.geometry, strict=True)
    )
    assert committed["code"].is_unique
    assert dict(zip(committed["kind"], committed["precedence"], strict=False)) == {
        "municipal_area": 10, "corridor": 20, "special_zone": 30
    }  # fmt: skip

    rules = pd.read_csv(DATA / "routing_rules.csv", dtype=str)
    expected = pd.DataFrame(
        script.build_rules(built),  # type: ignore[attr-defined]
        columns=["authority_code", "category", "agency_code"],
    )
    pd.testing.assert_frame_equal(rules, expected)
    agencies = set(pd.read_csv(DATA / "agencies.csv", dtype=str)["code"])
    categories = set(pd.read_csv(DATA / "categories.csv", dtype=str)["code"])
    assert set(committed["default_agency"]) <= agencies
    assert set(rules["agency_code"]) <= agencies
    assert set(rules["category"]) == categories
    assert set(rules["authority_code"]) <= set(committed["code"])
    assert not rules.duplicated(["authority_code", "category"]).any()
    # every municipal area has a rule for every category; corridors leave some to the default
    muni = committed.loc[committed["kind"] == "municipal_area", "code"]
    assert (rules[rules["authority_code"].isin(muni)].groupby("authority_code").size() == 10).all()
    corridor_rules = rules[rules["authority_code"].str.startswith("mow_corridor_")]
    assert "abandoned_vehicle" not in set(corridor_rules["category"])


def test_nearest_place_is_deterministic_for_places_at_one_spot() -> None:
    base = tiny_layers()
    gov = _gdf([{"code": "G", "name_en": "G", "name_ar": None}], [GOV_A])
    auth = _gdf(
        [{"code": "m", "name_en": "m", "name_ar": None, "kind": "municipal_area",
          "precedence": 10, "default_agency": "a"}],
        [GOV_A],
    )  # fmt: skip
    rules = pd.DataFrame(columns=["authority_code", "category", "agency_code"])
    places = _gdf(
        [
            {"name_en": "Far", "name_ar": "بعيد"},
            {"name_en": "First", "name_ar": "الأول"},
            {"name_en": "Second", "name_ar": "الثاني"},
        ],
        [Point(50.50, 26.00), Point(50.51, 26.01), Point(50.51, 26.01)],
    )
    layers = prepare_layers(gov, auth, rules, places, base.config)
    far_away = RoutingConfig(place_max_distance_m=50.0)
    near_only = prepare_layers(gov, auth, rules, places, far_away)
    pts = [Point(50.5101, 26.0101), Point(50.515, 26.015)]
    out = assign_jurisdiction(reports(pts, ["pothole"] * 2), layers)
    assert out["place_en"].tolist() == ["First", "First"]
    assert out["place_ar"].tolist() == ["الأول", "الأول"]
    limited = assign_jurisdiction(reports(pts, ["pothole"] * 2), near_only)
    assert limited["place_en"].tolist() == ["First", None]  # the second is > 50 m away
