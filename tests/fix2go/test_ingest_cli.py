"""`fix2go generate | ingest | stats` end to end, as real subprocesses where it matters:
atomicity under SIGKILL mid-COPY, and two concurrent ingests of overlapping files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from typer.testing import CliRunner

from fix2go.cli import app
from ingest.errors import UnreadableFileError
from ingest.generate import generate, write_export
from spatial.postgis.engine import make_engine

FIX2GO = [str(Path(sys.executable).parent / "fix2go")]


def _env(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = db_url
    env["FIX2GO_PSEUDONYM_KEY"] = "cli-test-key-0123456789abcdef0123"
    env["FIX2GO_HOME"] = str(tmp_path / "home")
    return env


def _run(
    args: list[str], env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FIX2GO, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _scalar(db_url: str, sql: str, **params: object) -> object:
    eng = make_engine(db_url)
    try:
        with eng.connect() as c:
            return c.execute(sa.text(sql), params).scalar_one()
    finally:
        eng.dispose()


def _invoke(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, env=env)


def test_generate_ingest_stats(db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = _env(db_url, tmp_path)
    out, truth = tmp_path / "g.csv", tmp_path / "t.csv"
    args = ["generate", "--reports", "400", "--seed", "3", "--hotspot", "26.2,50.55"]
    r = _invoke([*args, "--out", str(out), "--truth", str(truth)], env)
    assert r.exit_code == 0, r.output
    assert "wrote 400 reports" in r.output
    t = pd.read_csv(truth)
    assert len(t) == 400 and (t["hotspot"] == 0).any()
    r2 = _invoke([*args, "--out", str(tmp_path / "g2.csv")], env)
    assert r2.exit_code == 0 and out.read_bytes() == (tmp_path / "g2.csv").read_bytes()

    r = _invoke(["ingest", str(out), "--source", "cli_summary"], env)
    assert r.exit_code == 0, r.output
    assert "rejected: duplicate_in_batch" in r.output and "unchanged" in r.output
    r = _invoke(["ingest", str(out), "--source", "cli_summary", "--json"], env)
    s = json.loads(r.output)[0]
    assert s["n_new"] == 0 and s["n_unchanged"] + s["n_rejected"] == 400
    exp_rej = int(t["expected_outcome"].str.startswith("rejected:").sum())
    assert s["n_rejected"] == exp_rej

    r = _invoke(["stats", "--json"], env)
    assert r.exit_code == 0, r.output
    st = json.loads(r.output)
    assert st["reports"] >= 400 - exp_rej
    assert st["rejects_by_reason"]["unknown_category"] >= 2
    assert "reports_by_agency" in st and "triage_or_unroutable" in st
    r = _invoke(["stats"], env)
    assert r.exit_code == 0 and "rejects by reason" in r.output


def test_generate_bad_hotspot_argument(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = _invoke(
        [
            "generate",
            "--reports",
            "5",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "x.csv"),
            "--hotspot",
            "26.2",
        ],
        {},
    )
    assert r.exit_code != 0 and "LAT,LNG" in r.output


def test_binary_file_refused_before_loading(db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = _env(db_url, tmp_path)
    good = tmp_path / "good.csv"
    write_export(generate(20, seed=1).reports, good)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02binary")
    r = _invoke(["ingest", str(good), str(bad), "--source", "cli_bin"], env)
    assert isinstance(r.exception, UnreadableFileError)
    assert "binary content" in str(r.exception) and str(bad) in str(r.exception)
    assert _scalar(db_url, "SELECT count(*) FROM ingest_batches WHERE source = 'cli_bin'") == 0


def test_unreadable_file_exit_2_one_line_nothing_loaded(db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = _env(db_url, tmp_path)
    good = tmp_path / "good.csv"
    write_export(generate(20, seed=1).reports, good)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"report_id,created_at\n1,2\n")
    r = _run(["ingest", str(good), str(bad), "--source", "cli_bad"], env)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing required column" in lines[0] and str(bad) in lines[0]
    assert _scalar(db_url, "SELECT count(*) FROM ingest_batches WHERE source = 'cli_bad'") == 0


def test_sigkill_mid_copy_leaves_nothing_and_rerun_completes(db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = _env(db_url, tmp_path)
    path = tmp_path / "big.csv"
    g = generate(10_000, seed=21)
    write_export(g.reports, path)
    db_name = sa.engine.make_url(db_url).database
    args = [*FIX2GO, "ingest", str(path), "--source", "cli_atomic", "--chunk-rows", "500"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    eng = make_engine(db_url)
    seen_copy = False
    try:
        deadline = time.monotonic() + 180
        with eng.connect() as c:
            while time.monotonic() < deadline and proc.poll() is None:
                n = c.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                        "AND query LIKE 'COPY%' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
                    ),
                    {"d": db_name},
                ).scalar_one()
                c.rollback()
                if n:
                    seen_copy = True
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.005)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        eng.dispose()
    assert seen_copy, "the ingest finished before a COPY was observed"
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.5)  # the server notices the closed socket and aborts the transaction
    assert _scalar(db_url, "SELECT count(*) FROM ingest_batches WHERE source = 'cli_atomic'") == 0
    assert _scalar(db_url, "SELECT count(*) FROM reports WHERE source = 'cli_atomic'") == 0
    r = _invoke(["ingest", str(path), "--source", "cli_atomic", "--json"], env)  # the re-run
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)[0]
    assert s["n_in"] == 10_000 and s["n_new"] + s["n_rejected"] == 10_000
    assert _scalar(db_url, "SELECT count(*) FROM reports WHERE source = 'cli_atomic'") == s["n_new"]
    assert (
        _scalar(
            db_url,
            "SELECT count(*) FROM raw_rows r JOIN ingest_batches b ON b.id = r.batch_id WHERE b.source = 'cli_atomic'",
        )
        == 10_000
    )


def test_two_concurrent_overlapping_ingests(db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = _env(db_url, tmp_path)
    g = generate(3000, seed=33, bad_row_share=0.0)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_export(g.reports.iloc[:2000], a)
    write_export(g.reports.iloc[1000:], b)
    procs = [
        subprocess.Popen(
            [
                *FIX2GO,
                "ingest",
                str(p),
                "--source",
                "cli_concurrent",
                "--json",
                "--chunk-rows",
                "500",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in (a, b)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    s1, s2 = (json.loads(o)[0] for o, _ in outs)
    total = _scalar(db_url, "SELECT count(*) FROM reports WHERE source = 'cli_concurrent'")
    distinct = _scalar(
        db_url, "SELECT count(DISTINCT source_id) FROM reports WHERE source = 'cli_concurrent'"
    )
    assert total == distinct == 3000
    assert s1["n_new"] + s2["n_new"] == 3000
    assert s1["n_unchanged"] + s2["n_unchanged"] == 1000  # the overlap, counted once as unchanged
    for s in (s1, s2):
        assert s["n_in"] == s["n_new"] + s["n_updated"] + s["n_unchanged"] + s["n_rejected"] == 2000


def test_bench_ingest_small_runs_twice_and_accounts_for_every_row(db_url) -> None:  # type: ignore[no-untyped-def]
    """``fix2go bench ingest --runs 2`` on a small file: two measured pairs, medians, and the
    floor loads exactly the rows the full ingest accepted (no time is asserted)."""
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "ingest",
            "--reports",
            "600",
            "--seed",
            "3",
            "--runs",
            "2",
            "--chunk-rows",
            "150",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{\n") :])
    assert len(figures["runs"]) == 2 and figures["chunk_rows"] == 150
    for one in figures["runs"]:
        counts = one["summary"]
        assert counts["in"] == 600 == counts["new"] + counts["rejected"]
        assert one["floor_rows"] == counts["new"]
        assert one["full_s"] > 0 and one["floor_s"] > 0
    assert figures["median_ratio_full_to_floor"] > 0
