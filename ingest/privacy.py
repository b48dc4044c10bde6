"""Privacy on ingest: keyed reporter pseudonyms and description redaction.

- :func:`pseudonymise`: HMAC-SHA256 (hex) over the normalised reporter id, so the same person
  always gets the same pseudonym under one key, and nobody without the key can link it back.
  Phone numbers are normalised to E.164 (``+973`` when no country code is given), e-mail
  addresses lower-cased, app account ids kept as given.
- :func:`redact_descriptions`: phone numbers (Bahraini and international, with spaces, dashes,
  Arabic-Indic digits), e-mail addresses and 9-digit CPR numbers become ``[phone]``,
  ``[email]``, ``[id]``; everything else (Arabic and English) is left untouched.

The key is passed in by the caller (``fix2go.secrets.pseudonym_key``): it never reaches the
database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from ingest.errors import IngestError

DEFAULT_COUNTRY_CODE = "973"
"""Country code of phone numbers written without one (Bahrain)."""

MIN_KEY_BYTES = 16

_DIGIT_TRANSLATION = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_ANY_DIGIT = "[0-9٠-٩۰-۹]"
_PHONE_ID = re.compile(r"^\+?[\d\s\-().]{7,24}$")

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
CPR_RE = re.compile(r"(?<![\d+])(?<!\d[ \-])\d{9}(?!\d)(?![ \-]\d)")
PHONE_INTL_RE = re.compile(r"(?<![\w+])(?:\+|00)\s?\(?\d(?:[\s\-.()]{0,2}\d){6,13}(?!\d)")
PHONE_LOCAL_RE = re.compile(r"(?<![\w+])(?:973[\s\-]?)?\d(?:[\s\-.]?\d){7}(?!\w)")


def _map_distinct(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` applied once per distinct value of ``values``, spread back to the rows.

    ``fn`` gets the distinct non-missing values (``str`` dtype) and must return a Series of
    the same length; missing values stay missing. Index-aligned, ``str`` dtype.
    """
    codes, uniques = pd.factorize(values)
    mapped = np.full(len(uniques) + 1, None, dtype=object)
    mapped[:-1] = fn(pd.Series(uniques, dtype="str")).to_numpy(dtype=object)
    # missing values have code -1, which picks the None left at the end
    return pd.Series(mapped[codes], index=values.index, name=values.name, dtype="str")


def normalise_reporter_ids(ids: pd.Series) -> pd.Series:
    """Normalised reporter ids: phones to E.164, e-mails lower-cased, others stripped.

    Computed once per distinct id.

    Examples
    --------
    >>> normalise_reporter_ids(pd.Series(["3612 3456", "00973-3612-3456", "+973 36123456",
    ...     "٣٦١٢٣٤٥٦", " Ali@Example.COM ", "U12345678", None])).tolist()
    ['+97336123456', '+97336123456', '+97336123456', '+97336123456', 'ali@example.com', 'U12345678', nan]
    """
    return _map_distinct(ids.astype("str"), _normalise_distinct_ids)


def _normalise_distinct_ids(ids: pd.Series) -> pd.Series:
    s = ids.str.strip()
    s = s.where(s != "")
    out = s.copy()
    email = s.str.contains("@", regex=False).fillna(False).astype(bool)
    out[email] = s[email].str.lower().str.replace(r"\s+", "", regex=True)
    maybe_phone = ~email & s.str.contains(_ANY_DIGIT, regex=True).fillna(False).astype(bool)
    if maybe_phone.any():
        phones = [_normalise_phone(t) for t in s[maybe_phone].tolist()]
        out[maybe_phone] = pd.Series(phones, index=s.index[maybe_phone], dtype="str")
    return out


_NON_DIGIT = re.compile(r"\D")


def _normalise_phone(text: str) -> str:
    """E.164 for a phone-looking id, the id unchanged otherwise."""
    t = text if text.isascii() else text.translate(_DIGIT_TRANSLATION)  # ASCII: nothing to map
    if not _PHONE_ID.match(t):
        return text
    digits = _NON_DIGIT.sub("", t)
    if t.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith(DEFAULT_COUNTRY_CODE) and len(digits) == 11:
        return "+" + digits
    return "+" + DEFAULT_COUNTRY_CODE + digits


def pseudonymise(ids: pd.Series, key: bytes, *, normalised: bool = False) -> pd.Series:
    """Keyed pseudonym (HMAC-SHA256, hex) of each reporter id after normalisation.

    Computed once per distinct id. Absent ids stay absent. Pass ``normalised=True`` when
    ``ids`` already went through :func:`normalise_reporter_ids`.

    Raises
    ------
    IngestError
        When the key is shorter than 16 bytes.

    Examples
    --------
    >>> p = pseudonymise(pd.Series(["3612 3456", "+97336123456", "x@y.bh"]), b"k" * 32)
    >>> p[0] == p[1], p[0] != p[2], len(p[0])
    (True, True, 64)
    """
    if len(key) < MIN_KEY_BYTES:
        raise IngestError(
            f"pseudonym key is {len(key)} bytes, needs at least {MIN_KEY_BYTES}; set "
            "FIX2GO_PSEUDONYM_KEY to a long random value or unset it to use the key file"
        )
    norm = ids.astype("str") if normalised else normalise_reporter_ids(ids)

    keyed = hmac.new(key, digestmod=hashlib.sha256)  # the key schedule, done once

    def hmac_hex(distinct: pd.Series) -> pd.Series:
        out = []
        for u in distinct.tolist():
            h = keyed.copy()
            h.update(u.encode("utf-8"))
            out.append(h.hexdigest())
        return pd.Series(out, dtype="str")

    return _map_distinct(norm, hmac_hex)


def redact_text(text: str) -> str:
    """Redact one text: e-mails, CPR numbers, then phone numbers.

    Examples
    --------
    >>> redact_text("حفرة كبيرة، اتصل على ٣٦١٢ ٣٤٥٦ أو ali@gmail.com")
    'حفرة كبيرة، اتصل على [phone] أو [email]'
    >>> redact_text("Pothole on Road 1234, Block 338, my CPR is 850312345")
    'Pothole on Road 1234, Block 338, my CPR is [id]'
    """
    t = EMAIL_RE.sub("[email]", text)
    t = CPR_RE.sub("[id]", t)
    t = PHONE_INTL_RE.sub("[phone]", t)
    return PHONE_LOCAL_RE.sub("[phone]", t)


def redact_descriptions(descriptions: pd.Series) -> pd.Series:
    """Redacted descriptions, index-aligned (only texts with digits or ``@`` are scanned).

    Examples
    --------
    >>> redact_descriptions(pd.Series(["Broken light", "call 3612-3456", None])).tolist()
    ['Broken light', 'call [phone]', nan]
    """
    s = descriptions.astype("str")
    cand = s.str.contains(f"@|{_ANY_DIGIT}{{4}}|{_ANY_DIGIT}[ .-]{_ANY_DIGIT}", regex=True)
    cand = cand.fillna(False).astype(bool)
    if not cand.any():
        return s
    out = s.copy()
    out[cand] = s[cand].map(redact_text).astype("str")
    return out
