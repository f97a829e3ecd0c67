"""`python -m eval ...`: the same commands as `ragqa eval ...`."""

from __future__ import annotations

from eval.cli import app


def main() -> None:
    app(prog_name="python -m eval")


if __name__ == "__main__":
    main()
