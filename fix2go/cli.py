"""The ``fix2go`` command line: a thin typer shell over ``ingest``, ``spatial`` and ``dashboard``.

Each command group lives in ``fix2go/commands/<name>.py`` and exposes ``register(app)``.
Errors the project raises on purpose (:class:`spatial.errors.Fix2GoError`) are printed as one
line on stderr with exit status 2.
"""

from __future__ import annotations

import importlib
import sys

import typer

from spatial.errors import Fix2GoError

# Command modules, in the order their commands appear in `fix2go --help`.
COMMAND_MODULES = (
    "db",
    "ingest",
    "boundaries",
    "route",
    "dedup",
    "hotspots",
    "export",
    "demo",
    "dashboard",
    "bench",
)

app = typer.Typer(
    name="fix2go",
    help=(
        "Fix2Go Spatial: the GIS back office of a crowdsourced road-complaint service. "
        "Reports are stored as PostGIS points, routed to the competent agency, merged into "
        "incidents and analysed for hotspots. Without DATABASE_URL an embedded PostGIS "
        "cluster under .fix2go/ is used (started on demand)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command in `fix2go --help`: the public surface's own words (README, CONTRACT);
# each command's --help keeps its full description.
SHORT_HELP = {
    "ingest": "Validate, redact, route and load report files; prints the batch summary.",
    "generate": "Synthetic Fix2Go export with ground truth (report -> true defect).",
    "stats": "Counts: reports, incidents, batches, rejects by reason, by governorate and agency.",
    "route": "Re-route open reports, e.g. after a boundary update; --dry-run prints the diff.",
    "dedup": "Merge duplicate reports into incidents.",
    "hotspots": "H3 aggregates, Gi* hot/cold spots, trends.",
    "export": "An agency's reports (--agency), or every analyst layer for GIS tools (--all).",
    "demo": "Everything `make demo` runs after set-up.",
    "dashboard": "Serve the Streamlit dashboard.",
}

for _name in COMMAND_MODULES:
    importlib.import_module(f"fix2go.commands.{_name}").register(app)
for _command in app.registered_commands:
    _command.short_help = SHORT_HELP.get(_command.name or "", _command.short_help)


def main() -> None:
    """Console-script entry point: run the app, turning project errors into one-line messages."""
    try:
        # with standalone_mode=False click returns the code of a typer.Exit instead of raising
        code = app(standalone_mode=False)
    except Fix2GoError as exc:
        print(f"fix2go: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("fix2go: aborted", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # usage errors (typer ships its own copy of click)
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise
    sys.exit(code if isinstance(code, int) else 0)
