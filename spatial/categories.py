"""The ten report categories of the contract, with English and Arabic names.

The single source is ``data/categories.csv``; this module reads it once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATEGORIES_CSV = Path(__file__).resolve().parent.parent / "data" / "categories.csv"


@dataclass(frozen=True)
class Category:
    """One report category: its stable code and its bilingual names."""

    code: str
    name_en: str
    name_ar: str


@cache
def categories() -> tuple[Category, ...]:
    """All categories, in the contract's order.

    >>> categories()[0].code
    'pothole'
    """
    with CATEGORIES_CSV.open(encoding="utf-8") as fh:
        return tuple(Category(**row) for row in csv.DictReader(fh))


def category_codes() -> tuple[str, ...]:
    """The ten category codes, in the contract's order."""
    return tuple(c.code for c in categories())
