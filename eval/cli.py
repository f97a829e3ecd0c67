"""`ragqa eval ...`: run, compare and diff evaluation runs (filled in by the evaluation work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Offline evaluation runs.", no_args_is_help=True)


@app.command("run")
def run() -> None:
    """Evaluate a question set (not implemented yet)."""
    typer.echo("eval run: not implemented yet", err=True)
    raise typer.Exit(2)
