"""The embedded PostgreSQL + PostGIS cluster under ``FIX2GO_HOME`` (default ``.fix2go/``).

Used when ``DATABASE_URL`` is not set. The cluster listens on ``127.0.0.1`` only, on its own
port, with password (SCRAM) authentication; the password is generated once and kept in
``FIX2GO_HOME/pg/password`` (mode 0600). PostgreSQL refuses to run as root, so when the CLI
runs as root the server runs as ``FIX2GO_PG_USER`` (``postgres``), which must be able to reach
the data directory: when it cannot (a checkout under ``/root``, mode 700), the cluster lives in
``/var/tmp/fix2go-<hash>/`` instead and a note says so.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from fix2go.settings import Settings
from spatial.errors import DatabaseError

SUPERUSER = "fix2go"
DATABASE = "fix2go"


@dataclass(frozen=True)
class Cluster:
    """Where the embedded cluster's files live and who runs it."""

    root: Path  # FIX2GO_HOME/pg (or the /var/tmp fallback)
    bindir: Path
    run_as: str | None  # OS user to run the server as (None: the current user)
    first_port: int

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    def port(self) -> int:
        """The port chosen at initialisation."""
        return int(self.port_file.read_text().strip())

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def url(self, database: str = DATABASE) -> str:
        """The SQLAlchemy URL of one database of this cluster."""
        return (
            f"postgresql+psycopg://{SUPERUSER}:{self.password()}@127.0.0.1:{self.port()}/{database}"
        )


def _is_root() -> bool:
    return os.geteuid() == 0


def _user_can_traverse(user: str, path: Path) -> bool:
    """True when ``user`` can reach ``path`` (every parent directory searchable)."""
    result = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-x", str(path)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def cluster_for(settings: Settings) -> Cluster:
    """Resolve where the embedded cluster lives for these settings.

    Raises
    ------
    DatabaseError
        When no PostgreSQL server binaries are installed, or the server user is missing.
    """
    if settings.pg_bindir is None or not (settings.pg_bindir / "initdb").exists():
        raise DatabaseError(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin); "
            "install them with `make setup` (apt-get install postgresql postgresql-15-postgis-3) "
            "or set FIX2GO_PG_BINDIR"
        )
    root = settings.home / "pg"
    run_as: str | None = None
    if _is_root():
        run_as = settings.pg_user
        try:
            pwd.getpwnam(run_as)
        except KeyError as exc:
            raise DatabaseError(
                f"PostgreSQL refuses to run as root and the user {run_as!r} does not exist; "
                "install the postgresql package (it creates 'postgres') or set FIX2GO_PG_USER"
            ) from exc
        settings.home.mkdir(parents=True, exist_ok=True)
        if not _user_can_traverse(run_as, settings.home):
            digest = hashlib.sha256(str(settings.home).encode()).hexdigest()[:10]
            root = Path("/var/tmp") / f"fix2go-{digest}" / "pg"
    return Cluster(root=root, bindir=settings.pg_bindir, run_as=run_as, first_port=settings.db_port)


def _run(cluster: Cluster, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [str(cluster.bindir / args[0]), *args[1:]]
    if cluster.run_as is not None:
        cmd = ["runuser", "-u", cluster.run_as, "--", *cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise DatabaseError(
            f"{args[0]} failed: {detail[-1] if detail else 'no output'} (see {cluster.logfile})"
        )
    return result


def _free_port(start: int) -> int:
    for port in range(start, start + 200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise DatabaseError(f"no free TCP port in {start}-{start + 199}; set FIX2GO_DB_PORT")


def _chown(cluster: Cluster, path: Path) -> None:
    if cluster.run_as is not None:
        user = pwd.getpwnam(cluster.run_as)
        os.chown(path, user.pw_uid, user.pw_gid)


def is_initialised(cluster: Cluster) -> bool:
    return (cluster.datadir / "PG_VERSION").exists()


def initialise(cluster: Cluster) -> None:
    """Create the cluster (initdb) with a generated superuser password and a free port."""
    cluster.root.mkdir(parents=True, exist_ok=True)
    _chown(cluster, cluster.root)
    os.chmod(cluster.root, 0o700)
    password = secrets.token_urlsafe(24)
    cluster.password_file.write_text(password + "\n")
    os.chmod(cluster.password_file, 0o600)
    _chown(cluster, cluster.password_file)
    cluster.port_file.write_text(f"{_free_port(cluster.first_port)}\n")
    _run(
        cluster,
        [
            "initdb",
            "-D",
            str(cluster.datadir),
            "-U",
            SUPERUSER,
            "--pwfile",
            str(cluster.password_file),
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
    )
    conf = cluster.datadir / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write(
            "\n# fix2go embedded cluster\n"
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\n"
            "fsync = on\n"
            "shared_buffers = '512MB'\n"
            "work_mem = '64MB'\n"
            "maintenance_work_mem = '512MB'\n"
            "max_wal_size = '4GB'\n"
            "max_connections = 100\n"
        )


def is_running(cluster: Cluster) -> bool:
    if not is_initialised(cluster):
        return False
    return (
        _run(cluster, ["pg_ctl", "status", "-D", str(cluster.datadir)], check=False).returncode == 0
    )


def start(cluster: Cluster) -> bool:
    """Initialise (once) and start the cluster; wait until it accepts connections.

    Returns True when it was started, False when it was already running.
    """
    if not is_initialised(cluster):
        initialise(cluster)
    if is_running(cluster):
        return False
    port = cluster.port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise DatabaseError(
                f"port {port} is taken by another server; stop it, or remove "
                f"{cluster.port_file} to let fix2go choose a free port"
            )
    _run(
        cluster,
        [
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(cluster.datadir),
            "-l",
            str(cluster.logfile),
            "-o",
            f"-p {port}",
        ],
    )
    _wait_ready(cluster)
    return True


def _wait_ready(cluster: Cluster, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(("127.0.0.1", cluster.port())) == 0:
                return
        time.sleep(0.2)
    raise DatabaseError(f"the embedded cluster did not accept connections; see {cluster.logfile}")


def stop(cluster: Cluster) -> bool:
    """Stop the cluster (fast shutdown). Returns False when it was not running."""
    if not is_running(cluster):
        return False
    _run(cluster, ["pg_ctl", "stop", "-w", "-m", "fast", "-D", str(cluster.datadir)])
    return True


def destroy(cluster: Cluster) -> None:
    """Stop the cluster and delete its files (``fix2go db reset`` re-creates it)."""
    stop(cluster)
    shutil.rmtree(cluster.root, ignore_errors=True)
