"""Build the FastAPI app: lifespan (load the engine once), middleware, CORS, errors, routers.

Serve with `python -m service`, `ragqa serve`, or `uvicorn service.main:create_app --factory`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI

from index.chunking import ChunkingParams
from index.engine import Engine
from index.library import Library
from index.store import IndexManifest
from service import mcp_server
from service.access_log import AccessLogMiddleware
from service.bodylimit import DOCUMENT_WRITES, BodyLimitMiddleware
from service.cors import JsonCORSMiddleware
from service.errors import CatchAllMiddleware, StartupErrorMiddleware, register_error_handlers
from service.ratelimit import RateLimiter, RateLimitMiddleware
from service.routes import admin, ask, chat, collections, dify, documents, ops, search, widget
from service.routing import flat_routes, refuse_without_key
from service.settings import Settings
from service.state import AppState, get_engine_now

logger = logging.getLogger("ragqa.store")
STORE_POLL_SECONDS = 1.0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load model and index once; requests never load anything."""
    state: AppState = app.state.ragqa
    settings = state.settings
    from index.embedder import limit_threads  # heavy (torch): only when serving

    # Each request is one encoder pass; `threads` of them run at once, so one torch thread
    # each keeps the pool from oversubscribing the cores (numpy's BLAS and OpenMP too).
    limit_threads(settings.torch_threads)
    state.limiter = anyio.CapacityLimiter(settings.threads)
    engine = state.preloaded
    if engine is None:
        library = await anyio.to_thread.run_sync(open_library, settings)
        library.listeners.append(state.swap)
        state.library = library
        engine = library.engine
    state.swap(engine)
    async with app.state.mcp.session_manager.run(), anyio.create_task_group() as tasks:
        if state.library is not None:
            tasks.start_soon(follow_store, state.library)
        yield
        tasks.cancel_scope.cancel()
    if state.library is not None:
        state.library.close()
    state.engine = None


def open_library(settings: Settings) -> Library:
    """The library in `settings.data_dir`, with the corpus index imported into `default`."""
    from index.backend import open_backend
    from index.embedder import load_embedder, resolve_encoder
    from index.errors import IndexMismatchError, IndexNotFoundError
    from index.store import read_index

    index = None
    if settings.import_corpus:
        try:
            index = read_index(settings.index_dir)
        except IndexNotFoundError:
            index = None
    encoder = resolve_encoder(settings.encoder, settings.model)
    if index is not None:
        if index.manifest.model != settings.model:
            raise IndexMismatchError(
                f"the index at {settings.index_dir} was built with model "
                f"{index.manifest.model!r}, not {settings.model!r}: rebuild it "
                f"(`ragqa build --model {settings.model}`)"
            )
        if index.manifest.encoder != encoder:
            raise IndexMismatchError(
                f"the index at {settings.index_dir} holds {index.manifest.encoder} vectors and "
                f"cannot be queried with {encoder} query vectors: rebuild it "
                f"(`ragqa build --encoder {encoder}`) or set "
                f"RAGQA_ENCODER={index.manifest.encoder}"
            )
    embedder = load_embedder(settings.model, encoder=encoder)
    backend = open_backend(settings.backend, embedder.dim, settings.milvus())
    library = Library.open(
        settings.data_dir,
        embedder,
        url=settings.store_url,
        backend=backend,
        **library_options(index.manifest if index is not None else None),
    )
    if index is not None:
        library.sync_corpus(index)
    elif settings.import_corpus and not library.store.segments():
        read_index(settings.index_dir)  # raises IndexNotFoundError, naming the directory
    return library


def library_options(manifest: IndexManifest | None) -> dict[str, Any]:
    """How the library chunks and embeds new documents: as the corpus index was built (its
    manifest), so uploads and the imported corpus are cut alike; the defaults without one."""
    if manifest is None:
        return {}
    return {
        "chunking": ChunkingParams.from_manifest(manifest.chunking),
        "embed_titles": manifest.embed_titles,
    }


def corpus_manifest(settings: Settings) -> IndexManifest | None:
    """The manifest of the corpus index the library imports, if there is one."""
    from index.errors import IndexNotFoundError
    from index.store import read_manifest

    if not settings.import_corpus:
        return None
    try:
        return read_manifest(settings.index_dir)
    except IndexNotFoundError:
        return None


async def follow_store(library: Library) -> None:
    """Pick up writes made by another process (a worker, `ragqa add`) within a second."""
    while True:
        await anyio.sleep(STORE_POLL_SECONDS)
        try:
            await anyio.to_thread.run_sync(library.refresh)
        except Exception:  # a failed refresh keeps the last good view; logged, retried
            logger.exception("refreshing the view of the document store failed")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The app for `settings` (read from `RAGQA_*` environment variables when omitted).

    Pass an already loaded `engine` to serve it instead of loading `settings.index_dir`
    (embedding the app in a process that holds one, tests sharing a session engine)."""
    settings = settings or Settings()
    app = FastAPI(
        title="ragqa",
        summary="Questions over Chinese news, answered with verbatim, offset-checked citations.",
        version="1.0.0",
        lifespan=lifespan,
        # Starlette's slash redirect builds its Location from the Host header: `/mcp/` with
        # `Host: evil.example` sent clients to http://evil.example/mcp. A path is served as
        # written or is a 404.
        redirect_slashes=False,
    )
    app.state.ragqa = AppState(settings=settings, preloaded=engine)
    register_error_handlers(app)
    for module in (ask, search, documents, collections, admin, ops, widget, dify, chat):
        app.include_router(module.router)
    app.state.mcp = mcp_server.build_server(
        partial(get_engine_now, app.state.ragqa), app.state.ragqa.run_cpu
    )
    mcp_server.mount(app, app.state.mcp, settings)

    # Added innermost first: the access log sees every response, CORS headers reach 429s,
    # 413s and even 500s (CatchAllMiddleware answers inside the CORS layer).
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides=[(DOCUMENT_WRITES, settings.max_upload_bytes)],
        guard=partial(refuse_without_key, settings, flat_routes(app.router.routes)),
    )
    if settings.rate_limit_per_minute > 0:
        limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        # The query routes and the front doors; operations and the widget's files are free.
        limited = ("/v1/", "/retrieval", "/mcp")
        app.add_middleware(RateLimitMiddleware, limiter=limiter, prefix=limited)
    if settings.cors_origins:
        app.add_middleware(
            JsonCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            # MCP clients in a browser send the protocol version (and a session id) on every
            # call after the first.
            allow_headers=["Content-Type", "Mcp-Protocol-Version", "Mcp-Session-Id"],
            allow_credentials=False,
            expose_headers=["Retry-After"],  # the widget backs off on 429
        )
    app.add_middleware(AccessLogMiddleware, metrics=app.state.ragqa.metrics)
    app.add_middleware(StartupErrorMiddleware)
    return app
