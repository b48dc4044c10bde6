"""``python -m dashboard.serve run dashboard/app.py [flags]``: ``streamlit run`` with a warm-up.

``fix2go dashboard`` starts the server through this module. Besides what ``streamlit run``
does, a background thread waits until the Streamlit runtime is up, imports the modules the
pages need (pandas, geopandas, folium, altair for the charts) and runs the
planner's queries for its default state into the shared query cache
(:func:`dashboard.data.warm_planner`). The first visitor then finds a warm server instead of
paying for the imports and the cold queries; a failure of the warm-up is logged and ignored
(the page computes everything itself when its caches are cold).
"""

from __future__ import annotations

import logging
import sys
import threading
import time

WARMUP_WAIT_S = 60.0
"""How long the warm-up waits for the Streamlit runtime before giving up."""
WARMUP_POLL_S = 0.1
PLANNER_RESOLUTION = 8  # the planner's default hexagon resolution (views/planner.py)
PLANNER_TOP_N = 10  # rows of the planner's top-hotspots table

_CONTEXT_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"
log = logging.getLogger("fix2go.dashboard.warmup")


def _runtime_ready() -> bool:
    from streamlit.runtime import Runtime

    return Runtime.exists()


def warm_up() -> float:
    """Import the pages' modules and fill the planner's query caches; returns the seconds."""
    t0 = time.perf_counter()
    import altair  # noqa: F401  (st.line_chart)

    # not streamlit_folium (nor dashboard.ui): a component declared outside a script run is
    # not served (404); the page's own import of it is quick
    from dashboard import data, maps

    # this thread runs no script: silence Streamlit's "missing ScriptRunContext" notice
    ctx_log = logging.getLogger(_CONTEXT_LOGGER)
    level = ctx_log.level
    ctx_log.setLevel(logging.ERROR)
    try:
        data.warm_planner(PLANNER_RESOLUTION, PLANNER_TOP_N, maps.MAX_INCIDENT_MARKERS)
    finally:
        ctx_log.setLevel(level)
    return time.perf_counter() - t0


def _warm_in_background() -> None:
    deadline = time.monotonic() + WARMUP_WAIT_S
    while not _runtime_ready():
        if time.monotonic() > deadline:
            log.warning("warm-up skipped: the Streamlit runtime did not start")
            return
        time.sleep(WARMUP_POLL_S)
    try:
        print(f"Fix2Go dashboard: warmed up in {warm_up():.1f} s", file=sys.stderr)
    except Exception as exc:  # the pages work without it; say why and carry on
        log.warning(
            "warm-up failed (%s: %s); the first page computes its own data", type(exc).__name__, exc
        )


def main() -> None:
    """``streamlit`` command line (``sys.argv[1:]``), with the warm-up thread started first."""
    from streamlit.web import cli

    threading.Thread(target=_warm_in_background, name="fix2go-warmup", daemon=True).start()
    sys.argv[0] = "streamlit"
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
