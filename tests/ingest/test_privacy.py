"""Privacy: keyed pseudonyms over normalised ids, description redaction (Arabic and English)."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from ingest.errors import IngestError
from ingest.privacy import normalise_reporter_ids, pseudonymise, redact_descriptions, redact_text

KEY = b"0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("36123456", "+97336123456"),
        ("3612 3456", "+97336123456"),
        ("3612-3456", "+97336123456"),
        ("+973 3612 3456", "+97336123456"),
        ("00973-3612-3456", "+97336123456"),
        ("973 3612 3456", "+97336123456"),
        ("٣٦١٢٣٤٥٦", "+97336123456"),
        ("+44 20 7946 0958", "+442079460958"),
        ("Ali.Hasan@Gmail.COM", "ali.hasan@gmail.com"),
        (" ali.hasan@gmail.com ", "ali.hasan@gmail.com"),
        ("U12345678", "U12345678"),
    ],
)
def test_normalise_reporter_ids(raw, norm) -> None:  # type: ignore[no-untyped-def]
    assert normalise_reporter_ids(pd.Series([raw], dtype="str")).iloc[0] == norm


def test_pseudonym_is_hmac_of_normalised_id_same_person_same_pseudonym() -> None:
    p = pseudonymise(
        pd.Series(["3612 3456", "+97336123456", "٣٦١٢٣٤٥٦", "other@x.bh", None], dtype="str"), KEY
    )
    expected = hmac.new(KEY, b"+97336123456", hashlib.sha256).hexdigest()
    assert p.iloc[0] == p.iloc[1] == p.iloc[2] == expected
    assert p.iloc[3] != expected
    assert pd.isna(p.iloc[4])


def test_pseudonym_depends_on_key() -> None:
    ids = pd.Series(["U1"], dtype="str")
    assert pseudonymise(ids, KEY).iloc[0] != pseudonymise(ids, KEY[::-1]).iloc[0]


def test_short_key_refused() -> None:
    with pytest.raises(IngestError, match="at least 16"):
        pseudonymise(pd.Series(["U1"]), b"short")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pothole, call me on 3612 3456", "Pothole, call me on [phone]"),
        ("call +973 3612-3456 please", "call [phone] please"),
        ("call 00973 36123456", "call [phone]"),
        ("UK number +44 20 7946 0958 ok", "UK number [phone] ok"),
        ("حفرة كبيرة اتصل على ٣٦١٢٣٤٥٦", "حفرة كبيرة اتصل على [phone]"),
        ("اتصل على ٣٦١٢ ٣٤٥٦ شكرا", "اتصل على [phone] شكرا"),
        ("email me at Ahmed.Ali@gmail.com thanks", "email me at [email] thanks"),
        ("البريد zainab68@hotmail.com", "البريد [email]"),
        ("my CPR is 850312345", "my CPR is [id]"),
        ("الرقم الشخصي 920512345", "الرقم الشخصي [id]"),
        ("الرقم الشخصي ٩٢٠٥١٢٣٤٥", "الرقم الشخصي [id]"),
    ],
)
def test_redaction(text, expected) -> None:  # type: ignore[no-untyped-def]
    assert redact_text(text) == expected
    assert redact_descriptions(pd.Series([text], dtype="str")).iloc[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Pothole on Road 1234, Block 338, near building 2045",
        "حفرة عميقة في المسار الأيمن قرب دوار ١٢",
        "Street light out since 2025",
        "Water 30 cm deep at the underpass",
        "الإسفلت تالف قرب التقاطع",
        "",
    ],
)
def test_ordinary_text_untouched(text) -> None:  # type: ignore[no-untyped-def]
    assert redact_text(text) == text
    assert redact_descriptions(pd.Series([text], dtype="str")).iloc[0] == text


def test_redact_descriptions_keeps_index_and_nulls() -> None:
    s = pd.Series(["ok", None, "call 36123456"], index=[5, 6, 7], dtype="str")
    out = redact_descriptions(s)
    assert list(out.index) == [5, 6, 7]
    assert out[5] == "ok" and pd.isna(out[6]) and out[7] == "call [phone]"


def test_pseudonymise_pre_normalised_matches() -> None:
    ids = pd.Series(["3612 3456", "Ali@X.bh", None], dtype="str")
    direct = pseudonymise(ids, KEY)
    pre = pseudonymise(normalise_reporter_ids(ids), KEY, normalised=True)
    pd.testing.assert_series_equal(direct, pre)


def test_per_distinct_mapping_keeps_rows_index_and_missing() -> None:
    # computed once per distinct id, then spread back: same as one id at a time
    raw = ["3612 3456", None, "U1", "3612 3456", " ", "U1", "A@B.bh", None]
    ids = pd.Series(raw, index=range(100, 108), dtype="str")
    norm = normalise_reporter_ids(ids)
    one_by_one = [normalise_reporter_ids(pd.Series([r], dtype="str")).iloc[0] for r in raw]
    assert norm.index.tolist() == list(range(100, 108))
    assert norm.fillna("<NA>").tolist() == pd.Series(one_by_one).fillna("<NA>").tolist()
    p = pseudonymise(ids, KEY)
    assert p.index.tolist() == list(range(100, 108))
    assert p.isna().tolist() == [False, True, False, False, True, False, False, True]
    assert p[100] == p[103] == hmac.new(KEY, b"+97336123456", hashlib.sha256).hexdigest()
    assert p[102] == p[105] != p[100]


def test_pseudonymise_empty() -> None:
    assert len(pseudonymise(pd.Series([], dtype="str"), KEY)) == 0


@pytest.mark.parametrize("key", [b"k" * 16, KEY, b"long key " * 12])
def test_pseudonym_equals_hmac_sha256_for_any_key_length(key: bytes) -> None:
    ids = pd.Series(["U1", "+97336123456", "ali@example.com", "U1"], dtype="str")
    want = [hmac.new(key, i.encode(), hashlib.sha256).hexdigest() for i in ids]
    assert pseudonymise(ids, key, normalised=True).tolist() == want
