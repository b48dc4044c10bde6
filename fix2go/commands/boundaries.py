"""``fix2go boundaries load``: validate and load a boundary layer (a new version)."""

from __future__ import annotations

from pathlib import Path

import typer

from fix2go.database import get_engine
from fix2go.reference import load_boundary_file
from spatial.boundaries import LAYERS, Layer

boundaries_app = typer.Typer(
    help="Boundary layers (governorates, road authorities): validate and load new versions.",
    no_args_is_help=True,
)


@boundaries_app.command("load")
def load_cmd(
    file: Path = typer.Argument(..., help="GeoJSON, GeoPackage or Shapefile of polygons."),
    layer: str = typer.Option(..., "--layer", help="governorates | road_authorities"),
    version: str | None = typer.Option(
        None, "--version", help="Version label; default: sha-<first 12 hex of the file's SHA-256>."
    ),
) -> None:
    """Load a boundary layer after validating it: polygons only, valid (or repaired with
    make_valid, reported), CRS known (reprojected to EPSG:4326), a unique code per feature.
    A bad layer is refused with a one-line reason and the loaded layer stays as it was;
    earlier versions are kept, the new one becomes current."""
    if layer not in LAYERS:
        raise typer.BadParameter(f"use one of {', '.join(LAYERS)}", param_hint="--layer")
    layer_name: Layer = "governorates" if layer == "governorates" else "road_authorities"
    engine = get_engine()
    with engine.begin() as conn:
        result = load_boundary_file(conn, file, layer_name, version)
    for note in result.notes:
        typer.echo(f"note: {note}")
    typer.echo(f"loaded {result.features} {layer} features as version {result.version} (current)")


def register(app: typer.Typer) -> None:
    """Add the ``boundaries`` group to the CLI."""
    app.add_typer(boundaries_app, name="boundaries")
