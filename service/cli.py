"""`ragqa service serve|ask`: serve the HTTP API, or answer one question from the terminal.

`app` is the `service` group of the project CLI (`ragqa.cli`); `ragqa serve` and `ragqa ask`
are its shortcuts and `python -m service` runs `serve`. Heavy imports (torch,
sentence-transformers, faiss) happen inside the commands, so `--help` is instant.

`ragqa ask` answers as `POST /v1/ask` does, from the same document store (`RAGQA_DATA_DIR`:
every collection, what `ragqa add` stored included), with its scope as options
(`--collection`, `--published-from`, `--published-to`, `--source`, `--metadata`,
`--reporter`, `--newspaper`, `--paper-page`, `--place`; the names of `service.scope`), or
asks a running service with `--url`.
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
    from service.schemas import AskRequest, AskResponse

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


UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="a running service, e.g. http://127.0.0.1:8000 [env RAGQA_URL]"),
]
KeyOpt = Annotated[
    str | None,
    typer.Option("--api-key", help="its API key [env RAGQA_API_KEY]", show_default=False),
]


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question, in Chinese or English")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50)] = 5,
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", "-c", help="answer from this collection (repeat for several)"),
    ] = None,
    published_from: Annotated[
        str | None, typer.Option("--published-from", help="YYYY-MM-DD, inclusive")
    ] = None,
    published_to: Annotated[
        str | None, typer.Option("--published-to", help="YYYY-MM-DD, inclusive")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="exact source name (repeat)")
    ] = None,
    metadata: Annotated[
        list[str] | None, typer.Option("--metadata", help="key:value that must match (repeat)")
    ] = None,
    reporter: Annotated[
        list[str] | None, typer.Option("--reporter", help="a reporter of the byline (repeat)")
    ] = None,
    newspaper: Annotated[
        list[str] | None, typer.Option("--newspaper", help="newspaper, e.g. 甘肃日报 (repeat)")
    ] = None,
    paper_page: Annotated[
        list[str] | None, typer.Option("--paper-page", help="newspaper page (版次) (repeat)")
    ] = None,
    place: Annotated[
        list[str] | None, typer.Option("--place", help="dateline place, e.g. 兰州 (repeat)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the /v1/ask JSON")] = False,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    index: IndexOpt = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="document store directory [env RAGQA_DATA_DIR]"),
    ] = None,
) -> None:
    """Answer a question from the document store (every collection, or --collection), as
    POST /v1/ask does: in-process, or from a running service with --url."""
    from service.schemas import AskRequest

    settings = load_settings(index_dir=index, data_dir=data_dir)
    news = {"reporter": reporter, "newspaper": newspaper, "paper_page": paper_page, "place": place}
    body = {
        "question": question,
        "top_k": top_k,
        "collections": collection or None,
        "filters": _cli_filters(published_from, published_to, source, metadata, news),
    }
    try:
        request = AskRequest.model_validate(body)
    except ValueError as exc:
        fail(_first_error(exc), code=2)
    base = (url or os.environ.get("RAGQA_URL") or "").rstrip("/")
    response = _ask_remote(base, api_key, request) if base else _ask_local(settings, request)
    if as_json:
        typer.echo(response.model_dump_json(indent=2))
    else:
        print_result(Console(), response)


def _cli_filters(
    published_from: str | None,
    published_to: str | None,
    source: list[str] | None,
    metadata: list[str] | None,
    news: dict[str, list[str] | None] | None = None,
) -> dict[str, Any] | None:
    """`filters` of the request from the options (None: none given)."""
    pairs: dict[str, str] = {}
    for item in metadata or ():
        key, sep, value = item.partition(":")
        if not sep or not key:
            fail(f"--metadata: {item!r} is not key:value", code=2)
        pairs[key] = value
    given = {
        "published_from": published_from,
        "published_to": published_to,
        "source": source or None,
        "metadata": pairs or None,
        **{k: v or None for k, v in (news or {}).items()},
    }
    filters = {k: v for k, v in given.items() if v is not None}
    return filters or None


def _ask_local(settings: Settings, request: AskRequest) -> AskResponse:
    """The answer from the document store `settings` names, opened as the service opens it
    (the corpus index imported into `default`), so `ragqa add` is seen at once."""
    from index.opening import open_library
    from service import queries
    from service.errors import ApiError
    from service.schemas import AskResponse

    if (
        settings.import_corpus
        and not settings.index_dir.is_dir()
        and not settings.data_path().exists()
    ):
        fail(f"no index at {settings.index_dir}: run `ragqa build`")
    try:
        library = open_library(settings)
    except domain_errors() as exc:
        fail(str(exc))
    try:
        engine = library.engine
        collections, filters = queries.restriction(engine, request.collections, request.filters)
        result = queries.ask(
            engine, request.question, request.top_k, collections=collections, filters=filters
        )
    except ApiError as exc:
        fail(exc.message)
    except domain_errors() as exc:
        fail(str(exc))
    finally:
        library.close()
    return AskResponse.model_validate(result)


def _ask_remote(base: str, api_key: str | None, request: AskRequest) -> AskResponse:
    """The answer of `POST /v1/ask` of the service at `base`; its error message, one line."""
    import httpx

    from service.schemas import AskResponse

    key = api_key or os.environ.get("RAGQA_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = request.model_dump(mode="json", exclude_none=True)
    try:
        response = httpx.post(f"{base}/v1/ask", json=body, headers=headers, timeout=600)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {base}: {exc}")
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        fail(f"POST /v1/ask: {response.status_code} {message}")
    return AskResponse.model_validate(response.json())


def _first_error(exc: ValueError) -> str:
    """The first error of a request that fails validation, worded as the HTTP API words it
    ("question: must not be empty")."""
    from pydantic import ValidationError

    from service.errors import validation_error

    if isinstance(exc, ValidationError):
        return validation_error(exc.errors()).message
    return str(exc)


def print_result(console: Console, result: AskResult | AskResponse) -> None:
    """The answer, then numbered passages with citation and the answer span highlighted; a
    citation names the article's link where the result has one (`--url`), else its source."""
    if result.answer is None:
        console.print(Text("No answer in the corpus; closest passages:", style="yellow"))
    else:
        a = result.answer
        console.print(Text(a.text, style="bold green"))
        cited = " · ".join(x for x in (a.title, a.published, a.byline) if x)
        where = getattr(a, "url", None) or a.source
        console.print(Text(f"— {cited} ({where}, chars {a.char_start}–{a.char_end})", "dim"))
    for p in result.passages:
        date = p.published or "undated"
        byline = f" · {p.byline}" if p.byline else ""
        where = getattr(p, "url", None) or p.source  # a server's answer links to the article
        head = (
            f"\n[{p.rank}] {p.title} · {where} · {date}{byline} · chars {p.char_start}–{p.char_end}"
        )
        console.print(Text(head + f" · score {p.score:.3f}", style="bold"))
        body = Text(p.text)
        if p.highlight is not None:
            start, end = p.highlight.char_start - p.char_start, p.highlight.char_end - p.char_start
            body.stylize("bold black on yellow", start, end)
        console.print(body)
    console.print(Text(f"\n{result.took_ms:.1f} ms", style="dim"))
