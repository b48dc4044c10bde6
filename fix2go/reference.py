"""Load the reference data of ``data/`` (categories, agencies, places, boundaries, routing
rules) into the database: what ``fix2go demo`` and the test suite prepare first."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy.engine import Connection

from spatial.boundaries import Layer, validate_layer
from spatial.io import read_boundary_file
from spatial.postgis import boundaries as pg_boundaries
from spatial.postgis import reference as pg_reference

GOVERNORATES_FILE = Path("governorates") / "bahrain_governorates.geojson"
ROAD_AUTHORITIES_FILE = Path("road_authorities.geojson")
PLACES_FILE = Path("places") / "bahrain_places.geojson"
AGENCIES_FILE = Path("agencies.csv")
ROUTING_RULES_FILE = Path("routing_rules.csv")


@dataclass
class BoundaryLoad:
    """What one ``boundaries load`` did."""

    layer: Layer
    version: str
    features: int
    notes: list[str] = field(default_factory=list)


def file_version(path: Path) -> str:
    """Default boundary version of a file: ``sha-`` and the first 12 hex digits of its SHA-256,
    so reloading the same file is idempotent and a changed file is a new version."""
    return "sha-" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def load_boundary_file(
    conn: Connection, path: Path, layer: Layer, version: str | None = None
) -> BoundaryLoad:
    """Read, validate and load one boundary layer file in the caller's transaction."""
    validated = validate_layer(read_boundary_file(path), layer, str(path))
    version = version or file_version(path)
    n = pg_boundaries.load_boundary_layer(conn, validated.frame, layer, version)
    return BoundaryLoad(layer=layer, version=version, features=n, notes=validated.notes)


def prepare_reference(conn: Connection, data_dir: Path) -> dict[str, int]:
    """Load every reference table from ``data_dir``; returns rows loaded per table."""
    counts: dict[str, int] = {}
    counts["categories"] = pg_reference.load_categories(conn)
    counts["agencies"] = pg_reference.load_agencies(
        conn, pd.read_csv(data_dir / AGENCIES_FILE, dtype=str)
    )
    places = gpd.read_file(data_dir / PLACES_FILE, engine="pyogrio")
    counts["places"] = pg_reference.load_places(conn, places)
    counts["governorates"] = load_boundary_file(
        conn, data_dir / GOVERNORATES_FILE, "governorates"
    ).features
    counts["road_authorities"] = load_boundary_file(
        conn, data_dir / ROAD_AUTHORITIES_FILE, "road_authorities"
    ).features
    counts["routing_rules"] = pg_reference.load_routing_rules(
        conn, pd.read_csv(data_dir / ROUTING_RULES_FILE, dtype=str)
    )
    return counts
