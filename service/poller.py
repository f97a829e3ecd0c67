"""The service's poller: every `POLL_TICK_S`, poll the web sources that are due.

Started with the app's lifespan when `RAGQA_POLL_SOURCES` is on (the default; tests turn it
off and poll explicitly, `POST …/sources/{id}/poll`). Each tick runs
`index.store.polling.poll_due` off the event loop; with several workers each due source is
claimed by one of them. A failing tick is logged and the next one tries again; a source's own
failure is recorded on the source (`last_error`), not raised.
"""

from __future__ import annotations

import logging

import anyio
import anyio.to_thread

from index.settings import Settings
from index.store.library import Library
from index.store.polling import poll_due

POLL_TICK_S = 30.0
logger = logging.getLogger("ragqa.sources")


async def poll_sources(library: Library, settings: Settings) -> None:
    """Poll due sources forever (cancelled with the app)."""
    policy, limits = settings.fetch_policy(), settings.poll_limits()
    while True:
        await anyio.sleep(POLL_TICK_S)
        try:
            polled = await anyio.to_thread.run_sync(poll_due, library, policy, limits)
        except Exception:
            logger.exception("polling the web sources failed")
            continue
        for source in polled:
            poll = source.polls[0] if source.polls else None
            if poll is not None:
                logger.info(
                    "polled %s: %s, %d added, %d skipped",
                    source.url,
                    poll.outcome,
                    len(poll.added),
                    len(poll.skipped),
                )
