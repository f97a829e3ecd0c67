"""`python -m ragqa ...`: the same commands as `ragqa ...`."""

from ragqa.cli import app

app(prog_name="ragqa")
