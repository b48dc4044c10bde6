"""Errors of the ingest package (one-line messages: what, why, fix)."""

from __future__ import annotations

from spatial.errors import Fix2GoError


class IngestError(Fix2GoError, ValueError):
    """An input cannot be ingested as given."""


class UnreadableFileError(IngestError):
    """A whole file cannot be read (wrong encoding, not CSV/JSON, missing required columns).

    Nothing from such a file is loaded.
    """


class GenerateError(IngestError):
    """Synthetic data cannot be generated with the given arguments."""
