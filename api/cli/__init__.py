"""The `chunyun` command line. Each command group lives in its own module and registers itself."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli import generate, geo, operations, plan, render, season, serve, sizing, worker
from api.cli.helptext import LocalisedGroup
from api.cli.text import _, set_locale

app = typer.Typer(
    name="chunyun",
    cls=LocalisedGroup,
    help="春运 charter coaches: plan legal, full coach trips for migrant workers going home.",
    no_args_is_help=True,
    add_completion=False,
)

for module in (geo, plan, sizing, generate, render, serve, operations, season, worker):
    module.register(app)


@app.callback()
def choose_language(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of the messages: zh_CN (default) or en; "
            "without it LC_ALL, LC_MESSAGES or LANG decide.",
        ),
    ] = None,
) -> None:
    """春运 charter coaches: plan legal, full coach trips for migrant workers going home."""
    if lang is not None and not lang.strip().lower().replace("-", "_").startswith(("zh", "en")):
        raise typer.BadParameter(_("--lang takes zh_CN or en"), param_hint="--lang")
    set_locale(lang)


@app.command()
def version() -> None:
    """Print chunyun's version."""
    from importlib.metadata import version as package_version

    typer.echo(f"chunyun {package_version('chunyun')}")


def main() -> None:
    """Entry point of the `chunyun` console script."""
    app()
