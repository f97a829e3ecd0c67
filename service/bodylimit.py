"""Reject request bodies over the size limit with 413, before any route parses them, and
requests the headers alone refuse (a write without the key: 401) before reading any body.

A request whose route needs the API key and whose headers do not carry it is answered from
the headers (`guard`), without reading a byte of the body, and the connection is closed: an
unauthenticated client can make the server hold no more of an upload than the server's read
buffer. A declared `Content-Length` over the limit is refused without reading; otherwise the body is
read (chunked bodies included) counting bytes, and refused as soon as the count passes the
limit. The body is small by then (at most the limit), so it is buffered and replayed to the
app, which keeps the app free of partial-read states.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import ApiError, PayloadTooLarge, error_response

DOCUMENT_WRITES = re.compile(r"^/v1/collections/[^/]+/documents(/[^/]+)?$")
"""Routes that take documents (batches and uploads): their own, larger limit."""


class BodyLimitMiddleware:
    """Pure ASGI: 413 JSON error for bodies over `max_bytes` (or a path's own limit)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        overrides: Sequence[tuple[re.Pattern[str], int]] = (),
        guard: Callable[[Scope], None] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = list(overrides)
        self.guard = guard
        """Raises the ApiError of a request its headers already refuse (before the body)."""

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.overrides:
            if pattern.match(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.guard is not None:
            try:
                self.guard(scope)
            except ApiError as error:
                await _refuse(scope, receive, send, error)
                return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, _too_large(limit))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # Client went away before sending the whole body: nothing to answer.
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(scope, receive, send, _too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body over the limit of {limit} bytes")


async def _refuse(scope: Scope, receive: Receive, send: Send, error: ApiError) -> None:
    # The unread body stays unread: tell the client we will not keep the connection (the
    # server closes it once the response is sent).
    response = error_response(error, scope.get("path", ""))
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the buffered body once, then defers to the real one."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
