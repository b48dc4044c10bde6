"""The pseudonym key: ``FIX2GO_PSEUDONYM_KEY``, or a key file created once under
``FIX2GO_HOME`` with mode 0600. The key never reaches the database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fix2go.settings import Settings, load
from spatial.errors import Fix2GoError

KEY_FILE_NAME = "pseudonym.key"
KEY_BYTES = 32


class SecretError(Fix2GoError, RuntimeError):
    """The pseudonym key cannot be read or created."""


def key_file(settings: Settings) -> Path:
    """Where the key file lives (``<FIX2GO_HOME>/pseudonym.key``)."""
    return settings.home / KEY_FILE_NAME


def pseudonym_key(settings: Settings | None = None) -> bytes:
    """The secret key of reporter pseudonyms.

    ``FIX2GO_PSEUDONYM_KEY`` when set; otherwise the key file under ``FIX2GO_HOME``, created
    with 64 random hex characters and mode 0600 the first time (atomically: concurrent first
    runs agree on one key).

    Raises
    ------
    SecretError
        When the key file cannot be created or read, or is readable by others.
    """
    settings = settings or load()
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode("utf-8")
    path = key_file(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(os.urandom(KEY_BYTES).hex())
                fh.flush()
                os.fsync(fh.fileno())
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretError(
                f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`"
            )
        key = b""
        for _ in range(50):  # a concurrent creator may still be writing
            key = path.read_bytes().strip()
            if key:
                break
            import time

            time.sleep(0.02)
    except OSError as exc:
        raise SecretError(
            f"cannot create or read the pseudonym key {path}: {exc.strerror}; "
            "set FIX2GO_PSEUDONYM_KEY or make FIX2GO_HOME writable"
        ) from exc
    if not key:
        raise SecretError(
            f"{path} is empty; delete it to create a new key, or set FIX2GO_PSEUDONYM_KEY"
        )
    return key
