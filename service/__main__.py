"""`python -m service [--host H] [--port P]`: build the index if missing or stale, then serve."""

from __future__ import annotations

import sys

from service.cli import app


def main() -> None:
    app(args=["serve", *sys.argv[1:]], prog_name="python -m service")


if __name__ == "__main__":
    main()
