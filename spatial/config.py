"""Reading the tables of the project's TOML configuration files (``data/dedup.toml``)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from spatial.errors import Fix2GoError

DEDUP_TOML = Path(__file__).resolve().parent.parent / "data" / "dedup.toml"
"""The dedup and hotspot parameters shipped with the project."""


def read_toml_table(path: str | Path, table: str, error: type[Fix2GoError]) -> dict[str, Any]:
    """The ``[table]`` of a TOML file, or ``error`` with a one-line message saying what to fix.

    Examples
    --------
    >>> read_toml_table(DEDUP_TOML, "dedup", Fix2GoError)["window_days"] > 0
    True
    """
    try:
        with Path(path).open("rb") as fh:
            return dict(tomllib.load(fh)[table])
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise error(
            f"cannot read the [{table}] table of {str(path)!r} ({exc}); "
            "point to a TOML file like data/dedup.toml"
        ) from exc
