"""README, `--help` and the contract stay in step: every command the README's CLI table names
exists, answers `--help`, and nothing undocumented hides in the CLI."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from fix2go.cli import app
from fix2go.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def _readme_commands() -> list[list[str]]:
    """``[["db", "start"], ["boundaries", "load"], ["ingest"], ...]`` from the README table."""
    out: list[list[str]] = []
    for cell in re.findall(r"^\| `fix2go ([^`]+)` \|", README, flags=re.M):
        words = cell.replace("\\|", "|").split()
        if len(words) > 1 and "|" in words[1:]:  # db start | stop | status ...
            out.extend([[words[0], w] for w in words[1:] if w != "|"])
            continue
        name = [words[0]]
        if len(words) > 1 and re.fullmatch(r"[a-z]+", words[1]):
            name.append(words[1])
        out.append(name)
    return out


COMMANDS = _readme_commands()


def test_readme_lists_the_contract_commands() -> None:
    top = {c[0] for c in COMMANDS}
    assert top == {
        "db", "boundaries", "generate", "ingest", "route", "dedup", "hotspots",
        "export", "stats", "dashboard", "demo", "bench",
    }  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_readme_command_answers_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_no_undocumented_top_level_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    listed = set(re.findall(r"^│ ([a-z]+) ", result.output, flags=re.M))
    assert listed == {c[0] for c in COMMANDS}


def test_every_command_has_a_one_line_summary() -> None:
    from fix2go.cli import SHORT_HELP

    assert set(SHORT_HELP) == {c.name for c in app.registered_commands}
    assert all(len(h) <= 90 and "\n" not in h for h in SHORT_HELP.values())
