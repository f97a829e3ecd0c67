"""`ragqa`: build the index, serve the API, ask from the terminal, evaluate, inspect the corpus.

Heavy imports (torch, sentence-transformers, faiss) happen inside the commands, so
`ragqa --help` is instant. Domain errors become one red line and exit code 1 (2 for usage
and configuration), never a traceback.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from eval.cli import app as eval_app

if TYPE_CHECKING:
    from index.types import AskResult
    from service.settings import Settings

app = typer.Typer(
    name="ragqa",
    help="Question answering over Chinese news with verbatim, offset-checked citations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(eval_app, name="eval")
corpus_app = typer.Typer(help="Look at the corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")

err = Console(stderr=True)

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", help="corpus directory [env RAGQA_CORPUS_DIR]")
]
IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="index directory [env RAGQA_INDEX_DIR]")
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="embedding model [env RAGQA_MODEL]")]
EncoderOpt = Annotated[
    str | None,
    typer.Option("--encoder", help="int8 (default), fp32, or auto [env RAGQA_ENCODER]"),
]


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
    from index.errors import DocumentNotFoundError, IndexError_

    return (IndexError_, DocumentNotFoundError, FileNotFoundError, NotADirectoryError)


@app.command()
def build(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    ann: Annotated[str, typer.Option(help="vector index: flat or hnsw")] = "flat",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")] = False,
) -> None:
    """Build (or incrementally update) the index from the corpus."""
    if ann not in ("flat", "hnsw"):
        fail(f"--ann must be flat or hnsw, not {ann!r}", code=2)
    settings = load_settings(corpus_dir=corpus, index_dir=index, model=model, encoder=encoder)
    quiet = quiet or bool(os.environ.get("CI"))
    from index.build import build_index

    try:
        report = build_index(
            settings.corpus_dir,
            settings.index_dir,
            settings.model,
            ann=ann,
            progress=not quiet,
            encoder=settings.encoder,
        )
    except domain_errors() as exc:
        fail(str(exc))
    typer.echo(
        f"index {report.index_dir}: {report.n_documents} documents, {report.n_passages} "
        f"passages, {report.n_embedded} texts embedded in {report.seconds:.1f} s"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address [env RAGQA_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="port [env RAGQA_PORT]")] = None,
) -> None:
    """Build the index if it is missing or stale, then serve the HTTP API."""
    settings = load_settings(host=host, port=port)
    ensure_index(settings)
    # The app reads its settings from the environment (workers are separate processes).
    os.environ["RAGQA_HOST"], os.environ["RAGQA_PORT"] = settings.host, str(settings.port)
    import uvicorn

    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        access_log=False,  # our access log is the structured one
    )


def ensure_index(settings: Settings) -> None:
    """Build the index at `settings.index_dir` unless it is current (prints progress)."""
    from index.build import build_index, index_is_current

    try:
        if index_is_current(
            settings.corpus_dir, settings.index_dir, settings.model, encoder=settings.encoder
        ):
            return
        err.print(f"building the index at {settings.index_dir} (missing or stale)")
        build_index(
            settings.corpus_dir,
            settings.index_dir,
            settings.model,
            progress=True,
            encoder=settings.encoder,
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

    try:
        engine = Engine.load(settings.index_dir, settings.model, encoder=settings.encoder)
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


@corpus_app.command("inspect")
def corpus_inspect(
    directory: Annotated[
        Path | None, typer.Argument(help="corpus directory [default: RAGQA_CORPUS_DIR]")
    ] = None,
) -> None:
    """List the documents a corpus directory yields, and any load problems."""
    from corpus.cli import inspect

    directory = directory or load_settings().corpus_dir
    raise typer.Exit(inspect(directory))
