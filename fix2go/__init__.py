"""Fix2Go Spatial: the application shell (CLI and settings) that wires ingest, spatial and dashboard."""

__version__ = "0.1.0"
