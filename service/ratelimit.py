"""Per-client token-bucket rate limiting for the `/v1/*` routes.

`RateLimiter` is pure (an injectable clock, no I/O) so it is tested without sleeping;
`RateLimitMiddleware` is the small ASGI layer that answers 429 with `Retry-After`.
Memory is bounded: buckets idle long enough to be full again are dropped, and the table
never holds more than `max_clients` entries (least recently seen evicted first).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import RateLimited, error_response


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by client: `burst` tokens, refilled at `per_minute` / 60 per second."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._last_sweep = clock()

    def acquire(self, client: str) -> float:
        """Take one token for `client`: 0.0 when allowed, else seconds until a token is due."""
        now = self.clock()
        self._sweep(now)
        bucket = self._buckets.pop(client, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[client] = bucket  # re-inserted last: most recently seen
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        # A bucket idle for `refill` seconds is full again: forgetting it changes nothing.
        refill = self.burst / self.rate
        if now - self._last_sweep < refill:
            return
        self._last_sweep = now
        for client in [c for c, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[client]


def retry_after_seconds(wait: float) -> int:
    """The `Retry-After` value: whole seconds, at least 1."""
    return max(1, math.ceil(wait))


class RateLimitMiddleware:
    """Answer 429 to clients over their budget on paths under `prefix`."""

    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, prefix: str | tuple[str, ...] = "/v1/"
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            client = scope.get("client")
            wait = self.limiter.acquire(client[0] if client else "unknown")
            if wait > 0:
                error = RateLimited(retry_after_seconds(wait))
                response = error_response(error, scope["path"])
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
