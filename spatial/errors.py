"""The errors of the GIS core, as subclasses of built-ins (osmnx style).

Every message names what is wrong, why, and the fix, e.g.
``expects EPSG:4326 lon/lat, got EPSG:32639; call `gdf.to_crs(4326)` first``.
The CLI prints ``str(error)`` on one line and exits non-zero.
"""

from __future__ import annotations


class Fix2GoError(Exception):
    """Base of every error the project raises on purpose (the CLI shows these in one line)."""


class CRSError(Fix2GoError, ValueError):
    """A GeoDataFrame is in the wrong (or no) coordinate reference system."""


class BoundaryError(Fix2GoError, ValueError):
    """A boundary layer cannot be loaded (unreadable, wrong geometry, bad codes)."""


class DatabaseError(Fix2GoError, RuntimeError):
    """The database cannot be reached, started or used as needed."""


class MigrationError(DatabaseError):
    """A migration file failed; the database is left as it was before that file."""
