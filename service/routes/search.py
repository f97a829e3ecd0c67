"""`GET /v1/search`: ranked passages for a query, without answer extraction."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Query, Request

from service.deps import EngineDep, StateDep
from service.errors import InvalidRequest
from service.routing import api_router
from service.schemas import (
    DEFAULT_TOP_K,
    MAX_TOP_K,
    QUESTION_PATTERN,
    QUESTION_RULE,
    PassageOut,
    SearchResponse,
    clean_question,
    error_responses,
)

router = api_router(prefix="/v1", tags=["search"])


@router.get("/search", response_model=SearchResponse, responses=error_responses(422, 429, 503))
async def search(
    request: Request,
    engine: EngineDep,
    state: StateDep,
    q: Annotated[
        str,
        Query(
            description=f"The query. {QUESTION_RULE}",
            json_schema_extra={"pattern": QUESTION_PATTERN},
        ),
    ],
    top_k: Annotated[int, Query(ge=1, le=MAX_TOP_K)] = DEFAULT_TOP_K,
) -> SearchResponse:
    """The passages `/v1/ask` would return, best first, without an answer."""
    try:
        query = clean_question(q)
    except ValueError as exc:
        raise InvalidRequest(f"q: {exc}") from exc
    request.state.question_chars = len(query)
    start = time.perf_counter()
    passages = await state.run_cpu(engine.search, query, top_k)
    return SearchResponse(
        query=query,
        passages=[PassageOut.model_validate(p) for p in passages],
        took_ms=(time.perf_counter() - start) * 1000,
    )
