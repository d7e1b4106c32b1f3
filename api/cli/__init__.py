"""The `chunyun` command line. Each command group lives in its own module and registers itself."""

from __future__ import annotations

import typer

from api.cli import generate, geo, plan, render, serve, sizing, worker

app = typer.Typer(
    name="chunyun",
    help="春运 charter coaches: plan legal, full coach trips for migrant workers going home.",
    no_args_is_help=True,
    add_completion=False,
)

for module in (geo, plan, sizing, generate, render, serve, worker):
    module.register(app)


@app.command()
def version() -> None:
    """Print chunyun's version."""
    from importlib.metadata import version as package_version

    typer.echo(f"chunyun {package_version('chunyun')}")


def main() -> None:
    """Entry point of the `chunyun` console script."""
    app()
