"""Routing against the real PostGIS: reading the boundary layers, replaying a boundary change."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry import Point, box
from sqlalchemy.engine import Connection

from spatial.crs import METRIC_EPSG
from spatial.postgis.boundaries import load_boundary_layer, read_layer
from spatial.postgis.routing import (
    apply_replay,
    apply_routing,
    audit_rows,
    current_boundary_version,
    read_boundary_layers,
    replay_diff,
    routing_diff,
)
from spatial.routing import RoutingConfig, assign_jurisdiction


def test_read_boundary_layers_routes_like_the_files(conn: Connection) -> None:
    layers = read_boundary_layers(conn, RoutingConfig(boundary_band_m=10.0))
    assert sorted(layers.gov_codes) == ["BH-13", "BH-14", "BH-15", "BH-17"]
    assert "zone_airport" in layers.authority_codes
    assert layers.config.boundary_band_m == 10.0
    assert layers.version == current_boundary_version(conn)
    reports = gpd.GeoDataFrame(
        {"category": ["pothole", "street_light"]},
        geometry=[Point(50.58, 26.22), Point(50.63, 26.265)],
        crs=4326,
    )
    out = assign_jurisdiction(reports, layers)
    assert out["governorate_code"].tolist() == ["BH-13", "BH-15"]
    assert out["agency_code"].tolist() == ["capital_municipality", "ewa"]
    assert out["place_en"].notna().all()


# --- replay after a boundary change ---------------------------------------------------------

SPLIT_LON = (
    50.47  # the legacy layout cuts the west of the Northern governorate off at this meridian
)
LEGACY = "legacy-5"


def seed_routed_reports(conn: Connection, n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` pothole reports at random points on land, routed with the current layers and
    stored; one in five is closed."""
    layers = read_boundary_layers(conn)
    gov = read_layer(conn, "governorates")
    land = gov.to_crs(METRIC_EPSG).union_all()
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = land.bounds
    pts_m: list[Point] = []
    while len(pts_m) < n:
        cand = shapely.points(rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n))
        pts_m.extend(p for p in cand[shapely.contains(land, cand)][: n - len(pts_m)])
    pts = gpd.GeoSeries(pts_m, crs=METRIC_EPSG).to_crs(4326)
    # make sure plenty fall in the part that moves
    west = gpd.GeoSeries(
        shapely.points(rng.uniform(50.44, SPLIT_LON, n // 4), rng.uniform(26.15, 26.23, n // 4)),
        crs=4326,
    )
    west = west[west.within(gov.set_index("code").geometry["BH-17"])]
    geoms = pd.concat([pts, west], ignore_index=True)
    reports = gpd.GeoDataFrame({"category": ["pothole"] * len(geoms)}, geometry=geoms, crs=4326)
    reports["status"] = np.where(np.arange(len(reports)) % 5 == 4, "closed", "open")
    routed = assign_jurisdiction(reports, layers)
    rows = []
    for i, (geom, status) in enumerate(zip(reports.geometry, reports["status"], strict=True)):
        r = routed.iloc[i]
        rows.append(
            {
                "sid": f"replay-{seed}-{i}",
                "status": status,
                "x": geom.x,
                "y": geom.y,
                **{c: (None if pd.isna(r[c]) else r[c]) for c in routed.columns},
            }
        )
    conn.execute(
        sa.text(
            "INSERT INTO reports (source, source_id, category, status, reported_at, content_hash, "
            "governorate_code, authority_code, agency_code, routing_confidence, routing_reason, "
            "routing_status, place_en, place_ar, geom) VALUES ('test', :sid, 'pothole', :status, "
            "now(), :sid, :governorate_code, :authority_code, :agency_code, "
            ":routing_confidence, :routing_reason, :routing_status, :place_en, :place_ar, "
            "ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        rows,
    )
    return reports.assign(source_id=[r["sid"] for r in rows])


def load_legacy_layout(conn: Connection) -> gpd.GeoDataFrame:
    """Five governorates (Northern split at SPLIT_LON into BH-17 and a legacy BH-16) and the
    matching road authorities: the western part becomes `muni_legacy_west`, handed to the
    Southern Municipality. Returns the moved part (EPSG:4326)."""
    gov = read_layer(conn, "governorates").rename_geometry("geometry")
    north = gov.set_index("code").geometry["BH-17"]
    west_box = box(50.0, 25.0, SPLIT_LON, 27.0)
    moved = north.intersection(west_box)
    legacy = gov[["code", "name_en", "name_ar", "geometry"]].copy()
    legacy.loc[legacy["code"] == "BH-17", "geometry"] = north.difference(west_box)
    legacy = pd.concat(
        [
            legacy,
            gpd.GeoDataFrame(
                {"code": ["BH-16"], "name_en": ["Central (legacy)"], "name_ar": ["الوسطى"]},
                geometry=[moved],
                crs=4326,
            ),
        ],
        ignore_index=True,
    )
    legacy["geometry"] = [shapely.multipolygons(shapely.get_parts(g)) for g in legacy.geometry]
    load_boundary_layer(conn, gpd.GeoDataFrame(legacy, crs=4326), "governorates", LEGACY)

    auth = read_layer(conn, "road_authorities")
    auth = auth[["code", "name_en", "name_ar", "kind", "precedence", "default_agency", "geom"]]
    auth = auth.rename_geometry("geometry")
    is_north = auth["code"] == "muni_northern"
    auth.loc[is_north, "geometry"] = auth.loc[is_north, "geometry"].difference(west_box)
    west = gpd.GeoDataFrame(
        {
            "code": ["muni_legacy_west"],
            "name_en": ["Legacy west"],
            "name_ar": ["الغرب"],
            "kind": ["municipal_area"],
            "precedence": [10],
            "default_agency": ["southern_municipality"],
        },
        geometry=[moved],
        crs=4326,
    )
    auth = pd.concat([auth, west], ignore_index=True)
    auth["geometry"] = [shapely.multipolygons(shapely.get_parts(g)) for g in auth.geometry]
    load_boundary_layer(conn, gpd.GeoDataFrame(auth, crs=4326), "road_authorities", LEGACY)
    return gpd.GeoDataFrame(geometry=[moved], crs=4326)


def test_replay_diff_matches_direct_computation_then_applies_with_audit(
    conn: Connection,
) -> None:
    reports = seed_routed_reports(conn, 300, seed=3)
    before = read_boundary_layers(conn)
    unchanged = replay_diff(conn, before)  # nothing changes without a new version
    assert unchanged.changes.empty and unchanged.refresh.empty
    # a stale reason and confidence (keys unchanged) are refreshed, not audited
    stale_sid = reports.loc[reports["status"] == "open", "source_id"].iloc[0]
    conn.execute(
        sa.text(
            "UPDATE reports SET routing_reason = 'stale', routing_confidence = 0.01 "
            "WHERE source_id = :s"
        ),
        {"s": stale_sid},
    )

    moved = load_legacy_layout(conn).geometry.iloc[0]
    layers = read_boundary_layers(conn)
    assert LEGACY in (layers.version or "")
    diff = replay_diff(conn, layers)

    # Direct computation: open reports inside the moved part change governorate; those not
    # on a corridor or special zone also change agency, Northern -> Southern Municipality.
    auth = read_layer(conn, "road_authorities")
    overriding = auth[auth["kind"] != "municipal_area"].union_all()
    is_open = reports["status"] != "closed"
    in_moved = reports.within(moved)
    on_override = reports.intersects(overriding)
    expected_gov = int((is_open & in_moved).sum())
    expected_agency = int((is_open & in_moved & ~on_override).sum())
    assert expected_agency > 10  # the test exercises real changes

    assert diff.n_examined == int(is_open.sum())
    assert diff.n_changed("governorate_code") == expected_gov
    assert diff.n_changed("agency_code") == expected_agency
    counts = diff.counts()
    moved_row = counts[
        (counts["old_agency"] == "northern_municipality")
        & (counts["new_agency"] == "southern_municipality")
    ]
    assert int(moved_row["n"].sum()) == expected_agency
    assert int(counts["n"].sum()) == len(diff.changes)
    closed_ids = set(reports.loc[~is_open, "source_id"])
    changed_sids = set(
        conn.execute(
            sa.text("SELECT source_id FROM reports WHERE id = ANY(:ids)"),
            {"ids": diff.changes["report_id"].tolist()},
        ).scalars()
    )
    assert not changed_sids & closed_ids

    stale_id = conn.execute(
        sa.text("SELECT id FROM reports WHERE source_id = :s"), {"s": stale_sid}
    ).scalar_one()
    assert stale_id in set(diff.refresh["report_id"]) | set(diff.changes["report_id"])

    n = apply_replay(conn, diff)
    assert n == len(diff.changes) + len(diff.refresh)
    audit = audit_rows(conn, version=diff.version)
    assert len(audit) == len(diff.changes)
    assert set(audit["report_id"]).isdisjoint(diff.refresh["report_id"])
    reason = conn.execute(
        sa.text("SELECT routing_reason FROM reports WHERE id = :i"), {"i": stale_id}
    ).scalar_one()
    assert reason != "stale" and reason.startswith("inside ")
    assert set(audit["report_id"]) == set(diff.changes["report_id"])
    assert (audit["new_governorate_code"] == "BH-16").sum() == expected_gov
    assert audit["changed_at"].notna().all()
    stored = conn.execute(
        sa.text(
            "SELECT count(*) FROM reports WHERE agency_code = 'southern_municipality' "
            "AND authority_code = 'muni_legacy_west'"
        )
    ).scalar_one()
    assert stored == expected_agency
    # applied: a second replay finds nothing to change
    again = replay_diff(conn, layers)
    assert again.changes.empty and again.refresh.empty


def test_route_never_routed_reports(conn: Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO reports (source, source_id, category, reported_at, content_hash, geom) "
            "VALUES ('test', 'raw-1', 'street_light', now(), 'h', "
            "ST_SetSRID(ST_MakePoint(50.58, 26.22), 4326))"
        )
    )
    diff = routing_diff(conn, read_boundary_layers(conn), replay=False)
    assert len(diff.changes) == diff.n_examined >= 1
    assert apply_routing(conn, diff, audit=False) == len(diff.changes)
    row = conn.execute(
        sa.text(
            "SELECT agency_code, routing_status, place_en FROM reports WHERE source_id = 'raw-1'"
        )
    ).one()
    assert row.agency_code == "ewa" and row.routing_status == "routed" and row.place_en
    assert routing_diff(conn, read_boundary_layers(conn), replay=False).n_examined == 0
