"""The analyst notebooks: paired and stripped, no SQL of their own, and each one runs from
top to bottom against a throw-away database loaded with generated data by the real pipeline.

The database is prepared once for the module: generated reports (with planted hotspots)
ingested with :func:`ingest.pipeline.ingest_file`, deduplicated with
:func:`fix2go.commands.dedup.run_dedup`, and hotspot cells computed with
:func:`spatial.hotspots.hotspot_cells` and written with
:func:`spatial.postgis.hotspots.write_hotspot_cells`. Each notebook's ``.ipynb`` is then
executed with nbclient in a fresh kernel of this interpreter, with ``DATABASE_URL`` pointing
at that database. A warning shown by a notebook cell fails its test, like warnings in the
rest of the suite.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from fix2go.commands.dedup import run_dedup
from fix2go.settings import PROJECT_ROOT
from ingest.generate import generate
from ingest.pipeline import ingest_file
from spatial.hotspots import HotspotConfig, hotspot_cells
from spatial.postgis.engine import make_engine
from spatial.postgis.hotspots import read_hotspot_incidents, write_hotspot_cells
from spatial.postgis.read import read_hotspots, read_incidents, read_reports

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))

N_REPORTS = 3_000
SEED = 20261204
PLANTED_HOTSPOTS = ((26.2235, 50.5876), (26.1300, 50.5550))  # (lat, lng): Manama, Riffa
PSEUDONYM_KEY = b"notebook-tests-only"
HOTSPOT_PERMUTATIONS = 99
"""Permutations only give the pseudo p-value ``p_sim``; the classes come from the z-scores,
so the notebook database uses fewer than the production 999 (and only the category group
and period the notebooks read) to stay quick."""

CELL_TIMEOUT_S = 300
"""A hang guard per cell, not a performance assertion."""

KERNEL_NAME = "fix2go-notebook-tests"


def test_there_are_four_notebooks() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "01_explore_reports",
        "02_hotspots",
        "03_routing_audit",
        "04_dedup_quality",
    ]


@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_paired_stripped_and_asks_its_question(script: Path) -> None:
    ipynb = script.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run `jupytext --sync {script}`"
    text = jupytext.read(script)
    nb = nbformat.read(ipynb, as_version=4)
    nbformat.validate(nb)
    pairs = [(c.cell_type, c.source) for c in text.cells]
    assert pairs == [(c.cell_type, c.source) for c in nb.cells], (
        f"{script.name} and {ipynb.name} differ: run `jupytext --sync {script}`"
    )
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{ipynb.name} has outputs: strip them (jupytext --sync rewrites it without)"
            )
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "**Question:" in first.source
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    # analysis goes through the project's functions: no SQL or engine plumbing in notebooks
    for forbidden in ("SELECT ", "sqlalchemy", "read_postgis", "description", "pseudonym"):
        assert forbidden not in code, f"{script.name} uses {forbidden!r}"


# --- executing them --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notebook_db(new_database: Callable[..., str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A throw-away database with generated data through ingest, dedup and hotspots."""
    url = new_database(reference=True)
    export = tmp_path_factory.mktemp("notebook_data") / "reports.csv"
    generate(N_REPORTS, seed=SEED, planted_hotspots=PLANTED_HOTSPOTS).write(export)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            ingest_file(conn, export, key=PSEUDONYM_KEY)
        run_dedup(engine)
        full = HotspotConfig.from_toml()
        config = replace(
            full,
            permutations=HOTSPOT_PERMUTATIONS,
            category_groups={"all": full.category_groups["all"]},  # what the notebooks read
            periods={"all": 0},
        )
        with engine.connect() as conn:
            incidents = read_hotspot_incidents(conn)
        cells = hotspot_cells(incidents, config)
        with engine.begin() as conn:
            write_hotspot_cells(conn, cells)
        with engine.connect() as conn:  # the data the notebooks expect is really there
            assert len(read_reports(conn)) > N_REPORTS * 0.9
            assert len(read_incidents(conn)) > 0
            assert (read_hotspots(conn, significant_only=True)["hot_class"] > 0).any()
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec running this very interpreter (not whatever ``python3`` is registered)."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "fix2go notebook tests",
                "language": "python",
            }
        )
    )
    return root


def _warnings_shown(nb: nbformat.NotebookNode) -> list[str]:
    shown = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            is_stderr = out.get("output_type") == "stream" and out.get("name") == "stderr"
            if is_stderr and "Warning" in out.get("text", ""):
                shown.append(out["text"].strip())
    return shown


@pytest.mark.slow
@pytest.mark.parametrize("script", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(script: Path, notebook_db: str, kernel_dir: Path) -> None:
    nb = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    km = KernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]),
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    # raises on a cell error; cleanup_kc: shut the kernel down and close its sockets although
    # the kernel manager is ours, not nbclient's
    client.execute(cleanup_kc=True, env={**os.environ, "DATABASE_URL": notebook_db})
    assert not km.has_kernel
    executed = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in executed)
    assert not _warnings_shown(nb), "\n\n".join(_warnings_shown(nb))
