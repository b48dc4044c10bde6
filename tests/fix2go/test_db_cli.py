"""The embedded cluster from the command line: as root (server run as `postgres`) and as a
normal user (server run directly)."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import sys
import traceback
from dataclasses import replace
from pathlib import Path

import pytest

from fix2go import embedded
from fix2go.settings import SQL_DIR, load
from spatial.postgis.migrate import migration_files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fix2go", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: checks the server runs as 'postgres'")
def test_db_start_status_url_stop_as_root(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(FIX2GO_HOME=str(tmp_path / "home"), FIX2GO_DB_PORT=str(_free_port()))
    try:
        started = _cli(env, "db", "start")
        assert started.returncode == 0, started.stderr
        assert "started: embedded PostGIS on 127.0.0.1:" in started.stdout
        # pytest's tmp_path (/tmp/pytest-of-root, mode 700) is out of the postgres user's
        # reach, so the cluster must have moved to the /var/tmp fallback, owned by postgres.
        cluster = embedded.cluster_for(replace(load(), home=(tmp_path / "home").resolve()))
        assert str(cluster.root).startswith("/var/tmp/fix2go-")
        assert cluster.datadir.stat().st_uid == pwd.getpwnam("postgres").pw_uid
        again = _cli(env, "db", "start")
        assert "already running" in again.stdout
        status = _cli(env, "db", "status")
        assert status.returncode == 0, status.stderr
        assert "embedded cluster: up" in status.stdout and "pending" in status.stdout
        url = _cli(env, "db", "url").stdout.strip()
        assert url.startswith("postgresql+psycopg://fix2go:") and url.endswith("/fix2go")
        n_files = len(migration_files(SQL_DIR))
        assert _cli(env, "db", "migrate").stdout.startswith(f"applied {n_files}: 001_schema.sql")
        assert _cli(env, "db", "migrate").stdout.strip() == "up to date"
    finally:
        assert _cli(env, "db", "stop").returncode == 0
    down = _cli(env, "db", "status")
    assert down.returncode == 1 and "down" in down.stdout
    embedded.destroy(cluster)


def test_db_start_as_a_normal_user(tmp_path: Path) -> None:
    """Fork, drop to the unprivileged `postgres` user, start and stop a cluster there."""
    user = pwd.getpwnam("postgres") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    home = Path("/var/tmp") / f"fix2go-usertest-{os.getpid()}"
    home.mkdir(mode=0o755, exist_ok=True)
    os.chown(home, user.pw_uid, user.pw_gid)
    report = home / "report.txt"
    port = _free_port()
    pid = os.fork()
    if pid == 0:  # child: become the normal user; everything it needs is already imported
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)
            settings = replace(load(), home=home, db_port=port, database_url=None)
            cluster = embedded.cluster_for(settings)
            started = embedded.start(cluster)
            running = embedded.is_running(cluster)
            owner = cluster.datadir.stat().st_uid
            embedded.stop(cluster)
            report.write_text(f"{cluster.run_as}|{started}|{running}|{owner}|{cluster.root}")
            os._exit(0)
        except BaseException:
            report.write_text("error\n" + traceback.format_exc())
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    text = report.read_text() if report.exists() else "no report"
    subprocess.run(["rm", "-rf", str(home)], check=False)
    assert os.waitstatus_to_exitcode(status) == 0, text
    run_as, was_started, was_running, owner_uid, root = text.split("|")
    assert run_as == "None"  # not root: the server runs as the calling user, no runuser
    assert was_started == "True" and was_running == "True"
    assert int(owner_uid) == user.pw_uid
    assert root == str(home / "pg")
