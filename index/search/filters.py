"""Which rows of an index a query may see: collections, `Filters`, and deleted documents.

An index view holds, per document row, the collection it belongs to, its metadata and
whether it is still alive (a replaced or deleted document stays in its immutable segment
until the next merge; its row is a tombstone). `allowed_documents` turns a query's
collections and filters into one boolean mask over document rows, and `allowed_chunks`
spreads it over the passages; the candidate stage of the ranking never looks at a passage
outside the mask, so a filter that matches nothing yields nothing, never the unfiltered
results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from corpus.documents import Document
from corpus.newsmeta import NewsMeta
from index.types import Alias, Filters

DEFAULT_COLLECTION = "default"


@dataclass(frozen=True)
class Catalog:
    """Per document row of an index view: collection, metadata, alive (not a tombstone)."""

    collections: tuple[str, ...]
    metadata: tuple[Mapping[str, str], ...]
    alive: np.ndarray
    """bool (n_documents,): False for rows of replaced or deleted documents."""
    names: frozenset[str] = field(default_factory=frozenset)
    """Every collection that exists (some may be empty)."""
    aliases: Mapping[str, tuple[Alias, ...]] = field(default_factory=dict)
    """The reprints stored as aliases of a document, by its id, oldest first."""

    @classmethod
    def single(cls, n_documents: int, collection: str = DEFAULT_COLLECTION) -> Catalog:
        """Every row alive, in one collection, without metadata (a plain index directory)."""
        return cls(
            collections=(collection,) * n_documents,
            metadata=({},) * n_documents,
            alive=np.ones(n_documents, dtype=bool),
            names=frozenset({collection}),
        )

    @property
    def all_alive(self) -> bool:
        return bool(self.alive.all())


def allowed_documents(
    catalog: Catalog,
    documents: Sequence[Document],
    collections: Sequence[str] | None = None,
    filters: Filters | None = None,
) -> np.ndarray | None:
    """Boolean mask of the document rows a query may return, or None when every row may.

    `collections=None` means every collection. A document without a date never matches a
    date filter. Unknown collections simply match nothing here (the service refuses them
    with 404 before asking).
    """
    restricted = not catalog.all_alive
    mask = catalog.alive.copy()
    if collections is not None:
        wanted = set(collections)
        mask &= np.fromiter((c in wanted for c in catalog.collections), bool, len(documents))
        restricted = True
    if filters is not None and filters != Filters():
        keep = np.fromiter(
            (_matches(d, m, filters) for d, m in zip(documents, catalog.metadata, strict=True)),
            bool,
            len(documents),
        )
        mask &= keep
        restricted = True
    return mask if restricted else None


def _matches(document: Document, metadata: Mapping[str, str], filters: Filters) -> bool:
    if filters.published_from is not None or filters.published_to is not None:
        published = document.published
        if published is None:
            return False
        if filters.published_from is not None and published < filters.published_from:
            return False
        if filters.published_to is not None and published > filters.published_to:
            return False
    if filters.sources and document.source not in filters.sources:
        return False
    # a plain index directory keeps metadata with its documents, a store in its rows
    news = NewsMeta.from_metadata(metadata or document.metadata)
    if not _news_matches(news, filters):
        return False
    return all(metadata.get(key) == value for key, value in filters.metadata)


def _news_matches(news: NewsMeta, filters: Filters) -> bool:
    """Each news filter given: one of its values is the document's (reporters: any of them)."""
    return (
        (not filters.reporters or bool(set(filters.reporters) & set(news.reporters)))
        and (not filters.newspapers or news.newspaper in filters.newspapers)
        and (not filters.paper_pages or news.paper_page in filters.paper_pages)
        and (not filters.places or news.place in filters.places)
    )


def allowed_chunks(document_mask: np.ndarray | None, chunk_rows: np.ndarray) -> np.ndarray | None:
    """The document mask spread over passages (`chunk_rows`: document row of each passage)."""
    if document_mask is None:
        return None
    return document_mask[chunk_rows] if len(chunk_rows) else np.zeros(0, dtype=bool)
