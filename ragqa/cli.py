"""`ragqa`: the one command line. Each layer owns its group, mounted here:

    ragqa corpus inspect     look at the corpus                    (corpus/cli.py)
    ragqa index build        build or update the index             (index/cli.py)
    ragqa service serve|ask  serve the HTTP API, ask in-process    (service/cli.py)
    ragqa eval run|diff|gate|tune  evaluate                      (eval/cli.py)
    ragqa eval bench         speed and size benchmarks             (benchmarks/benchmark.py)
    ragqa add|rm|collections  the document store, local or --url   (service/documents_cli.py)
    ragqa sources [poll]     web sources; add --page/--feed        (service/sources_cli.py)
    ragqa mcp                the MCP server over stdio             (service/mcp_server.py)
    ragqa train reader       train the reader                      (index/reader/cli.py)

`ragqa build`, `ragqa serve` and `ragqa ask` are shortcuts for the commands they name.
Heavy imports (torch, sentence-transformers, faiss) happen inside the commands, so
`ragqa --help` is instant; failures are one red line (`corpus.console.fail`) and exit 1,
or 2 for usage and configuration, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from corpus import paths
from corpus.cli import app as corpus_app
from corpus.console import fail
from eval.cli import app as eval_app
from index.cli import app as index_app
from index.cli import build
from index.errors import domain_errors
from index.reader.cli import app as train_app
from index.settings import Runtime, load_settings
from service.cli import app as service_app
from service.cli import ask, serve
from service.documents_cli import collections, rm
from service.sources_cli import add
from service.sources_cli import app as sources_app

app = typer.Typer(
    name="ragqa",
    help="Question answering over Chinese news with verbatim, offset-checked citations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _runtime() -> None:
    """Read the model cache and hub settings from the environment (the roof's edge)."""
    Runtime().apply()


app.add_typer(corpus_app, name="corpus")
app.add_typer(index_app, name="index")
app.add_typer(service_app, name="service")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")
app.add_typer(sources_app, name="sources")
app.command("build", help="Shortcut for `ragqa index build`.")(build)
app.command("serve", help="Shortcut for `ragqa service serve`.")(serve)
app.command("ask", help="Shortcut for `ragqa service ask`.")(ask)
app.command("add")(add)
app.command("rm")(rm)
app.command("collections")(collections)


@eval_app.command("bench")
def bench(
    index: Annotated[
        Path, typer.Option("--index", help="index of the latency benchmark [var/index]")
    ] = paths.INDEX_DIR,
    model: Annotated[
        str | None, typer.Option("--model", help="embedding model [env RAGQA_MODEL]")
    ] = None,
    synthetic: Annotated[
        int, typer.Option("--synthetic", min=1, help="vectors of the synthetic ANN corpus")
    ] = 100_000,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="also write the figures to this file")
    ] = None,
) -> None:
    """Speed and size benchmarks (benchmarks/benchmark.py): seed build, query latency, ANN."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from benchmarks import benchmark
    from index.errors import IndexError_

    try:
        code = benchmark.run(index, model or load_settings().model, synthetic, json_path)
    except (IndexError_, FileNotFoundError, NotADirectoryError) as exc:
        fail(str(exc))
    raise typer.Exit(code)


@app.command("mcp")
def mcp(
    index: Annotated[
        Path | None, typer.Option("--index", help="index directory [env RAGQA_INDEX_DIR]")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="document store directory [env RAGQA_DATA_DIR]"),
    ] = None,
) -> None:
    """Serve the MCP tools (search, ask, get_document) over stdio, for desktop MCP clients.

    They read the same document store as the service (every collection, the uploaded
    documents and the imported corpus), following its writes. Logs go to stderr; stdout
    carries only the protocol. Over HTTP the same tools are at /mcp of the running service
    (`ragqa serve`)."""
    settings = load_settings(index_dir=index, data_dir=data_dir)
    from service.mcp_server import run_stdio

    try:
        run_stdio(settings)
    except domain_errors() as exc:
        fail(str(exc))


def main() -> None:
    """Console-script entry point (`ragqa`)."""
    app()


if __name__ == "__main__":
    main()
