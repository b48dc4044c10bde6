"""The Streamlit dashboard: pages, map builders, cached queries."""
