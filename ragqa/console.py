"""What every command shares: one red `error:` line and an exit code, and the settings.

Domain errors become `fail(message)` (exit 1; 2 for usage and configuration), never a
traceback. Only `rich` and `typer` are imported here, so every layer's CLI can use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from service.settings import Settings

err = Console(stderr=True, soft_wrap=True)  # one line per error, whatever the width


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one red line to stderr and exit with `code`."""
    err.print(Text(f"error: {message}", style="bold red"))
    raise typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with CLI overrides; a bad variable exits 2 naming it."""
    from pydantic import ValidationError

    from service.settings import Settings, describe_settings_error

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        fail(describe_settings_error(exc), code=2)


def domain_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a command reports as one line (the index layer's and missing paths)."""
    from index.errors import DocumentNotFoundError, IndexError_

    return (IndexError_, DocumentNotFoundError, FileNotFoundError, NotADirectoryError)
