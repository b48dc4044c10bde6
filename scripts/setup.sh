#!/usr/bin/env bash
# Set up everything Fix2Go Spatial needs on a Debian/Ubuntu machine; idempotent (a second run
# skips what is done). Usage: scripts/setup.sh [--with-browser]
#   - PostgreSQL + PostGIS from apt when missing (as root, or via sudo)
#   - Chromium from apt with --with-browser (for the browser tests)
#   - .venv with the project and its dev extras (reinstalled when pyproject.toml changes)
#   - the dashboard's offline web assets (Leaflet & co, from registry packages)
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0
[[ "${1:-}" == "--with-browser" ]] && with_browser=1

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: not root and no sudo: install postgresql and postgis yourself, then re-run" >&2
  fi
fi

apt_updated=0
apt_install() {
  if [[ $apt_updated -eq 0 ]]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_major() {
  ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1
}

# PostgreSQL server + PostGIS
if [[ -z "$(pg_major)" || ! -x "/usr/lib/postgresql/$(pg_major)/bin/initdb" ]]; then
  echo "setup: installing PostgreSQL"
  apt_install postgresql postgresql-contrib
fi
PGV=$(pg_major)
if [[ ! -f "/usr/share/postgresql/$PGV/extension/postgis.control" ]]; then
  echo "setup: installing PostGIS for PostgreSQL $PGV"
  apt_install "postgresql-$PGV-postgis-3"
fi

# Chromium for the browser tests
if [[ $with_browser -eq 1 && ! -x /usr/bin/chromium ]]; then
  echo "setup: installing chromium"
  apt_install chromium
fi

# Python environment
PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv || { apt_install python3-venv && "$PY" -m venv .venv; }
fi
stamp=.venv/.fix2go-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat $stamp)" != "$want" ]]; then
  echo "setup: installing the project into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > $stamp
fi

# Dashboard web assets (served by the app itself: no CDN on a closed network)
if .venv/bin/python -c "import dashboard.assets" 2>/dev/null; then
  .venv/bin/python -m dashboard.assets install
fi
echo "setup: done"
