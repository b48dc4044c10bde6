"""The pseudonym key: from the environment, or a 0600 key file created once."""

from __future__ import annotations

import stat
from dataclasses import replace

import pytest

from fix2go.secrets import SecretError, key_file, pseudonym_key
from fix2go.settings import load


def test_key_from_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = replace(load(), home=tmp_path, pseudonym_key="a-long-secret-from-the-environment")
    assert pseudonym_key(s) == b"a-long-secret-from-the-environment"
    assert not key_file(s).exists()


def test_key_file_created_once_mode_0600(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = replace(load(), home=tmp_path / "home", pseudonym_key=None)
    k1 = pseudonym_key(s)
    assert len(k1) == 64
    assert stat.S_IMODE(key_file(s).stat().st_mode) == 0o600
    assert pseudonym_key(s) == k1  # same key next time


def test_key_file_readable_by_others_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = replace(load(), home=tmp_path, pseudonym_key=None)
    pseudonym_key(s)
    key_file(s).chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        pseudonym_key(s)
