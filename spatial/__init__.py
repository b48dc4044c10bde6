"""The GIS core: pure functions over GeoDataFrames, plus ``spatial.postgis``, the one database gateway."""
