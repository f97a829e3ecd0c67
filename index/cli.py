"""`ragqa index build`: build (or incrementally update) the index from the corpus.

`app` is the `index` group of the project CLI (`ragqa.cli`); `ragqa build` is its shortcut.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ragqa.console import domain_errors, fail, load_settings

app = typer.Typer(help="Build the index.", no_args_is_help=True)

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", help="corpus directory [env RAGQA_CORPUS_DIR]")
]
IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="index directory [env RAGQA_INDEX_DIR]")
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="embedding model [env RAGQA_MODEL]")]


@app.command()
def build(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    ann: Annotated[str, typer.Option(help="vector index: flat or hnsw")] = "flat",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")] = False,
) -> None:
    """Build (or incrementally update) the index from the corpus.

    Exit status, the same as `ragqa corpus inspect` on the same corpus: 0 when every file
    loaded, 1 when some file, line or over-long article was skipped (the index is still
    written, without them; each is listed on stderr), 2 for a usage error."""
    if ann not in ("flat", "hnsw"):
        fail(f"--ann must be flat or hnsw, not {ann!r}", code=2)
    settings = load_settings(corpus_dir=corpus, index_dir=index, model=model)
    quiet = quiet or bool(os.environ.get("CI"))
    from index.build import build_index

    try:
        report = build_index(
            settings.corpus_dir, settings.index_dir, settings.model, ann=ann, progress=not quiet
        )
    except domain_errors() as exc:
        fail(str(exc))
    cached = f" ({report.n_cached} more from the checkpoint cache)" if report.n_cached else ""
    typer.echo(
        f"index {report.index_dir}: {report.n_documents} documents, {report.n_passages} "
        f"passages, {report.n_embedded} texts embedded{cached} in {report.seconds:.1f} s"
    )
    for path in report.removed_debris:
        typer.echo(f"removed {path} (left by a build that was killed)")
    if report.problems:
        typer.echo(
            f"skipped {len(report.problems)} file(s), line(s) or article(s) (listed above); "
            "see `ragqa corpus inspect`",
            err=True,
        )
        raise typer.Exit(1)
