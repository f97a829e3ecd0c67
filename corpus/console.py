"""What every command shares: one red `error:` line and an exit code.

Domain errors become `fail(message)` (exit 1; 2 for usage and configuration), never a
traceback. Only `rich` and `typer` are imported here, and it sits in the bottom layer, so
every layer's CLI can use it (the settings are `index.settings.load_settings`).
"""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

err = Console(stderr=True, soft_wrap=True)  # one line per error, whatever the width


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one red line to stderr and exit with `code`."""
    err.print(Text(f"error: {message}", style="bold red"))
    raise typer.Exit(code)
