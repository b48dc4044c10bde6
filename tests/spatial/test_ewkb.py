"""The vectorised hex EWKB of points equals shapely's, and PostGIS reads it as those points."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Connection

from spatial.ewkb import points_to_hex_ewkb

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(st.lists(st.tuples(finite, finite), max_size=50), st.sampled_from([4326, 32639, 0]))
def test_same_text_as_shapely(points: list[tuple[float, float]], srid: int) -> None:
    xy = np.array(points, dtype=float).reshape(-1, 2)
    ours = points_to_hex_ewkb(xy[:, 0], xy[:, 1], srid).to_pylist()
    geoms = shapely.set_srid(shapely.points(xy), srid) if len(xy) else np.array([], dtype=object)
    expected = [] if not len(xy) else list(shapely.to_wkb(geoms, hex=True, include_srid=True))
    if srid == 0:  # shapely writes no SRID field for 0; compare the geometry part only
        expected = [shapely.to_wkb(g, hex=True, include_srid=False) for g in geoms]
        ours = [o[:2] + "01000000" + o[18:] for o in ours]
    assert ours == expected


@pytest.mark.parametrize(("x", "y"), [([1.0, np.nan], [2.0, 3.0]), ([1.0], [np.inf])])
def test_non_finite_coordinates_are_refused(x: list[float], y: list[float]) -> None:
    with pytest.raises(ValueError, match="finite"):
        points_to_hex_ewkb(x, y, 4326)


def test_postgis_reads_the_points(conn: Connection) -> None:
    text = points_to_hex_ewkb([50.58, -0.5], [26.22, 51.4], 4326).to_pylist()
    rows = conn.execute(
        sa.text(
            "SELECT ST_SRID(g), ST_X(g), ST_Y(g) "
            "FROM (SELECT CAST(t AS geometry) AS g FROM unnest(CAST(:t AS text[])) AS t) AS p"
        ),
        {"t": text},
    ).all()
    assert [tuple(r) for r in rows] == [(4326, 50.58, 26.22), (4326, -0.5, 51.4)]
