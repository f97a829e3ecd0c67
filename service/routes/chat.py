"""`POST /v1/chat/completions` and `GET /v1/models`: the OpenAI-compatible front door.

Point any OpenAI client or chat UI at `http://HOST:PORT/v1` with model `ragqa-extractive`
(see `service.openai_compat` for the reply, its annotations and references, and how earlier
turns are read). The scope is `service.scope`'s: `collections` and `filters` in the body (the
SDK's `extra_body`), or a model `ragqa-extractive:<collection>` (listed by `/v1/models`, one
per collection). Like `/v1/ask` the routes need no key; clients may send any. Errors use
OpenAI's shape (`service.errors`); an unknown model is a 404 with code `model_not_found`, an
unknown collection a 404 naming it, a misspelt scope key (`collection`, `sources`) a 422.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from index.engine import Engine
from index.types import AskResult, Filters
from service import queries
from service.deps import EngineDep, StateDep
from service.errors import InvalidRequest, ModelNotFound, openai_error_body, to_api_error
from service.links import base_url, cited_url
from service.openai_compat import (
    SOURCES_HEADING,
    ChatCompletion,
    ChatCompletionRequest,
    Link,
    ModelCard,
    ModelList,
    QuestionError,
    Resolved,
    Usage,
    chunk,
    completion,
    compose,
    model_card,
    model_collection,
    new_completion_id,
    resolve_question,
    usage,
)
from service.routing import api_router
from service.scope import misplaced_scope_key
from service.state import AppState

router = api_router(prefix="/v1", tags=["openai"])

KEEPALIVE_SECONDS = 10.0

OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed JSON (OpenAI error shape)"},
    404: {"description": "unknown model: code model_not_found (OpenAI error shape)"},
    422: {"description": "a field is invalid; `param` names it (OpenAI error shape)"},
    429: {"description": "rate limited (OpenAI error shape)"},
    503: {"description": "index not loaded yet (OpenAI error shape)"},
}

STREAM_DESCRIPTION = """
Without `stream`, one `chat.completion`. With `"stream": true`, `text/event-stream` of
`chat.completion.chunk` objects as OpenAI sends them: the role, the reply in two content
deltas (the answer line, after the rewritten question's line for a follow-up, then the
numbered sources), and a last chunk with `finish_reason: "stop"`, the annotations in its
delta, the `references` list, `question` and `follow_up`, then `data: [DONE]`. With
`stream_options: {"include_usage": true}`, every chunk carries `"usage": null` and one more
chunk, with no choices, carries the token `usage` before `[DONE]`; a completion without
`stream` always carries it. Errors
before the stream starts are JSON 4xx; after, a `data:` line with the OpenAI error object,
then `data: [DONE]`.
"""


def _check_model(model: str, state: AppState) -> str | None:
    """The collection the model id names (None: every collection); 404 `model_not_found`
    for an id that is not ours or names no collection."""
    try:
        collection = model_collection(model)
    except ValueError as exc:
        raise ModelNotFound(f"model: {exc}") from None
    if collection is not None and collection not in _collections(state):
        raise ModelNotFound(
            f"model: {model[:80]!r} names no collection {collection[:64]!r}; see /v1/models"
        )
    return collection


def _collections(state: AppState) -> list[str]:
    return queries.collections_of(state.engine) if state.engine is not None else []


def _scope(body: ChatCompletionRequest, engine: Engine) -> tuple[list[str] | None, Filters | None]:
    """The request's scope: `collections` and `filters` of the body, or the model's
    collection; a misspelt scope key is refused, not ignored."""
    misplaced = misplaced_scope_key(k for k in (body.model_extra or {}) if k != "metadata")
    if misplaced is not None:  # OpenAI's own `metadata` (stored completions) is not ours
        key, why = misplaced
        raise InvalidRequest(f"{key[:40]}: {why}")
    collections = body.collections
    named = model_collection(body.model)
    if named is not None:
        if collections is not None and collections != [named]:
            raise InvalidRequest(
                f"collections: {collections[:5]!r} contradicts model {body.model[:80]!r}; "
                "name the collection in one of them"
            )
        collections = [named]
    return queries.restriction(engine, collections, body.filters)


def _question(body: ChatCompletionRequest) -> Resolved:
    try:
        return resolve_question(body.messages)
    except QuestionError as exc:
        raise InvalidRequest(str(exc)) from exc


@router.get("/models", response_model=ModelList, responses={429: OPENAI_ERRORS[429]})
async def list_models(state: StateDep) -> ModelList:
    """The models this server answers with: `ragqa-extractive` (every collection), and
    `ragqa-extractive:<collection>` for each collection."""
    return ModelList(data=[model_card(), *(model_card(c) for c in _collections(state))])


@router.get("/models/{model}", response_model=ModelCard, responses={404: OPENAI_ERRORS[404]})
async def get_model(model: str, state: StateDep) -> ModelCard:
    """One model; 404 `model_not_found` for any other id."""
    return model_card(_check_model(model, state))


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={**OPENAI_ERRORS, 200: {"content": {"text/event-stream": {}}}},
    description=STREAM_DESCRIPTION,
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, engine: EngineDep, state: StateDep
) -> Any:
    """Answer the last user message extractively, with numbered, offset-cited sources."""
    _check_model(body.model, state)
    collections, filters = _scope(body, engine)
    resolved = _question(body)
    question = resolved.question
    request.state.question_chars = len(question)
    link = partial(cited_url, engine, base_url(request))
    ask = partial(queries.ask, engine, collections=collections, filters=filters)
    count = engine.embedder.count_tokens
    if body.stream:
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        tally = partial(usage, count, body.messages) if include_usage else None
        events = _stream(ask, state, resolved, body.top_k, link, body.model, tally)
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    result = await state.run_cpu(ask, question, body.top_k)
    return completion(
        result,
        question,
        link,
        model=body.model,
        follow_up=resolved.follow_up,
        lead=resolved.lead,
        count=count,
        messages=body.messages,
    )


def _sse(data: dict[str, Any] | str) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n"


async def _stream(
    ask: Callable[[str, int], AskResult],
    state: AppState,
    resolved: Resolved,
    top_k: int,
    link: Link,
    model: str,
    tally: Callable[[str], Usage] | None = None,
) -> AsyncIterator[str]:
    """The chunks of one reply; with `tally` (`stream_options.include_usage`), every chunk
    carries `"usage": null` and a last chunk with no choices carries the usage, as OpenAI
    streams it."""
    question = resolved.question
    completion_id, created = new_completion_id(), int(time.time())
    extra: dict[str, Any] = {} if tally is None else {"usage": None}
    yield _sse(
        chunk(completion_id, created, {"role": "assistant", "content": ""}, model=model, **extra)
    )
    try:
        task = asyncio.ensure_future(state.run_cpu(ask, question, top_k))
        try:
            while not task.done():
                done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_SECONDS)
                if not done:
                    yield ": keep-alive\n\n"
        finally:
            if not task.done():
                task.cancel()
        reply, annotations, references = compose(task.result(), link, resolved.lead)
        cut = reply.find(SOURCES_HEADING)
        cut = len(reply) if cut < 0 else cut
        for piece in (reply[:cut], reply[cut:]):
            if piece:
                yield _sse(chunk(completion_id, created, {"content": piece}, model=model, **extra))
        last = chunk(
            completion_id,
            created,
            {"annotations": [a.model_dump() for a in annotations]},
            finish_reason="stop",
            model=model,
            references=[r.model_dump() for r in references],
            question=question,
            follow_up=resolved.follow_up and resolved.follow_up.model_dump(),
            **extra,
        )
        yield _sse(last)
        if tally is not None:
            final = chunk(completion_id, created, {}, model=model, usage=tally(reply).model_dump())
            final["choices"] = []
            yield _sse(final)
    except Exception as exc:
        yield _sse(openai_error_body(to_api_error(exc)))
    yield _sse("[DONE]")
