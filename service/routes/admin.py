"""`POST /v1/index/reload`: load a new index (optionally rebuilt first) and swap it in live.

Disabled (404) unless `RAGQA_API_KEY` is set; the key is compared in constant time. Loading
reuses the live engine's embedder, so a reload reads files only; a failed load leaves the old
engine serving. One reload at a time.
"""

from __future__ import annotations

import hmac
import time
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, Header

from index.build import build_index
from index.engine import Engine
from index.library import Library
from service.deps import StateDep
from service.errors import AdminDisabled, ReloadInProgress, Unauthorized
from service.schemas import ReloadRequest, ReloadResponse, error_responses
from service.settings import Settings

router = APIRouter(prefix="/v1", tags=["admin"])


async def require_key(
    state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Raise unless admin routes are enabled and `authorization` carries the key.

    A dependency, so it runs before the body is validated: a caller without the key learns
    nothing about the body."""
    key = state.settings.api_key
    if key is None:
        raise AdminDisabled("admin routes are disabled: set RAGQA_API_KEY")
    scheme, _, token = (authorization or "").partition(" ")
    expected = key.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise Unauthorized("missing or wrong API key: send Authorization: Bearer <key>")


@router.post(
    "/index/reload",
    response_model=ReloadResponse,
    responses=error_responses(400, 401, 404, 409, 413, 422, 429),
    dependencies=[Depends(require_key)],
)
async def reload_index(
    state: StateDep, body: Annotated[ReloadRequest | None, Body()] = None
) -> ReloadResponse:
    """Load the index directory again (after `{"rebuild": true}`, rebuild it first) and swap.

    Requires `Authorization: Bearer <RAGQA_API_KEY>`."""
    if state.reload_lock.locked():
        raise ReloadInProgress("another reload is running; retry when it has finished")
    async with state.reload_lock:
        start = time.perf_counter()
        settings = state.settings
        # Not in the query pool: a rebuild must not take a slot from live queries.
        if body is not None and body.rebuild:
            await anyio.to_thread.run_sync(_build, settings)
        library = state.library
        if library is not None:
            # The corpus index is imported into `default` (a no-op when it is unchanged); the
            # library publishes the new view itself.
            await anyio.to_thread.run_sync(_sync, library, settings)
            engine = library.engine
            return summary(engine, (time.perf_counter() - start) * 1000)
        embedder = getattr(state.engine, "embedder", None)
        engine = await anyio.to_thread.run_sync(
            Engine.load, settings.index_dir, settings.model, embedder
        )
        state.swap(engine)
        return summary(engine, (time.perf_counter() - start) * 1000)


def _sync(library: Library, settings: Settings) -> None:
    from index.store import read_index

    library.refresh(force=True)
    if settings.import_corpus:
        library.sync_corpus(read_index(settings.index_dir))


def _build(settings: Settings) -> None:
    build_index(settings.corpus_dir, settings.index_dir, settings.model, progress=False)


def summary(engine: Engine, took_ms: float) -> ReloadResponse:
    manifest = getattr(engine, "manifest", None)
    built_at = getattr(manifest, "built_at", None)
    return ReloadResponse(
        documents=len(engine.documents()),
        passages=engine.n_passages,
        model=engine.model_name,
        built_at=str(built_at) if built_at is not None else None,
        took_ms=took_ms,
    )
