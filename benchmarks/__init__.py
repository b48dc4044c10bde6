"""Side-by-side measurements against the anchors (raw COPY, PostGIS, scikit-learn)."""
