"""``fix2go dashboard``: the Streamlit command line and environment it builds."""

from __future__ import annotations

import tomllib

from fix2go.commands import dashboard as cmd
from fix2go.settings import PROJECT_ROOT


def _flags(argv: list[str]) -> dict[str, str]:
    return {argv[i][2:]: argv[i + 1] for i in range(len(argv)) if argv[i].startswith("--")}


def test_argv_runs_the_app_headless_without_telemetry() -> None:
    argv = cmd.streamlit_argv(8765, "localhost")
    assert argv[1:4] == ["-m", "dashboard.serve", "run"] and argv[4].endswith("dashboard/app.py")
    flags = _flags(argv)
    assert flags["server.port"] == "8765" and flags["server.address"] == "localhost"
    assert flags["browser.gatherUsageStats"] == "false"
    assert flags["server.enableStaticServing"] == "true"
    assert flags["server.headless"] == "true"


def test_project_config_file_says_the_same() -> None:
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    flat = {f"{section}.{k}": v for section, d in config.items() for k, v in d.items()}
    for name, value in cmd.STREAMLIT_FLAGS.items():
        assert str(flat[name]).lower() == value, name


def test_env_carries_the_database_url_and_the_project_path() -> None:
    env = cmd.streamlit_env("postgresql+psycopg://u@h:1/db", {"PYTHONPATH": "/x", "HOME": "/h"})
    assert env["FIX2GO_DASHBOARD_DB_URL"] == "postgresql+psycopg://u@h:1/db"
    assert env["PYTHONPATH"].split(":") == [str(PROJECT_ROOT), "/x"]
    assert env["HOME"] == "/h"
