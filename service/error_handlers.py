"""The handlers that send every error in the one JSON shape (`service.errors` holds the types).

`register_error_handlers` installs one handler for every exception class (Starlette picks it
by walking the exception's MRO); `CatchAllMiddleware` answers an unexpected exception inside
the CORS and rate-limit layers; `StartupErrorMiddleware` turns a start-up that fails on the
index layer's own error into one log line.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from corpus.web.errors import FetchError
from index.errors import (
    CollectionNotFoundError,
    DocumentNotFoundError,
    IndexCorruptError,
    IndexError_,
    InvalidDocumentError,
    SourceNotFoundError,
)
from service.errors import ApiError, MethodNotAllowed, error_response, to_api_error
from service.routing import path_methods


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers: Starlette picks one by walking the exception's MRO."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        error = to_api_error(exc)
        if isinstance(error, MethodNotAllowed):
            documented = path_methods(request)
            if documented:
                error.headers = {**(error.headers or {}), "Allow": ", ".join(documented)}
        return error_response(error, request.url.path)

    for exc_class in (
        ApiError,
        RequestValidationError,
        StarletteHTTPException,
        DocumentNotFoundError,
        CollectionNotFoundError,
        InvalidDocumentError,
        IndexError_,
        FetchError,
        SourceNotFoundError,
        Exception,
    ):
        app.add_exception_handler(exc_class, handle)


class CatchAllMiddleware:
    """Turn an unexpected exception into the JSON 500 *inside* the CORS and rate-limit layers.

    Starlette sends the response of an `Exception` handler from its outermost middleware,
    past CORS, so a browser saw a bare network error instead of the JSON body. This innermost
    layer answers first, so even a 500 (which is a bug) carries the CORS headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # the status line is gone: nothing better can be sent
            await error_response(to_api_error(exc), scope.get("path", ""))(scope, receive, send)


class StartupErrorMiddleware:
    """Outermost: a start-up that fails on the index layer's own error (a damaged segment
    file, an index of another model) logs one message naming the file and what to do,
    instead of a Python traceback.

    Starlette reports a failed lifespan to the server with the formatted traceback; this
    layer holds that report until it sees the exception, and replaces the text for an
    `IndexError_` (uvicorn still exits with its start-up failure status); the exception is
    raised on, as Starlette raises it. Any other exception is a bug and keeps its
    traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def holding_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                held.append(message)
                return
            await send(message)

        try:
            await self.app(scope, receive, holding_send)
        except IndexError_ as exc:
            if held:
                await send({**held[0], "message": startup_failure(exc)})
            raise  # as Starlette does: uvicorn, told of the failure, logs nothing more; an
            # in-process host (TestClient) raises it instead of serving `not_ready` forever
        except BaseException:
            if held:
                await send(held[0])
            raise


def startup_failure(exc: IndexError_) -> str:
    """What the log says when the service cannot start; for a damaged file, what to run."""
    if not isinstance(exc, IndexCorruptError):
        return f"cannot start: {exc}"
    return (
        f"cannot start: {exc}. Run `ragqa index verify` with the same RAGQA_DATA_DIR to "
        "check the store and its segments; restore the data directory from a backup, or "
        "start with an empty RAGQA_DATA_DIR and add the documents again."
    )
