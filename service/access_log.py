"""One structured JSON log line per request, and the request metrics taken at the same point.

The line holds method, route template, status, milliseconds, client and (when a route set it)
the question length. Never the question text, the API key or the Authorization header: the
log is for operating the service, not for reading what people ask.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import Metrics

logger = logging.getLogger("ragqa.access")
UNMATCHED_ROUTE = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label cardinality), not the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def access_line(
    method: str, route: str, status: int, ms: float, client: str | None, extra: dict[str, Any]
) -> str:
    """The JSON log line (pure, for tests)."""
    record: dict[str, Any] = {
        "event": "request",
        "method": method,
        "route": route,
        "status": status,
        "ms": round(ms, 2),
        "client": client,
    }
    record.update(extra)
    return json.dumps(record, ensure_ascii=False, sort_keys=False)


class AccessLogMiddleware:
    """Outermost layer: sees every response, including 413/429 from the inner layers."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app dies before answering, that is what the client sees

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - start
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            state = scope.get("state") or {}
            extra = {"question_chars": state["question_chars"]} if "question_chars" in state else {}
            client = scope.get("client")
            logger.info(
                access_line(
                    scope["method"],
                    route,
                    status,
                    seconds * 1000,
                    client[0] if client else None,
                    extra,
                )
            )
