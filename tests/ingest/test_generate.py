"""The synthetic export generator: shape, determinism, realism and hard cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from ingest.errors import GenerateError
from ingest.generate import BAD_KINDS, EXPORT_COLUMNS, TRUTH_COLUMNS, generate, land, write_export
from spatial.categories import category_codes

M_PER_DEG = 111_000.0


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return generate(4000, seed=7, planted_hotspots=[(26.20, 50.55)])


def _dist_m(lat1, lng1, lat2, lng2):  # type: ignore[no-untyped-def]
    dy = (np.asarray(lat1) - np.asarray(lat2)) * M_PER_DEG
    dx = (np.asarray(lng1) - np.asarray(lng2)) * M_PER_DEG * np.cos(np.radians(26.1))
    return np.hypot(dx, dy)


def test_shape_and_columns(data) -> None:  # type: ignore[no-untyped-def]
    assert list(data.reports.columns) == list(EXPORT_COLUMNS)
    assert list(data.truth.columns) == list(TRUTH_COLUMNS)
    assert len(data.reports) == len(data.truth) == 4000
    assert (data.truth["report_id"] == data.reports["report_id"]).all()


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = generate(300, seed=3), generate(300, seed=3), generate(300, seed=4)
    pd.testing.assert_frame_equal(a.reports, b.reports)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.reports.equals(c.reports)


def test_every_bad_kind_present(data) -> None:  # type: ignore[no-untyped-def]
    outcomes = set(data.truth["expected_outcome"])
    for kind in BAD_KINDS:
        assert any(o.endswith(":" + kind) for o in outcomes), kind
    share_bad = (data.truth["expected_outcome"] != "new").mean()
    assert 0.02 <= share_bad <= 0.04


def test_defects_on_land_and_gps_noise(data) -> None:  # type: ignore[no-untyped-def]
    new = data.truth[data.truth["expected_outcome"] == "new"]
    rep = data.reports.loc[new.index]
    on_land = shapely.contains_xy(land(), new["true_lng"].to_numpy(), new["true_lat"].to_numpy())
    # base defects are sampled on land; only 30-60 m neighbours of coastal ones may be off it
    assert on_land.mean() > 0.99
    d = _dist_m(
        rep["latitude"].astype(float),
        rep["longitude"].astype(float),
        new["true_lat"],
        new["true_lng"],
    )
    assert d.min() >= 4.0 and d.max() <= 31.0
    assert set(new["category"]) <= set(category_codes())


def test_reports_per_defect_heavy_tailed_and_spread_over_days(data) -> None:  # type: ignore[no-untyped-def]
    t = data.truth.dropna(subset=["defect_id"])
    sizes = t.groupby("defect_id").size()
    assert sizes.min() == 1 and sizes.max() >= 12 and sizes.median() <= 2
    ts = pd.to_datetime(
        data.reports.loc[t.index, "created_at"], format="ISO8601", utc=True, errors="coerce"
    )
    spans = ts.groupby(t["defect_id"]).agg(lambda s: (s.max() - s.min()).total_seconds() / 86400)
    assert spans[sizes[sizes >= 5].index].median() > 1.0


def test_hard_cases_present(data) -> None:  # type: ignore[no-untyped-def]
    d = data.truth.dropna(subset=["defect_id"]).drop_duplicates("defect_id")
    lat, lng = d["true_lat"].to_numpy(), d["true_lng"].to_numpy()
    cat = d["category"].to_numpy()
    dist = _dist_m(lat[:, None], lng[:, None], lat[None, :], lng[None, :])
    np.fill_diagonal(dist, np.inf)
    same = cat[:, None] == cat[None, :]
    assert ((dist >= 29) & (dist <= 61) & same).any()  # distinct defects, one category, 30-60 m
    assert ((dist <= 5) & ~same).any()  # different categories at one spot
    ts = pd.to_datetime(data.reports["created_at"], format="ISO8601", utc=True, errors="coerce")
    first = ts.groupby(data.truth["defect_id"]).min().reindex(d["defect_id"]).to_numpy()
    gap_days = (
        np.abs((first[:, None] - first[None, :]).astype("timedelta64[s]").astype(float)) / 86400
    )
    assert ((dist <= 5) & same & (gap_days >= 60)).any()  # recurrence months later


def test_planted_hotspot_concentrated(data) -> None:  # type: ignore[no-untyped-def]
    hot = data.truth[data.truth["hotspot"] == 0].dropna(subset=["defect_id"])
    assert hot["defect_id"].nunique() >= 10
    assert _dist_m(hot["true_lat"], hot["true_lng"], 26.20, 50.55).max() <= 310


def test_descriptions_bilingual_with_some_pii(data) -> None:  # type: ignore[no-untyped-def]
    desc = data.reports["description"]
    assert desc.str.contains("[\u0600-\u06ff]", regex=True).mean() > 0.3
    assert desc.str.contains("[A-Za-z]{4}", regex=True).mean() > 0.3
    assert desc.str.contains("@", regex=False).any()
    assert desc.str.contains(r"\d{4} ?\d{4}", regex=True).any()


@pytest.mark.parametrize("kwargs", [{"n_reports": 0}, {"n_reports": 10, "bad_row_share": 0.9}])
def test_bad_arguments(kwargs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GenerateError, match="must be"):
        generate(seed=1, **kwargs)


@pytest.mark.parametrize("ext", [".csv", ".json", ".geojson", ".parquet"])
def test_write_export_formats(tmp_path, ext) -> None:  # type: ignore[no-untyped-def]
    g = generate(50, seed=1)
    path = tmp_path / f"x{ext}"
    write_export(g.reports, path)
    assert path.stat().st_size > 0


def test_write_export_unknown_extension(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GenerateError, match="unknown export extension"):
        write_export(generate(5, seed=1).reports, tmp_path / "x.xlsx")
