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
# # 01 · Exploring the reports
#
# **Question: how many road complaints come in, of which kind, where and when — and where
# are they on the map?**
#
# Volumes by category, by governorate and by month, then a map of the reports over the
# governorate boundaries. Everything is read through the analyst read API
# (`spatial.postgis.read`), i.e. from `report_view`: no description, no reporter, no raw
# row ever reaches this notebook.
#
# The database is the project's (`DATABASE_URL` when set, otherwise the embedded PostGIS
# started on demand); see `docs/ANALYSTS.md`.

# %%
import matplotlib.pyplot as plt
import pandas as pd

from fix2go.database import get_engine
from spatial.categories import categories
from spatial.postgis.read import Filters, read_boundaries, read_reports

engine = get_engine()
with engine.connect() as conn:
    reports = read_reports(conn)
    governorates = read_boundaries(conn, "governorates")
assert len(reports), "no reports in the database yet: load some first (docs/ANALYSTS.md)"

print(
    f"{len(reports):,} reports from {reports['reported_at'].min():%Y-%m-%d} "
    f"to {reports['reported_at'].max():%Y-%m-%d}"
)
reports.head()

# %% [markdown]
# ## By category
#
# Counts and shares per category, in the contract's order, with the English names.

# %%
names = pd.Series({c.code: c.name_en for c in categories()}, name="category")
by_category = (
    reports["category"].value_counts().reindex(names.index, fill_value=0).rename("reports")
)
table = pd.concat([names, by_category], axis=1)
table["share_%"] = (100 * table["reports"] / max(len(reports), 1)).round(1)
table.sort_values("reports", ascending=False)

# %% [markdown]
# ## By governorate
#
# Reports are routed to a governorate on ingest (`governorate_code`, ISO 3166-2). Reports
# outside every governorate (sea, GPS error beyond the tolerance) have none.

# %%
gov_names = governorates.set_index("code")["name_en"]
by_gov = reports["governorate_code"].fillna("(none)").value_counts().rename("reports").to_frame()
by_gov.insert(0, "governorate", gov_names.reindex(by_gov.index).fillna("(outside)"))
by_gov

# %% [markdown]
# ## By month
#
# Months are Bahrain local months (UTC+3), the way the service reports them.

# %%
local = reports["reported_at"].dt.tz_convert("Asia/Bahrain")
month = local.dt.strftime("%Y-%m").rename("month")
by_month = pd.crosstab(month, reports["category"]).reindex(columns=names.index, fill_value=0)
by_month["total"] = by_month.sum(axis=1)
by_month

# %%
ax = by_month.drop(columns="total").plot.bar(stacked=True, figsize=(10, 4), width=0.85)
ax.set_xlabel("month (Bahrain time)")
ax.set_ylabel("reports")
ax.set_title("Reports per month and category")
ax.legend(fontsize="small", title="category", loc="upper left", bbox_to_anchor=(1.01, 1))
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Where: a map
#
# A static map (no basemap tiles: nothing is fetched from the internet) of every report,
# coloured by category, over the current governorate boundaries.

# %%
fig, ax = plt.subplots(figsize=(7, 8))
governorates.plot(ax=ax, facecolor="whitesmoke", edgecolor="grey", linewidth=0.8)
reports.plot(
    ax=ax,
    column="category",
    categorical=True,
    markersize=2,
    legend=True,
    legend_kwds={"fontsize": "small", "loc": "upper left", "bbox_to_anchor": (1.01, 1)},
)
for _, g in governorates.iterrows():
    p = g.geom.representative_point()
    ax.annotate(g["name_en"], (p.x, p.y), ha="center", fontsize="small", color="dimgrey")
ax.set_title("Reports by category")
ax.set_axis_off()
plt.show()

# %% [markdown]
# ## The same, filtered
#
# The read API takes typed filters (period, categories, governorates, agencies, status,
# bounding box); they run in the database, on its indexes. For example the open potholes of
# the Capital governorate in the last three months of the data:

# %%
end = reports["reported_at"].max() + pd.Timedelta(seconds=1)
with engine.connect() as conn:
    recent_potholes = read_reports(
        conn,
        Filters(
            start=end - pd.DateOffset(months=3),
            end=end,
            categories=("pothole",),
            governorates=("BH-13",),
            statuses=("open",),
        ),
    )
print(f"{len(recent_potholes):,} open potholes in the Capital in the last three months")
recent_potholes[
    ["report_id", "reported_at", "agency_code", "place_en", "routing_confidence"]
].head()
