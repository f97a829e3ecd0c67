"""Queries scoped by collection and filters, for every front door (HTTP, Dify, MCP, LangChain).

A scope (collections plus one or more alternative `Filters`) becomes the engine's `Allowed`
restriction (`engine.allowed`), which the pipeline's candidate stage applies before anything
is ranked: a filtered query never sees another document, and a scope that matches no
document gives no passages and `answer: null`, never the unfiltered results.

Several alternatives (Dify's `logical_operator: or`) are one restriction, their union, so one
ranking covers them all and their scores are comparable with each other; `source is A or
source is B` ranks exactly as `source in [A, B]`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.engine import Engine, Retrieved
from index.errors import CollectionNotFoundError
from index.rank.fitted import RelevanceScale
from index.types import Allowed, AskResult, Filters, Passage

Alternatives = Filters | Sequence[Filters] | None
"""One filter, several alternatives (any of them), or None (no filter). An empty sequence
is a scope that matches nothing."""


def collections_of(engine: Engine) -> list[str]:
    """The collection names queries may name."""
    return engine.collections()


def source_names(engine: Engine, collection: str) -> list[str]:
    """The source names of one collection's live documents."""
    return sorted({d.source for d in engine.documents(collection)})


def check_collections(engine: Engine, collections: Sequence[str] | None) -> list[str] | None:
    """`collections` as a list (None: every collection); CollectionNotFoundError (404) names
    the first one that does not exist."""
    if collections is None:
        return None
    names = engine.catalog.names
    for name in collections:
        if name not in names:
            raise CollectionNotFoundError(name)
    return list(collections)


def scope(
    engine: Engine, collections: Sequence[str] | None = None, filters: Alternatives = None
) -> Allowed | None:
    """The documents a query over `collections` passing any of `filters` may see (None: all);
    CollectionNotFoundError for a collection that does not exist."""
    collections = check_collections(engine, collections)
    alternatives = [filters] if filters is None or isinstance(filters, Filters) else filters
    if len(alternatives) == 1:  # as the engine made it (a backend may filter by expression)
        return engine.allowed(collections, alternatives[0])
    union: np.ndarray | None = None
    for alternative in alternatives:
        allowed = engine.allowed(collections, alternative)
        if allowed is None:
            return None
        union = allowed.documents if union is None else union | allowed.documents
    if union is None:  # no alternative: nothing can match
        return Allowed(np.zeros(len(engine.data.documents), dtype=np.bool_))
    return Allowed(np.asarray(union, dtype=np.bool_))


def search(
    engine: Engine,
    query: str,
    top_k: int,
    *,
    collections: Sequence[str] | None = None,
    filters: Alternatives = None,
) -> list[Passage]:
    """Ranked passages of `query` within `collections` that pass (any of) `filters`."""
    return engine.search(query, top_k, allowed=scope(engine, collections, filters))


def ask(
    engine: Engine,
    question: str,
    top_k: int,
    *,
    collections: Sequence[str] | None = None,
    filters: Alternatives = None,
) -> AskResult:
    """`engine.ask` within `collections` and (any of) `filters`."""
    return engine.ask(question, top_k, allowed=scope(engine, collections, filters))


def retrieve(
    engine: Engine,
    question: str,
    top_k: int,
    *,
    collections: Sequence[str] | None = None,
    filters: Alternatives = None,
) -> Retrieved:
    """`engine.retrieve` (the first half of `ask`, for streaming) within the scope."""
    return engine.retrieve(question, top_k, allowed=scope(engine, collections, filters))


def relevance(score: float, scale: RelevanceScale | None = None) -> float:
    """An engine score squashed into 0..1 for clients that expect that range (Dify's
    `score_threshold`), by the fitted bundle's relevance scale (`Fitted.relevance`; the
    documented one when none is given). Strictly increasing, so the order is the engine's;
    not a probability."""
    return (scale if scale is not None else RelevanceScale()).relevance(score)
