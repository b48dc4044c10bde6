"""Interface strings: both languages present, Arabic really Arabic, right-to-left switch."""

from __future__ import annotations

import re

import pytest

from dashboard import i18n

ARABIC = re.compile(r"[\u0600-\u06FF]")


@pytest.mark.parametrize("key", sorted(i18n.STRINGS))
def test_every_label_in_both_languages(key: str) -> None:
    en, ar = i18n.STRINGS[key]
    assert en.strip() and ar.strip()
    assert ARABIC.search(ar), (key, ar)
    assert set(re.findall(r"{\w+}", en)) == set(re.findall(r"{\w+}", ar))


def test_trend_and_status_labels_cover_the_codes() -> None:
    assert set(i18n.trend_labels("ar")) == set(i18n.TRENDS)
    assert all(ARABIC.search(v) for v in i18n.trend_labels("ar").values())
    assert i18n.t("in_progress", "en") == "in progress"


def test_direction_and_columns() -> None:
    assert i18n.is_rtl("ar") and not i18n.is_rtl("en")
    assert 'setAttribute("dir", "rtl")' in i18n.dir_script("ar")
    assert 'setAttribute("dir", "ltr")' in i18n.dir_script("en")
    assert i18n.name_column("ar") == "name_ar" and i18n.place_column("en") == "place_en"
    assert i18n.column_labels(["n_in", "x"], "en") == {"n_in": "Rows in"}
    assert all(ARABIC.search(ar) for _, ar in i18n.COLUMN_LABELS.values())


def test_formatting() -> None:
    assert i18n.t("count_rows", "ar", n=3) == "3 صفوف"
    with pytest.raises(KeyError):
        i18n.t("no_such_label", "en")
