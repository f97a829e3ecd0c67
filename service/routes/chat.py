"""`POST /v1/chat/completions` and `GET /v1/models`: the OpenAI-compatible front door.

Point any OpenAI client or chat UI at `http://HOST:PORT/v1` with model `ragqa-extractive`
(see `service.openai_compat` for the reply, its annotations and references, and how earlier
turns are read). Like `/v1/ask` the routes need no key; clients may send any. Errors use
OpenAI's shape (`service.errors`); an unknown model is a 404 with code `model_not_found`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from index.engine import Engine
from service.deps import EngineDep, StateDep
from service.errors import InvalidRequest, ModelNotFound, openai_error_body, to_api_error
from service.openai_compat import (
    MODEL_CARD,
    MODEL_ID,
    SOURCES_HEADING,
    ChatCompletion,
    ChatCompletionRequest,
    ModelCard,
    ModelList,
    QuestionError,
    Resolved,
    chunk,
    completion,
    compose,
    new_completion_id,
    resolve_question,
)
from service.routing import api_router
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
delta, the `references` list, `question` and `follow_up`, then `data: [DONE]`. Errors
before the stream starts are JSON 4xx; after, a `data:` line with the OpenAI error object,
then `data: [DONE]`.
"""


def _check_model(model: str) -> None:
    if model != MODEL_ID:
        raise ModelNotFound(f"model: {model[:80]!r} does not exist; the only model is {MODEL_ID}")


def _question(body: ChatCompletionRequest) -> Resolved:
    try:
        return resolve_question(body.messages)
    except QuestionError as exc:
        raise InvalidRequest(str(exc)) from exc


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/models", response_model=ModelList, responses={429: OPENAI_ERRORS[429]})
async def list_models() -> ModelList:
    """The models this server answers with (one: `ragqa-extractive`)."""
    return ModelList(data=[MODEL_CARD])


@router.get("/models/{model}", response_model=ModelCard, responses={404: OPENAI_ERRORS[404]})
async def get_model(model: str) -> ModelCard:
    """One model; 404 `model_not_found` for any other id."""
    _check_model(model)
    return MODEL_CARD


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
    _check_model(body.model)
    resolved = _question(body)
    question = resolved.question
    request.state.question_chars = len(question)
    base = _base_url(request)
    if body.stream:
        events = _stream(engine, state, resolved, body.top_k, base)
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    result = await state.run_cpu(engine.ask, question, body.top_k)
    return completion(result, question, base, follow_up=resolved.follow_up, lead=resolved.lead)


def _sse(data: dict[str, Any] | str) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n"


async def _stream(
    engine: Engine, state: AppState, resolved: Resolved, top_k: int, base: str
) -> AsyncIterator[str]:
    question = resolved.question
    completion_id, created = new_completion_id(), int(time.time())
    yield _sse(chunk(completion_id, created, {"role": "assistant", "content": ""}))
    try:
        task = asyncio.ensure_future(state.run_cpu(engine.ask, question, top_k))
        try:
            while not task.done():
                done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_SECONDS)
                if not done:
                    yield ": keep-alive\n\n"
        finally:
            if not task.done():
                task.cancel()
        reply, annotations, references = compose(task.result(), base, resolved.lead)
        cut = reply.find(SOURCES_HEADING)
        cut = len(reply) if cut < 0 else cut
        for piece in (reply[:cut], reply[cut:]):
            if piece:
                yield _sse(chunk(completion_id, created, {"content": piece}))
        last = chunk(
            completion_id,
            created,
            {"annotations": [a.model_dump() for a in annotations]},
            finish_reason="stop",
            references=[r.model_dump() for r in references],
            question=question,
            follow_up=resolved.follow_up and resolved.follow_up.model_dump(),
        )
        yield _sse(last)
    except Exception as exc:
        yield _sse(openai_error_body(to_api_error(exc)))
    yield _sse("[DONE]")
