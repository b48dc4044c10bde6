"""Errors of the dashboard package (one-line messages: what, why, fix)."""

from __future__ import annotations

from spatial.errors import Fix2GoError


class DashboardError(Fix2GoError, RuntimeError):
    """The dashboard cannot start or render as configured."""


class AssetsError(DashboardError):
    """The offline map assets cannot be installed or are missing."""


class DashboardConfigError(DashboardError, ValueError):
    """A dashboard setting from the environment is malformed."""
