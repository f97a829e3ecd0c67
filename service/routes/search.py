"""`GET /v1/search`: ranked passages for a query, without answer extraction."""

from __future__ import annotations

import time
from functools import partial
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import ValidationError

from service import queries
from service.deps import EngineDep, StateDep
from service.errors import InvalidRequest, validation_error
from service.links import base_url, link_passages
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
from service.scope import (
    COLLECTIONS,
    DATE_SCHEMA,
    FILTER_FIELDS,
    MAX_FILTER_VALUES,
    PAGE_PATTERN,
    FiltersIn,
    unknown_field,
)

router = api_router(prefix="/v1", tags=["search"])

PARAMETERS = frozenset({"q", "top_k", COLLECTIONS, *FILTER_FIELDS})
"""The query parameters `/v1/search` reads; any other is refused, naming it."""
COLLECTIONS_ITEM = r"[^,\s]"
"""A `collections` value names at least one collection (it is split on commas)."""


def repeatable(pattern: str | None = None, max_items: int | None = None) -> Any:
    """The schema of a repeatable query parameter as the server reads it: `?p=a` (a string)
    is the list `["a"]`, so the schema says "a string, or an array of strings" (each
    matching `pattern`), not "an array or null" (a schema-checking client then took every
    single value for a schema violation that the server accepted)."""
    item: dict[str, Any] = {"type": "string"}
    if pattern is not None:
        item["pattern"] = pattern

    def rewrite(schema: dict[str, Any]) -> None:
        schema.pop("anyOf", None)
        # `pattern` applies to a string, `items` to an array: the one rule for both spellings.
        schema.update({**item, "type": ["array", "string"], "items": item})
        if max_items is not None:
            schema["maxItems"] = max_items

    return rewrite


def _filters(
    published_from: str | None,
    published_to: str | None,
    source: list[str],
    metadata: list[str],
    news: dict[str, list[str]] | None = None,
) -> FiltersIn | None:
    news = {k: v for k, v in (news or {}).items() if v}
    if published_from is None and published_to is None and not (source or metadata or news):
        return None
    pairs: dict[str, str] = {}
    for item in metadata:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise InvalidRequest(f"metadata: {item!r} is not key:value")
        pairs[key] = value
    try:
        fields: dict[str, Any] = {
            "published_from": published_from,
            "published_to": published_to,
            "source": source,
            "metadata": dict(pairs),
            **news,
        }
        return FiltersIn.model_validate(fields)
    except ValidationError as exc:
        raise validation_error(exc.errors()) from exc


def _news_query(description: str, pattern: str | None = None) -> Any:
    """A repeatable news filter parameter (`service.scope`'s `reporter`, `newspaper`, ...)."""
    return Query(
        description=f"{description} (repeat, at most {MAX_FILTER_VALUES})",
        max_length=MAX_FILTER_VALUES,
        json_schema_extra=repeatable(pattern, max_items=MAX_FILTER_VALUES),
    )


@router.get("/search", response_model=SearchResponse, responses=error_responses(404, 422, 429, 503))
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
    collections: Annotated[
        list[str] | None,
        Query(
            description="collections to search (repeat, or comma-separated); default: all",
            json_schema_extra=repeatable(COLLECTIONS_ITEM),
        ),
    ] = None,
    published_from: Annotated[
        str | None,
        Query(
            description="ISO date, inclusive",
            examples=["2025-01-01"],
            json_schema_extra=DATE_SCHEMA,
        ),
    ] = None,
    published_to: Annotated[
        str | None, Query(description="ISO date, inclusive", json_schema_extra=DATE_SCHEMA)
    ] = None,
    source: Annotated[
        list[str] | None,
        Query(
            description=f"exact source names (repeat, at most {MAX_FILTER_VALUES})",
            max_length=MAX_FILTER_VALUES,
            json_schema_extra=repeatable(max_items=MAX_FILTER_VALUES),
        ),
    ] = None,
    metadata: Annotated[
        list[str] | None,
        Query(
            description="key:value that must match (repeat)",
            json_schema_extra=repeatable("^[^:]+:"),
        ),
    ] = None,
    reporter: Annotated[list[str] | None, _news_query("reporter names; any of them")] = None,
    newspaper: Annotated[list[str] | None, _news_query("newspapers; any of them")] = None,
    paper_page: Annotated[
        list[str] | None,
        _news_query("newspaper pages (版次, 7 or 07); any of them", PAGE_PATTERN),
    ] = None,
    place: Annotated[list[str] | None, _news_query("dateline places; any of them")] = None,
) -> SearchResponse:
    """The passages `/v1/ask` would return, best first, without an answer. Filters as in
    `/v1/ask`'s `filters`, as query parameters; any other parameter is a 422 naming it."""
    for name in request.query_params:
        if name not in PARAMETERS:
            raise InvalidRequest(f"{name[:40]}: {unknown_field(name)} (a query parameter)")
    try:
        query = clean_question(q)
    except ValueError as exc:
        raise InvalidRequest(f"q: {exc}") from exc
    names = (
        [n.strip() for value in collections for n in value.split(",") if n.strip()]
        if collections is not None
        else None
    )
    if names is not None and not names:
        raise InvalidRequest("collections: must name at least one collection")
    news = {"reporter": reporter, "newspaper": newspaper, "paper_page": paper_page, "place": place}
    wanted, filters = queries.restriction(
        engine,
        names,
        _filters(
            published_from,
            published_to,
            source or [],
            metadata or [],
            {k: v for k, v in news.items() if v},
        ),
    )
    request.state.question_chars = len(query)
    start = time.perf_counter()
    passages = await state.run_cpu(
        partial(queries.search, engine, collections=wanted, filters=filters), query, top_k
    )
    took_ms = (time.perf_counter() - start) * 1000
    out = [PassageOut.model_validate(p) for p in passages]
    link_passages(engine, base_url(request), out)
    return SearchResponse(query=query, passages=out, took_ms=took_ms)
