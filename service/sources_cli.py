"""`ragqa sources` and `ragqa add --page/--feed`: web sources from the terminal.

On the local store (`RAGQA_DATA_DIR`, `RAGQA_STORE_URL`, fetching under the `RAGQA_FETCH_*`
settings) or, with `--url` and `--api-key`, on a running service through
`/v1/collections/{c}/sources`. `ragqa sources poll` polls the sources that are due (or one
source, `--id`, now): what the service's poller does on schedule, for a deployment that runs
it from cron instead (`RAGQA_POLL_SOURCES=false`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from corpus.console import fail
from index.settings import load_settings
from service.documents_cli import (
    CollectionOpt,
    KeyOpt,
    QuietOpt,
    UrlOpt,
    _check,
    _client,
    _errors,
    _open_library,
    _remote,
    out,
)
from service.urls import api_path

app = typer.Typer(
    help="Web sources (feeds, sitemaps, pages): list them, or poll them now.",
    no_args_is_help=False,
    invoke_without_command=True,
)
OptionalCollection = Annotated[
    str | None, typer.Option("--collection", "-c", help="only this collection")
]


def _shown(source: dict[str, Any]) -> None:
    """One source and its newest poll, as `ragqa sources` prints it."""
    every = f"every {source['interval_s']} s" if source.get("interval_s") else "when polled"
    out.print(
        Text(
            f"{source['source_id']}  {source['collection']}  {source['kind']}  {source['url']}"
            f"  ({every}; {source['items_seen']} items seen)"
        )
    )
    out.print(
        Text(
            f"    last poll {source.get('last_poll_at') or '-'}, next "
            f"{source.get('next_poll_at') or '-'}, ETag {source.get('etag') or '-'}, "
            f"Last-Modified {source.get('last_modified') or '-'}"
        )
    )
    if source.get("last_error"):
        out.print(Text(f"    error: {source['last_error']}"))
    for poll in source.get("polls", [])[:1]:
        out.print(
            Text(
                f"    {poll['finished_at']}: {poll['outcome']} (HTTP {poll['http_status']}), "
                f"{len(poll['added'])} added, {len(poll['skipped'])} skipped"
            )
        )
        for added in poll["added"]:
            out.print(Text(f"      added {added['doc_id']}  {added['title']}  ({added['url']})"))
        for skipped in poll["skipped"]:
            out.print(Text(f"      skipped {skipped['item']}: {skipped['reason']}"))


def _as_dicts(sources: list[Any]) -> list[dict[str, Any]]:
    from service.source_schemas import SourceOut

    return [SourceOut.of(s).model_dump(mode="json") for s in sources]


@app.callback()
def sources(
    ctx: typer.Context,
    collection: OptionalCollection = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """List the web sources: each with its last and next poll, validators, error and what its
    last poll added and skipped."""
    if ctx.invoked_subcommand is not None:
        return
    base = _remote(url)
    if base is not None:
        with _client(base, api_key) as client:
            names = (
                [collection]
                if collection
                else [c["name"] for c in _check(client.get("/v1/collections"))]
            )
            rows = []
            for name in names:
                rows += _check(client.get(api_path("v1", "collections", name, "sources")))
    else:
        from index.store.sources import list_sources

        library = _open_library(True)
        try:
            names = [collection] if collection else [c.name for c in library.collections()]
            rows = []
            for name in names:
                library.check_collection(name)
                rows += _as_dicts(list_sources(library.store, name))
        except _errors(LookupError) as exc:
            fail(f"no collection {collection!r}" if isinstance(exc, LookupError) else str(exc))
        finally:
            library.close()
    if not rows:
        out.print("no web sources (add one with `ragqa add --feed URL` or `--page URL`)")
    for row in rows:
        _shown(row)


@app.command("poll")
def poll(
    collection: OptionalCollection = None,
    source_id: Annotated[
        str | None, typer.Option("--id", help="poll this source now, whatever its schedule")
    ] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Poll the sources that are due (or `--id SOURCE` now), and show what each poll did."""
    base = _remote(url)
    if source_id is not None and collection is None:
        fail("--id needs --collection (the source's collection)", code=2)
    if base is not None:
        if source_id is None:
            fail("with --url, name the source: --collection C --id SOURCE", code=2)
        assert collection is not None
        with _client(base, api_key) as client:
            path = api_path("v1", "collections", collection, "sources", source_id, "poll")
            rows = [_check(client.post(path))]
    else:
        from corpus.web.fetch import Fetcher
        from index.store.polling import poll_due, poll_source
        from index.store.sources import get_source

        settings = load_settings()
        library = _open_library(True)
        try:
            if source_id is not None:
                assert collection is not None
                source = get_source(library.store, collection, source_id)
                with Fetcher(settings.fetch_policy()) as fetcher:
                    polled = [poll_source(library, source, fetcher, settings.poll_limits())]
            else:
                polled = poll_due(library, settings.fetch_policy(), settings.poll_limits())
                polled = [s for s in polled if collection is None or s.collection == collection]
            rows = _as_dicts(polled)
        except _errors(LookupError) as exc:
            fail(
                f"no source {source_id!r} in {collection!r}"
                if isinstance(exc, LookupError)
                else str(exc)
            )
        finally:
            library.close()
    if not rows:
        out.print("no source was due")
    for row in rows:
        _shown(row)
    if any(row.get("last_error") for row in rows):
        raise typer.Exit(1)


def add_web(
    collection: str,
    pages: list[str],
    feeds: list[str],
    url: str | None,
    api_key: str | None,
) -> bool:
    """`ragqa add --page/--feed`: open each as a source (polled once); True when any URL
    was refused (reported with the reason)."""
    from pydantic import ValidationError

    from service.source_schemas import SourceIn

    bodies = []
    try:
        bodies += [SourceIn(url=feed) for feed in feeds]
        if pages:
            bodies.append(SourceIn(urls=pages))
    except ValidationError as exc:
        fail(f"--page/--feed: {exc.errors()[0]['msg'].removeprefix('Value error, ')}", code=2)
    refused = False
    base = _remote(url)
    rows: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    if base is not None:
        with _client(base, api_key) as client:
            _check(client.put(api_path("v1", "collections", collection)))
            path = api_path("v1", "collections", collection, "sources")
            for body in bodies:
                response = client.post(path, json=body.model_dump(exclude_none=True))
                if response.status_code == 422:
                    skipped.append(
                        (body.url or ",".join(body.urls or []), response.json()["error"]["message"])
                    )
                    continue
                answer = _check(response)
                rows += answer["sources"]
                skipped += [(s["item"], s["reason"]) for s in answer["skipped"]]
    else:
        from corpus.web.errors import FetchError
        from index.errors import InvalidDocumentError
        from service.routes.sources import add_sources

        settings = load_settings()
        library = _open_library(True)
        try:
            library.create_collection(collection)
            for body in bodies:
                try:
                    opened, refused_urls = add_sources(library, settings, collection, body)
                except FetchError as exc:
                    skipped.append((exc.url, exc.reason))
                    continue
                except InvalidDocumentError as exc:
                    skipped.append((body.url or "", str(exc)))
                    continue
                rows += _as_dicts([s for s, _ in opened])
                skipped += [(s.item, s.reason) for s in refused_urls]
        except _errors(ValueError) as exc:
            fail(str(exc))
        finally:
            library.close()
    for row in rows:
        _shown(row)
    if skipped:
        refused = True
        out.print("refused:")
        for item, reason in skipped:
            out.print(Text(f"  {item}: {reason}"))
    return refused


def add(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="text, PDF, Word or EPUB files, or folders", show_default=False),
    ] = None,
    collection: CollectionOpt = "default",
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    quiet: QuietOpt = False,
    page: Annotated[
        list[str] | None,
        typer.Option("--page", help="an article page to fetch (repeat for several)"),
    ] = None,
    feed: Annotated[
        list[str] | None,
        typer.Option("--feed", help="an RSS/Atom feed or a sitemap, polled on its schedule"),
    ] = None,
) -> None:
    """Add articles from files, article pages (--page URL) or feeds and sitemaps (--feed URL)
    to a collection (same content again: nothing re-embedded). `--url` names a running
    service, not a page."""
    from service.document_schemas import collection_name
    from service.documents_cli import add as add_files

    if not paths and not page and not feed:
        fail("give files or folders, --page URL or --feed URL", code=2)
    try:
        collection_name(collection)
    except ValueError as exc:
        fail(f"--collection: {exc}", code=2)
    refused = add_web(collection, page or [], feed or [], url, api_key) if page or feed else False
    if paths:
        try:
            add_files(paths, collection, url, api_key, quiet)
        except typer.Exit as exc:
            refused = refused or bool(exc.exit_code)
    if refused:
        raise typer.Exit(1)
