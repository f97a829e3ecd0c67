"""``ragqa corpus inspect [DIR]`` (also ``python -m corpus inspect``): what a corpus yields,
one line per document with its title, date, page (版次) and byline.

`app` is the `corpus` group of the project CLI (`ragqa.cli`). Exit status, the same as
`ragqa build` on the same corpus: 0 when every file loaded, 1 when some file, line or
over-long article was skipped (the table still lists everything that loaded), 2 when the
directory does not exist or the command line is wrong.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, TextIO

import typer

from corpus import paths
from corpus.formats import MAX_ARTICLE_CHARS
from corpus.loader import Corpus, load_corpus
from corpus.newsmeta import NewsMeta

app = typer.Typer(help="Look at the corpus.", no_args_is_help=True)

TITLE_COLUMNS = 44
"""Display columns for the title (a Chinese character takes two)."""
BYLINE_COLUMNS = 40
"""Display columns for the byline, the last column (cut with …, never padded)."""


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, columns: int) -> str:
    """`text` cut (with …) and padded to exactly `columns` display columns."""
    if _width(text) > columns:
        out, used = "", 1
        for ch in text:
            if used + _width(ch) > columns:
                break
            out += ch
            used += _width(ch)
        text = out + "…"
    return text + " " * (columns - _width(text))


def format_inspection(corpus: Corpus) -> str:
    """The documents (id, source, title, date, page, characters, byline), problems and ignored
    files; the page (版次) and byline are what the page states (`corpus.newsmeta`), else -."""
    rows = []
    for d in corpus.documents:
        news = NewsMeta.from_metadata(d.metadata)
        rows.append(
            (
                d.doc_id,
                d.source,
                d.title,
                d.published or "-",
                news.paper_page or "-",
                str(len(d.text)),
                news.byline or "-",
            )
        )
    id_w = max([_width("id"), *(_width(r[0]) for r in rows)])
    src_w = max([_width("source"), *(_width(r[1]) for r in rows)])
    head = (
        f"{_fit('id', id_w)}  {_fit('source', src_w)}  {_fit('title', TITLE_COLUMNS)}  "
        f"{'date':10}  {'page':>4}  chars  byline"
    )
    lines = [head, "-" * _width(head)]
    for doc_id, source, title, published, page, chars, byline in rows:
        lines.append(
            f"{_fit(doc_id, id_w)}  {_fit(source, src_w)}  {_fit(title, TITLE_COLUMNS)}  "
            f"{published:10}  {page:>4}  {chars:>5}  {_fit(byline, BYLINE_COLUMNS).rstrip()}"
        )
    total = sum(len(d.text) for d in corpus.documents)
    n_sources = len({d.source for d in corpus.documents})
    lines.append(f"{len(rows)} documents from {n_sources} files, {total} characters")
    longest = max((len(d.text) for d in corpus.documents), default=0)
    lines.append(
        f"longest article: {longest:,} characters (articles over {MAX_ARTICLE_CHARS:,} are "
        "refused and listed below)"
    )
    lines.append(f"{len(corpus.problems)} load problems" + (":" if corpus.problems else ""))
    lines += [f"  {problem}" for problem in corpus.problems]
    if corpus.ignored:
        lines.append(f"ignored (unsupported type): {', '.join(corpus.ignored)}")
    return "\n".join(lines)


def inspect(directory: Path | None = None, out: TextIO | None = None) -> int:
    """Print what `directory` (default: the bundled corpus) loads to; return the exit status."""
    from corpus import DEFAULT_CORPUS_DIR

    out = out or sys.stdout
    directory = directory or DEFAULT_CORPUS_DIR
    try:
        corpus = load_corpus(directory)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_inspection(corpus), file=out)
    return 1 if corpus.problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m corpus``."""
    parser = argparse.ArgumentParser(prog="python -m corpus", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("inspect", help="list the documents a corpus directory yields")
    cmd.add_argument("directory", nargs="?", type=Path, help="default: corpus/articles")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return inspect(args.directory)


@app.command("inspect")
def inspect_command(
    directory: Annotated[
        Path,
        typer.Argument(envvar="RAGQA_CORPUS_DIR", help="corpus directory [env RAGQA_CORPUS_DIR]"),
    ] = paths.CORPUS_DIR,
) -> None:
    """List the documents a corpus directory yields, and any load problems."""
    raise typer.Exit(inspect(directory))
