"""What one running app holds: settings, the live engine reference, the CPU pool, metrics.

The engine reference is swapped whole on reload; a request reads it once (through the
`EngineDep` dependency) and uses that engine to the end, so it sees the old index or the
new one, never a mix.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import anyio
import anyio.to_thread

from index.engine import Engine
from index.settings import Settings
from index.store.library import Library
from service.metrics import Metrics

if TYPE_CHECKING:
    from service.upload_jobs import JobRunner

T = TypeVar("T")
logger = logging.getLogger("ragqa.store")
STORE_POLL_SECONDS = 1.0


@dataclass
class AppState:
    """Per-app state, stored as `app.state.ragqa`."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    engine: Engine | None = None
    preloaded: Engine | None = None
    """Served instead of loading `settings.index_dir` at start-up, when given."""
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    library: Library | None = None
    """The document store and its index (None when serving a preloaded engine)."""
    limiter: anyio.CapacityLimiter | None = None
    jobs: JobRunner | None = None
    """Runs uploads that answer 202 (`service.upload_jobs`); None without a library."""

    def swap(self, engine: Engine) -> None:
        """Install a loaded engine (one reference assignment: atomic for readers)."""
        self.engine = engine
        self.metrics.set_index(engine)

    async def run_cpu(self, func: Callable[..., T], *args: object) -> T:
        """Run CPU-bound engine work off the event loop, at most `settings.threads` at once."""
        if self.limiter is None:
            self.limiter = anyio.CapacityLimiter(self.settings.threads)
        return await anyio.to_thread.run_sync(func, *args, limiter=self.limiter)


def get_engine_now(state: AppState) -> Engine:
    """The live engine, for callers outside a request (the MCP tools); NotReady before load."""
    from service.errors import NotReady

    if state.engine is None:
        raise NotReady("the index is not loaded yet; retry shortly")
    return state.engine


async def follow_store(library: Library) -> None:
    """Pick up writes made by another process (a worker, `ragqa add`) within a second."""
    while True:
        await anyio.sleep(STORE_POLL_SECONDS)
        try:
            await anyio.to_thread.run_sync(library.refresh)
        except Exception:  # a failed refresh keeps the last good view; logged, retried
            logger.exception("refreshing the view of the document store failed")
