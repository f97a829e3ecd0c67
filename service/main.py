"""Build the FastAPI app: lifespan (load the engine once), middleware, CORS, errors, routers.

Serve with `python -m service`, `ragqa serve`, or `uvicorn service.main:create_app --factory`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio
import anyio.to_thread
from fastapi import FastAPI

from index.engine import Engine
from index.opening import open_library
from index.rank import followup
from index.settings import Runtime, Settings
from service import mcp_server
from service.access_log import AccessLogMiddleware
from service.bodylimit import DOCUMENT_WRITES, BodyLimitMiddleware
from service.cors import JsonCORSMiddleware
from service.error_handlers import (
    CatchAllMiddleware,
    StartupErrorMiddleware,
    register_error_handlers,
)
from service.poller import poll_sources
from service.ratelimit import RateLimiter, RateLimitMiddleware
from service.routes import (
    admin,
    apidocs,
    ask,
    chat,
    collections,
    dify,
    documents,
    jobs,
    ops,
    read,
    search,
    sources,
    widget,
)
from service.routing import flat_routes, refuse_without_key
from service.state import AppState, follow_store, get_engine_now
from service.upload_jobs import JobRunner


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load model and index once; requests never load anything."""
    state: AppState = app.state.ragqa
    settings = state.settings
    from index.encode.embedder import limit_threads  # heavy (torch): only when serving

    # Each request is one encoder pass; `threads` of them run at once, so one torch thread
    # each keeps the pool from oversubscribing the cores (numpy's BLAS and OpenMP too).
    limit_threads(settings.torch_threads)
    state.limiter = anyio.CapacityLimiter(settings.threads)
    engine = state.preloaded
    if engine is None:
        library = await anyio.to_thread.run_sync(open_library, settings)
        library.listeners.append(state.swap)
        state.library = library
        state.jobs = await anyio.to_thread.run_sync(JobRunner, library, settings)
        engine = library.engine
    state.swap(engine)
    async with app.state.mcp.session_manager.run(), anyio.create_task_group() as tasks:
        if state.library is not None:
            tasks.start_soon(follow_store, state.library)
            if settings.poll_sources:
                tasks.start_soon(poll_sources, state.library, settings)
        # In the background: the service is ready before it, and a follow-up asked meanwhile
        # only loads the same model itself.
        tasks.start_soon(partial(anyio.to_thread.run_sync, followup.warm, abandon_on_cancel=True))
        yield
        tasks.cancel_scope.cancel()
    if state.jobs is not None:
        state.jobs.close()
    if state.library is not None:
        state.library.close()
    state.engine = None


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The app for `settings` (read from `RAGQA_*` environment variables when omitted).

    Pass an already loaded `engine` to serve it instead of loading `settings.index_dir`
    (embedding the app in a process that holds one, tests sharing a session engine)."""
    settings = settings or Settings()
    Runtime().apply()  # the model cache and hub settings (uvicorn's workers start here)
    app = FastAPI(
        title="ragqa",
        summary="Questions over Chinese news, answered with verbatim, offset-checked citations.",
        version="1.0.0",
        lifespan=lifespan,
        # Starlette's slash redirect builds its Location from the Host header: `/mcp/` with
        # `Host: evil.example` sent clients to http://evil.example/mcp. A path is served as
        # written or is a 404.
        redirect_slashes=False,
        docs_url=None,  # /docs and /redoc come from service.routes.apidocs, without a CDN
        redoc_url=None,
    )
    app.state.ragqa = AppState(settings=settings, preloaded=engine)
    register_error_handlers(app)
    for module in (
        ask,
        search,
        documents,
        sources,  # before collections: its catch-all `{collection:path}` would take ours
        collections,
        jobs,
        admin,
        ops,
        widget,
        dify,
        chat,
        apidocs,
        read,
    ):
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
