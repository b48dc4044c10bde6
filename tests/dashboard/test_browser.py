"""The dashboard in a real browser: Playwright driving Debian's chromium against
``fix2go dashboard`` on a free port (seeded database). Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Frame, Page, sync_playwright

from benchmarks.chromium import CHROMIUM, CHROMIUM_ARGS
from dashboard.maps import HEX_COLORS
from fix2go.commands import export as export_cmd
from spatial.postgis import dashboard as q
from spatial.postgis.engine import make_engine

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
START_TIMEOUT_S = 90
MAP_TIMEOUT_S = 60
PLANNER_RESOLUTION = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(seeded_url: str) -> Iterator[str]:
    """``fix2go dashboard`` on a free port, on the seeded database; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": seeded_url, "FIX2GO_BASEMAP": "none"}
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "dashboard-server.log").open("w")
    fix2go = Path(sys.executable).parent / "fix2go"
    proc = subprocess.Popen(
        [str(fix2go), "dashboard", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"fix2go dashboard exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"fix2go dashboard did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh page; after the test, every request it made must have stayed on the app's host."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    yield pg
    context.close()
    host = urlsplit(server).netloc
    foreign = [
        u
        for u in requests
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != host
    ]
    assert requests and not foreign, foreign[:5]


def _map_frame(page: Page, min_paths: int = 1) -> Frame:
    """The frame holding the Leaflet map, once it has drawn at least ``min_paths`` paths."""
    deadline = time.monotonic() + MAP_TIMEOUT_S
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                n = frame.locator(".leaflet-container path.leaflet-interactive").count()
            except Exception:  # frame navigating
                continue
            if n >= min_paths:
                return frame
        page.wait_for_timeout(250)
    pytest.fail(f"no Leaflet map with {min_paths} paths within {MAP_TIMEOUT_S} s")


def _fills(frame: Frame) -> list[str]:
    return frame.locator("path.leaflet-interactive").evaluate_all(
        "els => els.map(e => (e.getAttribute('fill') || '').toLowerCase())"
    )


def _strokes(frame: Frame) -> list[str]:
    return frame.locator("path.leaflet-interactive").evaluate_all(
        "els => els.map(e => (e.getAttribute('stroke') || '').toLowerCase())"
    )


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def test_planner_map_shows_hexagons(page: Page, server: str, seeded_url: str) -> None:
    engine = make_engine(seeded_url)
    try:
        with engine.connect() as c:
            n_hex = len(q.incident_cells(c, q.Filters(), PLANNER_RESOLUTION))
    finally:
        engine.dispose()
    page.goto(server + "/", wait_until="domcontentloaded")
    frame = _map_frame(page, min_paths=n_hex)
    page.wait_for_timeout(500)
    hexes = [f for f in _fills(frame) if f in {c.lower() for c in HEX_COLORS}]
    assert len(hexes) == n_hex > 0
    assert page.get_by_text("Open incidents").first.is_visible()
    assert page.locator("html").get_attribute("dir") == "ltr"
    _shot(page, "planner-en")


def test_arabic_switches_to_rtl(page: Page, server: str) -> None:
    page.goto(server + "/", wait_until="domcontentloaded")
    _map_frame(page)
    page.get_by_text("العربية").first.click()
    page.wait_for_function("document.documentElement.getAttribute('dir') === 'rtl'")
    page.get_by_role("heading", name="خريطة التخطيط").wait_for()
    assert page.get_by_text("البلاغات المفتوحة").first.is_visible()
    direction = page.locator(".stApp").evaluate("e => getComputedStyle(e).direction")
    assert direction == "rtl"
    _map_frame(page)
    _shot(page, "planner-ar")
    # the language follows the user to the other pages
    page.get_by_role("link", name="جودة البيانات").click()
    page.get_by_role("heading", name="جودة البيانات").wait_for()
    assert page.locator("html").get_attribute("dir") == "rtl"
    _shot(page, "quality-ar")


def test_agency_page_shows_only_its_incidents(page: Page, server: str, seeded_url: str) -> None:
    engine = make_engine(seeded_url)
    try:
        with engine.connect() as c:
            n_open = c.execute(
                sa.text(
                    "SELECT count(*) FROM incidents WHERE agency_code = 'capital_municipality' "
                    "AND status <> 'closed'"
                )
            ).scalar_one()
            n_all_open = c.execute(
                sa.text("SELECT count(*) FROM incidents WHERE status <> 'closed'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert 0 < n_open < n_all_open
    page.goto(server + "/agency", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Agency inbox").wait_for()
    frame = _map_frame(page, min_paths=1 + n_open)
    page.wait_for_timeout(500)
    boundary = "#1f78b4"
    markers = [s for s in _strokes(frame) if s != boundary]
    assert len(markers) == n_open
    assert page.get_by_text("row-level security").first.is_visible()
    _shot(page, "agency-en")


def test_agency_open311_download_is_the_cli_export(
    page: Page, server: str, seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.goto(server + "/agency", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Agency inbox").wait_for()
    with page.expect_download(timeout=MAP_TIMEOUT_S * 1000) as info:
        page.get_by_role("button", name="Download Open311 JSON").click()
    got = Path(info.value.path()).read_bytes()
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    out = tmp_path / "requests.json"
    agency = info.value.suggested_filename.removesuffix("_requests.json")
    assert export_cmd.export_agency(agency, "open311", out) > 0
    assert got == out.read_bytes()


def test_quality_page_loads(page: Page, server: str) -> None:
    page.goto(server + "/quality", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Data quality").wait_for()
    page.get_by_role("heading", name="Rejected rows by reason").wait_for()
    _map_frame(page)
    _shot(page, "quality-en")


def test_hotspot_row_focuses_the_map(page: Page, server: str) -> None:
    page.goto(server + "/", wait_until="domcontentloaded")
    frame = _map_frame(page)
    assert frame.locator(".leaflet-control-scale-line").first.inner_text().endswith(" km")
    grid = page.get_by_test_id("stDataFrame").first
    grid.wait_for()
    box = grid.bounding_box()
    assert box is not None
    header_px, row_px = 35, 35  # glide data grid defaults: click the first row's checkbox
    page.mouse.click(box["x"] + 15, box["y"] + header_px + row_px / 2)

    def scale_text() -> str:
        for f in page.frames:
            try:
                if f.locator(".leaflet-control-scale-line").count():
                    return str(f.locator(".leaflet-control-scale-line").first.inner_text())
            except Exception:  # frame navigating
                continue
        return ""

    deadline = time.monotonic() + MAP_TIMEOUT_S
    while time.monotonic() < deadline and not scale_text().endswith(" m"):
        page.wait_for_timeout(250)
    assert scale_text().endswith(" m"), scale_text()  # zoomed to street level (metres)
    _shot(page, "planner-focus")


def test_heat_layer_starts_off_and_the_layer_control_turns_it_on(page: Page, server: str) -> None:
    page.goto(server + "/", wait_until="domcontentloaded")
    frame = _map_frame(page)
    heat = frame.locator("canvas.leaflet-heatmap-layer")
    box = frame.locator(".leaflet-control-layers-overlays label").filter(has_text="Heat map")
    page.wait_for_timeout(500)
    assert heat.count() == 0
    assert not box.locator("input").is_checked()
    frame.locator(".leaflet-control-layers").hover()
    box.locator("input").check()
    heat.first.wait_for(state="attached", timeout=MAP_TIMEOUT_S * 1000)
    _shot(page, "planner-heat")
