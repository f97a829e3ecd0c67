"""Queries scoped by collection and filters, for every front door (HTTP, Dify, MCP, OpenAI).

`search` and `ask` take the `collections` and `filters` keywords of the shared engine
interface. When the loaded engine takes them itself (the document store of issue 10), they
are passed through. Until then there is one collection, `default`, and filters are applied
to a deep ranking (the engine's `MAX_DEPTH` best passages) on the citation fields each
passage carries: a filter that matches nothing gives no passages and no answer, never the
unfiltered results, and an answer quoted from a document the filter excludes is dropped.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from index.engine import Engine
from index.types import AskResult, Filters, Passage

DEFAULT_COLLECTION = "default"
MAX_DEPTH = 50
"""Passages ranked before filtering when the engine cannot filter (its candidate depth)."""


def collections_of(engine: Engine) -> list[str]:
    """The collection names queries may name (`default` until the engine has collections)."""
    listed = getattr(engine, "collections", None)
    if callable(listed):
        names = [str(getattr(c, "name", c)) for c in listed()]
        return names or [DEFAULT_COLLECTION]
    return [DEFAULT_COLLECTION]


def source_names(engine: Engine, collection: str) -> list[str]:
    """The source names of one collection's documents (of every document before collections)."""
    list_documents: Callable[..., list[Any]] = engine.documents
    if _engine_takes(engine, "documents", "collection"):
        return sorted({d.source for d in list_documents(collection)})
    return sorted({d.source for d in list_documents()})


def _engine_takes(engine: Engine, method: str, keyword: str) -> bool:
    try:
        return keyword in inspect.signature(getattr(engine, method)).parameters
    except (TypeError, ValueError):
        return False


def is_empty(filters: Filters | None) -> bool:
    return filters is None or filters == Filters()


def matches(filters: Filters, published: str | None, source: str, metadata: Any = None) -> bool:
    """Whether a document with these fields passes `filters` (undated fails a date filter)."""
    if filters.published_from is not None or filters.published_to is not None:
        if published is None:
            return False
        day = published[:10]
        if filters.published_from is not None and day < filters.published_from:
            return False
        if filters.published_to is not None and day > filters.published_to:
            return False
    if filters.sources and source not in filters.sources:
        return False
    if filters.metadata:
        fields = metadata if isinstance(metadata, dict) else {}
        return all(str(fields.get(key)) == value for key, value in filters.metadata)
    return True


def _passes(filters: Filters, passage: Passage) -> bool:
    return matches(filters, passage.published, passage.source, getattr(passage, "metadata", None))


def _scope(
    engine: Engine, method: str, collections: Sequence[str] | None, filters: Filters | None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if collections is not None and _engine_takes(engine, method, "collections"):
        kwargs["collections"] = list(collections)
    if not is_empty(filters) and _engine_takes(engine, method, "filters"):
        kwargs["filters"] = filters
    return kwargs


def search(
    engine: Engine,
    query: str,
    top_k: int,
    *,
    collections: Sequence[str] | None = None,
    filters: Filters | None = None,
) -> list[Passage]:
    """Ranked passages of `query` within `collections` that pass `filters`."""
    kwargs = _scope(engine, "search", collections, filters)
    if is_empty(filters) or "filters" in kwargs:
        return engine.search(query, top_k, **kwargs)
    assert filters is not None
    kept = [p for p in engine.search(query, max(top_k, MAX_DEPTH), **kwargs) if _passes(filters, p)]
    return [replace(p, rank=i) for i, p in enumerate(kept[:top_k], 1)]


def ask(
    engine: Engine,
    question: str,
    top_k: int,
    *,
    collections: Sequence[str] | None = None,
    filters: Filters | None = None,
) -> AskResult:
    """`engine.ask` within `collections` and `filters` (see the module docstring)."""
    kwargs = _scope(engine, "ask", collections, filters)
    if is_empty(filters) or "filters" in kwargs:
        return engine.ask(question, top_k, **kwargs)
    assert filters is not None
    result = engine.ask(question, max(top_k, MAX_DEPTH), **kwargs)
    kept = [p for p in result.passages if _passes(filters, p)][:top_k]
    answer = result.answer
    if answer is not None and not matches(
        filters, answer.published, answer.source, getattr(answer, "metadata", None)
    ):
        answer = None
    if answer is None:
        kept = [replace(p, highlight=None) for p in kept]
    passages = [replace(p, rank=i) for i, p in enumerate(kept, 1)]
    if answer is not None and hasattr(answer, "passage_rank"):
        ranks = [p.rank for p in passages if p.highlight is not None]
        answer = replace(answer, passage_rank=ranks[0]) if ranks else None
    return replace(result, answer=answer, passages=passages)


RELEVANCE_MIDPOINT = 1.0
"""Engine score that maps to relevance 0.5 (measured on the dev questions at 933e2e2: top
passages of answerable questions score 1.3 to 2.0, passages ranked 6 to 10 score 0.9 to 1.3)."""
RELEVANCE_SCALE = 0.25


def relevance(score: float) -> float:
    """An engine score squashed into 0..1 for clients that expect that range (Dify's
    `score_threshold`): ``1 / (1 + exp(-(score - 1.0) / 0.25))``. Strictly increasing, so
    the order is the engine's; not a probability."""
    x = max(-50.0, min(50.0, (score - RELEVANCE_MIDPOINT) / RELEVANCE_SCALE))
    return round(1.0 / (1.0 + math.exp(-x)), 4)
