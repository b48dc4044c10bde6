"""The SVG weekly trend chart: one line per category, weeks without reports at zero, labels
escaped, nothing for an empty frame, no script."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from dashboard import charts

MON = dt.date(2026, 1, 5)


def _trend(rows: list[tuple[dt.date, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["week", "category", "n_reports"])


def _points(svg: str) -> list[list[tuple[float, float]]]:
    return [
        [tuple(float(v) for v in p.split(",")) for p in pts.split()]  # type: ignore[misc]
        for pts in re.findall(r'points="([^"]*)"', svg)
    ]


def test_empty_frame_draws_nothing() -> None:
    assert charts.weekly_lines_svg(_trend([]), {}, {}, aria_label="t") == ""


def test_one_line_per_category_with_missing_weeks_at_zero() -> None:
    week = dt.timedelta(days=7)
    trend = _trend(
        [(MON, "pothole", 4), (MON + 2 * week, "pothole", 2), (MON + week, "flooding", 1)]
    )
    svg = charts.weekly_lines_svg(
        trend,
        {"pothole": "Pothole", "flooding": "Flooding"},
        {"pothole": "#e41a1c"},
        aria_label="t",
    )
    lines = _points(svg)
    assert len(lines) == 2 and all(len(points) == 3 for points in lines)
    # the biggest series first; its missing middle week lies on the zero line (the lowest y)
    pothole, flooding = lines
    assert pothole[1][1] == max(y for _, y in pothole)
    assert flooding[0][1] == flooding[2][1] == pothole[1][1]
    assert 'stroke="#e41a1c"' in svg and f'stroke="{charts.DEFAULT_COLOR}"' in svg
    assert "<title>Pothole: 6</title>" in svg and "<title>Flooding: 1</title>" in svg


@pytest.mark.parametrize("n_weeks", [1, 2, 60])
def test_axis_labels_are_dates_inside_the_chart(n_weeks: int) -> None:
    trend = _trend([(MON + dt.timedelta(days=7 * i), "debris", i + 1) for i in range(n_weeks)])
    svg = charts.weekly_lines_svg(trend, {}, {}, aria_label="t")
    dates = re.findall(r">(\d{4}-\d{2}-\d{2})<", svg)
    assert dates[0] == MON.isoformat() and 1 <= len(dates) <= charts.X_TICKS
    xs = [float(x) for x, _ in _points(svg)[0]]
    assert all(0 <= x <= charts.ChartBox().width for x in xs)


def test_labels_are_escaped_and_no_script() -> None:
    trend = _trend([(MON, "x", 1)])
    svg = charts.weekly_lines_svg(trend, {"x": "<script>alert(1)</script>"}, {}, aria_label='a"b')
    assert "<script" not in svg and "&lt;script&gt;" in svg and 'aria-label="a&quot;b"' in svg


@pytest.mark.parametrize("module", ["dashboard.charts", "dashboard.polygons"])
def test_docstring_examples(module: str) -> None:
    """These modules are not in the Makefile's doctest list: run their examples here."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
