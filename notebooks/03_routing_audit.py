# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Routing audit
#
# **Question: can we trust where the reports were sent — which ones were routed with low
# confidence and why, how is the work spread across agencies, and what would a boundary
# change move?**
#
# 1. Low-confidence reports: near a boundary between two agencies, or outside every
#    polygon (coastline, reclaimed land, GPS error).
# 2. Agency workloads: incidents per agency and status.
# 3. A boundary-change dry run: widen the Ministry of Works corridors and count the open
#    reports that would change agency, without changing anything.
#
# Reads through `spatial.postgis.read`; the dry run uses the routing gateway
# (`spatial.postgis.routing.replay_diff`), the same code as `fix2go route --replay --dry-run`.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from fix2go.database import get_engine
from spatial.boundaries import validate_layer
from spatial.crs import STORAGE_EPSG, to_metric
from spatial.postgis.boundaries import load_boundary_layer
from spatial.postgis.read import read_boundaries, read_incidents, read_reports
from spatial.postgis.routing import read_boundary_layers, replay_diff
from spatial.routing import RoutingConfig

routing = RoutingConfig()
engine = get_engine()
with engine.connect() as conn:
    reports = read_reports(conn)
    incidents = read_incidents(conn)
    authorities = read_boundaries(conn, "road_authorities")
assert len(reports), "no reports in the database yet: load some first (docs/ANALYSTS.md)"

print(
    f"{len(reports):,} reports, {len(incidents):,} incidents, {len(authorities)} road authorities"
)

# %% [markdown]
# ## 1. Low-confidence reports
#
# Confidence is 1 well inside one agency's area. It drops within
# `boundary_band_m` of a boundary between two different agencies, and for points outside
# every polygon (assigned to the nearest one within `outside_tolerance_m`). Below
# `min_confidence` a report goes to the triage queue.

# %%
print(
    f"boundary band {routing.boundary_band_m:g} m, outside tolerance "
    f"{routing.outside_tolerance_m:g} m, triage below {routing.min_confidence:g}"
)
unsure = reports[reports["routing_confidence"] < 1].copy()
reason = unsure["routing_reason"].fillna("")
unsure["why"] = np.select(
    [reason.str.contains("outside every"), reason.str.contains("near the boundary")],
    ["outside every polygon", "near an agency boundary"],
    default="other",
)
unsure["triage"] = unsure["routing_confidence"] < routing.min_confidence
pd.crosstab(unsure["why"], unsure["triage"], margins=True).rename(
    columns={False: "routed", True: "triage"}
)

# %%
fig, ax = plt.subplots(figsize=(8, 3))
ax.hist(reports["routing_confidence"].dropna(), bins=40, color="steelblue")
ax.axvline(routing.min_confidence, color="firebrick", linestyle="--", label="triage threshold")
ax.set_yscale("log")
ax.set_xlabel("routing confidence")
ax.set_ylabel("reports (log scale)")
ax.legend()
plt.show()

# %% [markdown]
# The least confident reports, with the reason a person can read:

# %%
cols = ["report_id", "category", "agency_code", "routing_confidence", "place_en", "routing_reason"]
with pd.option_context("display.max_colwidth", 140):
    display(unsure.sort_values("routing_confidence")[cols].head(10))

# %% [markdown]
# Where they are, over the road authorities (drawn by precedence: corridors and special
# zones on top of the municipal areas they override):

# %%
fig, ax = plt.subplots(figsize=(8, 8))
authorities.sort_values("precedence").plot(
    ax=ax,
    column="kind",
    categorical=True,
    cmap="Pastel1",
    edgecolor="grey",
    linewidth=0.4,
    legend=True,
    legend_kwds={"loc": "upper left", "bbox_to_anchor": (1.01, 1)},
)
for why, colour in (("near an agency boundary", "darkorange"), ("outside every polygon", "red")):
    part = unsure[unsure["why"] == why]
    if not part.empty:
        part.plot(ax=ax, color=colour, markersize=8)
xs, ys = reports.geometry.x, reports.geometry.y
ax.set_xlim(xs.quantile(0.01), xs.quantile(0.99))
ax.set_ylim(ys.quantile(0.01), ys.quantile(0.99))
ax.set_title("Reports routed with confidence < 1 (orange: boundary band, red: outside)")
ax.set_axis_off()
plt.show()

# %% [markdown]
# ## 2. Agency workloads
#
# Incidents (duplicates merged) per agency and status, the reports behind the open ones,
# and how long the open ones have been waiting (days since their first report, at the time
# of the last report in the data).

# %%
now = reports["reported_at"].max()
open_ = incidents[incidents["status"] != "closed"]
workload = pd.crosstab(incidents["agency_code"].fillna("(unrouted)"), incidents["status"])
workload["reports_in_open"] = open_.groupby(open_["agency_code"].fillna("(unrouted)"))[
    "n_reports"
].sum()
workload["median_wait_days_open"] = (
    (now - open_["first_reported_at"])
    .dt.days.groupby(open_["agency_code"].fillna("(unrouted)"))
    .median()
)
workload = workload.fillna(0).sort_values("reports_in_open", ascending=False)
workload

# %%
status_cols = [c for c in ("open", "in_progress", "closed") if c in workload.columns]
ax = workload[status_cols].plot.barh(stacked=True, figsize=(8, 4), width=0.8)
ax.invert_yaxis()
ax.set_xlabel("incidents")
ax.set_title("Incidents per agency and status")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Boundary-change dry run
#
# Scenario: every Ministry of Works corridor is widened by `WIDEN_M` metres. The widened
# layer is validated, loaded as a new version and the open reports are re-routed against
# it — inside a transaction that is **rolled back**: nothing is saved. This is what
# `fix2go boundaries load` followed by `fix2go route --replay --dry-run` would report.

# %%
WIDEN_M = 50.0

corridor = authorities["kind"] == "corridor"
widened = authorities.copy()
widened.loc[corridor, "geom"] = (
    to_metric(authorities.loc[corridor]).buffer(WIDEN_M).to_crs(STORAGE_EPSG).to_numpy()
)
scenario = validate_layer(widened, "road_authorities", f"corridors +{WIDEN_M:g} m").frame

with engine.connect() as conn:
    transaction = conn.begin()
    try:
        load_boundary_layer(conn, scenario, "road_authorities", version="what-if-corridors")
        diff = replay_diff(conn, read_boundary_layers(conn))
    finally:
        transaction.rollback()  # a dry run: the new version is never kept

print(
    f"{diff.n_examined:,} open reports re-routed; "
    f"{diff.n_changed('authority_code'):,} would change road authority, "
    f"{diff.n_changed('agency_code'):,} would change agency"
)
diff.counts()

# %% [markdown]
# A few of the reports that would move, with the new routing reason:

# %%
with pd.option_context("display.max_colwidth", 140):
    display(
        diff.changes[
            ["report_id", "category", "old_agency_code", "new_agency_code", "new_routing_reason"]
        ].head(8)
    )

# %%
with engine.connect() as conn:
    after = read_boundaries(conn, "road_authorities")
assert set(after["boundary_version"]) == set(authorities["boundary_version"]), "not rolled back"
print("dry run only: the current road-authority version is unchanged")
