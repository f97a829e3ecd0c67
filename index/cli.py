"""`ragqa index build`: build (or incrementally update) the index; `ragqa index verify`: make
its backend (Milvus) agree with the document store.

`app` is the `index` group of the project CLI (`ragqa.cli`); `ragqa build` is its shortcut.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus.console import fail
from index.errors import domain_errors
from index.settings import load_settings

app = typer.Typer(help="Build the index; verify its backend.", no_args_is_help=True)

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", help="corpus directory [env RAGQA_CORPUS_DIR]")
]
IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="index directory [env RAGQA_INDEX_DIR]")
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="embedding model [env RAGQA_MODEL]")]
SentenceVectorsOpt = Annotated[
    str | None,
    typer.Option(
        "--sentence-vectors",
        help="separate (default) or late: pooled from the passage's one encoder pass "
        "[env RAGQA_SENTENCE_VECTORS]",
    ),
]
EncoderOpt = Annotated[
    str | None,
    typer.Option("--encoder", help="int8 (default), fp32, or auto [env RAGQA_ENCODER]"),
]


@app.command()
def build(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    sentence_vectors: SentenceVectorsOpt = None,
    ann: Annotated[str, typer.Option(help="vector index: flat, hnsw or ivf")] = "flat",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", envvar="CI", help="no progress bars [env CI]")
    ] = False,
) -> None:
    """Build (or incrementally update) the index from the corpus.

    Exit status, the same as `ragqa corpus inspect` on the same corpus: 0 when every file
    loaded, 1 when some file, line or over-long article was skipped (the index is still
    written, without them; each is listed on stderr), 2 for a usage error."""
    if ann not in ("flat", "hnsw", "ivf"):
        fail(f"--ann must be flat, hnsw or ivf, not {ann!r}", code=2)
    settings = load_settings(
        corpus_dir=corpus,
        index_dir=index,
        model=model,
        encoder=encoder,
        sentence_vectors=sentence_vectors,
    )
    from index.store.build import build_index

    try:
        report = build_index(
            settings.corpus_dir,
            settings.index_dir,
            settings.model,
            ann=ann,
            progress=not quiet,
            encoder=settings.encoder,
            sentence_vectors=settings.sentence_vectors,
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


@app.command()
def verify() -> None:
    """Make the index backend agree with the document store, and say what was repaired.

    With RAGQA_BACKEND=milvus: the rows Milvus lacks are written, the rows no live document
    has are deleted (a write that failed half-way, rows lost in Milvus). With milvus-lite,
    stop the service first (one process owns the .db file); a Milvus server may stay up."""
    from index.opening import open_library

    settings = load_settings()
    try:
        library = open_library(settings, sync=False)
    except domain_errors() as exc:
        fail(str(exc))
    try:
        repaired = library.backend.last_sync  # opening the library ran the start-up check
        try:
            again = library.verify()
        except domain_errors() as exc:
            fail(str(exc))
    finally:
        library.close()
    if settings.backend == "faiss":
        typer.echo("backend faiss: the index lives in the segments; nothing to verify in it")
        return
    if repaired is None and again is None:
        typer.echo(f"Milvus at {settings.milvus_uri} agrees with the document store")
    else:
        typer.echo(f"repaired Milvus at {settings.milvus_uri}: {repaired or again}")
