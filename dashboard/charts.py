"""Light charts drawn in Python as inline SVG (no chart library in the browser).

Streamlit's own charts (``st.line_chart``) load Vega-Lite in the browser: some 800 kB of
JavaScript to fetch, parse and run, which on the dashboard's 2-core server cost the planner
page more than half a second of its first render and of every reload (measured, see
``benchmarks/DASHBOARD.md``). The planner's weekly trend is a handful of lines; drawn here as
SVG it is a few kilobytes of markup that the browser paints without any script. Pure
functions: frames in, markup out (no SQL, no Streamlit).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_COLOR = "#333333"
"""Line colour of a series without one in the caller's colour mapping."""

X_TICKS = 6
"""Date labels along the time axis (at most)."""

Y_TICKS = 4
"""Value gridlines (at most, 0 included)."""


@dataclass(frozen=True)
class ChartBox:
    """Drawing area in SVG user units (the SVG scales to its container's width)."""

    width: int = 900
    height: int = 260
    left: int = 56
    right: int = 12
    top: int = 12
    bottom: int = 28


def _nice_step(vmax: float, ticks: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most ``ticks`` steps to vmax."""
    raw = max(vmax, 1.0) / max(ticks, 1)
    power = 10 ** np.floor(np.log10(raw))
    for mult in (1, 2, 5, 10):
        if mult * power >= raw:
            return float(mult * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _fmt(v: float) -> str:
    return f"{v:,.0f}"


def weekly_lines_svg(
    trend: pd.DataFrame,
    labels: Mapping[str, str],
    colors: Mapping[str, str],
    *,
    aria_label: str,
    box: ChartBox = ChartBox(),
) -> str:
    """Weekly counts per series as an SVG line chart with a legend (HTML markup).

    Parameters
    ----------
    trend
        Long frame ``week`` (date), ``category`` (series code), ``n_reports``; weeks missing
        for a series count as 0.
    labels, colors
        Series code -> display name (translated by the caller) and line colour.
    aria_label
        Accessible name of the chart (its title, translated).
    box
        Drawing area.

    Returns
    -------
    str
        A ``<div>`` holding the ``<svg>`` (each line titled with its series name and total,
        shown on hover) and a legend; empty string when ``trend`` is empty.

    Examples
    --------
    >>> t = pd.DataFrame({"week": [dt.date(2026, 1, 5), dt.date(2026, 1, 12)],
    ...                   "category": ["pothole", "pothole"], "n_reports": [3, 5]})
    >>> svg = weekly_lines_svg(t, {"pothole": "Pothole"}, {"pothole": "#e41a1c"},
    ...                        aria_label="Weekly trend")
    >>> svg.count("<polyline"), "Pothole" in svg
    (1, True)
    """
    if trend.empty:
        return ""
    wide = (
        trend.assign(week=pd.to_datetime(trend["week"]))
        .pivot_table(index="week", columns="category", values="n_reports", aggfunc="sum")
        .sort_index()
    )
    weeks = pd.date_range(wide.index.min(), wide.index.max(), freq="7D")
    wide = wide.reindex(weeks).fillna(0)
    series = sorted(wide.columns, key=lambda c: -float(wide[c].sum()))

    plot_w = box.width - box.left - box.right
    plot_h = box.height - box.top - box.bottom
    n = len(weeks)
    xs = box.left + (np.arange(n) * (plot_w / (n - 1)) if n > 1 else np.full(1, plot_w / 2))
    step = _nice_step(float(wide.to_numpy().max()), Y_TICKS)
    ymax = step * np.ceil(max(float(wide.to_numpy().max()), 1.0) / step)

    def y(v: np.ndarray | float) -> np.ndarray | float:
        return box.top + plot_h * (1 - np.asarray(v) / ymax)

    parts = [
        f'<svg viewBox="0 0 {box.width} {box.height}" width="100%" role="img" '
        f'aria-label="{html.escape(aria_label)}" style="direction:ltr;font:12px sans-serif">'
    ]
    for v in np.arange(0, ymax + step / 2, step):
        yy = float(y(v))
        parts.append(
            f'<line x1="{box.left}" x2="{box.width - box.right}" y1="{yy:.1f}" y2="{yy:.1f}" '
            'stroke="#dddddd"/>'
            f'<text x="{box.left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#555555">'
            f"{_fmt(float(v))}</text>"
        )
    for i in np.unique(np.linspace(0, n - 1, min(X_TICKS, n)).round().astype(int)):
        day: dt.date = weeks[i].date()
        anchor = "end" if n > 1 and i == n - 1 else "middle"  # the last label stays inside
        parts.append(
            f'<text x="{xs[i]:.1f}" y="{box.height - 8}" text-anchor="{anchor}" fill="#555555">'
            f"{day.isoformat()}</text>"
        )
    legend = []
    for code in series:
        name = html.escape(labels.get(code, code))
        color = colors.get(code, DEFAULT_COLOR)
        values = wide[code].to_numpy(dtype=float)
        points = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in zip(xs, y(values), strict=True))
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}">'
            f"<title>{name}: {_fmt(values.sum())}</title></polyline>"
        )
        legend.append(
            f'<span style="margin-inline-end:1em;white-space:nowrap">'
            f'<span style="display:inline-block;width:0.8em;height:0.8em;background:{color};'
            f'margin-inline-end:0.3em"></span>{name}</span>'
        )
    parts.append("</svg>")
    return f'<div>{"".join(parts)}<div style="font-size:0.85em">{"".join(legend)}</div></div>'
