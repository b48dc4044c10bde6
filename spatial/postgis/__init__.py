"""The one database gateway: every SQL statement of the project lives in this package.

Functions take a SQLAlchemy ``Connection`` (or ``Engine``) argument rather than reading a
global, so callers choose the transaction.
"""

from spatial.postgis.engine import check_connection, make_engine, raw_connection, transaction
from spatial.postgis.migrate import migrate

__all__ = ["check_connection", "make_engine", "migrate", "raw_connection", "transaction"]
