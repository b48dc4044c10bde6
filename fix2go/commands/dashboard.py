"""``fix2go dashboard``: serve the Streamlit dashboard (planner map, agency inbox, data quality).

The database URL is resolved here (``fix2go.database``) and handed to the Streamlit process in
``FIX2GO_DASHBOARD_DB_URL``; Streamlit starts in the project root so that
``.streamlit/config.toml`` applies, and the same settings are passed as flags.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import typer

from dashboard import assets
from dashboard.config import DB_URL_ENV
from fix2go.database import database_url, get_engine
from fix2go.settings import PROJECT_ROOT, load

APP_PATH = PROJECT_ROOT / "dashboard" / "app.py"

STREAMLIT_FLAGS: Mapping[str, str] = {
    "server.headless": "true",
    "server.enableStaticServing": "true",
    "server.fileWatcherType": "none",
    "browser.gatherUsageStats": "false",
    "client.toolbarMode": "viewer",
}
"""Passed on the command line too, whatever config file Streamlit finds."""


def streamlit_argv(port: int, address: str, app_path: Path = APP_PATH) -> list[str]:
    """The command line that serves the dashboard on ``address:port``: ``streamlit run``
    through :mod:`dashboard.serve`, which warms the server up (imports, the planner's
    default queries) in the background so that the first visitor finds it ready."""
    argv = [sys.executable, "-m", "dashboard.serve", "run", str(app_path)]
    for name, value in {
        **STREAMLIT_FLAGS,
        "server.port": str(port),
        "server.address": address,
    }.items():
        argv += [f"--{name}", value]
    return argv


def streamlit_env(db_url: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Streamlit process's environment: the database URL and the project on the path."""
    env = dict(os.environ if base is None else base)
    env[DB_URL_ENV] = db_url
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(PROJECT_ROOT) + (os.pathsep + path if path else "")
    return env


def dashboard(
    port: int | None = typer.Option(
        None, "--port", help="TCP port (default FIX2GO_DASHBOARD_PORT, 8501)."
    ),
    address: str = typer.Option(
        "localhost", "--address", help="Interface to listen on; 0.0.0.0 serves the network."
    ),
) -> None:
    """Serve the Streamlit dashboard (planner map, agency inbox, data quality), headless,
    with the map assets served by the app itself (no CDN, no telemetry)."""
    settings = load()
    url = database_url(settings)
    get_engine(settings).dispose()  # started and migrated before the first page loads
    assets.ensure_installed()
    port = settings.dashboard_port if port is None else port
    typer.echo(f"Fix2Go dashboard: http://{address}:{port}", err=True)
    os.chdir(PROJECT_ROOT)
    argv = streamlit_argv(port, address)
    os.execve(argv[0], argv, streamlit_env(url))


def register(app: typer.Typer) -> None:
    """Add the ``dashboard`` command to the CLI."""
    app.command("dashboard")(dashboard)
