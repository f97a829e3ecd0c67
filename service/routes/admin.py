"""`POST /v1/index/reload`: load a new index (optionally rebuilt first) and swap it in live.

Disabled (404) unless `RAGQA_API_KEY` is set; the key is compared in constant time. Building
and loading reuse the live engine's embedder, so a reload never loads a second model; a failed
load leaves the old engine serving. One reload at a time.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Annotated

import anyio.to_thread
from fastapi import Body, Depends

from index.encode.embedder import Embedder, resolve_encoder
from index.engine import Engine
from index.rank.glossary import glossary_of
from index.settings import Settings
from index.store.build import build_index
from index.store.library import Library
from service.auth import require_key
from service.deps import StateDep
from service.errors import ReloadInProgress
from service.routing import api_router
from service.schemas import ReloadRequest, ReloadResponse, error_responses

router = api_router(prefix="/v1", tags=["admin"])


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
        embedder = getattr(state.engine, "embedder", None)
        if body is not None and body.rebuild:
            await anyio.to_thread.run_sync(_build, settings, embedder)
        library = state.library
        if library is not None:
            # The corpus index is imported into `default` (a no-op when it is unchanged); the
            # library publishes the new view itself.
            await anyio.to_thread.run_sync(_sync, library, settings)
            engine = library.engine
            return summary(engine, (time.perf_counter() - start) * 1000)
        engine = await anyio.to_thread.run_sync(
            partial(
                Engine.load,
                settings.index_dir,
                settings.model,
                embedder,
                encoder=settings.encoder,
                glossary=glossary_of(settings.glossary),
            )
        )
        state.swap(engine)
        return summary(engine, (time.perf_counter() - start) * 1000)


def _sync(library: Library, settings: Settings) -> None:
    from index.store.files import read_index

    library.refresh(force=True)
    if settings.import_corpus:
        library.sync_corpus(read_index(settings.index_dir))


def _build(settings: Settings, embedder: Embedder | None) -> None:
    """Rebuild with the live model (a second copy of it would double the process's memory)."""
    if embedder is not None and (
        embedder.name != settings.model
        or embedder.encoder != resolve_encoder(settings.encoder, settings.model)
    ):
        embedder = None  # the index is being rebuilt with another model or encoder variant
    build_index(
        settings.corpus_dir,
        settings.index_dir,
        settings.model,
        progress=False,
        embedder=embedder,
        encoder=settings.encoder,
    )


def summary(engine: Engine, took_ms: float) -> ReloadResponse:
    manifest = getattr(engine, "manifest", None)
    built_at = getattr(manifest, "built_at", None)
    return ReloadResponse(
        documents=len(engine.contents.documents()),
        passages=engine.n_passages,
        model=engine.model_name,
        built_at=str(built_at) if built_at is not None else None,
        took_ms=took_ms,
    )
