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
# # 02 · Hotspots
#
# **Question: where do road defects cluster more than chance would explain, how sure are
# we, and which way is each hotspot going?**
#
# Three views of the same incidents (duplicate reports already merged, see notebook 04):
#
# 1. a raw heat map: incidents counted per H3 cell;
# 2. Getis-Ord Gi\* hot and cold spots at the coarser of the two configured H3 resolutions;
# 3. the same at the finer resolution.
#
# The Gi\* cells are computed by `fix2go hotspots` (`spatial.hotspots`) and stored in
# `hotspot_cells`; this notebook only reads them (`spatial.postgis.read.read_hotspots`).

# %%
import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd

from fix2go.database import get_engine
from spatial.grid import cells_to_polygons, points_to_cells
from spatial.hotspots import HotspotConfig
from spatial.postgis.read import read_boundaries, read_hotspots, read_incidents

config = HotspotConfig.from_toml()
coarse, fine = sorted(config.resolutions)[:2]

engine = get_engine()
with engine.connect() as conn:
    incidents = read_incidents(conn)
    governorates = read_boundaries(conn, "governorates")
    gi = {
        res: read_hotspots(conn, resolution=res, category_group="all", period="all")
        for res in (coarse, fine)
    }

assert len(incidents), "no incidents yet: run `fix2go ingest` and `fix2go dedup` first"
print(
    f"{len(incidents):,} incidents; Gi* lattice cells: "
    + ", ".join(f"resolution {r}: {len(g):,}" for r, g in gi.items())
)
if any(g.empty for g in gi.values()):
    print("No hotspot cells yet: run `fix2go hotspots` first.")

# %% [markdown]
# ## Raw counts
#
# Incidents per H3 cell at the finer resolution, straight from their points: how much, not
# how unusual.

# %%
counts = points_to_cells(incidents, fine).dropna().astype("int64").value_counts()
raw = gpd.GeoDataFrame(
    {"h3_cell": counts.index, "n_incidents": counts.to_numpy()},
    geometry=cells_to_polygons(counts.index).to_numpy(),
    crs=4326,
)
raw.sort_values("n_incidents", ascending=False).head()

# %% [markdown]
# ## Side by side
#
# Gi\* classes as ArcGIS's Optimized Hot Spot Analysis reports them: `hot_class` +3/+2/+1 is
# a hot spot at 99/95/90 % confidence (after a false-discovery-rate correction), -1..-3 a
# cold spot, 0 not significant. The map zooms to where most incidents are.

# %%
CLASS_STYLE = {  # hot_class -> (label, colour)
    3: ("hot 99 %", "#b2182b"),
    2: ("hot 95 %", "#ef8a62"),
    1: ("hot 90 %", "#fddbc7"),
    0: ("not significant", "#f0f0f0"),
    -1: ("cold 90 %", "#d1e5f0"),
    -2: ("cold 95 %", "#67a9cf"),
    -3: ("cold 99 %", "#2166ac"),
}

xs, ys = incidents.geometry.x, incidents.geometry.y
window = (xs.quantile(0.02), xs.quantile(0.98), ys.quantile(0.02), ys.quantile(0.98))

fig, axes = plt.subplots(1, 3, figsize=(16, 6), sharex=True, sharey=True)
raw.plot(
    ax=axes[0],
    column="n_incidents",
    cmap="YlOrRd",
    legend=True,
    legend_kwds={"label": "incidents per cell", "shrink": 0.6},
)
axes[0].set_title(f"Raw counts (resolution {fine})")
for ax, res in zip(axes[1:], (coarse, fine), strict=True):
    cells = gi[res]
    for cls, (label, colour) in CLASS_STYLE.items():
        part = cells[cells["hot_class"] == cls]
        if not part.empty:
            part.plot(ax=ax, color=colour, edgecolor="none", label=label)
    ax.set_title(f"Gi* hot/cold spots (resolution {res})")
handles = [plt.Rectangle((0, 0), 1, 1, color=c) for _, c in CLASS_STYLE.values()]
axes[2].legend(
    handles,
    [lbl for lbl, _ in CLASS_STYLE.values()],
    loc="upper left",
    bbox_to_anchor=(1.01, 1),
    fontsize="small",
)
for ax in axes:
    governorates.boundary.plot(ax=ax, color="grey", linewidth=0.5)
    ax.set_xlim(window[0], window[1])
    ax.set_ylim(window[2], window[3])
    ax.set_axis_off()
plt.tight_layout()
plt.show()

# %%
summary = (
    pd.DataFrame(
        {
            res: g["hot_class"].map(lambda c: CLASS_STYLE[c][0]).value_counts()
            for res, g in gi.items()
        }
    )
    .reindex([lbl for lbl, _ in CLASS_STYLE.values()])
    .fillna(0)
    .astype(int)
)
summary.columns = [f"resolution {r}" for r in summary.columns]
summary

# %% [markdown]
# ## Why the three maps differ
#
# - **Raw counts show volume, not significance.** A busy cell in the middle of a busy
#   neighbourhood is ordinary there; a heat map paints it red anyway.
# - **Gi\* judges a cell with its neighbours** (the cell and its ring of neighbours, against
#   the whole study area, empty cells included). A cluster is hot when the neighbourhood's
#   total is improbably high; a single busy cell among quiet ones often is not.
# - **Resolution sets the scale of the question.** A coarser cell (resolution 8, about
#   0.7 km²; with its ring about 5 km²) asks about districts: broad clusters stand out, a
#   300 m cluster is averaged with its surroundings. A finer cell (resolution 9, about
#   0.1 km²) asks about streets: tight clusters stand out, but each cell holds few incidents,
#   so fewer cells pass the false-discovery-rate correction.
# - Cold spots need a busy background: they mark places with fewer incidents than around
#   them, which is why they appear only inside the study area's lattice.
#
# A planner reads the coarse map to choose districts and the fine map to choose streets.

# %% [markdown]
# ## Which way is each hotspot going?
#
# Hot cells get a trend label from the monthly incident counts of the cell (Mann-Kendall
# test), in the vocabulary of Emerging Hot Spot Analysis: `new` (all incidents in the last
# month), `intensifying`, `diminishing`, `persistent` (incidents in most months, no trend),
# `sporadic`; cells that are not hot get `none`, and so does a hot cell with no incident of
# its own (hot because of its neighbours: nothing to trend).

# %%
hot = {res: g[g["hot_class"] > 0] for res, g in gi.items()}
trends = pd.DataFrame({f"resolution {r}": h["trend"].value_counts() for r, h in hot.items()})
trends.fillna(0).astype(int)

# %%
top = hot[coarse].sort_values(["hot_class", "gi_z"], ascending=False).head(10)
top[["h3_cell", "n_incidents", "gi_z", "confidence", "trend"]]
