"""Queries scoped by collection and filters, for every front door (HTTP, Dify, MCP, LangChain).

A scope (collections plus one or more alternative `Filters`) becomes the engine's `Allowed`
restriction (`index.contents.Contents.scope`), which the pipeline's candidate stage applies
before anything is ranked: a filtered query never sees another document, and a scope that
matches no document gives no passages and `answer: null`, never the unfiltered results.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.contents import Alternatives
from index.engine import Engine, Retrieved
from index.errors import CollectionNotFoundError, shown_id
from index.rank.fitted import RelevanceScale
from index.types import Allowed, AskResult, Filters, Passage
from service.errors import CollectionNotFound
from service.scope import FiltersIn


def collections_of(engine: Engine) -> list[str]:
    """The collection names queries may name."""
    return engine.contents.collections()


def source_names(engine: Engine, collection: str) -> list[str]:
    """The source names of one collection's live documents."""
    return sorted({d.source for d in engine.contents.documents(collection)})


def check_collections(engine: Engine, collections: Sequence[str] | None) -> list[str] | None:
    """`engine.contents.check_collections`: CollectionNotFoundError (404) names the first
    collection that does not exist."""
    return engine.contents.check_collections(collections)


def restriction(
    engine: Engine, collections: Sequence[str] | None, filters: FiltersIn | None
) -> tuple[list[str] | None, Filters | None]:
    """The scope of a request (`service.scope`) as the engine takes it; a 404 naming an
    unknown collection (every door words it alike)."""
    try:
        names = check_collections(engine, collections)
    except CollectionNotFoundError as exc:
        name = shown_id(exc.args[0])
        raise CollectionNotFound(f"collections: no collection named {name}") from None
    return names, (filters.to_filters() if filters is not None else None)


def scope(
    engine: Engine, collections: Sequence[str] | None = None, filters: Alternatives = None
) -> Allowed | None:
    """`engine.contents.scope`: the documents a query may see (None: all)."""
    return engine.contents.scope(collections, filters)


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
