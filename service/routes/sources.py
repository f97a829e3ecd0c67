"""Web sources of a collection: `/v1/collections/{c}/sources[/{source_id}[/poll]]`.

`POST` adds a feed, a sitemap or article pages; each new source is fetched and polled once
before the answer, so its articles are answerable when the 201 arrives. A URL that cannot be
fetched or read is a 422 naming it and the reason, and nothing is stored. `GET` lists the
sources with their state and recent polls; `POST …/{id}/poll` polls one now (what the
service's poller does on each source's schedule, `service.poller`). Writes need the API key.
The work is `index.store.polling`; fetching follows `corpus.web.fetch`.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Body, Depends, Path, Response

from corpus.web.errors import FetchError
from corpus.web.fetch import Fetcher
from index.errors import InvalidDocumentError
from index.settings import Settings
from index.store.library import Library
from index.store.polling import open_source, poll_source
from index.store.sources import Source, delete_source, get_source, list_sources
from index.store.writes import Skipped
from service.auth import require_key
from service.deps import StateDep
from service.document_schemas import SkippedOut
from service.errors import InvalidRequest
from service.routes.collections import CollectionPath, checked, library_of, run_write
from service.routing import api_router
from service.schemas import error_responses
from service.source_schemas import (
    SOURCE_EXAMPLE,
    SourceDeleted,
    SourceIn,
    SourceOut,
    SourcesWritten,
)

router = api_router(prefix="/v1", tags=["sources"])

SourceIdPath = Annotated[
    str, Path(description="A source id, as listed", examples=["src-0123456789abcdef"])
]


@router.get(
    "/collections/{collection}/sources",
    response_model=list[SourceOut],
    responses=error_responses(404, 422, 503),
)
async def list_collection_sources(collection: CollectionPath, state: StateDep) -> list[SourceOut]:
    """The web sources of a collection, each with its last poll, validators, error and what
    its recent polls added (newest first)."""
    library = library_of(state)
    name = checked(collection)
    await anyio.to_thread.run_sync(library.check_collection, name)
    sources = await anyio.to_thread.run_sync(list_sources, library.store, name)
    return [SourceOut.of(s) for s in sources]


def add_sources(
    library: Library, settings: Settings, collection: str, body: SourceIn
) -> tuple[list[tuple[Source, bool]], list[Skipped]]:
    """Open each URL of `body` as a source (a list of pages: a refused one is skipped, unless
    all are)."""
    urls = [body.url] if body.url is not None else list(body.urls or [])
    opened: list[tuple[Source, bool]] = []
    skipped: list[Skipped] = []
    errors: list[Exception] = []
    with Fetcher(settings.fetch_policy()) as fetcher:
        for url in urls:
            try:
                opened.append(
                    open_source(
                        library,
                        collection,
                        url,
                        fetcher,
                        kind=body.kind if body.url is not None else "page",
                        interval_s=body.interval_s,
                        limits=settings.poll_limits(),
                    )
                )
            except (FetchError, InvalidDocumentError) as exc:
                if body.url is not None:
                    raise
                errors.append(exc)
                reason = exc.reason if isinstance(exc, FetchError) else exc.message
                skipped.append(Skipped(url, reason))
    if not opened and errors:
        raise errors[0]
    return opened, skipped


@router.post(
    "/collections/{collection}/sources",
    response_model=SourcesWritten,
    status_code=201,
    responses={
        200: {"model": SourcesWritten, "description": "Every URL was already a source"},
        **error_responses(400, 401, 404, 422, 503),
    },
    dependencies=[Depends(require_key)],
)
async def add_collection_sources(
    collection: CollectionPath,
    state: StateDep,
    response: Response,
    body: Annotated[SourceIn, Body(examples=[SOURCE_EXAMPLE])],
) -> SourcesWritten:
    """Add an RSS/Atom feed, a sitemap or an article page (`url`), or article pages
    (`urls`). Each new source is fetched and polled once now; a known URL is returned as it
    is (200). Fetches obey robots.txt, a time and size limit and the address rules
    (docs/documents.md, "Web pages and feeds")."""
    library = library_of(state)
    name = checked(collection)
    if (body.url is None) == (body.urls is None):
        raise InvalidRequest("url: give `url` (a feed, sitemap or page) or `urls`, not both")
    if body.urls is not None and body.kind not in ("auto", "page"):
        raise InvalidRequest("kind: `urls` are article pages; send a feed or sitemap as `url`")
    await anyio.to_thread.run_sync(library.check_collection, name)
    opened, skipped = await run_write(state, add_sources, library, state.settings, name, body)
    created = [s.source_id for s, new in opened if new]
    response.status_code = 201 if created else 200
    return SourcesWritten(
        collection=name,
        created=created,
        sources=[SourceOut.of(s) for s, _ in opened],
        skipped=[SkippedOut(**s.__dict__) for s in skipped],
    )


def poll_now(library: Library, settings: Settings, collection: str, source_id: str) -> Source:
    source = get_source(library.store, collection, source_id)
    with Fetcher(settings.fetch_policy()) as fetcher:
        return poll_source(library, source, fetcher, settings.poll_limits())


@router.post(
    "/collections/{collection}/sources/{source_id}/poll",
    response_model=SourceOut,
    responses=error_responses(401, 404, 422, 503),
    dependencies=[Depends(require_key)],
)
async def poll_collection_source(
    collection: CollectionPath, source_id: SourceIdPath, state: StateDep
) -> SourceOut:
    """Poll the source now, whatever its schedule: its newest poll is `polls[0]` (a feed
    that did not change since the last poll answers 304: `not_modified`)."""
    library = library_of(state)
    name = checked(collection)
    source = await run_write(state, poll_now, library, state.settings, name, source_id)
    return SourceOut.of(source)


@router.delete(
    "/collections/{collection}/sources/{source_id}",
    response_model=SourceDeleted,
    responses=error_responses(401, 404, 422, 503),
    dependencies=[Depends(require_key)],
)
async def delete_collection_source(
    collection: CollectionPath, source_id: SourceIdPath, state: StateDep
) -> SourceDeleted:
    """Stop polling a source and forget what it has seen; its documents stay (delete them
    as any document)."""
    library = library_of(state)
    name = checked(collection)
    await run_write(state, delete_source, library.store, name, source_id)
    return SourceDeleted(source_id=source_id, collection=name)
