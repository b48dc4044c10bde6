"""Reference tables: categories, agencies, routing rules and named places (upserts)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spatial.categories import categories
from spatial.crs import STORAGE_EPSG, check_crs


def load_categories(conn: Connection) -> int:
    """Upsert the ten categories of ``data/categories.csv``."""
    rows = [{"code": c.code, "name_en": c.name_en, "name_ar": c.name_ar} for c in categories()]
    conn.execute(
        sa.text(
            "INSERT INTO categories (code, name_en, name_ar) VALUES (:code, :name_en, :name_ar) "
            "ON CONFLICT (code) DO UPDATE SET name_en = EXCLUDED.name_en, name_ar = EXCLUDED.name_ar"
        ),
        rows,
    )
    return len(rows)


def load_agencies(conn: Connection, agencies: pd.DataFrame) -> int:
    """Upsert agencies (columns ``code, name_en, name_ar, kind``)."""
    rows = [
        {str(k): v for k, v in r.items()}
        for r in agencies[["code", "name_en", "name_ar", "kind"]].to_dict("records")
    ]
    conn.execute(
        sa.text(
            "INSERT INTO agencies (code, name_en, name_ar, kind) "
            "VALUES (:code, :name_en, :name_ar, :kind) ON CONFLICT (code) DO UPDATE SET "
            "name_en = EXCLUDED.name_en, name_ar = EXCLUDED.name_ar, kind = EXCLUDED.kind"
        ),
        rows,
    )
    return len(rows)


def load_routing_rules(conn: Connection, rules: pd.DataFrame) -> int:
    """Replace the routing rules (columns ``authority_code, category, agency_code``)."""
    conn.execute(sa.text("DELETE FROM routing_rules"))
    rows = [
        {str(k): v for k, v in r.items()}
        for r in rules[["authority_code", "category", "agency_code"]].to_dict("records")
    ]
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO routing_rules (authority_code, category, agency_code) "
                "VALUES (:authority_code, :category, :agency_code)"
            ),
            rows,
        )
    return len(rows)


def load_places(conn: Connection, places: gpd.GeoDataFrame) -> int:
    """Upsert named places (columns ``wof_id, placetype, name_en, name_ar``, Point geometry)."""
    check_crs(places, STORAGE_EPSG, "load_places")
    rows = [
        {
            "wof_id": int(r.wof_id),
            "placetype": r.placetype,
            "name_en": r.name_en,
            "name_ar": r.name_ar if isinstance(r.name_ar, str) else None,
            "wkb": r.geometry.wkb,
        }
        for r in places.itertuples()
    ]
    conn.execute(
        sa.text(
            "INSERT INTO places (wof_id, placetype, name_en, name_ar, geom) VALUES "
            f"(:wof_id, :placetype, :name_en, :name_ar, ST_GeomFromWKB(:wkb, {STORAGE_EPSG})) "
            "ON CONFLICT (wof_id) DO UPDATE SET placetype = EXCLUDED.placetype, "
            "name_en = EXCLUDED.name_en, name_ar = EXCLUDED.name_ar, geom = EXCLUDED.geom"
        ),
        rows,
    )
    return len(rows)
