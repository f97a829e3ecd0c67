"""`ragqa service serve|ask`: serve the HTTP API, or answer one question from the terminal.

`app` is the `service` group of the project CLI (`ragqa.cli`); `ragqa serve` and `ragqa ask`
are its shortcuts and `python -m service` runs `serve`. Heavy imports (torch,
sentence-transformers, faiss) happen inside the commands, so `--help` is instant.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from corpus.console import err, fail
from index.errors import domain_errors
from index.settings import load_settings

if TYPE_CHECKING:
    from index.settings import Settings
    from index.types import AskResult

app = typer.Typer(
    help="Serve the HTTP API; ask from the terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _runtime() -> None:
    """Read the model cache and hub settings from the environment (`python -m service`)."""
    from index.settings import Runtime

    Runtime().apply()


IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="index directory [env RAGQA_INDEX_DIR]")
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address [env RAGQA_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="port [env RAGQA_PORT]")] = None,
) -> None:
    """Build the index if it is missing or stale, then serve the HTTP API."""
    settings = load_settings(host=host, port=port)
    ensure_index(settings)
    check_store(settings)
    check_backend(settings)
    # The app reads its settings from the environment (workers are separate processes).
    os.environ["RAGQA_HOST"], os.environ["RAGQA_PORT"] = settings.host, str(settings.port)
    import uvicorn

    uvicorn.run(
        "service.main:create_app",
        factory=True,
        http="service.http11:JsonErrorH11Protocol",  # parse errors as JSON, too
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        access_log=False,  # our access log is the structured one
    )


def check_store(settings: Settings) -> None:
    """Stop with a message naming RAGQA_STORE_URL (its password hidden) when the document
    store cannot be opened: its server unreachable, its driver not installed."""
    if settings.store_url is None:
        return
    from sqlalchemy.engine import make_url

    from index.store.docstore import DocStore

    shown = make_url(settings.store_url).render_as_string(hide_password=True)
    try:
        DocStore(settings.store_url).close()
    except domain_errors() as exc:
        fail(f"RAGQA_STORE_URL={shown!r}: {exc}")


def check_backend(settings: Settings) -> None:
    """Stop with a message naming the setting when the backend cannot serve: Milvus
    unreachable at RAGQA_MILVUS_URI, a collection of another dimension, milvus-lite (one
    process) asked to serve several workers."""
    if settings.backend == "faiss":
        return
    from index.search.backend import open_backend
    from index.store.files import read_manifest

    milvus = settings.milvus()
    if not milvus.uri:
        fail("RAGQA_BACKEND=milvus needs RAGQA_MILVUS_URI (a .db file path or http://host:19530)")
    if milvus.is_lite and settings.workers > 1:
        fail(
            f"RAGQA_MILVUS_URI={milvus.uri!r} is milvus-lite, which lives inside one process: "
            f"set RAGQA_WORKERS=1 (not {settings.workers}) or use a Milvus server"
        )
    try:
        dim = read_manifest(settings.index_dir).dim
        open_backend(settings.backend, dim, milvus).close()
    except domain_errors() as exc:
        fail(str(exc))


def ensure_index(settings: Settings) -> None:
    """Build the index at `settings.index_dir` unless it is current (prints progress)."""
    from index.store.build import build_index, index_is_current

    try:
        if index_is_current(
            settings.corpus_dir,
            settings.index_dir,
            settings.model,
            encoder=settings.encoder,
            sentence_vectors=settings.sentence_vectors,
        ):
            return
        err.print(f"building the index at {settings.index_dir} (missing or stale)")
        build_index(
            settings.corpus_dir,
            settings.index_dir,
            settings.model,
            progress=True,
            encoder=settings.encoder,
            sentence_vectors=settings.sentence_vectors,
        )
    except domain_errors() as exc:
        fail(str(exc))


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging config plus the `ragqa` loggers, writing bare JSON lines to stdout."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["line"] = {"format": "%(message)s"}
    config["handlers"]["ragqa"] = {
        "formatter": "line",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["ragqa"] = {"handlers": ["ragqa"], "level": level.upper(), "propagate": False}
    return config


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question, in Chinese or English")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="print the /v1/ask JSON")] = False,
    index: IndexOpt = None,
) -> None:
    """Answer a question in-process from the index directory."""
    from service.schemas import AskRequest

    settings = load_settings(index_dir=index)
    try:
        question = AskRequest(question=question, top_k=top_k).question
    except ValueError as exc:
        fail(f"question: {_first_error(exc)}", code=2)
    if not settings.index_dir.is_dir():
        fail(f"no index at {settings.index_dir}: run `ragqa build`")
    from index.engine import Engine
    from index.rank.glossary import glossary_of

    try:
        engine = Engine.load(
            settings.index_dir,
            settings.model,
            encoder=settings.encoder,
            glossary=glossary_of(settings.glossary),
        )
        result = engine.ask(question, top_k)
    except domain_errors() as exc:
        fail(str(exc))
    if as_json:
        from service.schemas import AskResponse

        typer.echo(AskResponse.model_validate(result).model_dump_json(indent=2))
    else:
        print_result(Console(), result)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("ctx", {}).get("error", first.get("msg")))
    return str(exc)


def print_result(console: Console, result: AskResult) -> None:
    """The answer, then numbered passages with citation and the answer span highlighted."""
    if result.answer is None:
        console.print(Text("No answer in the corpus; closest passages:", style="yellow"))
    else:
        a = result.answer
        console.print(Text(a.text, style="bold green"))
        console.print(Text(f"— {a.title} ({a.source}, chars {a.char_start}–{a.char_end})", "dim"))
    for p in result.passages:
        date = p.published or "undated"
        head = f"\n[{p.rank}] {p.title} · {p.source} · {date} · chars {p.char_start}–{p.char_end}"
        console.print(Text(head + f" · score {p.score:.3f}", style="bold"))
        body = Text(p.text)
        if p.highlight is not None:
            start, end = p.highlight.char_start - p.char_start, p.highlight.char_end - p.char_start
            body.stylize("bold black on yellow", start, end)
        console.print(body)
    console.print(Text(f"\n{result.took_ms:.1f} ms", style="dim"))
