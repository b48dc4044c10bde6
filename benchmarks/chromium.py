"""How the browser tests and the dashboard benchmark start Debian's Chromium (Playwright).

Headless, no sandbox (CI runs as root), and none of Chromium's background traffic: this
machine's network is closed, and the tests assert that the page talks to its own host only.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
"""Debian's package ``chromium`` (``make test`` installs it); Playwright downloads nothing."""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
