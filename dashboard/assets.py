"""Leaflet and plugin assets served by the app itself: no CDN, works on a closed network.

folium points every map at CDNs (jsdelivr, cdnjs, code.jquery.com). This module installs the
same libraries from registry packages into ``dashboard/static/vendor/`` (gitignored) and points
folium's class-level ``default_js``/``default_css`` lists at ``/app/static/vendor/...``, which
Streamlit serves when ``server.enableStaticServing`` is on.

Where each asset comes from (installed at set-up, never copied into the repository):

==========================  ============================================================
asset                       registry package
==========================  ============================================================
Leaflet 1.9 (js, css, img)  PyPI ``xstatic-leaflet``
jQuery 3.7                  PyPI ``xstatic-jquery``
Leaflet.markercluster       PyPI ``xstatic-leaflet-markercluster``
Leaflet.heat                PyPI ``folium`` (ships ``templates/leaflet_heat.min.js``)
Font Awesome 6              PyPI ``xstatic-font-awesome``
Bootstrap 5.2               npm ``bootstrap@5.2.2`` (at set-up, through the machine's npm)
Leaflet.awesome-markers     npm ``leaflet.awesome-markers@2.0.5``
==========================  ============================================================

Two stylesheets folium also lists have no registry package and are not used by any map of
the dashboard (no glyphicon-prefixed icons, no rotated icons): ``glyphicons_css`` and
``awesome_rotate_css`` are dropped from the lists. The optional npm assets (Bootstrap,
awesome-markers) are dropped from the lists when not installed: no dashboard map needs them.

What a map links: only Leaflet itself (:data:`LINKED_KEYS`), plus a plugin's own script where a
layer uses it (Leaflet.heat). folium's other defaults (jQuery, Bootstrap, Font Awesome,
awesome-markers) serve popups and icon markers, which no dashboard map uses; linking them cost
every first visit six more requests and some 470 kB of script and stylesheets to parse before
the map drew (``benchmarks/DASHBOARD.md``). They are still installed, for maps that need them.

Set-up: ``.venv/bin/python -m dashboard.assets install`` (idempotent; the optional npm assets
are skipped with a note when npm is missing or fails, or with ``--no-npm``). ``check`` lists
what is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import folium
import folium.plugins

from dashboard.errors import AssetsError

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Served by Streamlit at ``/app/static/`` (``server.enableStaticServing``)."""

VENDOR_DIR = STATIC_DIR / "vendor"
"""Where the third-party assets are installed (gitignored)."""

STATIC_URL = "/app/static/vendor"
"""URL prefix of :data:`VENDOR_DIR` in the browser (same host as the app)."""

NPM_PACKAGES = ("bootstrap@5.2.2", "leaflet.awesome-markers@2.0.5")
"""The npm packages installed at set-up (exact versions)."""

NPM_TIMEOUT_S = 300
"""Upper bound for one ``npm install`` at set-up."""


@dataclass(frozen=True)
class Asset:
    """One file folium links to: its folium key, kind, path under the vendor dir."""

    key: str
    kind: str  # "js" | "css"
    path: str
    required: bool

    @property
    def url(self) -> str:
        """The same-host URL the browser loads."""
        return f"{STATIC_URL}/{self.path}"

    @property
    def file(self) -> Path:
        """The installed file."""
        return VENDOR_DIR / self.path


MAP_ASSETS: tuple[Asset, ...] = (
    Asset("leaflet", "js", "leaflet/leaflet.js", True),
    Asset("jquery", "js", "jquery/jquery.min.js", True),
    Asset("bootstrap", "js", "bootstrap/js/bootstrap.bundle.min.js", False),
    Asset("awesome_markers", "js", "awesome-markers/leaflet.awesome-markers.js", False),
    Asset("leaflet_css", "css", "leaflet/leaflet.css", True),
    Asset("bootstrap_css", "css", "bootstrap/css/bootstrap.min.css", False),
    Asset("awesome_markers_font_css", "css", "fontawesome/css/all.min.css", False),
    Asset("awesome_markers_css", "css", "awesome-markers/leaflet.awesome-markers.css", False),
)
"""folium.Map's own default assets (keys as folium names them)."""

LINKED_KEYS = frozenset({"leaflet", "leaflet_css"})
"""The folium.Map defaults the dashboard's maps link (tooltips, GeoJSON, circle markers, the
layer control and the scale need nothing else)."""

HEAT_JS = Asset("leaflet-heat.js", "js", "leaflet-heat/leaflet_heat.min.js", True)
MARKERCLUSTER_JS = Asset("markerclusterjs", "js", "markercluster/leaflet.markercluster.js", True)
MARKERCLUSTER_CSS = (
    Asset("markerclustercss", "css", "markercluster/MarkerCluster.css", True),
    Asset("markerclusterdefaultcss", "css", "markercluster/MarkerCluster.Default.css", True),
)

ALL_ASSETS: tuple[Asset, ...] = (*MAP_ASSETS, HEAT_JS, MARKERCLUSTER_JS, *MARKERCLUSTER_CSS)


def _xstatic_dir(module: str) -> Path:
    mod = __import__(f"xstatic.pkg.{module}", fromlist=["BASE_DIR"])
    return Path(mod.BASE_DIR)


def _copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def _install_pypi(vendor: Path) -> None:
    leaflet = _xstatic_dir("leaflet")
    (vendor / "leaflet").mkdir(parents=True, exist_ok=True)
    for name in ("leaflet.js", "leaflet.css"):
        shutil.copy2(leaflet / name, vendor / "leaflet" / name)
    _copy_tree(leaflet / "images", vendor / "leaflet" / "images")

    (vendor / "jquery").mkdir(parents=True, exist_ok=True)
    shutil.copy2(_xstatic_dir("jquery") / "jquery.min.js", vendor / "jquery" / "jquery.min.js")

    cluster = _xstatic_dir("leaflet_markercluster")
    (vendor / "markercluster").mkdir(parents=True, exist_ok=True)
    for name in ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"):
        shutil.copy2(cluster / name, vendor / "markercluster" / name)

    heat = Path(folium.__file__).resolve().parent / "templates" / "leaflet_heat.min.js"
    (vendor / "leaflet-heat").mkdir(parents=True, exist_ok=True)
    shutil.copy2(heat, vendor / "leaflet-heat" / "leaflet_heat.min.js")

    try:
        fa = _xstatic_dir("font_awesome")
    except ImportError:
        return  # optional
    (vendor / "fontawesome" / "css").mkdir(parents=True, exist_ok=True)
    shutil.copy2(fa / "css" / "all.min.css", vendor / "fontawesome" / "css" / "all.min.css")
    _copy_tree(fa / "webfonts", vendor / "fontawesome" / "webfonts")


def _install_npm(vendor: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError(
            "npm not found: the optional Bootstrap and awesome-markers assets come from npm; "
            "install it (apt-get install npm) or run `python -m dashboard.assets install --no-npm`"
        )
    with tempfile.TemporaryDirectory(prefix="fix2go-npm-") as tmp:
        cmd = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", tmp]
        proc = subprocess.run(
            [*cmd, *NPM_PACKAGES],
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise AssetsError(
                f"npm install {' '.join(NPM_PACKAGES)} failed: {last}; check the npm registry "
                "is reachable or run `python -m dashboard.assets install --no-npm`"
            )
        mods = Path(tmp) / "node_modules"
        bs = mods / "bootstrap" / "dist"
        for sub, name in (("js", "bootstrap.bundle.min.js"), ("css", "bootstrap.min.css")):
            (vendor / "bootstrap" / sub).mkdir(parents=True, exist_ok=True)
            shutil.copy2(bs / sub / name, vendor / "bootstrap" / sub / name)
        am = mods / "leaflet.awesome-markers" / "dist"
        (vendor / "awesome-markers").mkdir(parents=True, exist_ok=True)
        for name in ("leaflet.awesome-markers.js", "leaflet.awesome-markers.css"):
            shutil.copy2(am / name, vendor / "awesome-markers" / name)
        _copy_tree(am / "images", vendor / "awesome-markers" / "images")


def install(vendor: Path = VENDOR_DIR, *, npm: bool = True) -> list[Path]:
    """Install the assets into ``vendor`` from the installed registry packages (and npm).

    Returns the files of :data:`ALL_ASSETS` that are present afterwards.

    Raises
    ------
    AssetsError
        When a required package is missing or npm fails.
    """
    try:
        _install_pypi(vendor)
    except (ImportError, FileNotFoundError) as exc:
        raise AssetsError(
            f"cannot install the map assets: {exc}; install the dashboard's packages "
            "(pip install xstatic-leaflet xstatic-jquery xstatic-leaflet-markercluster folium)"
        ) from exc
    if npm:
        _install_npm(vendor)
    return [vendor / a.path for a in ALL_ASSETS if (vendor / a.path).is_file()]


def missing_required(vendor: Path = VENDOR_DIR) -> list[str]:
    """Paths of the required assets not installed under ``vendor``."""
    return [a.path for a in ALL_ASSETS if a.required and not (vendor / a.path).is_file()]


def ensure_installed(vendor: Path = VENDOR_DIR) -> None:
    """Install the PyPI assets on first start when a required one is missing (no npm)."""
    if missing_required(vendor):
        install(vendor, npm=False)


def _links(assets: tuple[Asset, ...], kind: str, vendor: Path) -> list[tuple[str, str]]:
    return [
        (a.key, a.url)
        for a in assets
        if a.kind == kind and (a.required or (vendor / a.path).is_file())
    ]


def configure_folium(vendor: Path = VENDOR_DIR) -> None:
    """Point folium's default asset lists at the app's own ``/app/static/vendor/`` URLs.

    Class attributes are replaced, so every map, heat map and marker cluster built in this
    process afterwards links only same-host URLs, and a map only Leaflet of folium's own
    defaults (:data:`LINKED_KEYS`).
    """
    linked = tuple(a for a in MAP_ASSETS if a.key in LINKED_KEYS)
    folium.Map.default_js = _links(linked, "js", vendor)
    folium.Map.default_css = _links(linked, "css", vendor)
    folium.plugins.HeatMap.default_js = [(HEAT_JS.key, HEAT_JS.url)]
    for cls in (folium.plugins.MarkerCluster, folium.plugins.FastMarkerCluster):
        cls.default_js = [(MARKERCLUSTER_JS.key, MARKERCLUSTER_JS.url)]
        cls.default_css = [(a.key, a.url) for a in MARKERCLUSTER_CSS]


def main(argv: list[str] | None = None) -> int:
    """``python -m dashboard.assets install [--no-npm] | check``."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("install", "check"):
        print("usage: python -m dashboard.assets install [--no-npm] | check", file=sys.stderr)
        return 2
    try:
        if args[0] == "install":
            files = install(npm=False)
            if "--no-npm" not in args:
                try:
                    _install_npm(VENDOR_DIR)
                except AssetsError as exc:  # optional assets: no dashboard map needs them
                    print(f"dashboard.assets: note: optional npm assets skipped: {exc}")
            files = [a.file for a in ALL_ASSETS if a.file.is_file()]
            print(f"installed {len(files)} asset files under {VENDOR_DIR}")
        missing = missing_required()
        if missing:
            print(f"missing: {', '.join(missing)}; run `python -m dashboard.assets install`")
            return 1
        for a in ALL_ASSETS:
            state = "ok" if a.file.is_file() else "absent (optional)"
            print(f"{a.path}: {state}")
    except AssetsError as exc:
        print(f"dashboard.assets: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
