"""`POST /v1/ask` and its streaming twin `POST /v1/ask/stream` (Server-Sent Events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from typing import TypeVar

from fastapi import Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from index.engine import Engine
from service import queries
from service.deps import EngineDep, StateDep
from service.errors import error_body, to_api_error
from service.followups import standalone_question
from service.links import base_url, link_answer, link_passages
from service.routing import api_router
from service.schemas import (
    AskRequest,
    AskResponse,
    PassageOut,
    StreamAnswerEvent,
    StreamPassagesEvent,
    error_responses,
    json_error_responses,
)
from service.state import AppState

router = api_router(prefix="/v1", tags=["ask"])
T = TypeVar("T")

# Seconds between `: keep-alive` comments while a stream waits on the engine; proxies close
# idle connections, and a client can tell a slow answer from a dead one. Tests lower it.
KEEPALIVE_SECONDS = 10.0

ASK_ERROR_STATUSES = (400, 404, 413, 422, 429, 503)
ASK_ERRORS = error_responses(*ASK_ERROR_STATUSES)


STREAM_DESCRIPTION = """
Same request body as `POST /v1/ask`. Validation errors are ordinary JSON 4xx responses;
once the stream has started the response is `text/event-stream` with these events, in order:

```
event: passages
data: {"question": "...", "passages": [ ...Passage objects, highlight null... ]}

event: answer
data: {"answer": {...Answer...} or null, "passages": [ ...with highlight... ], "took_ms": 12.3}

event: done
data: {}
```

On an error after the stream started, `event: error` with the JSON error body as `data`
(`{"error": {"code": ..., "message": ...}}`) is sent and the stream ends. While the engine
works, a `: keep-alive` comment line is sent every 10 seconds.
"""


@router.post("/ask", response_model=AskResponse, responses=ASK_ERRORS)
async def ask(
    body: AskRequest, request: Request, engine: EngineDep, state: StateDep
) -> AskResponse:
    """Answer a question: ranked passages plus the shortest verbatim span that answers it."""
    request.state.question_chars = len(body.question)
    collections, filters = queries.restriction(engine, body.collections, body.filters)
    result = await state.run_cpu(
        partial(queries.ask, engine, collections=collections, filters=filters),
        standalone_question(body.question, body.context),
        body.top_k,
    )
    response = AskResponse.model_validate(result)
    base = base_url(request)
    link_passages(engine, base, response.passages)
    link_answer(engine, base, response.answer)
    return response


async def stream_scope(request: Request, engine: EngineDep) -> None:
    """An unknown collection is a 404 before the stream starts. (The route is a generator:
    its body runs only once the 200 is sent, so it cannot refuse anything itself.) A body
    that is not a valid request is left to the route's own validation (422)."""
    try:
        body = AskRequest.model_validate_json(await request.body())
    except ValueError:
        return
    queries.restriction(engine, body.collections, body.filters)


@router.post(
    "/ask/stream",
    response_class=EventSourceResponse,
    responses=json_error_responses(*ASK_ERROR_STATUSES),
    description=STREAM_DESCRIPTION,
    dependencies=[Depends(stream_scope)],
)
async def ask_stream(
    body: AskRequest, request: Request, engine: EngineDep, state: StateDep
) -> AsyncIterator[ServerSentEvent]:
    """Answer a question as Server-Sent Events: passages first, then the answer."""
    request.state.question_chars = len(body.question)
    async for event in _ask_events(engine, state, body, base_url(request)):
        yield event


async def _ask_events(
    engine: Engine, state: AppState, body: AskRequest, base: str
) -> AsyncIterator[ServerSentEvent]:
    try:
        collections, filters = queries.restriction(engine, body.collections, body.filters)
        retrieve = partial(queries.retrieve, engine, collections=collections, filters=filters)
        question = standalone_question(body.question, body.context)
        retrieval = asyncio.ensure_future(state.run_cpu(retrieve, question, body.top_k))
        async for ping in _keepalive_until(retrieval):
            yield ping
        retrieved = retrieval.result()
        passages = [PassageOut.model_validate(p) for p in retrieved.passages]
        link_passages(engine, base, passages)
        yield ServerSentEvent(
            event="passages", data=StreamPassagesEvent(question=question, passages=passages)
        )
        answering = asyncio.ensure_future(state.run_cpu(engine.answer, retrieved))
        async for ping in _keepalive_until(answering):
            yield ping
        answered = StreamAnswerEvent.model_validate(answering.result())
        link_passages(engine, base, answered.passages)
        link_answer(engine, base, answered.answer)
        yield ServerSentEvent(event="answer", data=answered)
        yield ServerSentEvent(event="done", data={})
    except Exception as exc:
        error = to_api_error(exc)
        yield ServerSentEvent(event="error", data=error_body(error.code, error.message))


async def _keepalive_until(task: asyncio.Future[T]) -> AsyncIterator[ServerSentEvent]:
    """Yield a `: keep-alive` comment every KEEPALIVE_SECONDS until `task` is done."""
    try:
        while not task.done():
            done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_SECONDS)
            if not done:
                yield ServerSentEvent(comment="keep-alive")
    finally:
        # The client went away mid-stream: do not leave the work orphaned.
        if not task.done():
            task.cancel()
