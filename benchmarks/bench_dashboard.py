"""Dashboard benchmark: the planner page in a real browser on ``reports`` generated reports.

Run with ``fix2go bench dashboard --reports 1000000 --seed 7`` (or
``python -m benchmarks.bench_dashboard``).

Set-up (timed, reported, not part of the ratio): a throw-away database gets the reference
data, ``ingest.generate`` writes the synthetic export, ``ingest.pipeline.ingest_file`` loads
it, then dedup and hotspots run as ``fix2go dedup`` / ``fix2go hotspots`` do.

Measured, in Debian's chromium driven by Playwright against ``fix2go dashboard``:

- ``server_warm_up_s``: from the server answering until its start-up warm-up
  (``dashboard.serve``: imports, the planner's default queries) is done;
- ``first_render_s``: from navigation to the planner page until its KPIs and the hexagons of
  the map are drawn, the first visit to the server: after its warm-up by default
  (``measure(url, wait_warm_up=False)``: right after the server answers, warm-up running);
- ``warm_render_s``: the same in a new browser context (the query cache is warm, the
  browser cache empty: Streamlit's own JavaScript is fetched and parsed again);
- ``reload_render_s``: a reload in that context (browser cache warm too: a returning user);
- ``filter_change_s``: from choosing a category in the sidebar until the KPIs changed and the
  map shows the new hexagons (a query the cache has not seen).

Anchor: ``sql_only_s``, the time of the planner's own SQL (KPIs, hexagons, heat weights,
hotspots, weekly trend) run directly on one connection, no cache: the floor
under which no page using these prepared aggregates can go. Ratios are page / SQL.
One run per figure: indicative, not statistics.

Preparing 1M reports takes minutes; to iterate on the measurement alone, keep the database
(``keep=True``, ``fix2go bench dashboard --keep``) and reuse it later (``reuse=True``,
``--reuse``: the kept database is used when it was prepared with the same ``reports`` and
``seed``, recorded as the database's comment; otherwise it is prepared afresh). ``runs``
(``--runs N``) repeats the anchor and the browser measurement on the same database.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import Frame, Page, sync_playwright
from sqlalchemy.engine import Engine, make_url

from benchmarks.chromium import CHROMIUM, CHROMIUM_ARGS
from dashboard.maps import HEX_COLORS
from fix2go.commands.dedup import run_dedup
from fix2go.commands.hotspots import run_hotspots
from fix2go.database import admin_url, create_database, drop_database
from fix2go.secrets import pseudonym_key
from fix2go.settings import PROJECT_ROOT
from ingest.generate import generate, write_export
from ingest.pipeline import ingest_file
from spatial.postgis import dashboard as q
from spatial.postgis.engine import make_engine

BENCH_DB = "fix2go_bench_dashboard"
PREPARED_MARK = "fix2go bench dashboard: reports={reports} seed={seed}"
"""Comment set on the bench database once it is fully prepared (what ``reuse`` checks)."""
PLANNER_RESOLUTION = 8
FILTER_CATEGORY_LABEL = "Pothole"
START_TIMEOUT_S = 120
PAGE_TIMEOUT_S = 300
ANCHOR_REPEATS = 3


def prepare(reports: int, seed: int) -> tuple[str, dict[str, float]]:
    """A fresh bench database with ``reports`` generated reports, deduped, with hotspots."""
    admin = admin_url()
    drop_database(admin, BENCH_DB)
    url = create_database(admin, BENCH_DB)
    engine = make_engine(url)
    times: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        data = generate(reports, seed)
        with tempfile.TemporaryDirectory(prefix="fix2go-bench-") as tmp:
            path = Path(tmp) / "export.csv"
            write_export(data.reports, path)
            times["generate_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            with engine.begin() as conn:
                ingest_file(conn, path, key=pseudonym_key())
            times["ingest_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_dedup(engine)
        times["dedup_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_hotspots(engine)
        times["hotspots_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with engine.begin() as conn:
            q.refresh_aggregates(conn)  # what the dashboard does once per data version
        times["aggregates_s"] = time.perf_counter() - t0
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
            mark = PREPARED_MARK.format(reports=reports, seed=seed)
            conn.exec_driver_sql(f"COMMENT ON DATABASE \"{BENCH_DB}\" IS '{mark}'")
    finally:
        engine.dispose()
    return url, times


def prepared_url(reports: int, seed: int) -> str | None:
    """URL of the kept bench database when it was fully prepared with ``reports`` and
    ``seed`` (see :data:`PREPARED_MARK`), else None."""
    admin = admin_url()
    engine = make_engine(admin)
    try:
        with engine.connect() as c:
            mark = c.execute(
                sa.text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :n"
                ),
                {"n": BENCH_DB},
            ).scalar()
    finally:
        engine.dispose()
    if mark != PREPARED_MARK.format(reports=reports, seed=seed):
        return None
    return make_url(admin).set(database=BENCH_DB).render_as_string(hide_password=False)


def sql_only(engine: Engine) -> float:
    """Seconds of the planner's SQL for the unfiltered page, run directly (the anchor)."""
    f = q.Filters()
    t0 = time.perf_counter()
    with engine.connect() as c:
        q.kpis(c, f)
        q.incident_cells(c, f, PLANNER_RESOLUTION)
        q.hotspot_cells(c, PLANNER_RESOLUTION, "all", "all")
        q.top_hotspots(c, PLANNER_RESOLUTION, "all", "all", 10)
        q.weekly_trend(c, f)
    return time.perf_counter() - t0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WARMED_UP_MARK = b"warmed up in"
"""What ``fix2go dashboard`` prints on stderr when its warm-up (dashboard.serve) is done."""


def _start_server(
    url: str, log: Path, wait_warm_up: bool
) -> tuple[subprocess.Popen[bytes], str, float | None]:
    """Serve the dashboard; returns the process, its base URL and, with ``wait_warm_up``, the
    seconds from the server answering until its warm-up finished."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "FIX2GO_BASEMAP": "none"}
    fix2go = Path(sys.executable).parent / "fix2go"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(fix2go), "dashboard", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.25)
    else:
        _stop(proc)
        raise RuntimeError(f"fix2go dashboard did not answer within {START_TIMEOUT_S} s")
    if not wait_warm_up:
        return proc, base, None
    t0 = time.perf_counter()
    while time.monotonic() < deadline:
        if WARMED_UP_MARK in log.read_bytes():
            return proc, base, time.perf_counter() - t0
        time.sleep(0.05)
    _stop(proc)
    raise RuntimeError(f"fix2go dashboard did not finish its warm-up within {START_TIMEOUT_S} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


_HEX_JS = (
    "cols => Array.from(document.querySelectorAll('path.leaflet-interactive'))"
    ".filter(e => cols.includes((e.getAttribute('fill') || '').toLowerCase())).length"
)


def _hex_frame(page: Page) -> Frame | None:
    colours = [c.lower() for c in HEX_COLORS]
    for frame in page.frames:
        try:
            if frame.evaluate(_HEX_JS, colours) > 0:
                return frame
        except Exception:  # frame detached or navigating
            continue
    return None


def _metric(page: Page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return str(box.get_by_test_id("stMetricValue").inner_text())


def _wait(page: Page, cond: Any, what: str) -> None:
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while time.monotonic() < deadline:
        if cond():
            return
        page.wait_for_timeout(20)
    raise RuntimeError(f"timed out waiting for {what}")


def _render(page: Page, base: str) -> float:
    t0 = time.perf_counter()
    page.goto(base + "/", wait_until="commit")
    page.get_by_test_id("stMetric").first.wait_for(timeout=PAGE_TIMEOUT_S * 1000)
    _wait(page, lambda: _hex_frame(page) is not None, "the hexagons")
    return time.perf_counter() - t0


_HEX_SIGNATURE_JS = (
    "cols => Array.from(document.querySelectorAll('path.leaflet-interactive'))"
    ".map(e => (e.getAttribute('fill') || '').toLowerCase()).filter(f => cols.includes(f))"
    ".join(',')"
)


def _hex_signature(frame: Frame) -> str | None:
    try:
        return str(frame.evaluate(_HEX_SIGNATURE_JS, [c.lower() for c in HEX_COLORS]))
    except Exception:  # frame detached or navigating
        return None


def _filter_change(page: Page) -> float:
    """Seconds from choosing a category until the KPIs changed and the map shows other
    hexagons (in the map already shown, or in a new map frame)."""
    before = _metric(page, "Reports in period")
    old = _hex_frame(page)
    old_hexes = None if old is None else _hex_signature(old)
    page.get_by_test_id("stMultiSelect").filter(has_text="Categories").first.click()
    option = page.get_by_role("option", name=FILTER_CATEGORY_LABEL, exact=True)
    t0 = time.perf_counter()
    option.click()
    _wait(page, lambda: _metric(page, "Reports in period") != before, "the KPIs")

    def redrawn() -> bool:
        f = _hex_frame(page)
        return f is not None and (f is not old or _hex_signature(f) not in (old_hexes, None))

    _wait(page, redrawn, "the redrawn map")
    return time.perf_counter() - t0


def measure(url: str, wait_warm_up: bool = True) -> dict[str, float]:
    """Browser figures of the planner page on the database at ``url``.

    With ``wait_warm_up`` the first visit comes after the server's warm-up finished (a user
    arriving some seconds after ``fix2go dashboard`` started); without, right after the
    server answers (the warm-up still running).
    """
    with tempfile.TemporaryDirectory(prefix="fix2go-bench-") as tmp:
        return _measure(url, Path(tmp) / "server.log", wait_warm_up)


def _measure(url: str, log: Path, wait_warm_up: bool) -> dict[str, float]:
    proc, base, warm_up = _start_server(url, log, wait_warm_up)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = ctx.new_page()
                first = _render(page, base)
                change = _filter_change(page)
                ctx.close()
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = ctx.new_page()
                warm = _render(page, base)
                t0 = time.perf_counter()
                page.reload(wait_until="commit")
                page.get_by_test_id("stMetric").first.wait_for(timeout=PAGE_TIMEOUT_S * 1000)
                _wait(page, lambda: _hex_frame(page) is not None, "the hexagons")
                reload = time.perf_counter() - t0
                ctx.close()
            finally:
                browser.close()
    finally:
        _stop(proc)
    return {
        **({} if warm_up is None else {"server_warm_up_s": warm_up}),
        "first_render_s": first,
        "warm_render_s": warm,
        "reload_render_s": reload,
        "filter_change_s": change,
    }


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {
            "reports": int(c.execute(sa.text("SELECT count(*) FROM reports")).scalar_one()),
            "incidents": int(c.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()),
        }


def _one_run(url: str) -> dict[str, float]:
    """The anchor (median of three) and one browser measurement, with the load average."""
    load_before = os.getloadavg()[0]
    engine = make_engine(url)
    try:
        anchor = statistics.median(sql_only(engine) for _ in range(ANCHOR_REPEATS))
    finally:
        engine.dispose()
    browser = measure(url)
    return {
        "load_avg_before": round(load_before, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
        "sql_only_s": round(anchor, 3),
        **{k: round(v, 3) for k, v in browser.items()},
        "first_render_vs_sql": round(browser["first_render_s"] / anchor, 1),
        "reload_render_vs_sql": round(browser["reload_render_s"] / anchor, 1),
        "filter_change_vs_sql": round(browser["filter_change_s"] / anchor, 1),
    }


def run(
    reports: int, seed: int, *, reuse: bool = False, keep: bool = False, runs: int = 1
) -> dict[str, Any]:
    """Prepare (or reuse), measure ``runs`` times, print and return the figures.

    Parameters
    ----------
    reports, seed
        Generated reports and generator seed of the bench database.
    reuse
        Use the kept bench database when it was prepared with the same ``reports`` and
        ``seed`` instead of preparing it again (implies ``keep``).
    keep
        Leave the bench database in place afterwards (for a later ``reuse``).
    runs
        Browser measurements (each with its own anchor) on the same database; the figures
        of each run are under ``"runs"``, the top-level browser figures are their medians.
    """
    url = prepared_url(reports, seed) if reuse else None
    setup: dict[str, float] = {}
    if url is None:
        url, setup = prepare(reports, seed)
    engine = make_engine(url)
    try:
        counts = _counts(engine)
    finally:
        engine.dispose()
    each = [_one_run(url) for _ in range(max(runs, 1))]
    figures: dict[str, Any] = {
        "generated_reports": reports,
        "seed": seed,
        "database": "reused" if not setup else "prepared",
        **counts,
        **{k: round(v, 2) for k, v in setup.items()},
        **{k: round(statistics.median(r[k] for r in each), 3) for k in each[0]},
    }
    if len(each) > 1:
        figures["runs"] = each
    for key, value in figures.items():
        if key != "runs":
            print(f"{key:>22}: {value}")
    for i, r in enumerate(each if len(each) > 1 else [], start=1):
        print(f"run {i}: " + ", ".join(f"{k} {v}" for k, v in r.items()))
    if keep or reuse:
        print(f"kept database {BENCH_DB} (drop it with: fix2go bench dashboard --drop)")
    else:
        drop_database(admin_url(), BENCH_DB)
    return figures


def drop() -> None:
    """Drop the kept bench database (if any)."""
    drop_database(admin_url(), BENCH_DB)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    run(reports=n, seed=7)
